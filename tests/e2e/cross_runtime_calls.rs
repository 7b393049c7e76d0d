//! Cross-runtime cases for the `follow` and `membership` interfaces: each case is one
//! export called with arguments in the WIT's JSON shape (`contract::wit_json`), and the
//! Rust host's answer in the same shape, for the Python and JavaScript examples to
//! answer identically (examples/cross-runtime-test.sh compares them byte for byte).

use super::cross_runtime::{canonical, dir};
use datasette_litestream::rules::{
    ConfigError, Database, FollowerLook, FollowerMemory, FollowerReport, LitestreamLine, Request, Rules,
};
use serde::Serialize;
use serde_json::{Value, json};

pub(crate) fn write(kind: &str, case: &str, value: &Value) {
    let d = dir().join(kind);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{case}.json")), canonical(value)).unwrap();
}

pub(crate) fn wit<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

pub(crate) fn answer<T: Serialize, E: Serialize>(r: &Result<T, E>) -> Value {
    contract::wit_json::answer(r)
}

/// Writes the request and the Rust answer of one call.
pub(crate) fn case(name: &str, call: &str, args: Vec<Value>, rust: Value) {
    write("requests", name, &json!({"kind": "call", "call": call, "args": args}));
    write("rust", name, &json!({"answer": rust}));
}

fn request(version: &str, top_level: Option<&str>, configs: &[(&str, Option<&str>)]) -> Request {
    Request {
        top_level: top_level.map(str::to_owned),
        databases: configs
            .iter()
            .map(|(name, config)| Database {
                name: (*name).into(),
                path: format!("/data/{name}.db"),
                directory: "/data".into(),
                plugin_config: config.map(str::to_owned),
            })
            .collect(),
        working_directory: "/data".into(),
        litestream_version: version.into(),
        control_socket: Some("/run/dl/litestream.sock".into()),
    }
}

