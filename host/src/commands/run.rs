//! `run`: keep the databases replicated until stopped.

use crate::cli::RunArgs;
use crate::inputs::Inputs;
use crate::litestream::{self, Litestream};
use crate::prepare::{self, Prepared};
use crate::private_dir::PrivateDir;
use crate::refresh::{Change, Refresher};
use crate::rules::{LitestreamLine, Rendered, Rules};
use crate::status::{
    self,
    server::{serve_tcp, serve_unix},
};
use crate::supervisor::{Launch, Policy, Shared, Supervisor};
use anyhow::{Context, Result};
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(args: RunArgs) -> Result<u8> {
    let mut stdin_lines = None;
    let inputs: Inputs = if args.stdin {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let first = lines.next_line().await?.context("stdin closed before the inputs JSON arrived")?;
        stdin_lines = Some(lines);
        serde_json::from_str(&first).context("cannot read the inputs JSON on stdin")?
    } else {
        super::inputs_from(&args.sources)?
    };
    let rules = Rules::builtin()?;
    let found = litestream::find(args.sources.litestream.as_deref()).await;
    // The config is checked even without a binary, so a missing Litestream is only an
    // error when something is to be replicated.
    let version = found.as_ref().map_or("v0.3.13".to_owned(), |l| l.version.clone());
    let dir = Arc::new(PrivateDir::create().context("cannot create the private directory")?);
    let socket = dir.path().join("litestream.sock");
    let request = prepare::request(&inputs, &version, Some(&socket));
    let prepared = match super::prepared(rules, request).await {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let shared = Arc::new(Shared::default());
    let mut stop = StopSignals::new(stdin_lines)?;
    let redacted = match &prepared.rendered {
        Some(r) => Some(rules.redact(&r.document)?.map_err(anyhow::Error::msg)?),
        None => None,
    };
    let not_started = (!prepared.plan.start_litestream).then(|| NOTHING_TO_REPLICATE.to_owned());
    let context = Arc::new(status::Context::new(
        rules,
        shared.clone(),
        prepared.request.databases.clone(),
        prepared.plan.replicated.clone(),
        redacted,
        prepared.plan.metrics_addr.clone(),
        (prepared.plan.line == LitestreamLine::V05).then(|| socket.clone()),
        prepared.plan.health_window_seconds,
        not_started.clone(),
        prepared.plan.warnings.clone(),
    ));
    if let Some(addr) = args.status_addr {
        match serve_tcp(context.clone(), addr, args.status_token.clone()).await {
            Ok(bound) => {
                eprintln!("datasette-litestream: status view at http://{bound}/-/litestream-status")
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(2);
            }
        }
    }
    if let Some(path) = &args.status_socket {
        serve_unix(context.clone(), path).await?;
    }
    if let Some(reason) = not_started {
        eprintln!("datasette-litestream: {reason}; Litestream is not started");
        shared.status.lock().expect("status lock").state = "not-started".into();
        ready(args.stdin, false);
        stop.wait().await;
        return Ok(0);
    }
    let litestream = found?;
    if args.restore_if_missing {
        let options =
            crate::restore::Options { explicit: &[], force: false, only_missing: true, timestamp: None };
        let outcomes = crate::restore::restore(rules, &prepared, &litestream.path, &dir, &options).await?;
        if super::restore::report(&outcomes) != 0 {
            // Starting an empty database here would replicate it over the good backup.
            eprintln!(
                "error: not starting: a missing database could not be restored from its replica \
                 (fix the replica's address or credentials named above; to start empty on purpose, \
                 run without --restore-if-missing)"
            );
            return Ok(1);
        }
    }
    let rendered = prepared.rendered.as_ref().expect("a plan that starts Litestream has a rendering");
    let first = launch(rules, &litestream, &prepared, rendered, &socket);
    let policy =
        Policy { grace: args.grace_period, startup_timeout: args.startup_timeout, ..Policy::default() };
    let mut supervisor = match start(first, &dir, policy, &shared, args.stdin).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    context.watch_lag(prepared.plan.line).await?;
    announce(&shared, &prepared);
    let cwd = inputs.working_directory.clone();
    let mut refresher = Refresher::new(
        &prepared.plan.credentials_source,
        prepared.plan.refresh_interval_seconds,
        cwd,
        prepared.credentials.as_ref(),
    );
    loop {
        let event = tokio::select! {
            why = stop.wait() => Event::Stop(why),
            ended = supervisor.finished() => Event::Ended(ended),
            change = refresh(&mut refresher, rules) => Event::Refreshed(change),
        };
        match event {
            Event::Stop(why) => {
                eprintln!(
                    "datasette-litestream: {why}; stopping Litestream (final sync, up to {:?})",
                    args.grace_period
                );
                supervisor.stop().await?;
                eprintln!("datasette-litestream: stopped");
                return Ok(0);
            }
            Event::Ended(Ok(())) => return Ok(0),
            Event::Ended(Err(e)) => {
                eprintln!("error: {e}");
                return Ok(1);
            }
            Event::Refreshed(Ok(None)) => {}
            Event::Refreshed(Ok(Some(change))) => {
                let rendered = prepare::render(rules, &prepared.request, Some(&change.credentials))?;
                let next = launch(rules, &litestream, &prepared, &rendered, &socket);
                eprintln!(
                    "datasette-litestream: credentials changed ({}); restarting Litestream with them",
                    change.fields.join(", ")
                );
                let redacted = rules.redact(&rendered.document)?.map_err(anyhow::Error::msg)?;
                *context.config.lock().expect("config lock") = Some(redacted);
                if let Err(e) = supervisor.rotate(next).await {
                    eprintln!("error: Litestream did not start again with the new credentials: {e}");
                    supervisor.stop().await.ok();
                    return Ok(1);
                }
                eprintln!("datasette-litestream: replicating with the new credentials");
            }
            Event::Refreshed(Err(e)) => {
                // The seed's rule: a failed refresh ends the process, after a clean stop.
                eprintln!("error: credentials refresh failed: {e}; stopping Litestream");
                supervisor.stop().await.ok();
                return Ok(1);
            }
        }
    }
}

const NOTHING_TO_REPLICATE: &str =
    "nothing to replicate: no database has datasette-litestream config and there is no top-level config";

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
    stdin_mode: bool,
) -> Result<Supervisor, crate::supervisor::SupervisorError> {
    let starting = Supervisor::start(first, dir.clone(), policy, shared.clone());
    tokio::pin!(starting);
    let mut told = false;
    let started = loop {
        tokio::select! {
            result = &mut starting => break result,
            () = shared.spawned.notified(), if !told => {
                ready(stdin_mode, true);
                told = true;
            }
        }
    };
    // Both may have been ready in the same poll, the start chosen first.
    if started.is_ok() && !told {
        ready(stdin_mode, true);
    }
    started
}

