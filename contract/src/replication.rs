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

/// 0.5: a TXID; 0.3: a place in one WAL index of one generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum Position {
    Txid(u64),
    Wal(WalPosition),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WalPosition {
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileHead {
    pub name: String,
    pub head: Vec<u8>,
}

/// Each line's local files: 0.5's newest L0 LTX file, 0.3's generation and shadow WAL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum LocalFiles {
    Ltx(Option<FileHead>),
    Shadow(ShadowFiles),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ShadowFiles {
    pub generation: Option<String>,
    pub newest_file: Option<FileHead>,
    pub newest_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Observation {
    pub name: String,
    pub path: String,
    pub state: LagState,
    pub files: LocalFiles,
    pub wal_index: Vec<u8>,
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
