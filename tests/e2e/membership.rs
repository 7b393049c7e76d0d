//! Databases added and removed while `run --stdin` runs (the Datasette plugin's
//! channel: each further line is the whole new set), against real Litestream 0.3.13
//! and 0.5.17 and a real S3 server with authentication: an added database is
//! replicated and restores; a removed one gets its final sync and no more; a database
//! with invalid config is refused alone; 0.5 keeps its process (register/unregister),
//! 0.3 reloads; many changes lose no row of a database written all along.

use crate::driven::Driven;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tests::moto::Moto;
use tests::process::{alive, children};
use tests::{LITESTREAM_VERSIONS, db, eventually, get, tempdir};

fn rows(range: std::ops::RangeInclusive<i64>) -> Vec<(i64, String)> {
    range.map(|i| (i, format!("row {i}"))).collect()
}

/// Writes a row into `path` every 20 ms until stopped; the last id written.
struct Writer {
    stop: Arc<AtomicBool>,
    last: Arc<AtomicI64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(path: PathBuf) -> Writer {
        let (stop, last) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicI64::new(0)));
        let (s, l) = (stop.clone(), last.clone());
        let thread = std::thread::spawn(move || {
            let mut id = 1;
            while !s.load(Ordering::Relaxed) {
                db::write_rows(&path, id, 1);
                l.store(id, Ordering::Relaxed);
                id += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Writer { stop, last, thread: Some(thread) }
    }

    fn finish(mut self) -> i64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.last.load(Ordering::Relaxed)
    }
}

#[test]
fn an_added_database_replicates_and_a_removed_one_gets_its_final_sync() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let mut host = Driven::start(&dir, &moto, version, &["fixed"]);
        let writer = Writer::start(dir.join("fixed.db"));
        let before = host.status()["litestream"].clone();

        let added = dir.join("added.db");
        db::create(&added);
        db::write_rows(&added, 1, 50);
        let event = host.change(&host.inputs(&["fixed", "added"], &[]), 1);
        let after = host.status()["litestream"].clone();
        assert_eq!(event["replicated"], json!(["fixed", "added"]), "{version}: {event}");
        assert_eq!(after["restarts"], 0, "{version}: a change is not a crash: {after}");
        if version.starts_with("0.5") {
            assert_eq!(event["change"], "in-place", "{version}: {event}");
            assert_eq!(after["pid"], before["pid"], "{version}: 0.5 keeps its process: {after}");
            assert_eq!(after["reloads"], 0, "{version}");
        } else {
            assert_eq!(event["change"], "restart", "{version}: {event}");
            assert_eq!(after["reloads"], 1, "{version}: 0.3 reloads: {after}");
            let (code, metrics) = get(&format!("{}/-/litestream-metrics", host.base), None);
            assert_eq!(code, 200, "{metrics}");
            assert!(metrics.contains("\ndatasette_litestream_reloads_total 1\n"), "{version}: {metrics}");
        }
        host.caught_up("added", &Value::Null);

        // Written just before its removal: the final sync must take these.
        db::write_rows(&added, 51, 50);
        let event = host.change(&host.inputs(&["fixed"], &[]), 2);
        assert_eq!(event["replicated"], json!(["fixed"]), "{version}: {event}");
        assert_eq!(host.names(), ["fixed"], "{version}: the status view follows the live set");

        // No longer replicated: rows written now must not reach its replica, which shows
        // once a later commit of the fixed database was seen on its replica.
        db::write_rows(&added, 101, 10);
        let seen = host.replica_position("fixed");
        host.advanced("fixed", &seen);
        let last = writer.finish();
        host.caught_up("fixed", &host.replica_position("fixed"));
        let output = host.stop();
        assert!(!output.contains("\nerror: "), "{version}: {output}");
        assert_eq!(host.restored("added"), rows(1..=100), "{version}");
        assert_eq!(host.restored("fixed"), rows(1..=last), "{version}");
    }
}

/// A database added while running replicates with the credentials in use, read from
/// the credentials file at start: the change is rendered with them, not with a fresh
/// read (the file is gone by then), and no secret reaches the status view.
#[test]
fn an_added_database_replicates_with_the_credentials_read_from_a_file_at_start() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let creds = dir.join("creds.json");
        std::fs::write(&creds, moto.user.to_string()).unwrap();
        let mut keys = moto.user.clone();
        keys["credentials-file"] = json!("creds.json");
        let mut host = Driven::start_as(&dir, &moto, version, &["fixed"], keys);
        std::fs::remove_file(&creds).unwrap();

        let added = dir.join("added.db");
        db::create(&added);
        db::write_rows(&added, 1, 30);
        let event = host.change(&host.inputs(&["fixed", "added"], &[]), 1);
        assert_eq!(event["replicated"], json!(["fixed", "added"]), "{version}: {event}");
        host.caught_up("added", &Value::Null);
        let status = host.status().to_string();
        let secret = moto.user["secret-access-key"].as_str().unwrap();
        assert!(!status.contains(secret), "{version}: the secret reached the status view");
        let output = host.stop();
        assert!(!output.contains("\nerror: ") && !output.contains(secret), "{version}: {output}");
        assert_eq!(host.restored("added"), rows(1..=30), "{version}");
    }
}

