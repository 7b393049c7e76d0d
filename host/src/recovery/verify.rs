//! Backup verification: write a fresh sentinel row into `_litestream_verify`, restore
//! the replica into the private directory until the row arrives (or time runs out),
//! and ask the rules what the evidence means.

use crate::config::prepare::Prepared;
use crate::recovery::restore::{remove_with_side_files, restore_to};
use crate::rules::{Rules, VerifyEvidence, VerifyOutcome, VerifyVerdict};
use crate::util::private_dir::PrivateDir;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The table verification writes to, in each replicated database.
pub const TABLE: &str = "_litestream_verify";
const RETRY: Duration = Duration::from_millis(500);

pub async fn verify(
    rules: &'static Rules,
    prepared: &Prepared,
    litestream: &Path,
    dir: &PrivateDir,
    timeout: Duration,
) -> anyhow::Result<Vec<(String, VerifyVerdict)>> {
    let rendered = prepared.rendered.as_ref().ok_or_else(|| anyhow::anyhow!("no database is replicated"))?;
    let config = dir.write("verify.yml", &rendered.document)?;
    let mut verdicts = Vec::new();
    for db in prepared.replicated() {
        let path = Path::new(&db.path);
        let target = path.to_path_buf();
        let token = match crate::util::blocking::blocking(move || write_sentinel(&target)).await {
            Ok(t) => t,
            Err(e) => {
                let evidence = VerifyEvidence { sentinel_error: Some(e), ..Default::default() };
                let verdict =
                    crate::util::blocking::blocking(move || rules.judge_verification(&evidence)).await?;
                verdicts.push((db.name.clone(), verdict));
                continue;
            }
        };
        let copy = dir.path().join(format!("verify-{}.db", verdicts.len()));
        let started = Instant::now();
        let verdict = loop {
            let result = restore_to(litestream, &config, rendered, path, &copy, None).await;
            let restored = result.is_ok() && copy.exists();
            let (integrity_ok, sentinel_found) = if restored {
                let (copy, token) = (copy.clone(), token.clone());
                crate::util::blocking::blocking(move || inspect(&copy, &token)).await
            } else {
                (None, false)
            };
            remove_with_side_files(&copy);
            let evidence = VerifyEvidence {
                restored,
                restore_error: result.err(),
                integrity_ok,
                sentinel_found,
                timed_out: started.elapsed() >= timeout,
                waited_seconds: started.elapsed().as_secs_f64(),
                ..Default::default()
            };
            let verdict =
                crate::util::blocking::blocking(move || rules.judge_verification(&evidence)).await?;
            if verdict.outcome != VerifyOutcome::Pending {
                break verdict;
            }
            tokio::time::sleep(RETRY).await;
        };
        record(path, &verdict);
        verdicts.push((db.name.clone(), verdict));
    }
    Ok(verdicts)
}

/// The last verification of a database, kept beside it for the status view.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Seconds since the epoch.
    pub at: f64,
    pub outcome: String,
    pub reason: String,
}

/// `.<file>-litestream-verify.json` beside the database, like Litestream's own `.<file>-litestream`.
pub fn record_path(db: &Path) -> PathBuf {
    let name = db.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    db.with_file_name(format!(".{name}-litestream-verify.json"))
}

/// A stored record's outcome word, for the rules; an unknown word (a hand-edited or
/// newer record) counts as no verification.
pub fn outcome_of(word: &str) -> Option<VerifyOutcome> {
    serde_json::from_value(serde_json::Value::String(word.to_owned())).ok()
}

fn record(db: &Path, verdict: &VerifyVerdict) {
    let r = Record {
        at: crate::util::clock::now(),
        outcome: verdict.outcome.to_string(),
        reason: verdict.reason.clone(),
    };
    let path = record_path(db);
    let tmp = path.with_extension("json.tmp");
    if std::fs::write(&tmp, serde_json::to_vec(&r).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

pub fn last(db: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(record_path(db)).ok()?).ok()
}

fn write_sentinel(path: &Path) -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| e.to_string())?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let c = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    c.busy_timeout(Duration::from_secs(5)).map_err(|e| e.to_string())?;
    c.execute_batch(&format!(
        "create table if not exists {TABLE}(id integer primary key, token text not null, at text not null default current_timestamp)"
    ))
    .map_err(|e| e.to_string())?;
    c.execute(&format!("insert into {TABLE}(token) values (?1)"), [&token]).map_err(|e| e.to_string())?;
    Ok(token)
}

/// (integrity_check passed, the sentinel is there).
fn inspect(copy: &Path, token: &str) -> (Option<bool>, bool) {
    let Ok(c) = rusqlite::Connection::open(copy) else { return (Some(false), false) };
    let ok = c.query_row("pragma integrity_check", [], |r| r.get::<_, String>(0)).is_ok_and(|s| s == "ok");
    let found = c
        .query_row(&format!("select count(*) from {TABLE} where token = ?1"), [token], |r| r.get::<_, i64>(0))
        .is_ok_and(|n| n > 0);
    (Some(ok), found)
}
