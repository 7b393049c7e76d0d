//! The `lease` interface's calls: where each lock lives, what a look at one means,
//! and a renewal judged.

use super::{
    LeaseRole, LeaseSettings, LeaseTarget, Lock, LockSeen, Rendered, RenewalVerdict, Rules, RulesError,
    Sight, WriteOutcome,
};
use contract::Convert;

impl Rules {
    pub fn lease_targets(&self, rendered: &Rendered) -> Result<Result<Vec<LeaseTarget>, String>, RulesError> {
        let rendered = rendered.clone().convert();
        self.call("targets", |r, s| r.datasette_litestream_lease().call_targets(s, &rendered))
            .map(Convert::convert)
    }

    pub fn lease_route(
        &self,
        document: &str,
        routes: &[(String, String)],
    ) -> Result<Result<String, String>, RulesError> {
        self.call("route", |r, s| r.datasette_litestream_lease().call_route(s, document, routes))
    }

    pub fn lease_look(
        &self,
        settings: &LeaseSettings,
        seen: &LockSeen,
        owner: &str,
        now: f64,
    ) -> Result<Sight, RulesError> {
        let (settings, seen) = (settings.clone().convert(), seen.clone().convert());
        self.call("look", |r, s| r.datasette_litestream_lease().call_look(s, &settings, &seen, owner, now))
            .map(Convert::convert)
    }

    pub fn lease_renewal(
        &self,
        settings: &LeaseSettings,
        held: &Lock,
        now: f64,
    ) -> Result<(String, Lock), RulesError> {
        let (settings, held) = (settings.clone().convert(), held.clone().convert());
        self.call("renewal", |r, s| r.datasette_litestream_lease().call_renewal(s, &settings, &held, now))
            .map(Convert::convert)
    }

    pub fn lease_health(
        &self,
        role: LeaseRole,
        reason: Option<&str>,
    ) -> Result<Result<Option<String>, String>, RulesError> {
        let role = role.convert();
        let reason = reason.map(str::to_owned);
        self.call("lease-health", |r, s| {
            r.datasette_litestream_lease().call_lease_health(s, role, reason.as_deref())
        })
    }

    pub fn judge_renewal(
        &self,
        settings: &LeaseSettings,
        outcome: WriteOutcome,
        sent_at: f64,
        fence_at: f64,
        now: f64,
    ) -> Result<RenewalVerdict, RulesError> {
        let settings = settings.clone().convert();
        let outcome = outcome.convert();
        self.call("judge-renewal", |r, s| {
            r.datasette_litestream_lease().call_judge_renewal(s, &settings, outcome, sent_at, fence_at, now)
        })
        .map(Convert::convert)
    }
}
