//! `follow`: keep read-only copies of the databases following their replicas
//! (docs/followers.md).

use super::run::read_inputs;
use super::run::signals::{Outside, Signals};
use crate::cli::FollowArgs;
use crate::config::refresh::{Change, Refresher};
use crate::follow::follower::{Control, CrashLoop, Follower, Swapped};
use crate::follow::layout::Layout;
use crate::follow::view::FollowView;
use crate::follow::{Followers, Keys, Setup, looks};
use crate::rules::{FollowTarget, Rules};
use crate::status::server::serve_all;
use crate::util::private_dir::PrivateDir;
use anyhow::{Context, Result};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub async fn follow(args: FollowArgs) -> Result<u8> {
    let (inputs, stdin_lines) = read_inputs(args.stdin, &args.sources).await?;
    let rules = Rules::builtin()?;
    let litestream = crate::litestream::find(args.sources.litestream.as_deref()).await?;
    let request = crate::config::prepare::request(&inputs, &litestream.version, None);
    let targets = match targets(rules, &request).await? {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    let prepared = match super::prepared(rules, request).await {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let rendered = prepared.rendered.clone().context("a followed configuration has a rendering")?;
    let dir = PrivateDir::create().context("cannot create the private directory")?;
    let followers = Arc::new(Followers::new(&targets));
    followers.logs.set_secrets(&rendered.secrets);
    let setup = Arc::new(Setup {
        rules,
        binary: litestream.path.clone(),
        config: dir.write("litestream.yml", &rendered.document)?,
        keys: std::sync::RwLock::new(keys(&rendered)),
        follow_interval: args.follow_interval,
        look_interval: args.look_interval,
        stuck_after: args.stuck_after,
        policy: crate::supervisor::Policy { grace: args.grace_period, ..Default::default() },
    });
    let status_socket =
        args.status.socket.clone().or_else(|| args.stdin.then(|| dir.path().join("status.sock")));
    if let Err(code) = serve(&args, &setup, &followers, &rendered, status_socket.as_deref()).await? {
        return Ok(code);
    }
    let mut outside = Signals::new(stdin_lines)?;
    let (mut node, mut swapped) = start(&targets, &setup, &followers);
    // Ready once every database has a complete first generation in place.
    let mut pending: Vec<&str> = targets.iter().map(|(t, _)| t.name.as_str()).collect();
    while !pending.is_empty() {
        tokio::select! {
            s = swapped.recv() => if let Some(s) = s { pending.retain(|n| *n != s.name) },
            ended = node.tasks.join_next() => return Ok(node.failed(ended).await),
            o = outside.next() => if let Outside::Stop(why) = o { return Ok(node.stop(why).await) },
        }
    }
    if args.init {
        return Ok(node.stop("each database is restored and in place (--init)").await);
    }
    ready(args.stdin, status_socket.as_deref(), &targets);
    tokio::spawn(looks::watch(setup.clone(), followers.clone(), node.controls.clone()));
    let plan = &prepared.plan;
    let cwd = std::path::PathBuf::from(&prepared.request.working_directory);
    let credentials = prepared.credentials.as_ref();
    let refresher = Refresher::new(&plan.credentials_source, plan.refresh_interval_seconds, cwd, credentials);
    let rotation = Rotation { setup, followers, dir, request: prepared.request.clone(), refresher };
    until_stopped(node, swapped, outside, rotation, args.stdin).await
}

/// The status view of a follower node, on TCP and/or a Unix socket.
async fn serve(
    args: &FollowArgs,
    setup: &Setup,
    followers: &Arc<Followers>,
    rendered: &crate::rules::Rendered,
    socket: Option<&std::path::Path>,
) -> Result<Result<(), u8>> {
    let (rules, document) = (setup.rules, rendered.document.clone());
    let config = crate::util::blocking::blocking(move || rules.redact(&document))
        .await?
        .map_err(anyhow::Error::msg)?;
    let view = Arc::new(FollowView { rules, followers: followers.clone(), config });
    Ok(serve_all(view, args.status.addr, args.status.token.clone(), socket).await)
}

/// One task per followed database; their swaps come on the receiver.
fn start(
    targets: &[(FollowTarget, Layout)],
    setup: &Arc<Setup>,
    followers: &Arc<Followers>,
) -> (Node, mpsc::UnboundedReceiver<Swapped>) {
    let (swapped_tx, swapped) = mpsc::unbounded_channel();
    let mut node = Node { tasks: JoinSet::new(), controls: Vec::new() };
    for (index, (t, layout)) in targets.iter().enumerate() {
        let (tx, rx) = mpsc::channel(4);
        node.controls.push(tx);
        let follower = Follower {
            index,
            name: t.name.clone(),
            key: t.path.clone(),
            layout: layout.clone(),
            setup: setup.clone(),
            followers: followers.clone(),
            swapped: swapped_tx.clone(),
        };
        let into = layout.path.display();
        eprintln!("datasette-litestream: following {} from {} into {into}", t.name, t.replica);
        node.tasks.spawn(follower.run(rx));
    }
    (node, swapped)
}

/// What a credentials rotation needs.
struct Rotation {
    setup: Arc<Setup>,
    followers: Arc<Followers>,
    dir: PrivateDir,
    request: crate::rules::Request,
    refresher: Option<Refresher>,
}

/// Serves swaps and rotations until a stop, a failed refresh or a failed follower.
async fn until_stopped(
    mut node: Node,
    mut swapped: mpsc::UnboundedReceiver<Swapped>,
    mut outside: Signals,
    mut r: Rotation,
    stdin: bool,
) -> Result<u8> {
    loop {
        tokio::select! {
            change = crate::config::refresh::next(&mut r.refresher, r.setup.rules) => match change {
                Ok(None) => {}
                Ok(Some(change)) => {
                    if let Err(e) = rotate(&r.setup, &r.followers, &r.dir, &r.request, change, &node).await {
                        eprintln!("error: {e}");
                        return Ok(node.stop("the new credentials could not be used").await.max(1));
                    }
                }
                Err(e) => {
                    // The seed's rule: a failed refresh ends the process, after a clean stop.
                    eprintln!("error: credentials refresh failed: {e}; stopping the followers");
                    return Ok(node.stop("the credentials refresh failed").await.max(1));
                }
            },
            s = swapped.recv() => if let Some(s) = s { replaced(stdin, &s) },
            ended = node.tasks.join_next() => return Ok(node.failed(ended).await),
            o = outside.next() => match o {
                Outside::Stop(why) => return Ok(node.stop(why).await),
                Outside::Update(_) => eprintln!(
                    "datasette-litestream: a follower follows the databases it started with; a new set is ignored"
                ),
            },
        }
    }
}

/// The rules' plan: the same key-level errors as `run`, and 0.3 refused in one line;
/// a path that is not the follower's own is refused before anything starts.
async fn targets(
    rules: &'static Rules,
    request: &crate::rules::Request,
) -> Result<Result<Vec<(FollowTarget, Layout)>, u8>> {
    let r = request.clone();
    let planned = crate::util::blocking::blocking(move || rules.plan_follow(&r)).await?;
    let targets = match planned {
        Ok(t) => t,
        Err(errors) => {
            eprintln!("error: the datasette-litestream configuration cannot be followed:");
            for e in &errors {
                eprintln!("  - {e}");
            }
            return Ok(Err(2));
        }
    };
    let mut followed = Vec::new();
    for t in targets {
        let layout = Layout::for_database(std::path::Path::new(&t.path));
        if let Err(e) = layout.check() {
            eprintln!("error: {e}");
            return Ok(Err(2));
        }
        followed.push((t, layout));
    }
    Ok(Ok(followed))
}

fn keys(rendered: &crate::rules::Rendered) -> Keys {
    Keys {
        environment: rendered.environment.iter().map(|v| (v.name.clone(), v.value.clone())).collect(),
        secrets: rendered.secrets.clone(),
    }
}

/// New credentials: the config and environment are rewritten, and every follower
/// restores again with them (Litestream 0.5.17 cannot resume a follower, so a new
/// process means a new generation; readers keep the current one until it is in place).
async fn rotate(
    setup: &Setup,
    followers: &Followers,
    dir: &PrivateDir,
    request: &crate::rules::Request,
    change: Change,
    node: &Node,
) -> Result<()> {
    let (rules, r, c) = (setup.rules, request.clone(), change.credentials.clone());
    let rendered =
        crate::util::blocking::blocking(move || crate::config::prepare::render(rules, &r, Some(&c))).await?;
    dir.write("litestream.yml", &rendered.document)?;
    followers.logs.set_secrets(&rendered.secrets);
    *setup.keys.write().expect("keys lock") = keys(&rendered);
    let why = format!("credentials changed ({}); restoring with them", change.fields.join(", "));
    for c in &node.controls {
        let _ = c.send(Control::RestoreAgain(why.clone())).await;
    }
    Ok(())
}

/// The followers' tasks and how to reach them.
struct Node {
    tasks: JoinSet<Result<(), CrashLoop>>,
    controls: Vec<mpsc::Sender<Control>>,
}

impl Node {
    async fn stop(mut self, why: &str) -> u8 {
        eprintln!("datasette-litestream: {why}; stopping the followers");
        for c in &self.controls {
            let _ = c.send(Control::Stop).await;
        }
        while self.tasks.join_next().await.is_some() {}
        eprintln!("datasette-litestream: stopped");
        0
    }

    /// A follower ended by itself: a crash loop. The others stop; the node exits 1.
    async fn failed(self, ended: Option<Result<Result<(), CrashLoop>, tokio::task::JoinError>>) -> u8 {
        match ended {
            Some(Ok(Err(e))) => eprintln!("error: {e}"),
            Some(Err(e)) => eprintln!("error: a follower task failed: {e}"),
            Some(Ok(Ok(()))) | None => eprintln!("error: a follower stopped by itself"),
        }
        self.stop("a follower failed").await;
        1
    }
}

/// With --stdin, the plugin waits for this line: every database is in place.
fn ready(stdin: bool, socket: Option<&std::path::Path>, targets: &[(FollowTarget, Layout)]) {
    let following: Vec<_> =
        targets.iter().map(|(t, l)| serde_json::json!({"name": t.name, "path": l.path})).collect();
    if stdin {
        let socket = socket.map(|s| s.display().to_string());
        println!(
            "{}",
            serde_json::json!({"event": "ready", "litestream": true, "status_socket": socket, "following": following})
        );
    }
    let names: Vec<&str> = targets.iter().map(|(t, _)| t.name.as_str()).collect();
    eprintln!("datasette-litestream: following [{}]", names.join(", "));
}

/// A database now opens a new generation: the plugin re-opens it in Datasette.
fn replaced(stdin: bool, s: &Swapped) {
    if stdin {
        println!("{}", serde_json::json!({"event": "replaced", "name": s.name, "path": s.path}));
    }
}
