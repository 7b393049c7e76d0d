//! Every refusal of SPEC section 2: the whole configuration is checked and every
//! problem reported at once, each naming its key, its database and the fix.

use crate::keys::{self, DATABASE};
use crate::model::{ConfigError, Database, LitestreamLine, Request};
use crate::replicas::{check_replica_set, own_replicas};
use crate::report::{Report, mapping};
pub use crate::top_level::Top;

/// Replica keys 0.3 honours that 0.5 reads and drops (cmd/litestream `ReplicaSettings`).
const IGNORED_BY_05: [&str; 4] =
    ["retention", "retention-check-interval", "snapshot-interval", "validation-interval"];
use crate::top_level::top_level;
use crate::{durable, template, version};
use serde_json::{Map, Value};

/// A configuration that passed every check, normalised for rendering.
pub struct Validated<'a> {
    pub line: LitestreamLine,
    pub top: Top,
    pub databases: Vec<Replicated<'a>>,
    pub warnings: Vec<String>,
}

pub struct Replicated<'a> {
    pub database: &'a Database,
    /// Database-level options other than `replicas`, as written, values normalised.
    pub options: Vec<(String, Value)>,
    /// The database's own replicas, then one per `all-replicate` template.
    pub replicas: Vec<Map<String, Value>>,
    /// `durable-timeout` in seconds when its writes are durable.
    pub durable: Option<f64>,
}

pub fn validate(request: &Request) -> Result<Validated<'_>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let line = version::line(&request.litestream_version).map_err(|e| errors.push(e)).ok();
    let top = top_level(request.top_level.as_deref(), &mut errors, &mut warnings);
    let mut report = Report { errors: &mut errors, database: None };
    durable::refuse_on_03(&top.durable, line, &mut report);
    crate::lease::refuse_on_03(top.lease.as_ref(), line, &mut report);
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

fn database_level<'a>(
    database: &'a Database,
    top: &Top,
    line: Option<LitestreamLine>,
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
            Some(_) if durable::is_ours(key) => {}
            Some(kind) => {
                if let Some(v) = report.checked(key, kind, v) {
                    options.push((key.clone(), v));
                }
            }
        }
    }
    let own = durable::setting(&map, &mut report);
    durable::refuse_on_03(&own, line, &mut report);
    warnings.extend(durable::unused_timeout(&top.durable, &own, &database.name));
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
        crate::lease::refuse_replicas(top.lease.is_some(), &replicas, &mut report);
    }
    if line == Some(LitestreamLine::V05) && options.iter().any(|(k, _)| k == "max-checkpoint-page-count") {
        warnings
            .push(format!("database {:?}: Litestream 0.5 ignores max-checkpoint-page-count", database.name));
    }
    if line == Some(LitestreamLine::V05) {
        for (i, replica) in replicas.iter().enumerate() {
            for key in IGNORED_BY_05.iter().filter(|k| replica.contains_key(**k)) {
                warnings.push(format!(
                    "database {:?}: Litestream 0.5 ignores replicas[{i}].{key} (its history is kept by \
                     snapshot.interval and snapshot.retention, 24 h each by default)",
                    database.name
                ));
            }
        }
    }
    let durable = durable::timeout_for(&top.durable, &own);
    Some(Replicated { database, options, replicas, durable })
}
