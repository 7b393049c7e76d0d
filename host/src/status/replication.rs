//! Each replicated database's lag as the status view and its JSON show it.

use serde::Serialize;
use std::time::{Duration, SystemTime};

/// The rules' `replication-state`, spelt in kebab-case in the JSON.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum LagState {
    CaughtUp,
    Behind,
    Unknown,
}

impl std::fmt::Display for LagState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LagState::CaughtUp => "caught-up",
            LagState::Behind => "behind",
            LagState::Unknown => "unknown",
        })
    }
}

#[derive(Serialize)]
pub struct ReplicationReport {
    pub state: LagState,
    /// Seconds the oldest change not on the replica had waited at the look; 0 when caught up.
    pub lag_seconds: f64,
    /// When that look was (Unix seconds): the figures are as of then, at most a second old.
    pub looked_at: f64,
    /// Litestream's local position and the replica's (see the README for each line's units).
    pub local_position: Option<PositionReport>,
    pub replica_position: Option<PositionReport>,
    /// Litestream 0.5: TXIDs behind; 0.3: bytes of WAL behind within one index.
    pub behind_by: Option<u64>,
    /// When the replica was last seen to advance (RFC 3339, UTC).
    pub last_replicated_at: Option<String>,
    pub reason: String,
}

#[derive(Serialize)]
pub struct PositionReport {
    /// 0.3's generation; empty on 0.5.
    pub generation: String,
    /// 0.5: the TXID; 0.3: the WAL index.
    pub index: u64,
    /// 0.3: the byte offset in that index; 0 on 0.5.
    pub offset: u64,
}

pub fn replication_report(r: &crate::rules::LagReport) -> ReplicationReport {
    use crate::rules::ReplicationState as S;
    let position = |p: &crate::rules::Position| PositionReport {
        generation: p.generation.clone(),
        index: p.index,
        offset: p.offset,
    };
    ReplicationReport {
        state: match r.state {
            S::CaughtUp => LagState::CaughtUp,
            S::Behind => LagState::Behind,
            S::Unknown => LagState::Unknown,
        },
        lag_seconds: (r.lag_seconds * 10.0).round() / 10.0,
        looked_at: r.observed_at,
        local_position: r.local.as_ref().map(position),
        replica_position: r.replica.as_ref().map(position),
        behind_by: r.behind_by,
        last_replicated_at: r.replicated_at.map(|at| {
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(at.max(0.0));
            humantime::format_rfc3339_seconds(t).to_string()
        }),
        reason: r.reason.clone(),
    }
}
