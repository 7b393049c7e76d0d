//! The `follow` interface: read-only followers of a replica.

#[allow(unused_imports)]
use crate::*;
#[allow(unused_imports)]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FollowTarget {
    pub name: String,
    pub path: String,
    pub replica: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "tag", content = "val", rename_all = "kebab-case")]
pub enum FollowEvent {
    Following(u64),
    Applied(u64),
    Failed(String),
    Stopped,
    EmptyReplica,
    Other,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FollowerMemory {
    pub confirmed_at: Option<f64>,
    pub txid: Option<u64>,
    pub since: f64,
    pub listings: Vec<(f64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FollowerLook {
    pub name: String,
    pub now: f64,
    pub listed_at: f64,
    #[serde(serialize_with = "crate::wit_json::result")]
    pub replica: Result<Option<u64>, String>,
    #[serde(serialize_with = "crate::wit_json::result")]
    pub follower: Result<u64, String>,
    pub memory: FollowerMemory,
    pub stuck_after_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FollowerReport {
    pub name: String,
    pub state: ReplicationState,
    pub staleness_seconds: Option<f64>,
    pub follower_txid: Option<u64>,
    pub replica_txid: Option<u64>,
    pub confirmed_at: Option<f64>,
    pub reason: String,
    pub restore_again: bool,
    pub memory: FollowerMemory,
}