fn requests() -> Vec<(&'static str, Request)> {
    let file = Some(r#"{"replicas": ["file:///r/x"]}"#);
    vec![
        ("05-file", request("v0.5.17", None, &[("x", file)])),
        (
            "05-s3-secret",
            request("v0.5.17", None, &[("x", Some(r#"{"replicas": ["s3://AKID:hunter2@b/x"]}"#))]),
        ),
        (
            "05-two-replicas",
            request("v0.5.17", None, &[("x", Some(r#"{"replicas": ["file:///a", "file:///b"]}"#))]),
        ),
        ("03-refused", request("v0.3.13", None, &[("x", file)])),
        ("bad-key", request("v0.5.17", None, &[("x", Some(r#"{"replicaz": []}"#))])),
        (
            "all-replicate",
            request(
                "v0.5.17",
                Some(r#"{"all-replicate": ["file:///r/$DB_NAME"]}"#),
                &[("a", None), ("b", None)],
            ),
        ),
        ("one-bad-of-two", request("v0.5.17", None, &[("a", file), ("b", Some(r#"{"replicas": 3}"#))])),
    ]
}

const LINES: [&str; 7] = [
    "time=2026-11-30T05:00:00Z level=INFO msg=\"entering follow mode\" replica=file output=follower.db txid=0000000000000006 interval=200ms",
    "time=2026-11-30T05:00:01Z level=INFO msg=\"follow: applied updates\" replica=file from_txid=00000000000008d2 to_txid=0000000000000a73",
    "time=x level=INFO msg=\"follow mode stopped\"",
    "Error: cannot restore: no matching backup files available",
    "Error: cannot resume follow mode: saved TXID 0000000000000ab5 is ahead of latest snapshot",
    "time=x level=ERROR msg=\"follow: error applying updates\" err=\"boom\" consecutive_errors=3",
    "time=x level=INFO msg=\"restoring snapshot\"",
];

fn look(now: f64, replica: Result<Option<u64>, String>, follower: Result<u64, String>) -> FollowerLook {
    let memory =
        FollowerMemory { confirmed_at: Some(90.0), txid: Some(5), since: 80.0, listings: vec![(95.0, 7)] };
    FollowerLook {
        name: "x".into(),
        now,
        listed_at: now - 0.5,
        replica,
        follower,
        memory,
        stuck_after_seconds: 30.0,
    }
}

#[test]
fn follow_and_membership_answers_for_the_other_runtimes() {
    let rules = Rules::builtin().unwrap();
    for (name, req) in requests() {
        let follow = rules.plan_follow(&req).unwrap();
        case(&format!("call-plan-follow-{name}"), "plan-follow", vec![wit(&req)], answer(&follow));
        let admitted = rules.admit(&req, None).unwrap();
        case(&format!("call-admit-{name}"), "admit", vec![wit(&req), json!(null)], answer(&admitted));
        let refused = admitted.map(|a| a.refused).unwrap_or_else(|e| e);
        let verdict = rules.require_admitted(&refused).unwrap();
        case(
            &format!("call-require-admitted-{name}"),
            "require-admitted",
            vec![wit(&refused)],
            answer(&verdict),
        );
    }
    for (i, line) in LINES.iter().enumerate() {
        let event = rules.follow_progress(line).unwrap();
        case(&format!("call-follow-progress-{i}"), "follow-progress", vec![json!(line)], wit(&event));
    }
    let listings = [
        r#"[{"level":0,"min_txid":"0000000000000001","max_txid":"00000000000000ff"},{"level":1,"min_txid":"0000000000000001","max_txid":"0000000000000100"}]"#,
        "[]",
        "no such file",
        r#"[{"level":0}]"#,
    ];
    for (i, text) in listings.iter().enumerate() {
        let newest = rules.replica_newest(text).unwrap();
        case(&format!("call-replica-newest-{i}"), "replica-newest", vec![json!(text)], answer(&newest));
    }
    for (i, text) in ["0000000000000ab5\n", "", "zz"].iter().enumerate() {
        let txid = rules.parse_sidecar(text).unwrap();
        case(&format!("call-parse-sidecar-{i}"), "parse-sidecar", vec![json!(text)], answer(&txid));
    }
    let looks = [
        look(100.0, Ok(Some(7)), Ok(7)),
        look(100.0, Ok(Some(9)), Ok(5)),
        look(200.0, Ok(Some(9)), Ok(5)),
        look(100.0, Ok(None), Ok(0)),
        // (Not `replica: Err(..)`: wasmtime-py lowers a string into the `ok` case of a
        // `result<option<u64>, string>`, whose `none` it matches as any object.)
        look(100.0, Ok(Some(7)), Err("no sidecar".into())),
    ];
    let mut reports: Vec<FollowerReport> = Vec::new();
    for (i, l) in looks.iter().enumerate() {
        let report = rules.judge_follower(l).unwrap();
        case(&format!("call-judge-follower-{i}"), "judge-follower", vec![wit(l)], wit(&report));
        reports.push(report);
    }
    for (i, (max_lag, now)) in [(30.0, 100.0), (5.0, 130.0), (30.0, 300.0)].iter().enumerate() {
        let fresh = rules.require_fresh(&reports[..2], *max_lag, *now).unwrap();
        let args = vec![wit(&reports[..2].to_vec()), json!(max_lag), json!(now)];
        case(&format!("call-require-fresh-{i}"), "require-fresh", args, answer(&fresh));
    }
    plan_change_cases(rules);
}

/// From one rendered document to another, on both lines.
fn plan_change_cases(rules: &Rules) {
    let doc = |configs: &[(&str, Option<&str>)]| {
        let req = request("v0.5.17", None, configs);
        rules.render(&req, None).unwrap().unwrap().document
    };
    let (file_a, file_b) =
        (Some(r#"{"replicas": ["file:///r/a"]}"#), Some(r#"{"replicas": ["file:///r/b"]}"#));
    let one = doc(&[("a", file_a)]);
    let two = doc(&[("a", file_a), ("b", file_b)]);
    let moved = doc(&[("a", Some(r#"{"replicas": ["file:///r/elsewhere"]}"#))]);
    let pairs: [(Option<&str>, Option<&str>); 6] = [
        (None, None),
        (None, Some(&one)),
        (Some(&one), None),
        (Some(&one), Some(&two)),
        (Some(&two), Some(&one)),
        (Some(&one), Some(&moved)),
    ];
    for line in [LitestreamLine::V03, LitestreamLine::V05] {
        for (i, (running, next)) in pairs.iter().enumerate() {
            let change = rules.plan_change(line, *running, *next).unwrap();
            let args = vec![wit(&line), json!(running), json!(next)];
            case(
                &format!("call-plan-change-{}-{i}", wit(&line).as_str().unwrap()),
                "plan-change",
                args,
                wit(&change),
            );
        }
    }
}

#[test]
fn a_config_error_is_written_in_the_wits_shape() {
    let e = ConfigError::new(Some("x"), "replicas", "wrong").hint("h");
    assert_eq!(wit(&e), json!({"database": "x", "key": "replicas", "problem": "wrong", "hint": "h"}));
}
