//! Replication lag: once a second the host gathers each replicated database's evidence
//! (Litestream's local files, SQLite's WAL index, the replica's position) and the rules
//! judge it. Status requests read the latest judgement, so they never wait on Litestream
//! and cost the same however many databases there are.

use crate::litestream::control_socket;
use crate::rules::{
    Database, EvidencePaths, FileHead, LagReport, LagState, LitestreamLine, LocalFiles, Observation,
    ReplicationState, Rules, ShadowFiles,
};
use crate::supervisor::Shared;
use crate::util::clock::now;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the evidence is gathered: Litestream's default sync interval.
pub const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long one database's control socket answer may take before it counts as silence.
const SOCKET_LIMIT: Duration = Duration::from_secs(1);
/// Bytes of the LTX header (0.5) or WAL header (0.3) and of the `-shm` headers read.
const LTX_HEADER: usize = 100;
const WAL_HEADER: usize = 32;
const WAL_INDEX_HEADERS: usize = 96;

struct Watched {
    name: String,
    path: String,
    paths: EvidencePaths,
}

#[derive(Default)]
struct Looks {
    /// The databases looked at; replaced when Datasette's set changes.
    watched: Arc<Vec<Watched>>,
    /// One per watched database, in order.
    states: Vec<LagState>,
    /// Shared with status requests without a copy: they come far more often than looks.
    reports: Arc<Vec<LagReport>>,
    /// The first Litestream output line the next look has not seen.
    next_line: u64,
    /// Looks judged so far.
    count: u64,
}

pub struct Lag {
    rules: &'static Rules,
    line: LitestreamLine,
    socket: Option<PathBuf>,
    shared: Arc<Shared>,
    looks: Mutex<Looks>,
}

impl Lag {
    /// Asks the rules where each database's evidence is (a wasm call per database:
    /// call it off the async workers).
    pub fn new(
        rules: &'static Rules,
        line: LitestreamLine,
        socket: Option<PathBuf>,
        shared: Arc<Shared>,
        databases: &[Database],
    ) -> anyhow::Result<Lag> {
        let lag = Lag { rules, line, socket, shared, looks: Mutex::new(Looks::default()) };
        lag.watch(databases)?;
        Ok(lag)
    }

