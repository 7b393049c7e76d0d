//! `run` with `lease:` (docs/lease.md): Litestream starts only once this node holds
//! every replicated database's lock. A node that cannot take them says so, lets
//! Datasette serve read-only (the plugin refuses writes), and looks again every few
//! seconds; once it takes them, it copies each replica into its database and starts
//! Litestream, without a restart of Datasette.

use super::Channel;
use super::replication::{End, Replication};
use super::signals::{Outside, Signals};
use crate::lease::Leases;
use std::sync::Arc;

/// Why a leased node does not take a new set of databases while it runs.
pub const NO_LIVE_CHANGES: &str = "with lease:, databases added or removed while running are not applied yet \
     (each needs its own lock taken before Litestream replicates it); restart this node to apply them";

/// The node's locks, when the plan has `lease:` (and Litestream is to start).
pub async fn prepare(r: &Replication) -> Result<Option<Arc<Leases>>, End> {
    let plan = &r.prepared.plan;
    let (Some(settings), true, Some(rendered)) = (&plan.lease, plan.start_litestream, &r.prepared.rendered)
    else {
        return Ok(None);
    };
    let databases: Vec<(String, String)> =
        r.prepared.replicated().map(|d| (d.name.clone(), d.path.clone())).collect();
    match Leases::new(r.rules, settings.clone(), rendered, &databases).await {
        Ok(l) => {
            let l = Arc::new(l);
            let _ = r.context.lease.set(l.clone());
            Ok(Some(l))
        }
        Err(e) => {
            eprintln!("error: lease: {e}");
            Err(End(1))
        }
    }
}

/// Starts replicating once the locks are held: at once, or after standing by.
pub async fn begin(r: &mut Replication, leases: &Arc<Leases>, outside: &mut Signals) -> Result<(), End> {
    if leases.try_take_all().await {
        eprintln!("datasette-litestream: lease: this node is the primary ({})", leases.report().owner);
        relay(r, leases).await?;
        r.begin(true).await?;
        say_role(r.channel.as_ref(), leases);
        return Ok(());
    }
    let why = leases.report().reason.unwrap_or_default();
    eprintln!("datasette-litestream: lease: standby, not replicating and refusing writes: {why}");
    super::ready(r.channel.as_ref(), false, std::time::Duration::ZERO, &[]);
    say_role(r.channel.as_ref(), leases);
    let replicas = replicas(r)?;
    let mut copies = crate::lease::takeover::Copies::default();
    let mut follow = tokio::time::interval(FOLLOW_EVERY);
    loop {
        tokio::select! {
            () = tokio::time::sleep(leases.poll()) => {
                if leases.try_take_all().await {
                    break;
                }
            }
            _ = follow.tick() => replicas.refresh(&mut copies).await,
            o = outside.next() => match o {
                Outside::Stop(why) => {
                    eprintln!("datasette-litestream: stopping a standby ({why})");
                    return Err(End(0));
                }
                Outside::Update(_) => r.refuse(&[super::replication::of_the_set(NO_LIVE_CHANGES.into())]),
            },
        }
    }
    replicas.catch_up().await.map_err(|e| {
        eprintln!("error: lease: {e}");
        End(1)
    })?;
    relay(r, leases).await?;
    r.begin(false).await?;
    eprintln!("datasette-litestream: lease: took over; this node is the primary and accepts writes");
    say_role(r.channel.as_ref(), leases);
    Ok(())
}

/// Litestream's S3 traffic goes through the fence (once per run).
async fn relay(r: &mut Replication, leases: &Arc<Leases>) -> Result<(), End> {
    if r.fence.is_some() {
        return Ok(());
    }
    let fence = crate::lease::gate::Fence::open(leases).await.map_err(|e| {
        eprintln!("error: lease: cannot open the relay that fences uploads: {e}");
        End(1)
    })?;
    r.fence = Some(fence);
    Ok(())
}

/// How often a standby looks whether the primary's replica moved, to copy it.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The node's replicas, for a standby's copies and its takeover.
fn replicas(r: &Replication) -> Result<crate::lease::takeover::Replicas, End> {
    let litestream = r.litestream.as_ref().map_err(|e| {
        eprintln!("error: {e}");
        End(1)
    })?;
    let rendered = r.prepared.rendered.as_ref().expect("a leased plan has a rendering");
    let databases = r.prepared.replicated().map(|d| (d.name.clone(), d.path.clone())).collect();
    crate::lease::takeover::Replicas::new(r.rules, &litestream.path, &r.dir, rendered, databases).map_err(
        |e| {
            eprintln!("error: lease: {e}");
            End(1)
        },
    )
}

/// Kills Litestream at once (no final upload) after the lease was lost.
pub async fn fence(r: &mut Replication, leases: &Leases, why: &str) {
    leases.fenced(why);
    if let Some(s) = r.supervisor.take() {
        s.fence().await;
    }
    say_role(r.channel.as_ref(), leases);
    eprintln!(
        "error: lease lost: {why}. Litestream was killed without a final upload so that it cannot write \
         over the new primary's history; this node refuses writes and stops. Rows written here after \
         the last replicated transaction are not in the replica (docs/lease.md, \"Fencing\")."
    );
}

/// Tells the plugin (--stdin) this node's role, so it refuses or accepts writes.
pub fn say_role(channel: Option<&Channel>, leases: &Leases) {
    if channel.is_some() {
        let report = leases.report();
        let other = report.locks.iter().find(|l| !l.ours);
        let (holder, expires) = (other.and_then(|l| l.holder.clone()), other.and_then(|l| l.expires_at));
        println!(
            "{}",
            serde_json::json!({"event": "lease", "role": report.role, "reason": report.reason,
                "holder": holder, "expires_at": expires, "databases": channel.and_then(|c| c.leased.clone())})
        );
    }
}
