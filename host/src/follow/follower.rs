//! One followed database: `litestream restore -f` into a new generation, the file
//! made readable for Datasette and swapped in once the first restore is complete,
//! and supervised like `run` supervises `replicate`. Litestream 0.5.17 cannot resume
//! a follower in the usual case (its `-txid` check compares with the newest
//! snapshot), so every start is a full restore into a fresh generation.

use super::layout::{Layout, side};
use super::{Followers, Setup};
use crate::rules::FollowEvent;
use crate::supervisor::restarts::Restarts;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Child;
use tokio::sync::mpsc;

/// How long a follower being restored again may take to stop.
const AGAIN_GRACE: Duration = Duration::from_secs(2);

/// What the host may ask of a follower.
#[derive(Debug)]
pub enum Control {
    /// Restore from scratch into a new generation (the follower is stuck behind).
    RestoreAgain(String),
    Stop,
}

/// Where a follower is in its life; the status JSON spells it in kebab-case.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FollowState {
    /// The first restore of a generation is running; readers still see the previous one.
    #[default]
    Restoring,
    Following,
    Restarting,
    /// The replica holds nothing yet (its primary has not uploaded it): looked at again
    /// every look interval, not counted as a crash.
    WaitingForReplica,
    Failed,
    Stopped,
}

impl std::fmt::Display for FollowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The same words as in JSON.
        let word = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned));
        f.write_str(word.as_deref().unwrap_or("?"))
    }
}

/// A follower's swap: the plugin re-opens the database so readers see the new file.
#[derive(Debug, Clone)]
pub struct Swapped {
    pub name: String,
    pub path: PathBuf,
}

/// Too many exits in the window ends the follower, and the host with it.
#[derive(Debug, thiserror::Error)]
#[error("following {name}: litestream restore -f exited {count} times within {window:?}; last: {last}")]
pub struct CrashLoop {
    pub name: String,
    pub count: usize,
    pub window: Duration,
    pub last: String,
}

pub struct Follower {
    pub index: usize,
    pub name: String,
    /// The database's path as the Litestream config names it: how `restore` finds
    /// its replica (the file written is the generation).
    pub key: String,
    pub layout: Layout,
    pub setup: Arc<Setup>,
    pub followers: Arc<Followers>,
    pub swapped: mpsc::UnboundedSender<Swapped>,
}

enum Ended {
    Stopped,
    Exited(String),
    Again(String),
    /// `restore -f` found the replica empty.
    Empty,
}

impl Follower {
    /// Follows until told to stop; a crash loop is the error.
    pub async fn run(self, mut control: mpsc::Receiver<Control>) -> Result<(), CrashLoop> {
        let mut restarts = Restarts::new(&self.setup.policy);
        let mut waiting = false;
        loop {
            let started = Instant::now();
            let ended = match self.generation(&mut control).await {
                Ok(ended) => ended,
                Err(e) => Ended::Exited(e),
            };
            let why = match ended {
                Ended::Stopped => {
                    self.followers.update(self.index, |f| f.state = FollowState::Stopped);
                    return Ok(());
                }
                Ended::Again(why) => {
                    eprintln!("datasette-litestream: {}: {why}", self.name);
                    self.followers.update(self.index, |f| f.restores += 1);
                    continue;
                }
                Ended::Empty => {
                    if !std::mem::replace(&mut waiting, true) {
                        eprintln!(
                            "datasette-litestream: following {}: its replica is empty (the primary has not \
                             uploaded it yet); looking again every {:?}",
                            self.name, self.setup.look_interval
                        );
                    }
                    self.followers.update(self.index, |f| {
                        f.pid = None;
                        f.state = FollowState::WaitingForReplica;
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(self.setup.look_interval) => {}
                        c = control.recv() => if matches!(c, None | Some(Control::Stop)) {
                            self.followers.update(self.index, |f| f.state = FollowState::Stopped);
                            return Ok(());
                        },
                    }
                    continue;
                }
                Ended::Exited(why) => why,
            };
            waiting = false;
            let ended = restarts.exited(Some(started));
            self.followers.update(self.index, |f| {
                f.restarts += 1;
                f.last_exit = Some(why.clone());
                f.pid = None;
                f.state = FollowState::Restarting;
            });
            if let Err(l) = ended {
                self.followers.update(self.index, |f| f.state = FollowState::Failed);
                return Err(CrashLoop {
                    name: self.name.clone(),
                    count: l.exits,
                    window: l.window,
                    last: why,
                });
            }
            let backoff = restarts.next_wait();
            eprintln!("datasette-litestream: following {}: {why}; restoring again in {backoff:?}", self.name);
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                c = control.recv() => if matches!(c, None | Some(Control::Stop)) {
                    self.followers.update(self.index, |f| f.state = FollowState::Stopped);
                    return Ok(());
                },
            }
        }
    }

