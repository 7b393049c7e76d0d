//! Plain Rust twins of the WIT records, so the rules never see generated types.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
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
    pub line: Line,
    pub warnings: Vec<String>,
    pub first_sync_seconds: f64,
    pub health_window_seconds: f64,
    pub stop_grace_seconds: f64,
    pub durable: Vec<DurableDatabase>,
}

/// A database with `durable-writes`, and its `durable-timeout` in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct DurableDatabase {
    pub name: String,
    pub timeout_seconds: f64,
}

/// How the durable writes of one database are going.
#[derive(Debug, Clone, PartialEq)]
pub struct DurabilityEvidence {
    pub name: String,
    pub waiting: u32,
    pub longest_wait_seconds: f64,
    pub timeout_seconds: f64,
    pub failing: Option<String>,
}

/// One problem with the configuration (the host words it for the user).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub database: Option<String>,
    pub key: String,
    pub problem: String,
    pub hint: Option<String>,
}

impl ConfigError {
    pub fn new(database: Option<&str>, key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            database: database.map(str::to_owned),
            key: key.into(),
            problem: problem.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub document: String,
    pub environment: Vec<(String, String)>,
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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Digest {
    pub goroutines: Option<f64>,
    pub threads: Option<f64>,
    pub operation_bytes: Vec<Operation>,
    pub operation_counts: Vec<Operation>,
    /// (Datasette name, sorted (metric, value) pairs).
    pub databases: Vec<(String, Vec<(String, f64)>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub name: String,
    pub path: String,
    pub file_exists: bool,
}

/// Where the supervised Litestream process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    Starting,
    Running,
    Restarting,
    Stopping,
    Stopped,
    Failed,
    NotStarted,
}

impl ProcessState {
    /// The word the status view uses.
    pub fn word(self) -> &'static str {
        match self {
            ProcessState::Starting => "starting",
            ProcessState::Running => "running",
            ProcessState::Restarting => "restarting",
            ProcessState::Stopping => "stopping",
            ProcessState::Stopped => "stopped",
            ProcessState::Failed => "failed",
            ProcessState::NotStarted => "not-started",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthInput {
    pub state: ProcessState,
    pub uptime_seconds: f64,
    pub databases: Vec<Evidence>,
    /// (age in seconds, line), oldest first.
    pub logs: Vec<(f64, String)>,
    pub window_seconds: f64,
    pub durability: Vec<DurabilityEvidence>,
    /// (database, why): another node writes its replica.
    pub conflicts: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ok: bool,
    pub reason: String,
    pub behind: Vec<String>,
}

/// What Litestream's start-up output shows so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Startup {
    Waiting,
    Replicating,
    SocketListening,
}
