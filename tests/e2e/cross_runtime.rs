//! Writes every golden case's request and the component's answers (through the Rust
//! host) as canonical JSON under target/cross-runtime, for the Python and JavaScript
//! examples to answer the same requests and be compared byte for byte
//! (examples/cross-runtime-test.sh, run by scripts/test).

use datasette_litestream::rules::{
    ConfigError, Credentials, CredentialsChange, CredentialsError, CredentialsSource, LitestreamLine, Plan,
    Rendered, Request, Rules,
};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

pub fn dir() -> PathBuf {
    tests::root().join("target/cross-runtime")
}

fn write(kind: &str, case: &str, value: &Value) {
    let d = dir().join(kind);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{case}.json")), canonical(value)).unwrap();
}

/// Sorted keys, no whitespace, integral floats as integers.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn ok_or<T, E>(r: &Result<T, E>, ok: impl Fn(&T) -> Value, err: impl Fn(&E) -> Value) -> Value {
    match r {
        Ok(t) => json!({"ok": ok(t)}),
        Err(e) => json!({"err": err(e)}),
    }
}

fn credentials(c: &Credentials) -> Value {
    json!({"access-key-id": c.access_key_id, "secret-access-key": c.secret_access_key, "session-token": c.session_token})
}

fn errors(list: &[ConfigError]) -> Value {
    list.iter()
        .map(|e| json!({"database": e.database, "key": e.key, "problem": e.problem, "hint": e.hint}))
        .collect()
}

fn plan(p: &Plan) -> Value {
    let source = match &p.credentials_source {
        CredentialsSource::None => json!({"tag": "none"}),
        CredentialsSource::File(f) => json!({"tag": "file", "val": f}),
        CredentialsSource::Command(c) => json!({"tag": "command", "val": c}),
    };
    json!({
        "replicated": p.replicated, "start-litestream": p.start_litestream, "credentials-source": source,
        "refresh-interval-seconds": p.refresh_interval_seconds, "metrics-addr": p.metrics_addr,
        "line": match p.line { LitestreamLine::V03 => "v03", LitestreamLine::V05 => "v05" },
        "warnings": p.warnings, "first-sync-seconds": p.first_sync_seconds,
        "health-window-seconds": p.health_window_seconds,
        "stop-grace-seconds": p.stop_grace_seconds,
        "durable": p.durable.iter().map(|d| json!({"name": d.name, "timeout-seconds": d.timeout_seconds})).collect::<Vec<_>>(),
    })
}

fn rendered(r: &Rendered) -> Value {
    let env: Vec<Value> = r.environment.iter().map(|v| json!({"name": v.name, "value": v.value})).collect();
    json!({"document": r.document, "environment": env, "secrets": r.secrets})
}

fn request(r: &Request) -> Value {
    let dbs: Vec<Value> = r
        .databases
        .iter()
        .map(|d| json!({"name": d.name, "path": d.path, "directory": d.directory, "plugin-config": d.plugin_config}))
        .collect();
    json!({"top-level": r.top_level, "databases": dbs, "working-directory": r.working_directory,
           "litestream-version": r.litestream_version, "control-socket": r.control_socket})
}

pub fn render_case(case: &str, req: &Request, creds: Option<&Credentials>) {
    let rules = Rules::builtin().unwrap();
    write(
        "requests",
        case,
        &json!({"kind": "render", "request": request(req), "credentials": creds.map(credentials)}),
    );
    let check = rules.check(req).unwrap();
    let (render, redact) = match &check {
        Ok(p) if p.start_litestream => {
            let r = rules.render(req, creds).unwrap();
            let redact = r
                .as_ref()
                .ok()
                .map(|r| ok_or(&rules.redact(&r.document).unwrap(), |s| json!(s), |e| json!(e)));
            (ok_or(&r, rendered, |e| errors(e)), redact.unwrap_or(Value::Null))
        }
        _ => (Value::Null, Value::Null),
    };
    write(
        "rust",
        case,
        &json!({"check": ok_or(&check, plan, |e| errors(e)), "render": render, "redact": redact}),
    );
}

fn variant(e: &CredentialsError) -> Value {
    match e {
        CredentialsError::NotJson(at) => json!({"tag": "not-json", "val": at}),
        CredentialsError::NotAnObject => json!({"tag": "not-an-object"}),
        CredentialsError::MissingKey(k) => json!({"tag": "missing-key", "val": k}),
        CredentialsError::WrongType(k) => json!({"tag": "wrong-type", "val": k}),
    }
}

pub fn parse_case(case: &str, text: &str) {
    let rules = Rules::builtin().unwrap();
    write("requests", case, &json!({"kind": "parse", "text": text}));
    let r = rules.parse_credentials(text).unwrap();
    write("rust", case, &json!({"parse": ok_or(&r, credentials, variant)}));
}

pub fn compare_case(case: &str, current: &Credentials, fresh: &Credentials) {
    let rules = Rules::builtin().unwrap();
    write(
        "requests",
        case,
        &json!({"kind": "compare", "current": credentials(current), "fresh": credentials(fresh)}),
    );
    let c: CredentialsChange = rules.compare_credentials(current, fresh).unwrap();
    write("rust", case, &json!({"compare": {"changed": c.changed, "fields": c.fields}}));
}

#[test]
fn canonical_json_sorts_keys_and_writes_integral_floats_as_integers() {
    let mut m = Map::new();
    m.insert("b".into(), json!(1.0));
    m.insert("a".into(), json!([0.5, "é"]));
    assert_eq!(canonical(&Value::Object(m)), r#"{"a":[0.5,"é"],"b":1}"#);
}
