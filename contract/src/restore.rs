//! The `restore` interface: what to restore, and how a verification went.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Target {
    pub name: String,
    pub exists: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum Step {
    Restore,
    Skip(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Decision {
    pub database: String,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RestoreOptions {
    pub force: bool,
    pub only_missing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyReplicaOutcome {
    FreshStart,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EmptyReplicaVerdict {
    pub outcome: EmptyReplicaOutcome,
    pub message: String,
}

/// Default: nothing seen yet (no restore, no sentinel, no time spent).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct VerifyVerdict {
    pub outcome: VerifyOutcome,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LastVerification {
    pub database: String,
    pub outcome: Option<VerifyOutcome>,
    pub age_seconds: Option<f64>,
}