    /// One generation: restore it, swap it in, follow until it ends.
    async fn generation(&self, control: &mut mpsc::Receiver<Control>) -> Result<Ended, String> {
        let generation = self.layout.next_generation().map_err(|e| e.to_string())?;
        let mut child = self.spawn(&generation)?;
        let pid = child.id();
        self.followers.update(self.index, |f| {
            f.pid = pid;
            f.state = FollowState::Restoring;
        });
        let (tx, mut lines) = mpsc::unbounded_channel();
        self.forward(child.stdout.take().expect("piped"), "stdout", tx.clone());
        self.forward(child.stderr.take().expect("piped"), "stderr", tx);
        let (mut failed, mut empty) = (None, false);
        loop {
            tokio::select! {
                status = child.wait() => {
                    let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    remove_generation(&generation, &self.layout);
                    // Its last lines may still be on their way: read them to the end.
                    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(1), lines.recv()).await {
                        match event {
                            FollowEvent::EmptyReplica => empty = true,
                            FollowEvent::Failed(text) => failed = Some(text),
                            _ => {}
                        }
                    }
                    if empty {
                        return Ok(Ended::Empty);
                    }
                    let said = failed.map(|f| format!(" ({f})")).unwrap_or_default();
                    return Ok(Ended::Exited(format!("litestream restore -f exited with {status}{said}")));
                }
                event = lines.recv() => match event {
                    Some(FollowEvent::Following(txid)) => {
                        self.swap_in(&generation, txid).await?;
                        self.followers.holds(self.index, txid);
                    }
                    Some(FollowEvent::Applied(txid)) => self.followers.holds(self.index, txid),
                    Some(FollowEvent::Stopped) | Some(FollowEvent::Other) => {}
                    Some(FollowEvent::Failed(text)) => failed = Some(text),
                    Some(FollowEvent::EmptyReplica) => empty = true,
                    None => {}
                },
                c = control.recv() => {
                    let ended = match c {
                        Some(Control::RestoreAgain(why)) => Ended::Again(why),
                        None | Some(Control::Stop) => Ended::Stopped,
                    };
                    // A follower stuck on its lock does not answer SIGTERM; it has
                    // written nothing while it waits, so it need not be waited for long.
                    let grace = match ended {
                        Ended::Again(_) => self.setup.policy.grace.min(AGAIN_GRACE),
                        _ => self.setup.policy.grace,
                    };
                    self.followers.update(self.index, |f| f.state = FollowState::Restoring);
                    stop(&mut child, grace).await;
                    if matches!(ended, Ended::Again(_)) {
                        remove_generation(&generation, &self.layout);
                    }
                    return Ok(ended);
                }
            }
        }
    }

    fn spawn(&self, generation: &Path) -> Result<Child, String> {
        let setup = &self.setup;
        let mut cmd = crate::litestream::child(&setup.binary);
        cmd.args(["restore", "-no-expand-env", "-config"])
            .arg(&setup.config)
            .arg("-f")
            .arg("-follow-interval")
            .arg(format!("{}ms", setup.follow_interval.as_millis()))
            .arg("-o")
            .arg(generation)
            .arg(&self.key)
            .envs(setup.keys().environment);
        cmd.spawn().map_err(|e| format!("cannot start {}: {e}", setup.binary.display()))
    }

    /// Copies one output stream into the log buffer and stderr; what each line means
    /// is the rules' call (a wasm call: on the blocking pool).
    fn forward(
        &self,
        stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
        name: &'static str,
        events: mpsc::UnboundedSender<FollowEvent>,
    ) {
        let (followers, rules, db) = (self.followers.clone(), self.setup.rules, self.name.clone());
        crate::supervisor::forward(stream, move |line| {
            let clean = followers.logs.push(name, &format!("[{db}] {line}"));
            eprintln!("litestream: {clean}");
            let events = events.clone();
            async move {
                match crate::util::blocking::blocking(move || rules.follow_progress(&line)).await {
                    Ok(event) => {
                        let _ = events.send(event);
                    }
                    Err(e) => tracing::warn!("cannot read restore -f output: {e}"),
                }
            }
        });
    }

    /// The first restore is complete: make the file readable as Datasette opens it,
    /// then swap it in.
    async fn swap_in(&self, generation: &Path, txid: u64) -> Result<(), String> {
        let file = generation.to_path_buf();
        crate::util::blocking::blocking(move || rollback_journal(&file)).await?;
        let (layout, file) = (self.layout.clone(), generation.to_path_buf());
        crate::util::blocking::blocking(move || layout.swap_in(&file)).await.map_err(|e| e.to_string())?;
        self.followers.update(self.index, |f| {
            f.state = FollowState::Following;
            f.generation = Some(generation.display().to_string());
            // A new file: how long it has stayed put starts now; what it confirmed stays.
            if let Some(r) = &mut f.report {
                r.memory.txid = None;
                r.memory.since = crate::util::clock::now();
                r.restore_again = false;
            }
        });
        eprintln!(
            "datasette-litestream: following {} (restored to txid {txid}; {} now opens {})",
            self.name,
            self.layout.path.display(),
            generation.display()
        );
        let _ = self.swapped.send(Swapped { name: self.name.clone(), path: self.layout.path.clone() });
        Ok(())
    }
}

/// A restored file keeps the primary's WAL header until a change touches page 1;
/// a reader that opens it then uses WAL locking and holds a read lock as long as its
/// connection lives, which blocks `restore -f` for good (Datasette never closes its
/// connections). Switching it to rollback mode first is safe while Litestream
/// follows: its locks are SQLite's own.
fn rollback_journal(path: &Path) -> Result<(), String> {
    let c = rusqlite::Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    c.busy_timeout(Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let mode: String = c
        .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
        .map_err(|e| format!("cannot switch {} to rollback mode: {e}", path.display()))?;
    if mode != "delete" {
        return Err(format!("{} stayed in {mode} journal mode", path.display()));
    }
    Ok(())
}

/// SIGTERM (restore -f stops between two applies), then SIGKILL after the grace.
async fn stop(child: &mut Child, grace: Duration) {
    if let Some(pid) = child.id() {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

/// Removes a generation that never became the one readers open; the one they open
/// stays until the next is swapped in.
fn remove_generation(generation: &Path, layout: &Layout) {
    if std::fs::read_link(&layout.path).ok().as_deref().and_then(Path::file_name) == generation.file_name() {
        return; // still the one readers open
    }
    for suffix in ["", "-txid", "-wal", "-shm", ".tmp", ".tmp-wal", ".tmp-shm"] {
        let _ = std::fs::remove_file(side(generation, suffix));
    }
}
