//! What the host must do for a configuration: the entry points of the rules.

use crate::model::{
    ConfigError, Credentials, CredentialsSource, DurableDatabase, LitestreamLine, Plan, Rendered, Request,
};
use crate::{render, validate, value};

pub fn plan(request: &Request) -> Result<Plan, Vec<ConfigError>> {
    let valid = validate::validate(request)?;
    let replicated: Vec<String> = valid.databases.iter().map(|r| r.database.name.clone()).collect();
    let mut warnings = valid.warnings;
    let start_litestream = !replicated.is_empty() || valid.top.present;
    if start_litestream && replicated.is_empty() {
        warnings.push(
            "no database is replicated: Litestream starts with an empty dbs list (add replicas or all-replicate)".into(),
        );
    }
    // Litestream's default monitor interval is one second.
    let first_sync_seconds = valid
        .databases
        .iter()
        .flat_map(|r| &r.options)
        .filter(|(k, _)| k == "monitor-interval")
        .filter_map(|(_, v)| v.as_str().and_then(value::duration_seconds))
        .fold(1.0, f64::max);
    // Ten of the slowest replica's sync intervals (1 s by default), at least 30 s.
    let slowest_sync = valid
        .databases
        .iter()
        .flat_map(|r| &r.replicas)
        .filter_map(|r| r.get("sync-interval").and_then(|v| v.as_str()).and_then(value::duration_seconds))
        .fold(1.0, f64::max);
    let health_window_seconds = (10.0 * slowest_sync).max(30.0);
    let durable = valid
        .databases
        .iter()
        .filter_map(|r| Some(DurableDatabase { name: r.database.name.clone(), timeout_seconds: r.durable? }))
        .collect();
    let stop_grace_seconds = stop_grace(valid.line, valid.top.shutdown_sync_timeout.as_ref().map(|t| t.1));
    Ok(Plan {
        replicated,
        start_litestream,
        credentials_source: valid.top.source.unwrap_or(CredentialsSource::None),
        refresh_interval_seconds: valid.top.refresh_seconds,
        metrics_addr: valid.top.metrics_addr,
        line: valid.line,
        warnings,
        first_sync_seconds,
        health_window_seconds,
        stop_grace_seconds,
        durable,
    })
}

/// Litestream 0.5's own default for `shutdown-sync-timeout` (db.go).
const LITESTREAM_05_SHUTDOWN_SYNC: f64 = 30.0;
/// What 0.3 gets for its one final sync attempt when nothing says otherwise.
const LITESTREAM_03_GRACE: f64 = 10.0;
/// Past Litestream's own timeout: the time it takes to log and exit.
const STOP_MARGIN: f64 = 5.0;

/// How long a stop may take before the host interrupts it. 0.5 retries a database's
/// final sync for its `shutdown-sync-timeout`, so it gets that and a margin (a second
/// SIGTERM then makes it skip the databases still waiting, and say which); 0.3 makes
/// one attempt per database and exits 1 when it fails, so the timeout alone bounds it.
fn stop_grace(line: LitestreamLine, timeout: Option<f64>) -> f64 {
    match (line, timeout) {
        (LitestreamLine::V05, t) => t.unwrap_or(LITESTREAM_05_SHUTDOWN_SYNC) + STOP_MARGIN,
        (LitestreamLine::V03, t) => t.unwrap_or(LITESTREAM_03_GRACE),
    }
}

pub fn render(request: &Request, credentials: Option<&Credentials>) -> Result<Rendered, Vec<ConfigError>> {
    let valid = validate::validate(request)?;
    render::render(request, &valid, credentials).map_err(|e| vec![e])
}
