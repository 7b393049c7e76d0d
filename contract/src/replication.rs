//! The `replication` interface: positions on both sides, the lag, and whether
//! another node writes the same replica.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EvidencePaths {
    pub position_source: String,
    pub shadow_directory: Option<String>,
    pub wal_index: String,
}

/// 0.3: generation, WAL index and byte offset; 0.5: the TXID as `index` (the
/// generation empty, the offset 0).
#[derive(Debug, Clone, PartialEq, Serialize, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub struct Position {
    pub generation: String,
    pub index: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PendingChange {
    pub position: Position,
    pub since: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LagState {
    pub pending: Vec<PendingChange>,
    pub replica: Option<Position>,
    pub replicated_at: Option<f64>,
    pub unknown_since: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LocalFiles {
    pub newest_file: Option<(String, Vec<u8>)>,
    pub newest_size: u64,
    pub generation: Option<String>,
    pub wal_index: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Observation {
    pub name: String,
    pub path: String,
    pub state: LagState,
    pub files: LocalFiles,
    #[serde(serialize_with = "crate::wit_json::option_result")]
    pub socket: Option<Result<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplicationState {
    CaughtUp,
    Behind,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LagReport {
    pub name: String,
    pub state: ReplicationState,
    pub lag_seconds: f64,
    pub local: Option<Position>,
    pub replica: Option<Position>,
    pub behind_by: Option<u64>,
    pub replicated_at: Option<f64>,
    pub unknown_since: Option<f64>,
    pub observed_at: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Tracked {
    pub report: LagReport,
    pub state: LagState,
}

/// One local Litestream file: its name and size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LocalFile {
    pub name: String,
    pub size: u64,
}

/// What tells whether another node writes the same replica.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WritersEvidence {
    pub listing: String,
    pub local_files: Vec<LocalFile>,
    pub generation: Option<String>,
}

/// Whether this node is the replica's only writer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum WritersVerdict {
    Alone,
    AnotherWriter(String),
    Unknown(String),
}
