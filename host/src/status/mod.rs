//! The status view's data: the supervisor's state, the redacted config, recent log
//! lines, Litestream's metrics digested by the rules, and the health verdict.

pub mod html;
mod lag;
mod plugin_routes;
pub mod prometheus;
mod report;
mod scrape;
pub mod server;
mod source;
mod verdict;

pub use source::Source;

use crate::rules::{ConfigError, Database, Digest, Rules};
use crate::supervisor::Shared;
use crate::util::clock::now;
pub use lag::ReplicationReport;
use lag::replication_report;
use report::metrics_report;
pub use report::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a scrape and a health verdict are reused, so page loads cannot hammer Litestream.
const CACHE: Duration = Duration::from_secs(1);
/// Log lines the view shows.
const SHOWN_LINES: usize = 100;
/// How long a health verdict is reused while nothing it is judged from has changed: it
/// costs two or three wasm calls, and a probe may come 10,000 times a second.
const VERDICT_REUSE: Duration = Duration::from_millis(100);

/// The databases of the moment: Datasette may add and remove them while it runs.
#[derive(Clone, Default)]
pub struct Members {
    /// Every file-backed database (replicated or not, refused ones excluded), as the
    /// rules saw them.
    pub databases: Vec<Database>,
    pub replicated: Vec<String>,
    /// Databases whose own config is invalid, with why: not replicated.
    pub refused: Vec<ConfigError>,
    /// The redacted Litestream config; None when Litestream is not started.
    pub config: Option<String>,
    /// Why Litestream is not running, when it is not meant to.
    pub reason: Option<String>,
    pub warnings: Vec<String>,
    /// The databases with `durable-writes`.
    pub durable: Vec<crate::rules::DurableDatabase>,
}

/// What the status view knows for the whole run.
pub struct Context {
    pub rules: &'static Rules,
    pub shared: Arc<Shared>,
    members: Mutex<Arc<Members>>,
    /// Bumped on each change of `members`, so a cached verdict is not reused across one.
    generation: std::sync::atomic::AtomicU64,
    pub metrics_addr: Option<String>,
    pub socket: Option<PathBuf>,
    pub health_window: f64,
    cache: Mutex<Option<(Instant, Arc<Live>)>>,
    /// Replication lag, once Litestream is started.
    lag: OnceLock<Arc<crate::replica::lag::Lag>>,
    verdicts: Mutex<Option<(VerdictKey, Instant, HealthReport)>>,
    /// Durable writes, on Litestream 0.5 (its control socket).
    pub durability: Option<Arc<crate::replica::durability::Durability>>,
    /// Whether another node writes a replica, once Litestream is started.
    writers: OnceLock<Arc<crate::replica::writers::Writers>>,
    /// `lease:`: this node's role and its locks.
    pub lease: OnceLock<Arc<crate::lease::Leases>>,
}

/// Everything a health verdict is judged from, but the clock.
#[derive(PartialEq)]
struct VerdictKey {
    state: crate::supervisor::ProcessState,
    pid: Option<u32>,
    restarts: u32,
    lines: u64,
    looks: u64,
    generation: u64,
    verified_within: Option<u64>,
    max_lag: Option<u64>,
    /// Per durable database: syncs, writes answered, writes waiting, failing.
    durable: Vec<(u64, u64, u32, bool)>,
    conflicts: Vec<crate::rules::Conflict>,
    lease: Option<crate::lease::Role>,
}

/// The part that asks Litestream (a metrics scrape): at most once per CACHE.
struct Live {
    metrics: Option<Digest>,
    metrics_note: Option<String>,
}

impl Context {
    pub fn new(
        rules: &'static Rules,
        shared: Arc<Shared>,
        members: Members,
        metrics_addr: Option<String>,
        socket: Option<PathBuf>,
        health_window: f64,
    ) -> Context {
        Context {
            rules,
            shared,
            members: Mutex::new(Arc::new(members)),
            generation: Default::default(),
            metrics_addr,
            socket: socket.clone(),
            health_window,
            cache: Mutex::new(None),
            lag: OnceLock::new(),
            verdicts: Mutex::new(None),
            durability: socket.map(|s| Arc::new(crate::replica::durability::Durability::new(rules, s))),
            writers: OnceLock::new(),
            lease: OnceLock::new(),
        }
    }

