//! Starting Litestream once: the private config, the process (own group, parent-death
//! signal), its output copied line by line, and the wait for evidence of replication.

use super::{Launch, Policy, Running, Shared, SupervisorError, describe};
use crate::litestream::control_socket;
use crate::rules::Startup;
use crate::util::private_dir::PrivateDir;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Spawns Litestream and waits for evidence that it replicates.
pub(super) async fn start(
    launch: &Launch,
    dir: &PrivateDir,
    policy: &Policy,
    shared: &Arc<Shared>,
) -> Result<Running, SupervisorError> {
    let config = dir
        .write("litestream.yml", &launch.document)
        .map_err(|source| SupervisorError::Config { dir: dir.path().into(), source })?;
    if let Some(socket) = &launch.socket {
        let _ = std::fs::remove_file(socket);
    }
    shared.logs.set_secrets(&launch.secrets);
    *shared.listing.lock().expect("listing lock") = Some(super::Listing {
        binary: launch.binary.clone(),
        line: launch.line,
        config: config.clone(),
        environment: launch.environment.clone(),
        secrets: launch.secrets.clone(),
    });
    let mut cmd = command(launch, &config);
    shared.update(|s| s.state = super::ProcessState::Starting);
    let mut child =
        cmd.spawn().map_err(|source| SupervisorError::Spawn { binary: launch.binary.clone(), source })?;
    let pid = child.id();
    let at = crate::util::clock::now();
    shared.update(|s| {
        s.pid = pid;
        s.started_at = Some(at);
        s.replicating = false;
    });
    shared.spawned.notify_one();
    let (lines_tx, mut lines) = mpsc::unbounded_channel();
    let output = vec![
        forward(
            child.stdout.take().expect("piped"),
            "stdout",
            shared.clone(),
            lines_tx.clone(),
            launch.rules,
        ),
        forward(child.stderr.take().expect("piped"), "stderr", shared.clone(), lines_tx, launch.rules),
    ];
    let started = Instant::now();
    let ready = wait_ready(launch, &mut lines, policy.startup_timeout);
    let outcome = tokio::select! {
        status = child.wait() => Err(status),
        ready = ready => Ok(ready),
    };
    // Output closing first means Litestream is exiting: take its status.
    let outcome = match outcome {
        Ok(Some(confirmed)) => Ok(confirmed),
        Ok(None) => Err(child.wait().await),
        Err(status) => Err(status),
    };
    match outcome {
        Ok(confirmed) => {
            shared.update(|s| {
                s.state = super::ProcessState::Running;
                s.replicating = confirmed;
            });
            Ok(Running { child, started, output })
        }
        Err(status) => {
            // Let the readers drain what Litestream printed before it died.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let (status, code) = describe(status);
            Err(SupervisorError::Exited { status, code, tail: shared.tail() })
        }
    }
}

/// `litestream replicate` for this launch: its own process group, its environment,
/// piped output, and SIGTERM when the host dies.
fn command(launch: &Launch, config: &std::path::Path) -> Command {
    let mut cmd = crate::litestream::child(&launch.binary);
    // -no-expand-env: values reach Litestream exactly as Datasette resolved them; a
    // secret or URL containing `$` is not mangled by Litestream's own expansion.
    cmd.args(["replicate", "-no-expand-env", "-config"])
        .arg(config)
        .envs(launch.environment.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Copies one output stream into the log buffer and the host's stderr, line by line,
/// with the rules' hint for a line that shows a misconfiguration.
fn forward(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    name: &'static str,
    shared: Arc<Shared>,
    lines_tx: mpsc::UnboundedSender<String>,
    rules: &'static crate::rules::Rules,
) -> tokio::task::JoinHandle<()> {
    super::output::forward(stream, move |line| {
        let clean = shared.logs.push(name, &line);
        eprintln!("litestream: {clean}");
        let lines_tx = lines_tx.clone();
        async move {
            // The rules know which lines show a misconfiguration (a wasm call: blocking).
            if let Ok(Some(hint)) = crate::util::blocking::blocking(move || rules.hint(&clean)).await {
                eprintln!("datasette-litestream: hint: {hint}");
            }
            let _ = lines_tx.send(line);
        }
    })
}

/// True once replication is confirmed; false when start-up ran out of time first
/// (Litestream keeps running: a missing database file or an unreachable replica
/// does not make it exit, and the status view says so); None when its output closed.
async fn wait_ready(
    launch: &Launch,
    lines: &mut mpsc::UnboundedReceiver<String>,
    limit: Duration,
) -> Option<bool> {
    let work = async {
        let mut output = Vec::new();
        while let Some(line) = lines.recv().await {
            output.push(line);
            // Start-up lines come in bursts: read the rules once per burst, not per line.
            while let Ok(more) = lines.try_recv() {
                output.push(more);
            }
            // What the output proves is the rules' call; off the async workers.
            let (rules, proof, seen) = (launch.rules, launch.startup.clone(), output.clone());
            let progress =
                crate::util::blocking::blocking(move || rules.startup_progress(&proof, &seen)).await;
            match (progress, &launch.socket) {
                (Ok(Startup::SocketListening), Some(socket)) => {
                    return Some(first_sync(launch, socket).await);
                }
                (Ok(Startup::Replicating), _) => return Some(true),
                (Ok(_), _) => {}
                (Err(e), _) => {
                    tracing::warn!("cannot read Litestream's start-up output: {e}");
                    return Some(false);
                }
            }
        }
        None
    };
    match tokio::time::timeout(limit, work).await {
        Ok(confirmed) => confirmed,
        // Said once, by the caller: `run` names the databases, a restart its pid.
        Err(_) => Some(false),
    }
}

/// Forces 0.5's first sync of every database at once rather than waiting ~1 s for it.
async fn first_sync(launch: &Launch, socket: &std::path::Path) -> bool {
    let mut set = tokio::task::JoinSet::new();
    for db in launch.databases.iter().map(|d| d.path.clone()) {
        let socket = socket.to_path_buf();
        set.spawn(async move { (control_socket::sync(&socket, &db, Duration::from_secs(10)).await, db) });
    }
    let mut all = true;
    while let Some(Ok((result, db))) = set.join_next().await {
        if let Err(e) = result {
            tracing::warn!(database = %db, "the first sync did not complete: {e:#}");
            all = false;
        }
    }
    all
}
