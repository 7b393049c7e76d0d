//! A standby's copies follow the replicas while it stands by, and once it took the
//! locks its databases hold everything their replicas hold before Litestream starts: each replica is restored into the private directory
//! and copied into the live file with SQLite's online backup (Datasette keeps its
//! connections; they see the new content at their next read). Litestream's own
//! files beside the database describe the old content, so they go.

use crate::rules::{LitestreamLine, Rendered, Rules};
use crate::util::blocking::blocking;
use crate::util::private_dir::PrivateDir;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub async fn catch_up(
    rules: &'static Rules,
    litestream: &Path,
    dir: &PrivateDir,
    rendered: &Rendered,
    databases: &[(String, String)],
) -> Result<(), String> {
    let config = dir.write("takeover.yml", &rendered.document).map_err(|e| e.to_string())?;
    for (i, (name, path)) in databases.iter().enumerate() {
        if copy_one(rules, litestream, dir, &config, rendered, i, path)
            .await
            .map_err(|e| format!("database {name:?}: cannot take over: {e}"))?
        {
            eprintln!("datasette-litestream: {name}: now holds what its replica holds (taken over)");
        }
    }
    Ok(())
}

/// What a standby's copies hold: each database's replica TXID when last copied.
#[derive(Default)]
pub struct Copies(HashMap<String, u64>);

/// A standby's reads follow the primary: each database whose replica moved since the
/// last copy is copied again (a whole restore per change: fine for the databases a
/// standby usually serves; docs/lease.md says so). A replica that cannot be read is
/// left for the next time, with a warning.
pub async fn refresh(
    rules: &'static Rules,
    litestream: &Path,
    dir: &PrivateDir,
    rendered: &Rendered,
    databases: &[(String, String)],
    copies: &mut Copies,
) {
    let Ok(config) = dir.write("takeover.yml", &rendered.document) else { return };
    let environment: Vec<(String, String)> =
        rendered.environment.iter().map(|v| (v.name.clone(), v.value.clone())).collect();
    let reader = crate::litestream::Reader {
        binary: litestream,
        config: &config,
        environment: &environment,
        secrets: &rendered.secrets,
    };
    for (i, (name, path)) in databases.iter().enumerate() {
        let txid = match reader.newest(rules, path, LIST_LIMIT).await {
            Ok(Ok(Some(txid))) => txid,
            Ok(Ok(None)) => continue,
            Ok(Err(e)) => {
                tracing::warn!(database = %name, "standby: cannot list the replica: {e}");
                continue;
            }
            Err(e) => {
                tracing::warn!(database = %name, "standby: {e}");
                continue;
            }
        };
        if copies.0.get(name) == Some(&txid) {
            continue;
        }
        match copy_one(rules, litestream, dir, &config, rendered, i, path).await {
            Ok(_) => {
                copies.0.insert(name.clone(), txid);
                tracing::info!(database = %name, txid, "standby: the copy now holds the replica");
            }
            Err(e) => tracing::warn!(database = %name, "standby: cannot copy the replica: {e}"),
        }
    }
}

const LIST_LIMIT: Duration = Duration::from_secs(10);

/// Restores one replica into the private directory and copies it into the live file;
/// false when the replica is empty (nothing copied).
async fn copy_one(
    rules: &'static Rules,
    litestream: &Path,
    dir: &PrivateDir,
    config: &Path,
    rendered: &Rendered,
    i: usize,
    path: &str,
) -> Result<bool, String> {
    let tmp = dir.path().join(format!("takeover-{i}.db"));
    crate::recovery::restore::restore_to(litestream, config, rendered, Path::new(path), &tmp, None)
        .await
        .map_err(|e| format!("cannot read its replica: {e}"))?;
    if !tmp.exists() {
        return Ok(false); // an empty replica: nothing to copy
    }
    let (live, from) = (PathBuf::from(path), tmp.clone());
    let meta = rules.where_to_look(LitestreamLine::V05, path).map_err(|e| e.to_string())?;
    let copied = blocking(move || copy_into(&from, &live)).await;
    crate::recovery::restore::remove_with_side_files(&tmp);
    copied.map_err(|e| format!("cannot copy its replica into {path}: {e}"))?;
    // Litestream's files beside the database describe the old content. position_source
    // is `<meta>/ltx/0`: the meta directory is two up.
    if let Some(meta_dir) = Path::new(&meta.position_source).parent().and_then(Path::parent) {
        let _ = std::fs::remove_dir_all(meta_dir);
    }
    Ok(true)
}

/// SQLite's online backup of `from` into the live database `to`.
fn copy_into(from: &Path, to: &Path) -> rusqlite::Result<()> {
    let source = rusqlite::Connection::open(from)?;
    let mut target = rusqlite::Connection::open(to)?;
    target.busy_timeout(Duration::from_secs(10))?;
    let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
    backup.run_to_completion(1024, Duration::ZERO, None)
}
