//! SQLite rows written the way Datasette's users write them (WAL mode), and read back.

use rusqlite::Connection;
use std::path::Path;

pub fn create(path: &Path) {
    let c = Connection::open(path).expect("open database");
    c.pragma_update(None, "journal_mode", "wal").expect("wal");
    c.execute_batch("create table if not exists t(id integer primary key, body text not null)")
        .expect("create table");
}

/// Inserts rows `from..from+n`, one transaction each (every commit must survive).
pub fn write_rows(path: &Path, from: i64, n: i64) {
    let c = Connection::open(path).expect("open database");
    c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    for id in from..from + n {
        c.execute("insert into t(id, body) values (?1, ?2)", (id, format!("row {id}"))).expect("insert");
    }
}

pub fn rows(path: &Path) -> Vec<(i64, String)> {
    let c = Connection::open(path).expect("open database");
    let mut stmt = c.prepare("select id, body from t order by id").expect("select");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

pub fn integrity_ok(path: &Path) -> bool {
    let c = Connection::open(path).expect("open database");
    c.query_row("pragma integrity_check", [], |r| r.get::<_, String>(0)).is_ok_and(|s| s == "ok")
}

/// Deletes a database with its -wal and -shm files, as a lost disk would.
pub fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
