//! Runs Litestream: starts it and waits for evidence that it replicates, keeps its
//! output, restarts it after a crash with backoff, replaces it when credentials
//! rotate, and stops it with SIGTERM (its final sync) before SIGKILL.

mod output;
pub mod restarts;
mod start;
mod supervise;

pub use output::forward;

use crate::rules::{LitestreamLine, StopEvidence, Unconfirmed};
use crate::util::logbuf::LogBuffer;
use crate::util::private_dir::PrivateDir;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;
use start::start;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use supervise::supervise;
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Everything needed to start Litestream once.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: PathBuf,
    pub version: String,
    pub line: LitestreamLine,
    /// litestream.yml, secrets included: written 0600 into the private directory.
    pub document: String,
    /// What its start-up output must show (the rules' `rendered.startup`).
    pub startup: crate::rules::StartupProof,
    pub environment: Vec<(String, String)>,
    pub secrets: Vec<String>,
    /// 0.5's control socket, used to force the first sync.
    pub socket: Option<PathBuf>,
    /// Reads the start-up output (how many replicas must be announced is theirs to know).
    pub rules: &'static crate::rules::Rules,
    /// When Litestream first syncs after it starts (its monitor interval).
    pub first_sync: Duration,
    /// How long its final sync may take after SIGTERM (the plan's, or --grace-period).
    pub grace: Duration,
    /// The databases it replicates: their first sync is forced (0.5), their stop judged.
    pub databases: Vec<crate::rules::DatabaseEvidence>,
}

/// What a `litestream ltx` or `litestream generations` of the current config needs.
#[derive(Debug, Clone)]
pub struct Listing {
    pub binary: PathBuf,
    pub line: LitestreamLine,
    pub config: PathBuf,
    pub environment: Vec<(String, String)>,
    /// Scrubbed from what the command says.
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// For `follow`'s restores; `run` takes Litestream's from each launch.
    pub grace: Duration,
    pub startup_timeout: Duration,
    pub backoff_start: Duration,
    pub backoff_max: Duration,
    /// Running this long resets the backoff.
    pub healthy_after: Duration,
    pub crash_window: Duration,
    /// This many crashes within `crash_window` end the restarts.
    pub crash_limit: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            grace: Duration::from_secs(10),
            startup_timeout: Duration::from_secs(30),
            backoff_start: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
            crash_window: Duration::from_secs(60),
            crash_limit: 5,
        }
    }
}

/// Where the supervised process is in its life: the rules' `process-state`.
pub use crate::rules::ProcessState;

/// What the status view shows about the process.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Status {
    pub state: ProcessState,
    pub pid: Option<u32>,
    /// Seconds since the epoch when the current process started.
    pub started_at: Option<f64>,
    /// True once start-up saw evidence of replication.
    pub replicating: bool,
    pub restarts: u32,
    pub rotations: u32,
    /// Restarts made to take a database change (Litestream 0.3 cannot take it live).
    pub reloads: u32,
    /// How the last process ended, such as `exit status: 1` or `signal: 9 (SIGKILL)`.
    pub last_exit: Option<String>,
    pub last_exit_code: Option<i32>,
    pub version: String,
    pub binary: String,
}

/// State shared with the status view.
#[derive(Default)]
pub struct Shared {
    pub status: Mutex<Status>,
    pub logs: LogBuffer,
    /// How to ask the running Litestream's binary about its replicas (its config and
    /// credentials): replaced at each start, so a rotation reaches the next listing.
    pub listing: Mutex<Option<Listing>>,
    /// Signalled each time a Litestream process has been spawned (before its
    /// replication is confirmed).
    pub spawned: tokio::sync::Notify,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.status.lock().expect("status lock"));
    }

    fn tail(&self) -> String {
        self.logs.recent(15).iter().map(|l| format!("\n    {}", l.text)).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("cannot write Litestream's config into {dir}: {source}")]
    Config { dir: PathBuf, source: std::io::Error },
    #[error("cannot start {binary}: {source}")]
    Spawn { binary: PathBuf, source: std::io::Error },
    #[error("Litestream exited during start-up with {status}; its last output:{tail}")]
    Exited { status: String, code: Option<i32>, tail: String },
    #[error(
        "Litestream crashed {crashes} times within {} s, last with {status}; not restarting it again. Its last output:{tail}",
        window.as_secs()
    )]
    CrashLoop { crashes: usize, window: Duration, status: String, tail: String },
    #[error("the supervisor task ended unexpectedly: {0}")]
    Task(String),
}

