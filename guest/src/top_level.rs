//! The top-level keys: `all-replicate` templates, the metrics address, where
//! credentials come from and how long a stop may take.

use crate::keys::{self, Kind, TOP_LEVEL};
use crate::model::{ConfigError, Credentials, CredentialsSource};
use crate::replicas::check_url;
use crate::report::{Report, mapping};
use crate::{durable, template, value};
use serde_json::{Map, Value};

type Keys = Map<String, Value>;

#[derive(Default)]
pub struct Top {
    /// A non-empty top-level mapping was given: Litestream starts even with no database.
    pub present: bool,
    pub all_replicate: Vec<String>,
    pub metrics_addr: Option<String>,
    pub static_credentials: Option<Credentials>,
    pub source: Option<CredentialsSource>,
    pub refresh_seconds: Option<f64>,
    /// `shutdown-sync-timeout`: as written (a Go duration) and in seconds.
    pub shutdown_sync_timeout: Option<(String, f64)>,
    /// `durable-writes` and `durable-timeout` for every replicated database.
    pub durable: durable::Setting,
    /// `lease`: one writer per replica, when set.
    pub lease: Option<contract::LeaseSettings>,
}

/// Checks the top-level mapping: every key at once, each step by what it configures.
pub(crate) fn top_level(
    text: Option<&str>,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<String>,
) -> Top {
    let mut report = Report { errors, database: None };
    let Some(map) = mapping(text, &mut report) else {
        return Top::default();
    };
    for key in map.keys() {
        if keys::kind_of(TOP_LEVEL, key).is_none() {
            report.unknown(key.clone(), key, TOP_LEVEL, "top-level");
        }
    }
    // In this order: the errors are listed as the keys are checked.
    let all_replicate = templates(&map, &mut report);
    let metrics_addr = metrics_addr(&map, &mut report);
    let (source, refresh_seconds) = credentials_source(&map, &mut report, warnings);
    let static_credentials = static_credentials(&map, &mut report);
    if source.is_some() && static_credentials.is_some() {
        warnings.push(
            "access-key-id/secret-access-key are ignored: credentials come from the credentials source"
                .into(),
        );
    }
    let shutdown_sync_timeout = shutdown_sync_timeout(&map, &mut report);
    let durable = durable::setting(&map, &mut report);
    let lease = crate::lease::setting(&map, &mut report);
    Top {
        present: !map.is_empty(),
        all_replicate,
        metrics_addr,
        static_credentials,
        source,
        refresh_seconds,
        shutdown_sync_timeout,
        durable,
        lease,
    }
}

/// A top-level key's text, checked against its kind; None when absent or refused.
fn text_of(map: &Keys, key: &str, report: &mut Report) -> Option<String> {
    let kind = keys::kind_of(TOP_LEVEL, key)?;
    let v = report.checked(key, kind, map.get(key)?)?;
    v.as_str().map(str::to_owned)
}

/// `all-replicate`: URL templates with known variables only.
fn templates(map: &Keys, report: &mut Report) -> Vec<String> {
    let mut out = Vec::new();
    let Some(list) = map.get("all-replicate") else { return out };
    let Some(Value::Array(items)) = report.checked("all-replicate", Kind::TextList, list) else { return out };
    for (i, item) in items.iter().enumerate() {
        let template = item.as_str().unwrap_or_default();
        let key = format!("all-replicate[{i}]");
        for unknown in template::unknown_variables(template) {
            let hint = match unknown.nearest {
                Some(n) => format!("did you mean ${n}? Variables: $DB_NAME, $DB_DIRECTORY, $PWD"),
                None => "the variables are $DB_NAME, $DB_DIRECTORY and $PWD".into(),
            };
            report.push(key.clone(), format!("unknown variable ${}", unknown.name), Some(hint));
        }
        check_url(&key, template, report);
        out.push(template.to_owned());
    }
    out
}

/// `metrics-addr`: a listen address string (a bare number is a common slip).
fn metrics_addr(map: &Keys, report: &mut Report) -> Option<String> {
    let addr = match map.get("metrics-addr") {
        Some(Value::Number(n)) => {
            report.push(
                "metrics-addr",
                format!("must be a listen address string, not the number {n}"),
                Some(format!("write \":{n}\" (quoted) to listen on port {n}")),
            );
            None
        }
        _ => text_of(map, "metrics-addr", report),
    };
    if let Some(addr) = &addr {
        check_listen_addr(addr, report);
    }
    addr
}

