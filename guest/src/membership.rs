//! Databases that come and go while Litestream runs: which of a new set are admitted,
//! and how the running Litestream takes the new config document.

use crate::model::{
    Admission, Change, ConfigError, Configured, Credentials, Database, InPlaceChange, LitestreamLine,
    Registration, Request,
};
use serde_json::{Map, Value};

/// A database whose own config is invalid is refused alone, so one bad upload cannot
/// stop the others replicating; a top-level error is everyone's, so it refuses the set.
pub fn admit(request: &Request, credentials: Option<&Credentials>) -> Result<Admission, Vec<ConfigError>> {
    let errors = match crate::validate::validate(request) {
        Ok(valid) => {
            let Configured { plan, rendered } = crate::plan::configure_valid(request, valid, credentials)?;
            return Ok(Admission { databases: request.databases.clone(), plan, refused: vec![], rendered });
        }
        Err(errors) => errors,
    };
    if errors.iter().any(|e| e.database.is_none()) {
        return Err(errors);
    }
    // A second validation, of the databases kept: only when one was refused.
    let refused_name = |d: &Database| errors.iter().any(|e| e.database.as_deref() == Some(d.name.as_str()));
    let kept = Request {
        databases: request.databases.iter().filter(|d| !refused_name(d)).cloned().collect(),
        ..request.clone()
    };
    let Configured { plan, rendered } = crate::plan::configure(&kept, credentials)?;
    Ok(Admission { databases: kept.databases, plan, refused: errors, rendered })
}

/// From the document Litestream runs with to the next one.
pub fn plan_change(line: LitestreamLine, running: Option<&str>, next: Option<&str>) -> Change {
    let (running, next) = match (running, next) {
        (None, None) => return Change::Unchanged,
        (None, Some(_)) => return Change::Start,
        (Some(_), None) => return Change::Stop,
        (Some(a), Some(b)) if a == b => return Change::Unchanged,
        (Some(a), Some(b)) => (a, b),
    };
    if line == LitestreamLine::V03 {
        return Change::Restart("Litestream 0.3 cannot add or drop a database while it runs".into());
    }
    let (Some(running), Some(next)) = (document(running), document(next)) else {
        return Change::Restart("the config is not a document the rules wrote".into());
    };
    match in_place(&running, &next) {
        Ok((unregister, register)) => Change::InPlace(InPlaceChange { unregister, register }),
        Err(why) => Change::Restart(why),
    }
}

fn document(text: &str) -> Option<Map<String, Value>> {
    serde_json::from_str::<Value>(text).ok()?.as_object().cloned()
}

/// A document's databases by path, in order.
type Databases = Vec<(String, Map<String, Value>)>;

/// The databases by path, in order; the rest of the document.
fn split(doc: &Map<String, Value>) -> (Databases, Map<String, Value>) {
    let mut rest = doc.clone();
    let dbs = rest.remove("dbs").and_then(|v| v.as_array().cloned()).unwrap_or_default();
    let dbs = dbs
        .into_iter()
        .filter_map(|v| {
            let db = v.as_object()?.clone();
            Some((db.get("path")?.as_str()?.to_owned(), db))
        })
        .collect();
    (dbs, rest)
}

type InPlace = (Vec<String>, Vec<Registration>);

fn in_place(running: &Map<String, Value>, next: &Map<String, Value>) -> Result<InPlace, String> {
    let (old, old_rest) = split(running);
    let (new, new_rest) = split(next);
    if old_rest != new_rest {
        return Err("Litestream's settings other than its databases changed".into());
    }
    let find = |list: &Databases, path: &str| list.iter().find(|(p, _)| p == path).map(|(_, db)| db.clone());
    let mut register = Vec::new();
    for (path, db) in &new {
        match find(&old, path) {
            Some(before) if before == *db => {}
            Some(_) => return Err(format!("the config of {path} changed")),
            None => register.push(registration(path, db)?),
        }
    }
    let unregister = old.iter().filter(|(p, _)| find(&new, p).is_none()).map(|(p, _)| p.clone()).collect();
    Ok((unregister, register))
}