enum Control {
    Stop,
    /// SIGKILL, no final sync, no restart: the lease is lost (docs/lease.md).
    Fence,
    /// Restart with a new launch, counted as a rotation or a reload.
    Rotate(Box<Launch>, Why, oneshot::Sender<Result<(), String>>),
    /// The running Litestream already has this config (changed through its control
    /// socket): start with it from now on.
    Replace(Box<Launch>),
}

/// Why Litestream is started again with a new config.
#[derive(Debug, Clone, Copy)]
pub enum Why {
    /// Credentials rotated.
    Credentials,
    /// Databases were added or removed.
    Databases,
}

impl Why {
    fn count(self, s: &mut Status) {
        match self {
            Why::Credentials => s.rotations += 1,
            Why::Databases => s.reloads += 1,
        }
    }
}

/// A handle on the supervising task.
pub struct Supervisor {
    control: mpsc::Sender<Control>,
    task: JoinHandle<Result<Vec<Unconfirmed>, SupervisorError>>,
    pub shared: Arc<Shared>,
}

pub(super) struct Running {
    pub(super) child: Child,
    pub(super) started: Instant,
    /// The tasks copying its output: they end once it has all been read.
    pub(super) output: Vec<JoinHandle<()>>,
}

/// After the grace, 0.5 gets a second SIGTERM (it skips the final syncs still waiting
/// and says which); this long after it, SIGKILL.
const INTERRUPT_WAIT: Duration = Duration::from_secs(5);

/// The longest a stop takes: what the plugin waits for before it signals the host.
pub fn longest_stop(grace: Duration) -> Duration {
    grace + INTERRUPT_WAIT
}

impl Supervisor {
    /// Starts Litestream and returns once it replicates (or start-up timed out, with a
    /// warning); an exit during start-up is an error carrying Litestream's output.
    pub async fn start(
        launch: Launch,
        dir: Arc<PrivateDir>,
        policy: Policy,
        shared: Arc<Shared>,
    ) -> Result<Supervisor, SupervisorError> {
        shared.update(|s| {
            s.version = launch.version.clone();
            s.binary = launch.binary.display().to_string();
        });
        let running = start(&launch, &dir, &policy, &shared).await?;
        let (control, rx) = mpsc::channel(4);
        let task = tokio::spawn(supervise(running, launch, rx, dir, policy, shared.clone()));
        Ok(Supervisor { control, task, shared })
    }

    /// Stops Litestream and starts it again with `launch`.
    pub async fn rotate(&self, launch: Launch, why: Why) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.control
            .send(Control::Rotate(Box::new(launch), why, tx))
            .await
            .map_err(|_| "the supervisor has ended".to_owned())?;
        rx.await.map_err(|_| "the supervisor has ended".to_owned())?
    }

    /// Future starts use `launch`; the running process is left alone.
    pub async fn replace(&self, launch: Launch) {
        let _ = self.control.send(Control::Replace(Box::new(launch))).await;
    }

    /// Resolves when the supervisor ends by itself (a crash loop).
    pub async fn finished(&mut self) -> Result<Vec<Unconfirmed>, SupervisorError> {
        (&mut self.task).await.map_err(|e| SupervisorError::Task(e.to_string()))?
    }

    /// Kills Litestream at once, without the final sync a SIGTERM would upload, and
    /// ends supervision: this node no longer holds its replicas' lease.
    pub async fn fence(mut self) {
        let pid = self.shared.status.lock().expect("status lock").pid;
        if let Some(pid) = pid {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        let _ = self.control.send(Control::Fence).await;
        let _ = self.finished().await;
        self.shared.update(|s| s.state = ProcessState::Failed);
    }

    /// Graceful stop: SIGTERM, the grace period, an interrupt (0.5), then SIGKILL.
    /// Returns the databases whose final sync the rules find unconfirmed.
    pub async fn stop(mut self) -> Result<Vec<Unconfirmed>, SupervisorError> {
        let _ = self.control.send(Control::Stop).await;
        self.finished().await
    }
}

