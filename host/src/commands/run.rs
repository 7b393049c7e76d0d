//! `run`: keep the databases replicated until stopped.

use crate::cli::RunArgs;
use crate::inputs::Inputs;
use crate::litestream::{self, Litestream};
use crate::prepare::{self, Prepared};
use crate::private_dir::PrivateDir;
use crate::rules::{LitestreamLine, Rules};
use crate::supervisor::{Launch, Policy, Shared, Supervisor};
use anyhow::{Context, Result};
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(args: RunArgs) -> Result<u8> {
    let mut stdin_lines = None;
    let inputs: Inputs = if args.stdin {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let first = lines
            .next_line()
            .await?
            .context("stdin closed before the inputs JSON arrived")?;
        stdin_lines = Some(lines);
        serde_json::from_str(&first).context("cannot read the inputs JSON on stdin")?
    } else {
        super::inputs_from(&args.sources)?
    };
    let rules = Rules::builtin()?;
    let found = litestream::find(args.sources.litestream.as_deref()).await;
    // The config is checked even without a binary, so a missing Litestream is only an
    // error when something is to be replicated.
    let version = found
        .as_ref()
        .map_or("v0.3.13".to_owned(), |l| l.version.clone());
    let dir = Arc::new(PrivateDir::create().context("cannot create the private directory")?);
    let socket = dir.path().join("litestream.sock");
    let request = prepare::request(&inputs, &version, Some(&socket));
    let prepared = match prepare::prepare(rules, request).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(e.exit_code());
        }
    };
    for w in &prepared.plan.warnings {
        eprintln!("warning: {w}");
    }
    let shared = Arc::new(Shared::default());
    let mut stop = StopSignals::new(stdin_lines)?;
    if !prepared.plan.start_litestream {
        eprintln!(
            "datasette-litestream: nothing to replicate (no database has datasette-litestream config and there is \
             no top-level config); Litestream is not started"
        );
        shared.status.lock().expect("status lock").state = "not-started".into();
        stop.wait().await;
        return Ok(0);
    }
    let litestream = found?;
    let launch = launch(&litestream, &prepared, &socket);
    let policy = Policy {
        grace: args.grace_period,
        startup_timeout: args.startup_timeout,
        ..Policy::default()
    };
    let mut supervisor = match Supervisor::start(launch, dir.clone(), policy, shared.clone()).await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    announce(&shared, &prepared);
    tokio::select! {
        why = stop.wait() => {
            eprintln!("datasette-litestream: {why}; stopping Litestream (final sync, up to {:?})", args.grace_period);
            supervisor.stop().await?;
            eprintln!("datasette-litestream: stopped");
            Ok(0)
        }
        ended = supervisor.finished() => {
            match ended {
                Ok(()) => Ok(0),
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(1)
                }
            }
        }
    }
}

pub fn launch(litestream: &Litestream, prepared: &Prepared, socket: &std::path::Path) -> Launch {
    let rendered = prepared
        .rendered
        .as_ref()
        .expect("a plan that starts Litestream has a rendering");
    let replicated: Vec<&crate::rules::Database> = prepared
        .request
        .databases
        .iter()
        .filter(|d| prepared.plan.replicated.contains(&d.name))
        .collect();
    Launch {
        binary: litestream.path.clone(),
        version: litestream.version.clone(),
        line: prepared.plan.line,
        document: rendered.document.clone(),
        environment: rendered
            .environment
            .iter()
            .map(|v| (v.name.clone(), v.value.clone()))
            .collect(),
        secrets: rendered.secrets.clone(),
        socket: (prepared.plan.line == LitestreamLine::V05).then(|| socket.to_path_buf()),
        database_paths: replicated.iter().map(|d| d.path.clone()).collect(),
        replica_count: replicated.len(),
        first_sync: std::time::Duration::from_secs_f64(prepared.plan.first_sync_seconds),
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
    fn new(
        stdin: Option<tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>>,
    ) -> Result<Self> {
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
