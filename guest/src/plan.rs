//! What the host must do for a configuration: the entry points of the rules.

use crate::model::{
    ConfigError, Configured, Credentials, CredentialsSource, DurableDatabase, LitestreamLine, Plan, Rendered,
    Request,
};
use crate::validate::Validated;
use crate::{render, validate, value};

pub fn plan(request: &Request) -> Result<Plan, Vec<ConfigError>> {
    Ok(plan_of(validate::validate(request)?))
}

/// The plan and, when Litestream starts and its credentials are at hand, the rendered
/// config: one validation for both.
pub fn configure(
    request: &Request,
    credentials: Option<&Credentials>,
) -> Result<Configured, Vec<ConfigError>> {
    configure_valid(request, validate::validate(request)?, credentials)
}

/// `configure` for a request already validated.
pub fn configure_valid(
    request: &Request,
    valid: Validated,
    credentials: Option<&Credentials>,
) -> Result<Configured, Vec<ConfigError>> {
    let rendered = match starts(&valid) && render::credentials_at_hand(&valid, credentials) {
        true => Some(render::render(request, &valid, credentials).map_err(|e| vec![e])?),
        false => None,
    };
    Ok(Configured { plan: plan_of(valid), rendered })
}

/// Litestream starts when a database is replicated or the top level says anything.
fn starts(valid: &Validated) -> bool {
    !valid.databases.is_empty() || valid.top.present
}

fn plan_of(valid: Validated) -> Plan {
    let replicated: Vec<String> = valid.databases.iter().map(|r| r.database.name.clone()).collect();
    let start_litestream = starts(&valid);
    let mut warnings = valid.warnings;
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
    Plan {
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
        lease: valid.top.lease,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Database;

    fn request(top: &str) -> Request {
        Request {
            top_level: Some(top.into()),
            databases: vec![Database {
                name: "data".into(),
                path: "/srv/data.db".into(),
                directory: "/srv".into(),
                plugin_config: None,
            }],
            working_directory: "/srv".into(),
            litestream_version: "0.5.17".into(),
            control_socket: None,
        }
    }

    #[test]
    fn configure_renders_at_once_when_no_source_must_be_read() {
        let c = configure(&request(r#"{"all-replicate": ["s3://b/$DB_NAME"]}"#), None).unwrap();
        assert_eq!(c.plan.replicated, ["data"]);
        assert!(c.rendered.expect("rendered").document.contains("/srv/data.db"));
    }

    #[test]
    fn configure_waits_for_a_credentials_source_then_renders_with_it() {
        let r = request(
            r#"{"all-replicate": ["s3://b/$DB_NAME"], "credentials-file": "creds.json",
                          "credentials-refresh-interval": 300}"#,
        );
        let first = configure(&r, None).unwrap();
        assert_eq!(first.plan.credentials_source, CredentialsSource::File("creds.json".into()));
        assert_eq!(first.rendered, None);
        let keys = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
            session_token: None,
        };
        let second = configure(&r, Some(&keys)).unwrap();
        assert_eq!(second.plan, first.plan);
        assert_eq!(second.rendered.expect("rendered").secrets, ["wJalrXUtnFEMI"]);
    }

    #[test]
    fn configure_renders_nothing_when_litestream_does_not_start() {
        let mut r = request("{}");
        r.top_level = None;
        let c = configure(&r, None).unwrap();
        assert!(!c.plan.start_litestream && c.rendered.is_none());
    }
}