fn ready(stdin_mode: bool, litestream: bool) {
    if stdin_mode {
        println!("{}", serde_json::json!({"event": "ready", "litestream": litestream}));
    }
}

enum Event {
    Stop(&'static str),
    Ended(Result<(), crate::supervisor::SupervisorError>),
    Refreshed(Result<Option<Change>, crate::prepare::PrepareError>),
}

/// The next refresh, or never when there is no dynamic source.
async fn refresh(
    refresher: &mut Option<Refresher>,
    rules: &'static Rules,
) -> Result<Option<Change>, crate::prepare::PrepareError> {
    match refresher {
        Some(r) => r.next(rules).await,
        None => std::future::pending().await,
    }
}

pub fn launch(
    rules: &'static Rules,
    litestream: &Litestream,
    prepared: &Prepared,
    rendered: &Rendered,
    socket: &std::path::Path,
) -> Launch {
    let plan = &prepared.plan;
    let replicated: Vec<&crate::rules::Database> = prepared.replicated().collect();
    Launch {
        binary: litestream.path.clone(),
        version: litestream.version.clone(),
        line: plan.line,
        document: rendered.document.clone(),
        environment: rendered.environment.iter().map(|v| (v.name.clone(), v.value.clone())).collect(),
        secrets: rendered.secrets.clone(),
        socket: (plan.line == LitestreamLine::V05).then(|| socket.to_path_buf()),
        database_paths: replicated.iter().map(|d| d.path.clone()).collect(),
        rules,
        first_sync: std::time::Duration::from_secs_f64(plan.first_sync_seconds),
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

/// SIGTERM, SIGINT, SIGHUP, or (with --stdin) the Datasette plugin closing stdin.
struct StopSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    stdin: Option<tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>>,
}

impl StopSignals {
    fn new(stdin: Option<tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>>) -> Result<Self> {
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            stdin,
        })
    }

    async fn wait(&mut self) -> &'static str {
        let stdin_closed = async {
            match &mut self.stdin {
                Some(lines) => while let Ok(Some(_)) = lines.next_line().await {},
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = self.term.recv() => "SIGTERM received",
            _ = self.int.recv() => "SIGINT received",
            _ = self.hup.recv() => "SIGHUP received",
            _ = stdin_closed => "stdin closed",
        }
    }
}