/// `credentials-file` or `credentials-command`, and the refresh interval they need.
fn credentials_source(
    map: &Keys,
    report: &mut Report,
    warnings: &mut Vec<String>,
) -> (Option<CredentialsSource>, Option<f64>) {
    let file = text_of(map, "credentials-file", report);
    let command = text_of(map, "credentials-command", report);
    let refresh_seconds = match map.get("credentials-refresh-interval") {
        Some(v) => report.checked("credentials-refresh-interval", Kind::Seconds, v).and_then(|v| v.as_f64()),
        None => None,
    };
    let refresh_given = map.contains_key("credentials-refresh-interval");
    let source = match (file, command) {
        (Some(_), Some(_)) => {
            report.push(
                "credentials-command",
                "cannot be used together with credentials-file",
                Some("keep one of credentials-file and credentials-command".into()),
            );
            None
        }
        (Some(path), None) => Some(CredentialsSource::File(path)),
        (None, Some(line)) => command_line(&line, report),
        (None, None) => None,
    };
    let dynamic = map.contains_key("credentials-file") || map.contains_key("credentials-command");
    if dynamic && !refresh_given {
        let which =
            if map.contains_key("credentials-file") { "credentials-file" } else { "credentials-command" };
        report.push(
            "credentials-refresh-interval",
            format!("is required with {which}"),
            Some("add credentials-refresh-interval: 300 to check every five minutes".into()),
        );
    }
    if refresh_given && !dynamic {
        warnings.push(
            "credentials-refresh-interval is set but there is no credentials-file or credentials-command to refresh; it is ignored".into(),
        );
    }
    (source, refresh_seconds)
}

/// `credentials-command`, split as a POSIX shell would (it runs without one).
fn command_line(line: &str, report: &mut Report) -> Option<CredentialsSource> {
    match shlex::split(line) {
        Some(argv) if !argv.is_empty() => Some(CredentialsSource::Command(argv)),
        Some(_) => {
            report.push("credentials-command", "names no command", None);
            None
        }
        None => {
            report.push(
                "credentials-command",
                "cannot be split into arguments (an unclosed quote or a trailing backslash)",
                Some("quote it as a POSIX shell would; it runs without a shell".into()),
            );
            None
        }
    }
}

/// `access-key-id` and `secret-access-key` (both or neither), with `session-token`.
fn static_credentials(map: &Keys, report: &mut Report) -> Option<Credentials> {
    let key_id = text_of(map, "access-key-id", report);
    let secret = text_of(map, "secret-access-key", report);
    let token = text_of(map, "session-token", report);
    // Pairing is judged on what was written, so a value refused above is not
    // reported a second time as missing.
    let written = |k: &str| map.contains_key(k);
    let both = "set both, or neither to use LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY";
    match (written("access-key-id"), written("secret-access-key")) {
        (true, true) => {
            let (access_key_id, secret_access_key) = (key_id?, secret?);
            return Some(Credentials { access_key_id, secret_access_key, session_token: token });
        }
        (true, false) => report.push("access-key-id", "is set without secret-access-key", Some(both.into())),
        (false, true) => report.push("secret-access-key", "is set without access-key-id", Some(both.into())),
        (false, false) if written("session-token") => report.push(
            "session-token",
            "is set without access-key-id and secret-access-key",
            Some("a session token only works together with the keys it was issued with".into()),
        ),
        (false, false) => {}
    }
    None
}

/// `shutdown-sync-timeout`: how long Litestream 0.5 retries each database's final sync.
fn shutdown_sync_timeout(map: &Keys, report: &mut Report) -> Option<(String, f64)> {
    let text = text_of(map, "shutdown-sync-timeout", report)?;
    let seconds = value::duration_seconds(&text)?;
    if seconds < 0.0 {
        report.push(
            "shutdown-sync-timeout",
            format!("{text:?} is negative"),
            Some("write a duration such as 30s (0s makes one attempt without retrying)".into()),
        );
        return None;
    }
    Some((text, seconds))
}

/// Litestream listens on `[host]:port`; a bare port or a URL is a common slip.
fn check_listen_addr(addr: &str, report: &mut Report) {
    let port = addr.rsplit_once(':').map(|(_, p)| p);
    if !matches!(port.map(str::parse::<u16>), Some(Ok(p)) if p > 0) || addr.contains("://") {
        report.push(
            "metrics-addr",
            format!("{addr:?} is not a listen address"),
            Some("write host:port or :port, such as \":9090\" or \"127.0.0.1:9090\"".into()),
        );
    }
}