#[test]
fn a_database_with_invalid_config_is_refused_alone() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let mut host = Driven::start(&dir, &moto, version, &["fixed"]);
        db::create(&dir.join("bad.db"));
        let bad = json!({"replicas": [{"url": 42}]});
        let event = host.change(&host.inputs(&["fixed"], &[("bad", bad)]), 1);
        assert_eq!(event["replicated"], json!(["fixed"]), "{version}: {event}");
        assert_eq!(event["refused"][0]["database"], "bad", "{version}: {event}");
        assert_eq!(event["refused"][0]["key"], "replicas[0].url", "{version}: {event}");
        let status = host.status();
        assert_eq!(status["refused"][0]["database"], "bad", "{version}: {status}");
        let (_, page) = get(&format!("{}/-/litestream-status", host.base), None);
        assert!(
            page.contains("<td>bad</td><td>replicas[0].url</td>"),
            "{version}: the page shows it: {page}"
        );
        let (code, body) = get(&format!("{}/-/litestream-health", host.base), None);
        assert_eq!(code, 503, "{version}: {body}");
        assert!(body.contains("bad") && body.contains("replicas[0].url"), "{version}: {body}");
        assert!(
            host.output().contains("database \"bad\", key \"replicas[0].url\""),
            "{version}: {}",
            host.output()
        );

        // The others carry on.
        let seen = host.replica_position("fixed");
        db::write_rows(&dir.join("fixed.db"), 1, 5);
        host.caught_up("fixed", &seen);

        // Removed (or fixed), the database no longer fails the health check.
        let event = host.change(&host.inputs(&["fixed"], &[]), 2);
        assert_eq!(event["refused"], json!([]), "{version}: {event}");
        eventually(Duration::from_secs(10), "health 200 again", || {
            get(&format!("{}/-/litestream-health", host.base), None).0 == 200
        });
        host.stop();
        assert_eq!(host.restored("fixed"), rows(1..=5), "{version}");
    }
}

#[test]
fn many_adds_and_removes_lose_no_row_and_leave_no_litestream() {
    let moto = Moto::start();
    // 0.3 restarts for each change (a first sync and a final one each time): fewer rounds.
    for (version, rounds) in [("0.5.17", 50), ("0.3.13", 5)] {
        let (_keep, dir) = tempdir();
        let mut host = Driven::start(&dir, &moto, version, &["fixed"]);
        let litestream = tests::process::litestream_child(host.child.id() as i32, Duration::from_secs(10));
        let writer = Writer::start(dir.join("fixed.db"));
        let mut n = 0;
        for round in 0..rounds {
            let name = format!("extra{round}");
            db::create(&dir.join(format!("{name}.db")));
            db::write_rows(&dir.join(format!("{name}.db")), 1, 3);
            n += 1;
            host.change(&host.inputs(&["fixed", name.as_str()], &[]), n);
            assert_eq!(host.names(), ["fixed", name.as_str()], "{version}: round {round}");
            n += 1;
            host.change(&host.inputs(&["fixed"], &[]), n);
            assert_eq!(host.names(), ["fixed"], "{version}: round {round}");
        }
        let after = host.status()["litestream"].clone();
        assert_eq!(after["restarts"], 0, "{version}: {after}");
        if version.starts_with("0.5") {
            assert_eq!(after["pid"], litestream, "{version}: one Litestream all along");
        }
        let spawned: Vec<i32> = children(host.child.id() as i32).into_iter().filter(|p| alive(*p)).collect();
        assert_eq!(spawned.len(), 1, "{version}: exactly one Litestream child: {spawned:?}");
        let last = writer.finish();
        host.caught_up("fixed", &host.replica_position("fixed"));
        host.stop();
        assert_eq!(host.restored("fixed"), rows(1..=last), "{version}: every row of the fixed database");
        assert_eq!(host.restored(&format!("extra{}", rounds - 1)), rows(1..=3), "{version}");
    }
}

#[test]
fn sigterm_during_a_change_syncs_every_database_known_then() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let mut host = Driven::start(&dir, &moto, version, &["fixed"]);
        db::write_rows(&dir.join("fixed.db"), 1, 10);
        db::create(&dir.join("late.db"));
        db::write_rows(&dir.join("late.db"), 1, 10);
        host.send(&host.inputs(&["fixed", "late"], &[]));
        // The host has begun the change: the stop comes in the middle of it.
        host.wait_for("new set of databases [fixed, late]", 1);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(host.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = host.child.wait().unwrap();
        assert!(status.success(), "{version}: {status}\n{}", host.output());
        assert_eq!(host.restored("fixed"), rows(1..=10), "{version}");
        assert_eq!(host.restored("late"), rows(1..=10), "{version}: {}", host.output());
    }
}

#[test]
fn restore_if_missing_restores_a_database_added_without_its_file() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let mut first = Driven::start(&dir, &moto, version, &["fixed", "lost"]);
        db::write_rows(&dir.join("lost.db"), 1, 20);
        let seen = first.replica_position("lost");
        first.caught_up("lost", &seen);
        first.stop();
        db::remove(&dir.join("lost.db"));

        let prefix = first.prefix.clone();
        let mut host = Driven::start_with(
            &dir,
            &moto,
            version,
            &["fixed"],
            &["--restore-if-missing"],
            Some(&prefix),
            moto.user.clone(),
        );
        let event = host.change(&host.inputs(&["fixed", "lost"], &[]), 1);
        assert_eq!(event["replicated"], json!(["fixed", "lost"]), "{version}: {event}");
        assert!(host.output().contains("restored \"lost\""), "{version}: {}", host.output());
        assert_eq!(db::rows(&dir.join("lost.db")), rows(1..=20), "{version}");
        db::write_rows(&dir.join("lost.db"), 21, 5);
        host.stop();
        assert_eq!(host.restored("lost"), rows(1..=25), "{version}: replicated after its restore");
    }
}
