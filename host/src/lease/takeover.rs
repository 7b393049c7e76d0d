//! A standby's copies follow the replicas while it stands by, and once it took the
//! locks its databases hold everything their replicas hold before Litestream starts:
//! each replica is restored into the private directory and copied into the live file
//! with SQLite's online backup (Datasette keeps its connections; they see the new
//! content at their next read). Litestream's own files beside the database describe
//! the old content, so they go.

use crate::rules::{LitestreamLine, Rendered, Rules};
use crate::util::blocking::blocking;
use crate::util::private_dir::PrivateDir;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIST_LIMIT: Duration = Duration::from_secs(10);

/// The replicas of a leased node's databases, as Litestream reads them: the config
/// written once into the private directory.
pub struct Replicas {
    rules: &'static Rules,
    litestream: PathBuf,
    dir: PathBuf,
    config: PathBuf,
    rendered: Rendered,
    environment: Vec<(String, String)>,
    /// (name, path) of each database.
    databases: Vec<(String, String)>,
}

/// What a standby's copies hold: each database's replica TXID when last copied.
#[derive(Default)]
pub struct Copies(HashMap<String, u64>);

impl Replicas {
    pub fn new(
        rules: &'static Rules,
        litestream: &Path,
        dir: &PrivateDir,
        rendered: &Rendered,
        databases: Vec<(String, String)>,
    ) -> Result<Replicas, String> {
        let config = dir.write("takeover.yml", &rendered.document).map_err(|e| e.to_string())?;
        let environment = rendered.environment.iter().map(|v| (v.name.clone(), v.value.clone())).collect();
        Ok(Replicas {
            rules,
            litestream: litestream.to_owned(),
            dir: dir.path().to_owned(),
            config,
            rendered: rendered.clone(),
            environment,
            databases,
        })
    }

    /// Takeover: every database gets what its replica holds (frozen now: this node
    /// holds the locks).
    pub async fn catch_up(&self) -> Result<(), String> {
        for (i, (name, path)) in self.databases.iter().enumerate() {
            if self
                .copy_one(i, path)
                .await
                .map_err(|e| format!("database {name:?}: cannot take over: {e}"))?
            {
                eprintln!("datasette-litestream: {name}: now holds what its replica holds (taken over)");
            }
        }
        Ok(())
    }

    /// A standby's reads follow the primary: each database whose replica moved since
    /// the last copy is copied again (a whole restore per change: fine for the
    /// databases a standby usually serves; docs/lease.md says so). A replica that
    /// cannot be read is left for the next time, with a warning.
    pub async fn refresh(&self, copies: &mut Copies) {
        let reader = crate::litestream::Reader {
            binary: &self.litestream,
            config: &self.config,
            environment: &self.environment,
            secrets: &self.rendered.secrets,
        };
        for (i, (name, path)) in self.databases.iter().enumerate() {
            let txid = match reader.newest(self.rules, path, LIST_LIMIT).await {
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
            match self.copy_one(i, path).await {
                Ok(_) => {
                    copies.0.insert(name.clone(), txid);
                    tracing::info!(database = %name, txid, "standby: the copy now holds the replica");
                }
                Err(e) => tracing::warn!(database = %name, "standby: cannot copy the replica: {e}"),
            }
        }
    }

    /// Restores one replica into the private directory and copies it into the live
    /// file; false when the replica is empty (nothing copied).
    async fn copy_one(&self, i: usize, path: &str) -> Result<bool, String> {
        let tmp = self.dir.join(format!("takeover-{i}.db"));
        crate::recovery::restore::restore_to(
            &self.litestream,
            &self.config,
            &self.rendered,
            Path::new(path),
            &tmp,
            None,
        )
        .await
        .map_err(|e| format!("cannot read its replica: {e}"))?;
        if !tmp.exists() {
            return Ok(false); // an empty replica: nothing to copy
        }
        let (live, from) = (PathBuf::from(path), tmp.clone());
        let meta = self.rules.where_to_look(LitestreamLine::V05, path).map_err(|e| e.to_string())?;
        let copied = blocking(move || copy_into(&from, &live)).await;
        crate::recovery::restore::remove_with_side_files(&tmp);
        copied.map_err(|e| format!("cannot copy its replica into {path}: {e}"))?;
        // Litestream's files beside the database describe the old content.
        // position_source is `<meta>/ltx/0`: the meta directory is two up.
        if let Some(meta_dir) = Path::new(&meta.position_source).parent().and_then(Path::parent) {
            let _ = std::fs::remove_dir_all(meta_dir);
        }
        Ok(true)
    }
}

/// SQLite's online backup of `from` into the live database `to`.
fn copy_into(from: &Path, to: &Path) -> rusqlite::Result<()> {
    let source = rusqlite::Connection::open(from)?;
    let mut target = rusqlite::Connection::open(to)?;
    target.busy_timeout(Duration::from_secs(10))?;
    let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
    backup.run_to_completion(1024, Duration::ZERO, None)
}
