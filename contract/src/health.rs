//! The `health` interface: the evidence the health check, the stop and the start-up
//! are judged from, and the verdicts.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogEntry {
    pub age_seconds: f64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HealthInput {
    pub state: ProcessState,
    pub uptime_seconds: f64,
    pub databases: Vec<DatabaseEvidence>,
    pub logs: Vec<LogEntry>,
    pub window_seconds: f64,
    pub durability: Vec<DurabilityEvidence>,
    pub conflicts: Vec<Conflict>,
}

/// How the durable writes of one database are going, for the health check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DurabilityEvidence {
    pub name: String,
    pub waiting: u32,
    pub longest_wait_seconds: f64,
    pub timeout_seconds: f64,
    pub failing: Option<String>,
}

/// Another node writes this database's replica.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Conflict {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Verdict {
    pub ok: bool,
    pub reason: String,
    pub behind: Vec<Behind>,
}

/// A database that is not replicating as it should, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Behind {
    pub database: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StopEvidence {
    pub running: bool,
    pub exit_code: Option<i32>,
    pub interrupted: bool,
    pub killed: bool,
    pub output: Vec<String>,
    pub databases: Vec<DatabaseEvidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Unconfirmed {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Startup {
    Waiting,
    Replicating,
    SocketListening,
}
