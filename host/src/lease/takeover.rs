//! A standby that took the locks makes its databases hold everything their replicas
//! hold before Litestream starts: each replica is restored into the private directory
//! and copied into the live file with SQLite's online backup (Datasette keeps its
//! connections; they see the new content at their next read). Litestream's own
//! files beside the database describe the old content, so they go.

use crate::rules::{LitestreamLine, Rendered, Rules};
use crate::util::blocking::blocking;
use crate::util::private_dir::PrivateDir;
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
        let tmp = dir.path().join(format!("takeover-{i}.db"));
        crate::recovery::restore::restore_to(litestream, &config, rendered, Path::new(path), &tmp, None)
            .await
            .map_err(|e| format!("database {name:?}: cannot read its replica to take over: {e}"))?;
        if !tmp.exists() {
            continue; // an empty replica: nothing to catch up with
        }
        let (live, from) = (PathBuf::from(path), tmp.clone());
        let meta = rules.where_to_look(LitestreamLine::V05, path).map_err(|e| e.to_string())?;
        let copied = blocking(move || copy_into(&from, &live)).await;
        crate::recovery::restore::remove_with_side_files(&tmp);
        copied.map_err(|e| format!("database {name:?}: cannot copy its replica into {path}: {e}"))?;
        // position_source is `<meta>/ltx/0`: the meta directory is two up.
        if let Some(meta_dir) = Path::new(&meta.position_source).parent().and_then(Path::parent) {
            let _ = std::fs::remove_dir_all(meta_dir);
        }
        eprintln!("datasette-litestream: {name}: now holds what its replica holds (taken over)");
    }
    Ok(())
}

/// SQLite's online backup of `from` into the live database `to`.
fn copy_into(from: &Path, to: &Path) -> rusqlite::Result<()> {
    let source = rusqlite::Connection::open(from)?;
    let mut target = rusqlite::Connection::open(to)?;
    target.busy_timeout(Duration::from_secs(10))?;
    let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
    backup.run_to_completion(1024, Duration::ZERO, None)
}