pub(super) fn describe(status: std::io::Result<ExitStatus>) -> (String, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => (format!("exit status {c}"), Some(c)),
            (None, Some(sig)) => {
                let name = Signal::try_from(sig).map(|s| s.as_str()).unwrap_or("?");
                (format!("signal {sig} ({name})"), None)
            }
            _ => (s.to_string(), None),
        },
        Err(e) => (format!("unknown status ({e})"), None),
    }
}

/// SIGTERM; after the grace a second SIGTERM on 0.5 (its final syncs still waiting
/// are skipped, and named), SIGKILL when that does not end it either. Returns what the
/// rules need to judge whether the final sync happened.
async fn stop(running: &mut Running, launch: &Launch, shared: &Shared) -> StopEvidence {
    shared.update(|s| s.state = ProcessState::Stopping);
    // Litestream 0.3 opens a database at its first sync and syncs on shutdown only
    // if it had opened it: stopped sooner, it exits having shipped nothing.
    if launch.line == LitestreamLine::V03 {
        let first = running.started + launch.first_sync + Duration::from_millis(300);
        tokio::time::sleep_until(first.into()).await;
    }
    let mark = shared.logs.pushed();
    let terminate = |child: &Child| {
        if let Some(pid) = child.id() {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        }
    };
    terminate(&running.child);
    let (mut interrupted, mut killed) = (false, false);
    let mut status = tokio::time::timeout(launch.grace, running.child.wait()).await.ok();
    if status.is_none() && launch.line == LitestreamLine::V05 {
        tracing::warn!("Litestream's final sync did not finish within {:?}; interrupting it", launch.grace);
        terminate(&running.child);
        interrupted = true;
        status = tokio::time::timeout(INTERRUPT_WAIT, running.child.wait()).await.ok();
    }
    let status = match status {
        Some(status) => status,
        None => {
            tracing::warn!("Litestream did not stop after SIGTERM; sending SIGKILL");
            let _ = running.child.start_kill();
            killed = true;
            running.child.wait().await
        }
    };
    // Its last lines are what the judgement reads: let the readers reach the end.
    for task in running.output.drain(..) {
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    }
    let (text, exit_code) = describe(status);
    shared.update(|s| {
        s.state = ProcessState::Stopped;
        s.pid = None;
        s.replicating = false;
        s.last_exit = Some(text);
        s.last_exit_code = exit_code;
    });
    StopEvidence {
        running: true,
        exit_code,
        interrupted,
        killed,
        output: shared.logs.since(mark).0,
        databases: launch.databases.clone(),
    }
}

/// Asks the rules which databases a stop left unconfirmed (a wasm call: off the workers).
async fn judge(launch: &Launch, evidence: StopEvidence) -> Vec<Unconfirmed> {
    let (rules, line) = (launch.rules, launch.line);
    let names = evidence.databases.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    match crate::util::blocking::blocking(move || rules.judge_stop(line, &evidence)).await {
        Ok(unconfirmed) => unconfirmed,
        Err(e) => names
            .into_iter()
            .map(|name| Unconfirmed { name, reason: format!("the stop could not be judged: {e}") })
            .collect(),
    }
}
