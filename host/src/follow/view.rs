//! A follower node's status view: the same endpoints as `run`'s, showing each
//! followed database, how stale it may be, and `restore -f`'s output.

use super::{FollowerStatus, Followers};
use crate::replica::durability::Answer;
use crate::rules::{ReplicationState, Rules};
use crate::status::html::{BODY_STYLE, esc, in_chrome, log_lines};
use crate::status::prometheus::{family, sample};
use crate::status::{HealthReport, Source};
use crate::util::clock::now;
use crate::util::logbuf::LogLine;
use axum::response::{IntoResponse, Json, Response};
use serde::Serialize;
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;

/// A probe without `max-lag`: how stale a follower may be and still serve.
pub const DEFAULT_MAX_LAG: f64 = 30.0;
const SHOWN_LINES: usize = 100;

pub struct FollowView {
    pub rules: &'static Rules,
    pub followers: Arc<Followers>,
    /// The Litestream config the followers restore with, secrets redacted.
    pub config: String,
}

#[derive(Serialize)]
pub struct FollowReport {
    pub mode: &'static str,
    pub followers: Vec<FollowerJson>,
    pub health: crate::status::HealthReport,
    pub config: String,
    pub logs: Vec<LogLine>,
}

#[derive(Serialize)]
pub struct FollowerJson {
    #[serde(flatten)]
    pub status: FollowerStatus,
    /// The last look, as the rules judged it.
    pub lag: Option<LagJson>,
}

#[derive(Serialize)]
pub struct LagJson {
    pub state: ReplicationState,
    /// Seconds since the follower last confirmed it holds the replica's newest
    /// transaction, as of the look.
    pub staleness_seconds: Option<f64>,
    pub follower_txid: Option<u64>,
    pub replica_txid: Option<u64>,
    pub confirmed_at: Option<f64>,
    pub reason: String,
}

impl FollowView {
    pub async fn report(self: &Arc<Self>) -> FollowReport {
        let health = self.fresh_within(DEFAULT_MAX_LAG).await;
        let followers = self
            .followers
            .snapshot()
            .into_iter()
            .map(|status| {
                let lag = status.report.as_ref().map(|r| LagJson {
                    state: r.state,
                    staleness_seconds: r.staleness_seconds.map(|s| (s * 10.0).round() / 10.0),
                    follower_txid: r.follower_txid,
                    replica_txid: r.replica_txid,
                    confirmed_at: r.confirmed_at,
                    reason: r.reason.clone(),
                });
                FollowerJson { status, lag }
            })
            .collect();
        FollowReport {
            mode: "follow",
            followers,
            health,
            config: self.config.clone(),
            logs: self.followers.logs.recent(SHOWN_LINES),
        }
    }

    /// 200 when every follower confirmed within `max_lag` seconds of now.
    pub async fn fresh_within(self: &Arc<Self>, max_lag: f64) -> crate::status::HealthReport {
        let snapshot = self.followers.snapshot();
        let waiting: Vec<&str> =
            snapshot.iter().filter(|f| f.report.is_none()).map(|f| f.name.as_str()).collect();
        if !waiting.is_empty() {
            let reason = format!("not looked at yet (first restore running): {}", waiting.join(", "));
            return crate::status::HealthReport { ok: false, reason, behind: vec![] };
        }
        let reports: Vec<_> = snapshot.into_iter().filter_map(|f| f.report).collect();
        let rules = self.rules;
        let verdict =
            crate::util::blocking::blocking(move || rules.require_fresh(&reports, max_lag, now())).await;
        let (ok, reason) = match verdict {
            Ok(Ok(())) => (true, format!("every follower confirmed up to date within {max_lag} s")),
            Ok(Err(why)) => (false, why),
            Err(e) => (false, e.to_string()),
        };
        crate::status::HealthReport { ok, reason, behind: vec![] }
    }

