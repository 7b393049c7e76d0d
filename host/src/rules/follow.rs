//! The `follow` interface: the host's types for read-only followers, and the calls.

use super::adapter::Convert;
use super::{ConfigError, Request, Rules, RulesError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct FollowTarget {
    pub name: String,
    pub path: String,
    pub replica: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FollowEvent {
    Following(u64),
    Applied(u64),
    Failed(String),
    Stopped,
    EmptyReplica,
    Other,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FollowerMemory {
    pub confirmed_at: Option<f64>,
    pub txid: Option<u64>,
    pub since: f64,
    pub listings: Vec<(f64, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FollowerLook {
    pub name: String,
    pub now: f64,
    pub listed_at: f64,
    pub replica: Result<Option<u64>, String>,
    pub follower: Result<u64, String>,
    pub memory: FollowerMemory,
    pub stuck_after_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FollowerState {
    CaughtUp,
    Behind,
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FollowerReport {
    pub name: String,
    pub state: FollowerState,
    pub staleness_seconds: Option<f64>,
    pub follower_txid: Option<u64>,
    pub replica_txid: Option<u64>,
    pub confirmed_at: Option<f64>,
    pub reason: String,
    pub restore_again: bool,
    pub memory: FollowerMemory,
}

impl Rules {
    pub fn plan_follow(
        &self,
        request: &Request,
    ) -> Result<Result<Vec<FollowTarget>, Vec<ConfigError>>, RulesError> {
        let request = request.clone().convert();
        self.call("plan-follow", |r, s| r.datasette_litestream_follow().call_plan_follow(s, &request))
            .map(Convert::convert)
    }

    pub fn follow_progress(&self, line: &str) -> Result<FollowEvent, RulesError> {
        self.call("follow-progress", |r, s| r.datasette_litestream_follow().call_follow_progress(s, line))
            .map(Convert::convert)
    }

    pub fn replica_newest(&self, ltx_json: &str) -> Result<Result<Option<u64>, String>, RulesError> {
        self.call("replica-newest", |r, s| r.datasette_litestream_follow().call_replica_newest(s, ltx_json))
    }

    pub fn parse_sidecar(&self, text: &str) -> Result<Result<u64, String>, RulesError> {
        self.call("parse-sidecar", |r, s| r.datasette_litestream_follow().call_parse_sidecar(s, text))
    }

    pub fn judge_follower(&self, look: &FollowerLook) -> Result<FollowerReport, RulesError> {
        let look = look.clone().convert();
        self.call("judge-follower", |r, s| r.datasette_litestream_follow().call_judge_follower(s, &look))
            .map(Convert::convert)
    }

    pub fn require_fresh(
        &self,
        reports: &[FollowerReport],
        max_lag: f64,
        now: f64,
    ) -> Result<Result<(), String>, RulesError> {
        let reports: Vec<_> = reports.to_vec().convert();
        self.call("require-fresh", |r, s| {
            r.datasette_litestream_follow().call_require_fresh(s, &reports, max_lag, now)
        })
    }
}
