//! One writer per replica: every few seconds, each replicated database's replica is
//! listed with Litestream's own binary and config (0.5 `ltx -level 0 -json`, 0.3
//! `generations`) and compared with this node's files by the rules
//! (`replication.judge-writers`). A database whose replica another node writes fails
//! the health check, and the host says so once, loudly.

use crate::rules::{Conflict, Database, LitestreamLine, LocalFile, Rules, WritersEvidence, WritersVerdict};
use crate::supervisor::{Listing, ProcessState, Shared};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often each replica is listed: one LIST request per database each time.
pub const LOOK_EVERY: Duration = Duration::from_secs(5);
/// How long one listing may take before it counts as no evidence.
const LIST_LIMIT: Duration = Duration::from_secs(10);

/// One database's last look, as the status JSON shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WritersReport {
    /// `alone`, `another-writer` or `unknown`.
    pub state: &'static str,
    pub reason: Option<String>,
}

/// The latest verdict per database.
pub struct Writers {
    rules: &'static Rules,
    shared: Arc<Shared>,
    verdicts: Mutex<HashMap<String, WritersVerdict>>,
}

impl Writers {
    pub fn new(rules: &'static Rules, shared: Arc<Shared>) -> Writers {
        Writers { rules, shared, verdicts: Mutex::default() }
    }

    /// Looks every LOOK_EVERY at the databases `databases` names at that moment.
    pub fn spawn(self: Arc<Self>, databases: impl Fn() -> Vec<Database> + Send + 'static) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(LOOK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let running = self.shared.status.lock().expect("status lock").state == ProcessState::Running;
                let listing = self.shared.listing.lock().expect("listing lock").clone();
                if let (true, Some(listing)) = (running, listing) {
                    self.look(&listing, databases()).await;
                }
            }
        });
    }

    async fn look(&self, listing: &Listing, databases: Vec<Database>) {
        // A database no longer replicated keeps no verdict (nor one to be reused if it
        // comes back).
        let names: Vec<String> = databases.iter().map(|d| d.name.clone()).collect();
        self.verdicts.lock().expect("writers lock").retain(|name, _| names.contains(name));
        let mut set = tokio::task::JoinSet::new();
        for db in databases {
            let (listing, rules) = (listing.clone(), self.rules);
            set.spawn(async move {
                let verdict = judge(rules, &listing, &db.path).await;
                (db.name, verdict)
            });
        }
        while let Some(Ok((name, verdict))) = set.join_next().await {
            let mut verdicts = self.verdicts.lock().expect("writers lock");
            if let WritersVerdict::AnotherWriter(why) = &verdict
                && verdicts.get(&name) != Some(&verdict)
            {
                eprintln!(
                    "error: database {name:?}: another node writes the same replica ({why}). Two writers \
                     interleave their histories and a restore gives a database neither had: stop the other \
                     node (or give one of them its own replica), then restore this one from the replica"
                );
            }
            verdicts.insert(name, verdict);
        }
    }

    /// What the last look at `name`'s replica found, for the status view.
    pub fn report(&self, name: &str) -> Option<WritersReport> {
        let verdicts = self.verdicts.lock().expect("writers lock");
        Some(match verdicts.get(name)? {
            WritersVerdict::Alone => WritersReport { state: "alone", reason: None },
            WritersVerdict::AnotherWriter(why) => {
                WritersReport { state: "another-writer", reason: Some(why.clone()) }
            }
            WritersVerdict::Unknown(why) => WritersReport { state: "unknown", reason: Some(why.clone()) },
        })
    }

    /// The databases another node writes the replica of, and why.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let verdicts = self.verdicts.lock().expect("writers lock");
        let mut found: Vec<_> = verdicts
            .iter()
            .filter_map(|(name, v)| match v {
                WritersVerdict::AnotherWriter(why) => {
                    Some(Conflict { name: name.clone(), reason: why.clone() })
                }
                _ => None,
            })
            .collect();
        found.sort_by(|a, b| (&a.name, &a.reason).cmp(&(&b.name, &b.reason)));
        found
    }
}

/// One database: the replica listed, then this node's files, judged by the rules.
async fn judge(rules: &'static Rules, listing: &Listing, path: &str) -> WritersVerdict {
    let replica = match list(listing, path).await {
        Ok(text) => text,
        Err(why) => return WritersVerdict::Unknown(why),
    };
    let (line, path) = (listing.line, path.to_owned());
    let judged = crate::util::blocking::blocking(move || {
        let paths = rules.where_to_look(line, &path)?;
        let source = Path::new(&paths.position_source);
        let evidence = WritersEvidence {
            listing: replica,
            local_files: local_files(source),
            generation: std::fs::read_to_string(source).ok(),
        };
        rules.judge_writers(line, &evidence)
    })
    .await;
    judged.unwrap_or_else(|e| WritersVerdict::Unknown(e.to_string()))
}

/// Litestream's listing of the replica of `path`, as its config names it.
async fn list(listing: &Listing, path: &str) -> Result<String, String> {
    let reader = crate::litestream::Reader {
        binary: &listing.binary,
        config: &listing.config,
        environment: &listing.environment,
        secrets: &listing.secrets,
    };
    match listing.line {
        LitestreamLine::V05 => reader.run("ltx", &["-level", "0", "-json", path], LIST_LIMIT).await,
        LitestreamLine::V03 => reader.run("generations", &[path], LIST_LIMIT).await,
    }
}

/// 0.5: the names and sizes of the files in the local level-0 directory (a missing
/// directory is none).
fn local_files(dir: &Path) -> Vec<LocalFile> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            Some(LocalFile { name: e.file_name().into_string().ok()?, size: e.metadata().ok()?.len() })
        })
        .collect()
}
