//! Restoring databases from their replicas with the real `litestream restore`: into a
//! file beside the database, checked with `PRAGMA integrity_check`, fsynced and renamed
//! into place, so a database is never left half-written.

use crate::config::prepare::Prepared;
use crate::rules::{EmptyReplicaOutcome, EmptyReplicaVerdict, RestoreOptions, Rules, Step, Target};
use crate::util::private_dir::PrivateDir;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What happened to one database.
#[derive(Debug)]
pub enum Outcome {
    Restored { bytes: u64, took: Duration },
    Skipped(String),
    Failed(String),
}

pub struct Options<'a> {
    pub explicit: &'a [String],
    pub force: bool,
    pub only_missing: bool,
    pub timestamp: Option<&'a str>,
}

/// Restores what the rules say to; every database gets an outcome, in order.
pub async fn restore(
    rules: &Rules,
    prepared: &Prepared,
    litestream: &Path,
    dir: &PrivateDir,
    options: &Options<'_>,
) -> anyhow::Result<Vec<(String, Outcome)>> {
    let rendered = prepared.rendered.as_ref().ok_or_else(|| anyhow::anyhow!("no database is replicated"))?;
    let config = dir.write("restore.yml", &rendered.document)?;
    let paths: Vec<(String, PathBuf)> =
        prepared.replicated().map(|d| (d.name.clone(), PathBuf::from(&d.path))).collect();
    let targets: Vec<Target> =
        paths.iter().map(|(n, p)| Target { name: n.clone(), exists: p.exists() }).collect();
    let decisions = rules
        .plan_restore(
            &targets,
            options.explicit,
            RestoreOptions { force: options.force, only_missing: options.only_missing },
        )?
        .map_err(anyhow::Error::msg)?;
    let mut outcomes = Vec::new();
    for d in decisions {
        let path = &paths
            .iter()
            .find(|(n, _)| *n == d.database)
            .expect("the rules only name replicated databases")
            .1;
        let outcome = match d.step {
            Step::Skip(why) => Outcome::Skipped(why),
            Step::Restore => {
                let explicit = options.explicit.contains(&d.database);
                one(rules, litestream, &config, rendered, path, &d.database, explicit, options.timestamp)
                    .await
            }
        };
        outcomes.push((d.database, outcome));
    }
    Ok(outcomes)
}

#[allow(clippy::too_many_arguments)]
async fn one(
    rules: &Rules,
    litestream: &Path,
    config: &Path,
    rendered: &crate::rules::Rendered,
    path: &Path,
    name: &str,
    explicit: bool,
    timestamp: Option<&str>,
) -> Outcome {
    let started = Instant::now();
    let tmp = path.with_file_name(format!(
        ".{}.restoring-{}",
        path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default(),
        std::process::id()
    ));
    if let Err(why) = restore_to(litestream, config, rendered, path, &tmp, timestamp).await {
        return Outcome::Failed(
            rules.explain_restore_failure(&why, timestamp).unwrap_or_else(|e| e.to_string()),
        );
    }
    if !tmp.exists() {
        return match rules.empty_replica(name, explicit) {
            Ok(EmptyReplicaVerdict { outcome: EmptyReplicaOutcome::FreshStart, message }) => {
                Outcome::Skipped(message)
            }
            Ok(EmptyReplicaVerdict { outcome: EmptyReplicaOutcome::Error, message }) => {
                Outcome::Failed(message)
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
    }
    // integrity_check reads the whole copy: seconds for a large database, so say so.
    let mib = std::fs::metadata(&tmp).map_or(0, |m| m.len()) >> 20;
    eprintln!(
        "datasette-litestream: checking the restored copy of {name:?} ({mib} MiB, PRAGMA integrity_check)"
    );
    let (copy, target) = (tmp.clone(), path.to_path_buf());
    let outcome = match crate::util::blocking::blocking(move || swap_in(&copy, &target)).await {
        Ok(bytes) => Outcome::Restored { bytes, took: started.elapsed() },
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Outcome::Failed(e)
        }
    };
    // Litestream restores through `<out>.tmp` and leaves its SQLite side files behind.
    remove_with_side_files(&tmp);
    outcome
}

/// Runs `litestream restore` of `db` into `out`; an empty replica leaves no `out`.
/// The error is Litestream's output with every known secret scrubbed.
pub async fn restore_to(
    litestream: &Path,
    config: &Path,
    rendered: &crate::rules::Rendered,
    db: &Path,
    out: &Path,
    timestamp: Option<&str>,
) -> Result<(), String> {
    remove_with_side_files(out);
    let mut cmd = tokio::process::Command::new(litestream);
    // Its output is read by the rules: an inherited LOG_LEVEL must not silence it.
    cmd.env("LOG_LEVEL", "INFO");
    cmd.args(["restore", "-no-expand-env", "-config"]).arg(config).arg("-o").arg(out);
    match timestamp {
        Some(t) => {
            // No -if-replica-exists: when no backup covers the time, Litestream's own
            // "no matching backups found" (0.3) / "no matching backup files available"
            // (0.5) must fail the restore, not read as "empty".
            cmd.args(["-timestamp", t]);
        }
        None => {
            cmd.arg("-if-replica-exists");
        }
    }
    cmd.arg(db).envs(rendered.environment.iter().map(|v| (&v.name, &v.value))).kill_on_drop(true);
    let result = cmd.output().await.map_err(|e| format!("cannot run {}: {e}", litestream.display()))?;
    if result.status.success() {
        return Ok(());
    }
    remove_with_side_files(out);
    let said = crate::util::logbuf::scrub(
        &format!("{} {}", String::from_utf8_lossy(&result.stdout), String::from_utf8_lossy(&result.stderr)),
        &rendered.secrets,
    );
    Err(format!("litestream restore exited with {}: {}", result.status, said.trim()))
}

/// Removes a restored file and what Litestream and SQLite leave beside it.
pub fn remove_with_side_files(path: &Path) {
    for side in ["", ".tmp", ".tmp-wal", ".tmp-shm", "-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, side));
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Checks the restored copy, then replaces the database atomically: the old WAL and
/// shared-memory files go first, since SQLite would replay an old WAL onto the new file.
fn swap_in(tmp: &Path, path: &Path) -> Result<u64, String> {
    let check: String = rusqlite::Connection::open(tmp)
        .and_then(|c| c.query_row("pragma integrity_check", [], |r| r.get(0)))
        .map_err(|e| format!("cannot check the restored copy: {e}"))?;
    if check != "ok" {
        return Err(format!("the restored copy failed PRAGMA integrity_check: {check}"));
    }
    let file = std::fs::File::open(tmp).map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    let bytes = file.metadata().map_err(|e| e.to_string())?.len();
    // A replaced database keeps its permissions (Litestream writes 0600).
    if let Ok(old) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp, old.permissions());
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
    std::fs::rename(tmp, path).map_err(|e| format!("cannot move the restored copy into place: {e}"))?;
    if let Some(parent) = path.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(bytes)
}