    pub fn members(&self) -> Arc<Members> {
        self.members.lock().expect("members lock").clone()
    }

    /// The new set of databases; the lag follows it (a wasm call per database: blocking).
    pub async fn set_members(self: &Arc<Self>, members: Members) -> anyhow::Result<()> {
        if let Some(durability) = &self.durability {
            durability.set(durable_targets(&members));
        }
        *self.members.lock().expect("members lock") = Arc::new(members);
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(lag) = self.lag.get().cloned() {
            let databases = self.replicated_databases();
            crate::util::blocking::blocking(move || lag.watch(&databases)).await?;
        }
        Ok(())
    }

    /// Starts looking at the replicated databases' lag once a second.
    pub async fn watch_lag(self: &Arc<Self>, line: crate::rules::LitestreamLine) -> anyhow::Result<()> {
        if self.lag.get().is_some() {
            return Ok(());
        }
        let context = self.clone();
        let lag = crate::util::blocking::blocking(move || {
            let databases = context.replicated_databases();
            let socket = context.socket.clone();
            crate::replica::lag::Lag::new(context.rules, line, socket, context.shared.clone(), &databases)
        })
        .await?;
        let lag = Arc::new(lag);
        if self.lag.set(lag.clone()).is_ok() {
            lag.spawn();
        }
        Ok(())
    }

    /// Starts listing each replica every few seconds to find another writer.
    pub fn watch_writers(self: &Arc<Self>) {
        let writers = Arc::new(crate::replica::writers::Writers::new(self.rules, self.shared.clone()));
        if self.writers.set(writers.clone()).is_ok() {
            let context = Arc::downgrade(self);
            writers.spawn(move || context.upgrade().map(|c| c.replicated_databases()).unwrap_or_default());
        }
    }

    fn conflicts(&self) -> Vec<crate::rules::Conflict> {
        self.writers.get().map(|w| w.conflicts()).unwrap_or_default()
    }

    /// The latest lag judgement per replicated database (empty before the first look)
    /// and how many looks were judged.
    fn lag_reports(&self) -> (Arc<Vec<crate::rules::LagReport>>, u64) {
        self.lag.get().map(|l| l.reports()).unwrap_or_default()
    }

    pub fn durability_reports(&self) -> Vec<crate::replica::durability::DurabilityReport> {
        self.durability.as_ref().map(|d| d.reports()).unwrap_or_default()
    }

    fn replicated_databases(&self) -> Vec<Database> {
        let m = self.members();
        m.databases.iter().filter(|d| m.replicated.contains(&d.name)).cloned().collect()
    }

    pub async fn report(self: &Arc<Self>) -> Report {
        let live = self.live().await;
        let context = self.clone();
        crate::util::blocking::blocking(move || context.assemble(&live)).await
    }

    /// The report from Litestream's answers: file reads and wasm calls, so blocking.
    fn assemble(&self, live: &Live) -> Report {
        let lag = self.lag_reports();
        let health = self.judge(&lag, None, None);
        let status = self.shared.status.lock().expect("status lock").clone();
        let uptime_seconds = status.started_at.filter(|_| status.pid.is_some()).map(|s| now() - s);
        let members = self.members();
        Report {
            litestream: LitestreamReport { status, uptime_seconds },
            reason: members.reason.clone(),
            databases: members
                .databases
                .iter()
                .map(|d| DatabaseReport {
                    name: d.name.clone(),
                    path: d.path.clone(),
                    replicated: members.replicated.contains(&d.name),
                    last_verification: crate::recovery::verify::last(std::path::Path::new(&d.path)),
                    replication: lag.0.iter().find(|r| r.name == d.name).map(replication_report),
                    writers: self.writers.get().and_then(|w| w.report(&d.name)),
                })
                .collect(),
            config: members.config.clone(),
            logs: self.shared.logs.recent(SHOWN_LINES),
            metrics: live.metrics.as_ref().map(metrics_report),
            metrics_note: live.metrics_note.clone(),
            health,
            warnings: members.warnings.clone(),
            refused: members.refused.iter().map(RefusedReport::from).collect(),
            durability: self.durability_reports(),
            lease: self.lease.get().map(|l| l.report()),
        }
    }

