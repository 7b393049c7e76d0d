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
    pub local_position: Option<PositionView>,
    pub replica_position: Option<PositionView>,
    /// Litestream 0.5: TXIDs behind; 0.3: bytes of WAL behind within one index.
    pub behind_by: Option<u64>,
    /// When the replica was last seen to advance (RFC 3339, UTC).
    pub last_replicated_at: Option<String>,
    pub reason: String,
}

/// A position as the status JSON has always shown it, on both lines:
/// `{generation, index, offset}`, with 0.5's TXID as `index` (generation empty, offset 0).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct PositionView {
    pub generation: String,
    pub index: u64,
    pub offset: u64,
}

impl From<&Position> for PositionView {
    fn from(p: &Position) -> Self {
        match p {
            Position::Txid(txid) => PositionView { generation: String::new(), index: *txid, offset: 0 },
            Position::Wal(w) => {
                PositionView { generation: w.generation.clone(), index: w.index, offset: w.offset }
            }
        }
    }
}

impl std::fmt::Display for PositionView {
    /// `txid 42` (0.5) or `e4ee4096aa45a8bc/00000001:4152` (0.3, as Litestream logs it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.generation.as_str() {
            "" => write!(f, "txid {}", self.index),
            g => write!(f, "{g}/{:08x}:{}", self.index, self.offset),
        }
    }
}

pub fn replication_report(r: &crate::rules::LagReport) -> ReplicationReport {
    ReplicationReport {
        state: r.state,
        lag_seconds: (r.lag_seconds * 10.0).round() / 10.0,
        looked_at: r.observed_at,
        local_position: r.local.as_ref().map(PositionView::from),
        replica_position: r.replica.as_ref().map(PositionView::from),
        behind_by: r.behind_by,
        last_replicated_at: r.replicated_at.map(|at| {
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(at.max(0.0));
            humantime::format_rfc3339_seconds(t).to_string()
        }),
        reason: r.reason.clone(),
    }
}