    pub async fn body(self: &Arc<Self>) -> String {
        let r = self.report().await;
        let mut o = String::with_capacity(8 * 1024);
        let _ = write!(
            o,
            "<div class=\"litestream-status\"><style>{BODY_STYLE}</style><h1>Litestream status: follower</h1>"
        );
        let (class, word) = if r.health.ok { ("ok", "healthy") } else { ("bad", "unhealthy") };
        let _ = write!(
            o,
            "<p id=\"health\"><span class=\"{class}\">{word}</span>: {}</p>",
            esc(&r.health.reason)
        );
        o.push_str("<h2 id=\"followers\">Followed databases</h2><table><tr><th>name</th><th>path</th><th>replica</th>\
            <th>state</th><th>staleness</th><th>follower txid</th><th>replica txid</th><th>restarts</th>\
            <th>restored again</th><th>why</th></tr>");
        for f in &r.followers {
            let s = &f.status;
            let lag = f.lag.as_ref();
            let cell = |v: Option<String>| esc(&v.unwrap_or_else(|| "-".into()));
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.name),
                esc(&s.path),
                esc(&s.replica),
                lag.map_or(s.state.to_string(), |l| l.state.to_string()),
                cell(lag.and_then(|l| l.staleness_seconds).map(|v| format!("{v:.1} s"))),
                cell(lag.and_then(|l| l.follower_txid).map(|t| t.to_string())),
                cell(lag.and_then(|l| l.replica_txid).map(|t| t.to_string())),
                s.restarts,
                s.restores,
                cell(lag.map(|l| l.reason.clone()).or(s.last_exit.clone())),
            );
        }
        let _ = write!(o, "</table><h2 id=\"config\">Configuration</h2><pre>{}</pre>", esc(&r.config));
        log_lines(&mut o, &r.logs);
        o.push_str("</div>");
        o
    }

    pub async fn metrics(self: &Arc<Self>) -> String {
        let r = self.report().await;
        let mut out = String::new();
        family(&mut out, "healthy", "gauge", "1 when /-/litestream-health answers 200.");
        sample(&mut out, "healthy", None, r.health.ok as u8 as f64);
        type Value = fn(&FollowerJson) -> Option<f64>;
        let families: [(&str, &str, &str, Value); 5] = [
            (
                "follower_staleness_seconds",
                "gauge",
                "Seconds since the follower last confirmed it holds the replica's newest transaction, as of the last look.",
                |f| f.lag.as_ref()?.staleness_seconds,
            ),
            ("follower_txid", "gauge", "The follower's TXID (its -txid file).", |f| {
                f.lag.as_ref()?.follower_txid.map(|t| t as f64)
            }),
            ("follower_replica_txid", "gauge", "The replica's newest TXID at the last look.", |f| {
                f.lag.as_ref()?.replica_txid.map(|t| t as f64)
            }),
            ("follower_restarts_total", "counter", "Restarts after restore -f exited.", |f| {
                Some(f.status.restarts as f64)
            }),
            (
                "follower_restores_total",
                "counter",
                "Restores from scratch of a follower stuck behind.",
                |f| Some(f.status.restores as f64),
            ),
        ];
        for (name, kind, help, value) in families {
            family(&mut out, name, kind, help);
            for f in &r.followers {
                if let Some(v) = value(f) {
                    sample(&mut out, name, Some(&f.status.name), v);
                }
            }
        }
        out
    }
}

/// The status view's endpoints on a follower node.
impl Source for FollowView {
    fn rules(&self) -> &'static Rules {
        self.rules
    }

    async fn page(self: &Arc<Self>) -> String {
        in_chrome(&self.body().await)
    }

    async fn body(self: &Arc<Self>) -> String {
        FollowView::body(self).await
    }

    async fn json(self: &Arc<Self>) -> Response {
        Json(self.report().await).into_response()
    }

    /// A follower has no verification; `max_lag` defaults to [`DEFAULT_MAX_LAG`].
    async fn health(self: &Arc<Self>, _: Option<f64>, max_lag: Option<f64>) -> HealthReport {
        self.fresh_within(max_lag.unwrap_or(DEFAULT_MAX_LAG)).await
    }

    async fn metrics(self: &Arc<Self>) -> String {
        FollowView::metrics(self).await
    }

    async fn durable(self: &Arc<Self>, _: &str) -> Option<Answer> {
        None
    }

    async fn reach(self: &Arc<Self>, database: &str, txid: u64, limit: Duration) -> Option<Result<u64, u64>> {
        self.followers.reach(database, txid, limit).await
    }
}
