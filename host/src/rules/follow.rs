//! The `follow` interface's calls, for read-only followers.

use super::{
    ConfigError, FollowEvent, FollowTarget, FollowerLook, FollowerReport, Request, Rules, RulesError,
};
use contract::Convert;

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
