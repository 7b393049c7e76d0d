//! The host's own types for what crosses the rules' contract: plain Rust, owned by
//! the host, used everywhere outside `rules/`. Each mirrors the WIT type of the same
//! name (`wit/world.wit` documents every field); `adapter.rs` converts, so a change
//! to the contract touches the adapter, and this file only when the host wants to
//! use something new.

use serde::{Deserialize, Serialize};

pub use super::follow::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    pub name: String,
    pub path: String,
    pub directory: String,
    pub plugin_config: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub top_level: Option<String>,
    pub databases: Vec<Database>,
    pub working_directory: String,
    pub litestream_version: String,
    pub control_socket: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LitestreamLine {
    V03,
    V05,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CredentialsSource {
    None,
    File(String),
    Command(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub replicated: Vec<String>,
    pub start_litestream: bool,
    pub credentials_source: CredentialsSource,
    pub refresh_interval_seconds: Option<f64>,
    pub metrics_addr: Option<String>,
    pub line: LitestreamLine,
    pub warnings: Vec<String>,
    pub first_sync_seconds: f64,
    pub health_window_seconds: f64,
    pub stop_grace_seconds: f64,
    pub durable: Vec<DurableDatabase>,
}

/// A database with `durable-writes` and its `durable-timeout`.
#[derive(Debug, Clone, PartialEq)]
pub struct DurableDatabase {
    pub name: String,
    pub timeout_seconds: f64,
}

/// How the durable writes of one database are going, for the health check.
#[derive(Debug, Clone, PartialEq)]
pub struct DurabilityEvidence {
    pub name: String,
    pub waiting: u32,
    pub longest_wait_seconds: f64,
    pub timeout_seconds: f64,
    pub failing: Option<String>,
}

/// Litestream's HTTP answer to a sync that waits for the replica.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncAnswer {
    pub status: u16,
    pub body: String,
}

/// What the writes committed before a sync began may be told.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncOutcome {
    /// On the replica; a TXID the replica holds that is at least theirs.
    Durable(u64),
    NotDurable(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub database: Option<String>,
    pub key: String,
    pub problem: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub document: String,
    pub environment: Vec<EnvVar>,
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CredentialsError {
    NotJson(String),
    NotAnObject,
    MissingKey(String),
    WrongType(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialsChange {
    pub changed: bool,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub replica_type: String,
    pub operation: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamedValue {
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseMetrics {
    pub database: String,
    pub values: Vec<NamedValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub goroutines: Option<f64>,
    pub threads: Option<f64>,
    pub operation_bytes: Vec<Operation>,
    pub operation_counts: Vec<Operation>,
    pub databases: Vec<DatabaseMetrics>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub age_seconds: f64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseEvidence {
    pub name: String,
    pub path: String,
    pub file_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessState {
    /// Before a process was spawned (a restore may run first), and until its
    /// replication is confirmed.
    #[default]
    Starting,
    Running,
    Restarting,
    Stopping,
    Stopped,
    Failed,
    NotStarted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthInput {
    pub state: ProcessState,
    pub uptime_seconds: f64,
    pub databases: Vec<DatabaseEvidence>,
    pub logs: Vec<LogEntry>,
    pub window_seconds: f64,
    pub durability: Vec<DurabilityEvidence>,
    pub conflicts: Vec<Conflict>,
}

/// Another node writes this database's replica.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub name: String,
    pub reason: String,
}

/// One local Litestream file: its name and size.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFile {
    pub name: String,
    pub size: u64,
}

/// What tells whether another node writes the same replica.
#[derive(Debug, Clone, PartialEq)]
pub struct WritersEvidence {
    pub listing: String,
    pub local_files: Vec<LocalFile>,
    pub generation: Option<String>,
}

/// Whether this node is the replica's only writer.
#[derive(Debug, Clone, PartialEq)]
pub enum WritersVerdict {
    Alone,
    AnotherWriter(String),
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ok: bool,
    pub reason: String,
    pub behind: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StopEvidence {
    pub running: bool,
    pub exit_code: Option<i32>,
    pub interrupted: bool,
    pub killed: bool,
    pub output: Vec<String>,
    pub databases: Vec<DatabaseEvidence>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unconfirmed {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Startup {
    Waiting,
    Replicating,
    SocketListening,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvidencePaths {
    pub position_source: String,
    pub shadow_directory: Option<String>,
    pub wal_index: String,
}

/// 0.3: generation, WAL index and byte offset; 0.5: the TXID as `index` (the
/// generation empty, the offset 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Position {
    pub generation: String,
    pub index: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PendingChange {
    pub position: Position,
    pub since: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LagState {
    pub pending: Vec<PendingChange>,
    pub replica: Option<Position>,
    pub replicated_at: Option<f64>,
    pub unknown_since: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocalFiles {
    pub newest_file: Option<(String, Vec<u8>)>,
    pub newest_size: u64,
    pub generation: Option<String>,
    pub wal_index: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub name: String,
    pub path: String,
    pub state: LagState,
    pub files: LocalFiles,
    pub socket: Option<Result<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplicationState {
    CaughtUp,
    Behind,
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    pub report: LagReport,
    pub state: LagState,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub databases: Vec<Database>,
    pub plan: Plan,
    pub refused: Vec<ConfigError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub path: String,
    pub replica_url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InPlaceChange {
    pub unregister: Vec<String>,
    pub register: Vec<Registration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Unchanged,
    Start,
    Stop,
    InPlace(InPlaceChange),
    Restart(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub exists: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Restore,
    Skip(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub database: String,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RestoreOptions {
    pub force: bool,
    pub only_missing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmptyReplicaOutcome {
    FreshStart,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmptyReplicaVerdict {
    pub outcome: EmptyReplicaOutcome,
    pub message: String,
}

/// Default: nothing seen yet (no restore, no sentinel, no time spent).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VerifyEvidence {
    pub sentinel_error: Option<String>,
    pub restored: bool,
    pub restore_error: Option<String>,
    pub integrity_ok: Option<bool>,
    pub sentinel_found: bool,
    pub timed_out: bool,
    pub waited_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyOutcome {
    Verified,
    Failed,
    Inconclusive,
    Pending,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifyVerdict {
    pub outcome: VerifyOutcome,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LastVerification {
    pub database: String,
    pub outcome: Option<VerifyOutcome>,
    pub age_seconds: Option<f64>,
}

/// An enum's word: the same as in the status JSON and the contract (`not-started`).
macro_rules! words {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let word = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned));
                f.write_str(word.as_deref().unwrap_or("?"))
            }
        }
    )*};
}
words!(ProcessState, ReplicationState, VerifyOutcome, FollowerState);
