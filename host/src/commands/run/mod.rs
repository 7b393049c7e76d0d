//! `run`: keep the databases replicated until stopped.

mod leased;
mod replication;
pub mod signals;
mod update;

use crate::cli::RunArgs;
use crate::config::inputs::Inputs;
use crate::config::prepare::{self, Prepared};
use crate::config::refresh::Change;
use crate::litestream::{self, Litestream};
use crate::rules::{DurableDatabase, LitestreamLine, Rendered, Rules};
use crate::status::{self, Members, server::serve_all};
use crate::supervisor::{Launch, Policy, Shared, Supervisor};
use crate::util::private_dir::PrivateDir;
use anyhow::{Context, Result};
use replication::{End, NOTHING_TO_REPLICATE, Replication};
use signals::{Outside, Signals};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// The exit status of a stop whose final sync was not confirmed for some database.
pub const UNCONFIRMED_EXIT: u8 = 3;
/// The exit status of a node that lost its lease and killed Litestream.
pub const LEASE_LOST_EXIT: u8 = 4;

pub async fn run(args: RunArgs) -> Result<u8> {
    let (inputs, stdin_lines) = read_inputs(args.stdin, &args.sources).await?;
    let rules = Rules::builtin()?;
    let found = litestream::find(args.sources.litestream.as_deref()).await;
    // The config is checked even without a binary, so a missing Litestream is only an
    // error when something is to be replicated.
    let version = found.as_ref().map_or("v0.3.13".to_owned(), |l| l.version.clone());
    let dir = Arc::new(PrivateDir::create().context("cannot create the private directory")?);
    let socket = dir.path().join("litestream.sock");
    // With --stdin the status socket is in the private directory unless placed
    // elsewhere: the ready line tells the plugin where.
    let mut channel = args.stdin.then(|| Channel {
        status_socket: args.status.socket.clone().unwrap_or_else(|| dir.path().join("status.sock")),
        leased: None,
    });
    let request = prepare::request(&inputs, &version, Some(&socket));
    let prepared = match super::prepared(rules, request).await {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if let Some(c) = channel.as_mut() {
        c.leased = prepared.plan.lease.as_ref().map(|_| prepared.plan.replicated.clone());
    }
    let shared = Arc::new(Shared::default());
    let mut outside = Signals::new(stdin_lines)?;
    let context = Arc::new(status::Context::new(
        rules,
        shared.clone(),
        Members::default(),
        prepared.plan.metrics_addr.clone(),
        (prepared.plan.line == LitestreamLine::V05).then(|| socket.clone()),
        prepared.plan.health_window_seconds,
    ));
    let mut replication = Replication {
        rules,
        litestream: found.map_err(|e| format!("{e:#}")),
        version,
        dir,
        socket,
        context: context.clone(),
        shared: shared.clone(),
        policy: Policy { startup_timeout: args.startup_timeout, ..Policy::default() },
        grace_override: args.grace_period,
        channel: channel.clone(),
        restore_if_missing: args.restore_if_missing,
        prepared,
        refused: vec![],
        supervisor: None,
        refresher: None,
        fence: None,
    };
    replication.publish().await?;
    let status_socket = channel.as_ref().map(|c| c.status_socket.clone()).or(args.status.socket.clone());
    let view = context.clone();
    if let Err(code) =
        serve_all(view, args.status.addr, args.status.token.clone(), status_socket.as_deref()).await
    {
        return Ok(code);
    }
    let leases = match leased::prepare(&replication).await {
        Ok(l) => l,
        Err(End(code)) => return Ok(code),
    };
    if replication.prepared.plan.start_litestream {
        let began = match &leases {
            Some(l) => leased::begin(&mut replication, l, &mut outside).await,
            None => replication.begin(true).await,
        };
        if let Err(End(code)) = began {
            return Ok(code);
        }
    } else {
        eprintln!("datasette-litestream: {NOTHING_TO_REPLICATE}; Litestream is not started");
        shared.status.lock().expect("status lock").state = crate::supervisor::ProcessState::NotStarted;
        ready(channel.as_ref(), false, Duration::ZERO, &[]);
    }
    until_stopped(replication, outside, leases).await
}

/// The inputs: the first line on stdin (--stdin, which also keeps the rest for
/// updates), or Datasette-style arguments.
pub async fn read_inputs(stdin: bool, sources: &crate::cli::Sources) -> Result<(Inputs, Option<StdinLines>)> {
    if !stdin {
        return Ok((super::inputs_from(sources)?, None));
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let first = lines.next_line().await?.context("stdin closed before the inputs JSON arrived")?;
    let inputs = serde_json::from_str(&first).context("cannot read the inputs JSON on stdin")?;
    Ok((inputs, Some(lines)))
}

pub type StdinLines = tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>;

/// Applies updates and rotations until a stop, the supervisor's end or a failure.
async fn until_stopped(
    mut replication: Replication,
    mut outside: Signals,
    leases: Option<Arc<crate::lease::Leases>>,
) -> Result<u8> {
    let rules = replication.rules;
    let kept = async {
        match &leases {
            Some(l) => l.keep().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(kept);
    loop {
        let event = tokio::select! {
            crate::lease::Kept::Lost(why) = &mut kept => Event::LeaseLost(why),
            o = outside.next() => match o {
                Outside::Stop(why) => Event::Stop(why),
                Outside::Update(text) => Event::Update(text),
            },
            ended = finished(&mut replication.supervisor) => Event::Ended(ended),
            change = crate::config::refresh::next(&mut replication.refresher, rules) => Event::Refreshed(change),
        };
        let step = match event {
            Event::Stop(why) => {
                while let Some(text) = outside.pending() {
                    if let Err(End(code)) = replication.update(&text).await {
                        return Ok(code);
                    }
                }
                let unconfirmed = replication.stop(why).await?;
                if let Some(l) = &leases {
                    // Only after the final sync: a successor must find everything.
                    l.release().await;
                    leased::say_role(replication.channel.as_ref(), l);
                }
                return Ok(if unconfirmed.is_empty() { 0 } else { UNCONFIRMED_EXIT });
            }
            Event::LeaseLost(why) => {
                if let Some(l) = &leases {
                    leased::fence(&mut replication, l, &why).await;
                }
                return Ok(LEASE_LOST_EXIT);
            }
            Event::Ended(Ok(_)) => return Ok(0),
            Event::Ended(Err(e)) => {
                eprintln!("error: {e}");
                return Ok(1);
            }
            Event::Update(_) if leases.is_some() => {
                replication.refuse(&[replication::of_the_set(leased::NO_LIVE_CHANGES.into())]);
                Ok(())
            }
            Event::Update(text) => replication.update(&text).await,
            Event::Refreshed(Ok(None)) => Ok(()),
            Event::Refreshed(Ok(Some(change))) => replication.rotate(change).await,
            Event::Refreshed(Err(e)) => {
                // The seed's rule: a failed refresh ends the process, after a clean stop.
                eprintln!("error: credentials refresh failed: {e}; stopping Litestream");
                replication.stop("the credentials refresh failed").await.ok();
                return Ok(1);
            }
        };
        if let Err(End(code)) = step {
            return Ok(code);
        }
    }
}

/// With --stdin, the Datasette plugin waits for this one line on stdout.
/// Starts the supervisor, saying ready (--stdin) as soon as Litestream is spawned.
///
/// Datasette need not wait for Litestream's first sync: the configuration is valid,
/// missing databases were restored, and Litestream is spawned, so it may serve; writes
/// meanwhile wait in SQLite's WAL for Litestream, the status view says "starting" until
/// replication is confirmed, and a Litestream that exits during start-up still ends the
/// host (and so Datasette) with its output.
async fn start(
    first: Launch,
    dir: &Arc<PrivateDir>,
    policy: Policy,
    shared: &Arc<Shared>,
    channel: Option<&Channel>,
    durable: &[DurableDatabase],
) -> Result<Supervisor, crate::supervisor::SupervisorError> {
    let grace = first.grace;
    let starting = Supervisor::start(first, dir.clone(), policy, shared.clone());
    tokio::pin!(starting);
    let mut told = false;
    let started = loop {
        tokio::select! {
            result = &mut starting => break result,
            () = shared.spawned.notified(), if !told => {
                ready(channel, true, grace, durable);
                told = true;
            }
        }
    };
    // Both may have been ready in the same poll, the start chosen first.
    if started.is_ok() && !told {
        ready(channel, true, grace, durable);
    }
    started
}

/// The --stdin channel's side of the host (docs/live-databases.md, "The channel"):
/// where its status view listens.
#[derive(Clone)]
pub struct Channel {
    pub status_socket: std::path::PathBuf,
    /// With `lease:`, the leased databases: the plugin refuses writes to them until a
    /// `lease` event says primary.
    pub leased: Option<Vec<String>>,
}

/// `stop_grace_seconds`: the longest the host's stop may take, which the plugin waits
/// for before it signals the host; `durable`: the databases whose writes the plugin
/// holds until the replica has them.
fn ready(channel: Option<&Channel>, litestream: bool, grace: Duration, durable: &[DurableDatabase]) {
    if let Some(c) = channel {
        let socket = c.status_socket.display().to_string();
        let stop = crate::supervisor::longest_stop(grace).as_secs_f64();
        println!(
            "{}",
            serde_json::json!({"event": "ready", "litestream": litestream, "status_socket": socket,
                "stop_grace_seconds": stop, "durable": durable_json(durable), "lease": c.leased})
        );
    }
}

/// The channel's `durable`: each `durable-writes` database and its timeout in seconds.
pub(super) fn durable_json(durable: &[DurableDatabase]) -> serde_json::Value {
    durable.iter().map(|d| (d.name.clone(), serde_json::json!(d.timeout_seconds))).collect()
}

enum Event {
    LeaseLost(String),
    Stop(&'static str),
    Update(String),
    Ended(Result<Vec<crate::rules::Unconfirmed>, crate::supervisor::SupervisorError>),
    Refreshed(Result<Option<Change>, crate::config::prepare::PrepareError>),
}

/// When the supervisor ends by itself; never while Litestream is not started.
async fn finished(
    supervisor: &mut Option<Supervisor>,
) -> Result<Vec<crate::rules::Unconfirmed>, crate::supervisor::SupervisorError> {
    match supervisor {
        Some(s) => s.finished().await,
        None => std::future::pending().await,
    }
}

pub fn launch(
    rules: &'static Rules,
    litestream: &Litestream,
    prepared: &Prepared,
    rendered: &Rendered,
    socket: &std::path::Path,
    grace: Duration,
) -> Launch {
    let plan = &prepared.plan;
    let replicated: Vec<&crate::rules::Database> = prepared.replicated().collect();
    Launch {
        binary: litestream.path.clone(),
        version: litestream.version.clone(),
        line: plan.line,
        document: rendered.document.clone(),
        startup: rendered.startup.clone(),
        environment: rendered.environment.iter().map(|v| (v.name.clone(), v.value.clone())).collect(),
        secrets: rendered.secrets.clone(),
        socket: (plan.line == LitestreamLine::V05).then(|| socket.to_path_buf()),
        rules,
        first_sync: Duration::from_secs_f64(plan.first_sync_seconds),
        grace,
        databases: replicated
            .iter()
            .map(|d| crate::rules::DatabaseEvidence {
                name: d.name.clone(),
                path: d.path.clone(),
                file_exists: true,
            })
            .collect(),
    }
}

fn announce(shared: &Shared, prepared: &Prepared) {
    let status = shared.status.lock().expect("status lock").clone();
    let names = prepared.plan.replicated.join(", ");
    let pid = status.pid.map_or("?".into(), |p| p.to_string());
    if status.replicating {
        eprintln!(
            "datasette-litestream: replicating [{names}] with Litestream {} (pid {pid})",
            status.version
        );
    } else {
        eprintln!(
            "datasette-litestream: Litestream {} is running (pid {pid}) but has not confirmed replication of [{names}] yet; see its output above",
            status.version
        );
    }
}
