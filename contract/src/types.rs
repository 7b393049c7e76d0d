//! The `types` interface: what a start or a change is decided from (the databases,
//! the plugin configuration, Litestream's version) and what the decision is.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

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
