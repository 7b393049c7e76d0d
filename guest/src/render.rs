//! The Litestream config document and environment for a validated configuration.

use crate::model::{ConfigError, Credentials, CredentialsSource, EnvVar, LitestreamLine, Rendered, Request};
use crate::validate::Validated;
use crate::{keys, redact};
use serde_json::{Map, Value};

/// Whether the credentials are at hand: a credentials source, when there is one, has
/// been read (`dynamic`); otherwise the static keys, if any, serve.
pub fn credentials_at_hand(valid: &Validated, dynamic: Option<&Credentials>) -> bool {
    valid.top.source.is_none() || dynamic.is_some()
}

pub fn render(
    request: &Request,
    valid: &Validated,
    dynamic: Option<&Credentials>,
) -> Result<Rendered, ConfigError> {
    if !credentials_at_hand(valid, dynamic) {
        let key = match valid.top.source {
            Some(CredentialsSource::File(_)) => "credentials-file",
            _ => "credentials-command",
        };
        return Err(ConfigError::new(None, key, "the credentials were not read before rendering")
            .hint("the host must read the credentials source first"));
    }
    let credentials = match valid.top.source {
        Some(_) => dynamic,
        None => valid.top.static_credentials.as_ref(),
    };
    let mut doc = Map::new();
    let mut environment = Vec::new();
    let mut secrets = Vec::new();
    if let Some(c) = credentials {
        keys_into(c, valid.line, &mut doc, &mut environment, &mut secrets);
    }
    if let Some(addr) = &valid.top.metrics_addr {
        doc.insert("addr".into(), Value::String(addr.clone()));
    }
    if let (LitestreamLine::V05, Some((timeout, _))) = (valid.line, &valid.top.shutdown_sync_timeout) {
        doc.insert("shutdown-sync-timeout".into(), Value::String(timeout.clone()));
    }
    let dbs = valid.databases.iter().map(|r| database_entry(r, valid.line, &mut secrets)).collect();
    doc.insert("dbs".into(), Value::Array(dbs));
    if let (LitestreamLine::V05, Some(path)) = (valid.line, &request.control_socket) {
        let mut socket = Map::new();
        socket.insert("enabled".into(), Value::Bool(true));
        socket.insert("path".into(), Value::String(path.clone()));
        doc.insert("socket".into(), Value::Object(socket));
    }
    // JSON is YAML that Go's decoder cannot misread (`on`, `yes`, `0x1`, `@` all stay
    // strings), and it is what the Python plugin handed Litestream.
    let mut document = serde_json::to_string_pretty(&Value::Object(doc))
        .map_err(|e| ConfigError::new(None, "", format!("cannot write the Litestream config: {e}")))?;
    document.push('\n');
    secrets.retain(|s| !s.is_empty());
    secrets.sort();
    secrets.dedup();
    let startup = crate::startup::proof(valid, request.control_socket.is_some());
    Ok(Rendered { document, environment, secrets, startup })
}

/// What Litestream 0.5 reads as static keys for a replica made from a URL.
const URL_KEY_VARIABLES: [&str; 4] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "LITESTREAM_ACCESS_KEY_ID",
    "LITESTREAM_SECRET_ACCESS_KEY",
];

/// Where the S3 keys go: Litestream's file, its environment, or both.
fn keys_into(
    c: &Credentials,
    line: LitestreamLine,
    doc: &mut Map<String, Value>,
    environment: &mut Vec<EnvVar>,
    secrets: &mut Vec<String>,
) {
    secrets.push(c.secret_access_key.clone());
    match &c.session_token {
        // Litestream takes no session token in its file and prefers file keys over
        // the environment, so with a token all three travel in AWS_* variables.
        Some(token) if line == LitestreamLine::V03 => {
            secrets.push(token.clone());
            environment.push(EnvVar { name: "AWS_ACCESS_KEY_ID".to_owned(), value: c.access_key_id.clone() });
            environment.push(EnvVar {
                name: "AWS_SECRET_ACCESS_KEY".to_owned(),
                value: c.secret_access_key.clone(),
            });
            environment.push(EnvVar { name: "AWS_SESSION_TOKEN".to_owned(), value: token.clone() });
        }
        // 0.5 builds the client of a replica made from a URL (`POST /register`, the
        // VFS) with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or LITESTREAM_*) from the
        // environment as static keys with an empty token, which S3 refuses
        // (s3/replica_client.go). With those four empty, every client falls back to the
        // AWS SDK's default chain, which reads the keys from their other names,
        // AWS_ACCESS_KEY and AWS_SECRET_KEY, together with AWS_SESSION_TOKEN. Empty,
        // not absent: the inherited environment may hold other keys under them.
        Some(token) => {
            secrets.push(token.clone());
            for blank in URL_KEY_VARIABLES {
                environment.push(EnvVar { name: blank.to_owned(), value: String::new() });
            }
            environment.push(EnvVar { name: "AWS_ACCESS_KEY".to_owned(), value: c.access_key_id.clone() });
            environment
                .push(EnvVar { name: "AWS_SECRET_KEY".to_owned(), value: c.secret_access_key.clone() });
            environment.push(EnvVar { name: "AWS_SESSION_TOKEN".to_owned(), value: token.clone() });
        }
        None => {
            doc.insert("access-key-id".into(), Value::String(c.access_key_id.clone()));
            doc.insert("secret-access-key".into(), Value::String(c.secret_access_key.clone()));
            // 0.5 makes the replica of a database registered while it runs from a
            // URL, and such a replica reads its keys from the environment only.
            if line == LitestreamLine::V05 {
                environment
                    .push(EnvVar { name: "AWS_ACCESS_KEY_ID".to_owned(), value: c.access_key_id.clone() });
                environment.push(EnvVar {
                    name: "AWS_SECRET_ACCESS_KEY".to_owned(),
                    value: c.secret_access_key.clone(),
                });
            }
        }
    }
}

/// One `dbs:` entry: 0.3 takes a list of replicas, 0.5 exactly one.
fn database_entry(
    r: &crate::validate::Replicated<'_>,
    line: LitestreamLine,
    secrets: &mut Vec<String>,
) -> Value {
    let mut db = Map::new();
    db.insert("path".into(), Value::String(r.database.path.clone()));
    for (k, v) in &r.options {
        db.insert(k.clone(), v.clone());
    }
    for replica in &r.replicas {
        collect_secrets(replica, secrets);
    }
    match line {
        LitestreamLine::V03 => {
            let list = r.replicas.iter().cloned().map(Value::Object).collect();
            db.insert("replicas".into(), Value::Array(list));
        }
        LitestreamLine::V05 => {
            if let Some(one) = r.replicas.first() {
                db.insert("replica".into(), Value::Object(one.clone()));
            }
        }
    }
    Value::Object(db)
}

fn collect_secrets(replica: &Map<String, Value>, secrets: &mut Vec<String>) {
    for (k, v) in replica {
        match v {
            Value::String(s) if keys::is_secret(k) => secrets.push(s.clone()),
            Value::String(s) => secrets.extend(redact::url_secrets(s)),
            _ => {}
        }
    }
}