/// Replica settings a registration's URL carries, as Litestream 0.5 reads its query.
const URL_SETTINGS: [&str; 4] = ["endpoint", "region", "force-path-style", "skip-verify"];

/// A database Litestream 0.5 can take through `POST /register`, which makes the replica
/// from a URL alone: anything a URL cannot say needs a restart.
fn registration(path: &str, db: &Map<String, Value>) -> Result<Registration, String> {
    let cannot = |key: &str| {
        format!(
            "{path} sets `{key}`, which a database registered through Litestream's control socket cannot have"
        )
    };
    if let Some(key) = db.keys().find(|k| *k != "path" && *k != "replica") {
        return Err(cannot(key));
    }
    let Some(replica) = db.get("replica").and_then(Value::as_object) else {
        return Err(format!("{path} has no replica to register"));
    };
    let kind = replica.get("type").and_then(Value::as_str);
    let (mut url, mut bucket, mut within) = (None, None, None);
    let mut query = Vec::new();
    for (key, value) in replica {
        match (key.as_str(), value) {
            ("url", Value::String(u)) => url = Some(u.clone()),
            ("bucket", Value::String(b)) => bucket = Some(b.clone()),
            ("path", Value::String(p)) => within = Some(p.clone()),
            // The name only labels the replica in Litestream's output.
            ("type" | "name", _) => {}
            (k, v) if URL_SETTINGS.contains(&k) => match scalar(v) {
                Some(text) => query.push(format!("{k}={}", escape(&text))),
                None => return Err(cannot(k)),
            },
            (k, _) => return Err(cannot(&format!("replica.{k}"))),
        }
    }
    // Litestream keeps a config `path` as written but re-escapes a `file://` URL's path,
    // reads `file://rel/x` as host `rel`, strips an S3 URL path's leading slash, and
    // gives a schemeless endpoint http:// in a URL but https:// in the file: each would
    // make the registered replica another place than the config's after a restart.
    if let Some(p) = &within {
        let file = kind == Some("file");
        if file && (!p.starts_with('/') || !p.bytes().all(url_safe)) {
            return Err(format!("{path}'s file replica path {p:?} does not survive a URL unchanged"));
        }
        if !file && p.starts_with('/') {
            return Err(format!("{path}'s replica path {p:?} starts with `/`, which a URL drops"));
        }
    }
    if let Some(endpoint) = replica.get("endpoint").and_then(Value::as_str)
        && !endpoint.contains("://")
    {
        return Err(format!("{path}'s endpoint {endpoint:?} has no scheme, which a URL reads differently"));
    }
    // The URL Litestream would have made of `type`, `bucket` and `path`.
    let url = url.or_else(|| match (kind, bucket, within) {
        (Some("file"), None, Some(p)) => Some(format!("file://{p}")),
        (Some("s3" | "gs") | None, Some(b), p) => {
            let scheme = kind.unwrap_or("s3");
            Some(format!("{scheme}://{b}/{}", p.unwrap_or_default().trim_start_matches('/')))
        }
        _ => None,
    });
    let mut url = url.ok_or_else(|| format!("{path}'s replica has no URL to register"))?;
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    Ok(Registration { path: path.to_owned(), replica_url: url })
}

fn url_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'~' | b'-')
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Percent-encodes what would end or split a query value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// For the health check: a refused database is not replicated, which its users must hear.
pub fn require_admitted(refused: &[ConfigError]) -> Result<(), String> {
    if refused.is_empty() {
        return Ok(());
    }
    let mut names: Vec<&str> = refused.iter().filter_map(|e| e.database.as_deref()).collect();
    names.dedup();
    let first = &refused[0];
    Err(format!(
        "not replicated, its config is refused: {} (first: {}: {}; fix the config or remove the database)",
        names.join(", "),
        first.key,
        first.problem
    ))
}

#[cfg(test)]
#[path = "membership_tests.rs"]
mod tests;