    /// Always current in the supervisor's state; Litestream's own answers and the lag
    /// may be a second old. `max_lag` defaults to the health window.
    pub async fn health(
        self: &Arc<Self>,
        verified_within: Option<f64>,
        max_lag: Option<f64>,
    ) -> HealthReport {
        let context = self.clone();
        crate::util::blocking::blocking(move || {
            let lag = context.lag_reports();
            context.judge(&lag, verified_within, max_lag)
        })
        .await
    }

    fn judge(
        &self,
        (reports, looks): &(Arc<Vec<crate::rules::LagReport>>, u64),
        verified_within: Option<f64>,
        max_lag: Option<f64>,
    ) -> HealthReport {
        let status = self.shared.status.lock().expect("status lock").clone();
        let key = VerdictKey {
            state: status.state,
            pid: status.pid,
            restarts: status.restarts,
            lines: self.shared.logs.pushed(),
            looks: *looks,
            generation: self.generation.load(std::sync::atomic::Ordering::Relaxed),
            verified_within: verified_within.map(f64::to_bits),
            max_lag: max_lag.map(f64::to_bits),
            durable: self
                .durability_reports()
                .iter()
                .map(|r| (r.syncs, r.durable_writes + r.not_durable_writes, r.waiting, r.failing.is_some()))
                .collect(),
            conflicts: self.conflicts(),
            lease: self.lease.get().map(|l| l.role()),
        };
        if let Some((cached, at, report)) = self.verdicts.lock().expect("verdict lock").as_ref()
            && *cached == key
            && at.elapsed() < VERDICT_REUSE
        {
            return report.clone();
        }
        let report = self.judge_now(reports, verified_within, max_lag);
        *self.verdicts.lock().expect("verdict lock") = Some((key, Instant::now(), report.clone()));
        report
    }

    async fn live(&self) -> Arc<Live> {
        if let Some((at, live)) = self.cache.lock().expect("cache lock").as_ref()
            && at.elapsed() < CACHE
        {
            return live.clone();
        }
        let (metrics, metrics_note) = self.metrics().await;
        let live = Arc::new(Live { metrics, metrics_note });
        *self.cache.lock().expect("cache lock") = Some((Instant::now(), live.clone()));
        live
    }

    async fn metrics(&self) -> (Option<Digest>, Option<String>) {
        let Some(addr) = &self.metrics_addr else {
            return (None, Some("No metrics available: set metrics-addr (for example \":9090\") to see Litestream's Prometheus metrics here.".into()));
        };
        let text = match scrape::metrics(addr).await {
            Ok(t) => t,
            Err(e) => {
                return (None, Some(format!("Litestream's metrics at {addr} could not be read: {e:#}")));
            }
        };
        let replicated = self.replicated_databases();
        let rules = self.rules;
        match crate::util::blocking::blocking(move || rules.digest_metrics(&text, &replicated)).await {
            Ok(Ok(d)) => (Some(d), None),
            Ok(Err(e)) => (None, Some(format!("Litestream's metrics at {addr} could not be read: {e}"))),
            Err(e) => (None, Some(e.to_string())),
        }
    }
}

/// The durable databases with their paths, as the members name them.
fn durable_targets(members: &Members) -> Vec<crate::replica::durability::Target> {
    members
        .durable
        .iter()
        .filter_map(|d| {
            let db = members.databases.iter().find(|db| db.name == d.name)?;
            Some(crate::replica::durability::Target {
                name: d.name.clone(),
                path: db.path.clone(),
                timeout: Duration::from_secs_f64(d.timeout_seconds),
            })
        })
        .collect()
}
