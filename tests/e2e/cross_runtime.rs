//! Writes every golden case's request and the component's answers (through the Rust
//! host) as canonical JSON under target/cross-runtime, for the Python and JavaScript
//! examples to answer the same requests and be compared byte for byte
//! (examples/cross-runtime-test.sh, run by scripts/test).

use datasette_litestream::rules::{Credentials, CredentialsChange, Request, Rules};
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

/// A contract value in the WIT's JSON shape (`contract::wit_json`).
fn wit<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

pub fn render_case(case: &str, req: &Request, creds: Option<&Credentials>) {
    let rules = Rules::builtin().unwrap();
    write("requests", case, &json!({"kind": "render", "request": wit(req), "credentials": creds.map(wit)}));
    let check = rules.check(req).unwrap();
    let (render, redact) = match &check {
        Ok(p) if p.start_litestream => {
            let r = rules.render(req, creds).unwrap();
            let redact = r
                .as_ref()
                .ok()
                .map(|r| ok_or(&rules.redact(&r.document).unwrap(), |s| json!(s), |e| json!(e)));
            (ok_or(&r, wit, wit), redact.unwrap_or(Value::Null))
        }
        _ => (Value::Null, Value::Null),
    };
    write("rust", case, &json!({"check": ok_or(&check, wit, wit), "render": render, "redact": redact}));
    let configured = rules.configure(req, creds).unwrap();
    let args = vec![wit(req), json!(creds.map(wit))];
    let answer = crate::cross_runtime_calls::answer(&configured);
    crate::cross_runtime_calls::case(&format!("{case}-configure"), "configure", args, answer);
}

pub fn parse_case(case: &str, text: &str) {
    let rules = Rules::builtin().unwrap();
    write("requests", case, &json!({"kind": "parse", "text": text}));
    let r = rules.parse_credentials(text).unwrap();
    write("rust", case, &json!({"parse": ok_or(&r, wit, wit)}));
}

pub fn compare_case(case: &str, current: &Credentials, fresh: &Credentials) {
    let rules = Rules::builtin().unwrap();
    write("requests", case, &json!({"kind": "compare", "current": wit(current), "fresh": wit(fresh)}));
    let c: CredentialsChange = rules.compare_credentials(current, fresh).unwrap();
    write("rust", case, &json!({"compare": wit(&c)}));
}

#[test]
fn canonical_json_sorts_keys_and_writes_integral_floats_as_integers() {
    let mut m = Map::new();
    m.insert("b".into(), json!(1.0));
    m.insert("a".into(), json!([0.5, "é"]));
    assert_eq!(canonical(&Value::Object(m)), r#"{"a":[0.5,"é"],"b":1}"#);
}
