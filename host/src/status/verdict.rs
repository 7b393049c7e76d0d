//! The health verdict of a replicating node, from the context's evidence: the rules'
//! verdict on Litestream and its output, then the lag, then recent verifications.

use super::{Context, HealthReport};
use crate::rules::{DatabaseEvidence, HealthInput, LogEntry, Verdict};
use crate::util::clock::now;

impl Context {
    pub(super) fn judge_now(
        &self,
        reports: &[crate::rules::LagReport],
        verified_within: Option<f64>,
        max_lag: Option<f64>,
    ) -> HealthReport {
        if let Some(lease) = self.lease.get() {
            let report = lease.report();
            match self
                .rules
                .lease_health(report.role, report.reason.as_deref())
                .map_err(|e| e.to_string())
                .and_then(|r| r)
            {
                Err(reason) => return HealthReport { ok: false, reason, behind: vec![] },
                Ok(Some(note)) => return HealthReport { ok: true, reason: note, behind: vec![] },
                Ok(None) => {}
            }
        }
        let refused = self.members().refused.clone();
        // Nothing refused is the common case: no wasm call for it.
        if !refused.is_empty() {
            let admitted = self.rules.require_admitted(&refused).map_err(|e| e.to_string()).and_then(|r| r);
            if let Err(reason) = admitted {
                return HealthReport { ok: false, reason, behind: vec![] };
            }
        }
        let v = self.verdict();
        if v.ok {
            let limit = max_lag.unwrap_or(self.health_window);
            let judged = self.rules.require_caught_up(reports, limit, now());
            if let Err(reason) = judged.map_err(|e| e.to_string()).and_then(|r| r) {
                return HealthReport { ok: false, reason, behind: vec![] };
            }
        }
        if let (true, Some(within)) = (v.ok, verified_within) {
            let t = now();
            let last: Vec<crate::rules::LastVerification> = self
                .replicated_databases()
                .iter()
                .map(|d| {
                    let r = crate::recovery::verify::last(std::path::Path::new(&d.path));
                    crate::rules::LastVerification {
                        database: d.name.clone(),
                        outcome: r.as_ref().and_then(|r| crate::recovery::verify::outcome_of(&r.outcome)),
                        age_seconds: r.map(|r| t - r.at),
                    }
                })
                .collect();
            let judged =
                self.rules.require_verified(&last, within).map_err(|e| e.to_string()).and_then(|r| r);
            if let Err(reason) = judged {
                return HealthReport { ok: false, reason, behind: vec![] };
            }
        }
        HealthReport {
            ok: v.ok,
            reason: v.reason,
            behind: v.behind.iter().map(ToString::to_string).collect(),
        }
    }

    fn verdict(&self) -> Verdict {
        let status = self.shared.status.lock().expect("status lock").clone();
        let uptime = status.started_at.map_or(0.0, |s| now() - s);
        let databases = self
            .replicated_databases()
            .iter()
            .map(|d| DatabaseEvidence {
                name: d.name.clone(),
                path: d.path.clone(),
                file_exists: std::path::Path::new(&d.path).exists(),
            })
            .collect();
        let t = now();
        let logs = self
            .shared
            .logs
            .recent(crate::util::logbuf::CAPACITY)
            .into_iter()
            .filter(|l| t - l.at <= self.health_window)
            .map(|l| LogEntry { age_seconds: t - l.at, text: l.text })
            .collect();
        let input = HealthInput {
            state: status.state,
            uptime_seconds: uptime,
            databases,
            logs,
            window_seconds: self.health_window,
            durability: self.durability_reports().iter().map(|r| r.evidence()).collect(),
            conflicts: self.conflicts(),
        };
        self.rules.assess_health(&input).unwrap_or_else(|e| Verdict {
            ok: false,
            reason: e.to_string(),
            behind: vec![],
        })
    }
}
