//! The `types` interface: what a start or a change is decided from (the databases,
//! the plugin configuration, Litestream's version) and what the decision is.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Database {
    pub name: String,
    pub path: String,
    pub directory: String,
    pub plugin_config: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Request {
    pub top_level: Option<String>,
    pub databases: Vec<Database>,
    pub working_directory: String,
    pub litestream_version: String,
    pub control_socket: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LitestreamLine {
    V03,
    V05,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum CredentialsSource {
    None,
    File(String),
    Command(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
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
    pub lease: Option<LeaseSettings>,
}

/// How a node holds its databases' leases (`lease:`), in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LeaseSettings {
    pub ttl_seconds: f64,
    pub renew_seconds: f64,
    pub margin_seconds: f64,
    pub grace_seconds: f64,
    pub poll_seconds: f64,
    pub owner: Option<String>,
}

/// A database with `durable-writes` and its `durable-timeout`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DurableDatabase {
    pub name: String,
    pub timeout_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ConfigError {
    pub database: Option<String>,
    pub key: String,
    pub problem: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReplicaCount {
    pub path: String,
    pub replicas: u32,
}

/// A plan and, when Litestream starts and its credentials are at hand, its config.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Configured {
    pub plan: Plan,
    pub rendered: Option<Rendered>,
}

/// What proves that a Litestream started with a rendered config replicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum StartupProof {
    ControlSocket,
    Replicas(Vec<ReplicaCount>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Rendered {
    pub document: String,
    pub environment: Vec<EnvVar>,
    pub secrets: Vec<String>,
    pub startup: StartupProof,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum CredentialsError {
    NotJson(String),
    NotAnObject,
    MissingKey(String),
    WrongType(String),
}

/// The fields of `Credentials`, by name (WIT flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CredentialFields {
    pub access_key_id: bool,
    pub secret_access_key: bool,
    pub session_token: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CredentialsChange {
    pub changed: bool,
    pub fields: CredentialFields,
}
