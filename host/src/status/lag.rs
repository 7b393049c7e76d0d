//! Each replicated database's lag as the status view and its JSON show it.

use crate::rules::{Position, ReplicationState};
use serde::Serialize;
use std::time::{Duration, SystemTime};

#[derive(Serialize)]
pub struct ReplicationReport {
    pub state: ReplicationState,
    /// Seconds the oldest change not on the replica had waited at the look; 0 when caught up.
    pub lag_seconds: f64,
    /// When that look was (Unix seconds): the figures are as of then, at most a second old.
    pub looked_at: f64,
    /// Litestream's local position and the replica's (docs/lag-and-alerting.md gives each line's units).
    pub local_position: Option<Position>,
    pub replica_position: Option<Position>,
    /// Litestream 0.5: TXIDs behind; 0.3: bytes of WAL behind within one index.
    pub behind_by: Option<u64>,
    /// When the replica was last seen to advance (RFC 3339, UTC).
    pub last_replicated_at: Option<String>,
    pub reason: String,
}

pub fn replication_report(r: &crate::rules::LagReport) -> ReplicationReport {
    ReplicationReport {
        state: r.state,
        lag_seconds: (r.lag_seconds * 10.0).round() / 10.0,
        looked_at: r.observed_at,
        local_position: r.local.clone(),
        replica_position: r.replica.clone(),
        behind_by: r.behind_by,
        last_replicated_at: r.replicated_at.map(|at| {
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(at.max(0.0));
            humantime::format_rfc3339_seconds(t).to_string()
        }),
        reason: r.reason.clone(),
    }
}
