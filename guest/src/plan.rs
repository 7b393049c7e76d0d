//! What the host must do for a configuration: the entry points of the rules.

use crate::model::{ConfigError, Credentials, CredentialsSource, Plan, Rendered, Request};
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
    })
}

pub fn render(request: &Request, credentials: Option<&Credentials>) -> Result<Rendered, Vec<ConfigError>> {
    let valid = validate::validate(request)?;
    render::render(request, &valid, credentials).map_err(|e| vec![e])
}