    /// Looks at `databases` from now on; what was learnt of those already watched is
    /// kept (wasm calls: call it off the async workers).
    pub fn watch(&self, databases: &[Database]) -> anyhow::Result<()> {
        let watched = databases
            .iter()
            .map(|d| {
                let paths = self.rules.where_to_look(self.line, &d.path)?;
                Ok(Watched { name: d.name.clone(), path: d.path.clone(), paths })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut looks = self.looks.lock().expect("lag lock");
        let known = |name: &str| looks.watched.iter().position(|w| w.name == name);
        let states =
            watched.iter().map(|w| known(&w.name).map_or_else(empty_state, |i| looks.states[i].clone()));
        looks.states = states.collect();
        let reports = looks.reports.iter().filter(|r| watched.iter().any(|w| w.name == r.name)).cloned();
        looks.reports = Arc::new(reports.collect());
        looks.watched = Arc::new(watched);
        Ok(())
    }

    /// Looks once a second for as long as the runtime runs.
    pub fn spawn(self: Arc<Self>) {
        tokio::spawn(async move {
            // A look that waited out a silent socket is followed at once by the next.
            let mut every = tokio::time::interval(LOOK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                self.look().await;
            }
        });
    }

    async fn look(self: &Arc<Self>) {
        let watched = self.looks.lock().expect("lag lock").watched.clone();
        let answers = match (&self.socket, self.line) {
            (Some(socket), LitestreamLine::V05) => {
                let mut asks = tokio::task::JoinSet::new();
                for (i, w) in watched.iter().enumerate() {
                    let (socket, path) = (socket.clone(), w.path.clone());
                    asks.spawn(async move {
                        let answer = control_socket::positions(&socket, &path, SOCKET_LIMIT).await;
                        (i, answer.map_err(|e| format!("{e:#}")))
                    });
                }
                let mut answers = vec![None; watched.len()];
                while let Some(Ok((i, answer))) = asks.join_next().await {
                    answers[i] = Some(answer);
                }
                answers
            }
            _ => vec![None; watched.len()],
        };
        let lag = self.clone();
        let _ = crate::util::blocking::blocking(move || lag.judge(&watched, answers)).await;
    }

    /// File reads and a wasm call: blocking. The lock is held only to read the last
    /// state and to store the new one (only this task writes), so status requests
    /// never wait for a look.
    fn judge(&self, watched: &Arc<Vec<Watched>>, answers: Vec<Option<Result<String, String>>>) {
        let (states, next_line) = {
            let looks = self.looks.lock().expect("lag lock");
            if !Arc::ptr_eq(&looks.watched, watched) {
                return; // the set changed during the look: the next look sees the new one
            }
            (looks.states.clone(), looks.next_line)
        };
        let (output, next_line) = self.shared.logs.since(next_line);
        let observations: Vec<Observation> = watched
            .iter()
            .zip(answers)
            .zip(states)
            .map(|((w, socket), state)| Observation {
                name: w.name.clone(),
                path: w.path.clone(),
                state,
                files: read_files(self.line, &w.paths),
                wal_index: head(Path::new(&w.paths.wal_index), WAL_INDEX_HEADERS).unwrap_or_default(),
                socket,
            })
            .collect();
        let t = now();
        let judged = self.rules.track(self.line, t, &output, &observations);
        let mut looks = self.looks.lock().expect("lag lock");
        if !Arc::ptr_eq(&looks.watched, watched) {
            return;
        }
        match judged {
            Ok(tracked) => {
                let (states, reports) = tracked.into_iter().map(|t| (t.state, t.report)).unzip();
                (looks.states, looks.reports) = (states, Arc::new(reports));
                looks.next_line = next_line;
                looks.count += 1;
            }
            Err(e) => {
                let why = e.to_string();
                looks.reports = Arc::new(watched.iter().map(|w| unreadable(&w.name, &why, t)).collect());
            }
        }
    }

    /// The latest judgement, one report per replicated database (none before the first
    /// look), and how many looks were judged.
    pub fn reports(&self) -> (Arc<Vec<LagReport>>, u64) {
        let looks = self.looks.lock().expect("lag lock");
        (looks.reports.clone(), looks.count)
    }
}

fn empty_state() -> LagState {
    LagState { pending: vec![], replica: None, replicated_at: None, unknown_since: None }
}

/// The report for a database whose evidence the rules could not judge.
fn unreadable(name: &str, why: &str, since: f64) -> LagReport {
    LagReport {
        name: name.to_owned(),
        state: ReplicationState::Unknown,
        lag_seconds: 0.0,
        local: None,
        replica: None,
        behind_by: None,
        replicated_at: None,
        unknown_since: Some(since),
        observed_at: since,
        reason: why.to_owned(),
    }
}

/// The raw bytes the rules read; anything missing is left empty for them to judge.
fn read_files(line: LitestreamLine, paths: &EvidencePaths) -> LocalFiles {
    let source = Path::new(&paths.position_source);
    match (line, &paths.shadow_directory) {
        (LitestreamLine::V05, _) | (_, None) => LocalFiles::Ltx(newest(source, ".ltx", LTX_HEADER)),
        (LitestreamLine::V03, Some(template)) => LocalFiles::Shadow(match std::fs::read_to_string(source) {
            Ok(generation) => {
                let dir = PathBuf::from(template.replace("{generation}", generation.trim()));
                let newest = newest(&dir, ".wal", WAL_HEADER);
                let newest_size = newest
                    .as_ref()
                    .and_then(|f| std::fs::metadata(dir.join(&f.name)).ok())
                    .map_or(0, |m| m.len());
                ShadowFiles { generation: Some(generation), newest_file: newest, newest_size }
            }
            Err(_) => ShadowFiles::default(),
        }),
    }
}

/// The highest-named file ending in `suffix` in `dir` (Litestream names them with
/// fixed-width hex, so the highest name is the newest) and its first `bytes` bytes.
fn newest(dir: &Path, suffix: &str, bytes: usize) -> Option<FileHead> {
    let name = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(suffix))
        .max()?;
    let head = head(&dir.join(&name), bytes)?;
    Some(FileHead { name, head })
}

fn head(path: &Path, bytes: usize) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(bytes);
    File::open(path).ok()?.take(bytes as u64).read_to_end(&mut buf).ok()?;
    Some(buf)
}
