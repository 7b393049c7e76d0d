//! Cross-runtime cases for the exports that judge evidence (`metrics`, `health`,
//! `replication`, `restore`, `durability`), in the same form as `cross_runtime_calls`:
//! with those, every export of the world is compared across Rust, Python and JS.

use super::cross_runtime_calls::{answer, case, wit};
use datasette_litestream::rules::{
    Conflict, Database, DatabaseEvidence, DurabilityEvidence, FileHead, HealthInput, LagState,
    LastVerification, LitestreamLine, LocalFile, LocalFiles, LogEntry, Observation, ProcessState,
    ReplicaCount, RestoreOptions, Rules, ShadowFiles, StartupProof, StopEvidence, SyncAnswer, Target,
    VerifyEvidence, VerifyOutcome, WritersEvidence,
};
use serde_json::json;

const LINES: [LitestreamLine; 2] = [LitestreamLine::V03, LitestreamLine::V05];

fn line_word(line: LitestreamLine) -> String {
    wit(&line).as_str().unwrap().to_owned()
}

fn evidence(name: &str, exists: bool) -> DatabaseEvidence {
    DatabaseEvidence { name: name.into(), path: format!("/srv/{name}.db"), file_exists: exists }
}

#[test]
fn evidence_answers_for_the_other_runtimes() {
    let rules = Rules::builtin().unwrap();
    metrics_cases(rules);
    health_cases(rules);
    stop_cases(rules);
    startup_cases(rules);
    replication_cases(rules);
    restore_cases(rules);
    durability_cases(rules);
}

fn metrics_cases(rules: &Rules) {
    let dbs = vec![Database {
        name: "a".into(),
        path: "/tmp/mt/a.db".into(),
        directory: "/tmp/mt".into(),
        plugin_config: None,
    }];
    let scrapes = [
        ("03", include_str!("../metrics/litestream-0.3.13.txt")),
        ("05-s3", include_str!("../metrics/litestream-0.5.17-s3.txt")),
        ("bad", "this is not a scrape"),
    ];
    for (name, text) in scrapes {
        let digest = rules.digest_metrics(text, &dbs).unwrap();
        case(
            &format!("call-digest-metrics-{name}"),
            "digest-metrics",
            vec![json!(text), wit(&dbs)],
            answer(&digest),
        );
    }
}

fn health_cases(rules: &Rules) {
    let error = "level=ERROR msg=\"monitor error\" db=/srv/data.db error=\"permission denied\"";
    let base = HealthInput {
        state: ProcessState::Running,
        uptime_seconds: 100.0,
        databases: vec![evidence("data", true), evidence("gone", false)],
        logs: vec![LogEntry { age_seconds: 5.0, text: error.into() }],
        window_seconds: 30.0,
        durability: vec![],
        conflicts: vec![],
    };
    let mut inputs = vec![base.clone(), HealthInput { state: ProcessState::Restarting, ..base.clone() }];
    inputs.push(HealthInput {
        databases: vec![evidence("data", true)],
        logs: vec![],
        conflicts: vec![Conflict { name: "data".into(), reason: "the replica holds transaction 8".into() }],
        durability: vec![DurabilityEvidence {
            name: "data".into(),
            waiting: 2,
            longest_wait_seconds: 12.0,
            timeout_seconds: 10.0,
            failing: Some("sync timed out".into()),
        }],
        ..base.clone()
    });
    for (i, input) in inputs.iter().enumerate() {
        let verdict = rules.assess_health(input).unwrap();
        case(&format!("call-assess-health-{i}"), "assess-health", vec![wit(input)], wit(&verdict));
    }
    let hints = [
        error,
        "level=ERROR msg=\"sync error\" error=\"api error InvalidAccessKeyId: nope\"",
        "level=INFO msg=\"replicating to\"",
    ];
    for (i, line) in hints.iter().enumerate() {
        let hint = rules.hint(line).unwrap();
        case(&format!("call-hint-{i}"), "hint", vec![json!(line)], wit(&hint));
    }
}

fn stop_cases(rules: &Rules) {
    let stops = [
        StopEvidence {
            running: true,
            exit_code: Some(0),
            interrupted: false,
            killed: false,
            output: vec!["level=INFO msg=\"exiting\"".into()],
            databases: vec![evidence("data", true)],
        },
        StopEvidence {
            running: true,
            exit_code: None,
            interrupted: true,
            killed: true,
            output: vec![],
            databases: vec![evidence("data", true)],
        },
        StopEvidence {
            running: false,
            exit_code: None,
            interrupted: false,
            killed: false,
            output: vec![],
            databases: vec![evidence("data", true)],
        },
    ];
    for line in LINES {
        for (i, stop) in stops.iter().enumerate() {
            let unconfirmed = rules.judge_stop(line, stop).unwrap();
            let name = format!("call-judge-stop-{}-{i}", line_word(line));
            case(&name, "judge-stop", vec![wit(&line), wit(stop)], wit(&unconfirmed));
        }
    }
}

fn startup_cases(rules: &Rules) {
    let output: Vec<String> = [
        "level=INFO msg=\"initialized db\" path=/srv/data.db",
        "level=INFO msg=\"replicating to\" name=file type=file path=/r/data",
        "level=INFO msg=\"control socket listening\" path=/run/l.sock",
    ]
    .map(str::to_owned)
    .to_vec();
    let proofs = [
        StartupProof::ControlSocket,
        StartupProof::Replicas(vec![ReplicaCount { path: "/srv/data.db".into(), replicas: 1 }]),
        StartupProof::Replicas(vec![ReplicaCount { path: "/srv/data.db".into(), replicas: 2 }]),
    ];
    for (i, proof) in proofs.iter().enumerate() {
        for n in [1, 3] {
            let progress = rules.startup_progress(proof, &output[..n]).unwrap();
            let args = vec![wit(proof), wit(&output[..n].to_vec())];
            case(&format!("call-startup-progress-{i}-{n}"), "startup-progress", args, wit(&progress));
        }
    }
}

/// Each line's local files with a real header: an LTX file at TXID 9 (0.5), a shadow
/// WAL two frames long at index 1 (0.3).
fn local_files(line: LitestreamLine) -> LocalFiles {
    match line {
        LitestreamLine::V05 => {
            let mut head = vec![0u8; 100];
            head[..4].copy_from_slice(b"LTX1");
            head[24..32].copy_from_slice(&9u64.to_be_bytes());
            let name = "0000000000000009-0000000000000009.ltx".into();
            LocalFiles::Ltx(Some(FileHead { name, head }))
        }
        LitestreamLine::V03 => {
            let mut head = vec![0u8; 32];
            head[8..12].copy_from_slice(&4096u32.to_be_bytes());
            LocalFiles::Shadow(ShadowFiles {
                generation: Some("e4ee4096aa45a8bc\n".into()),
                newest_file: Some(FileHead { name: "00000001.wal".into(), head }),
                newest_size: 32 + 2 * 4120,
            })
        }
    }
}

fn replication_cases(rules: &Rules) {
    for line in LINES {
        let paths = rules.where_to_look(line, "/srv/data.db").unwrap();
        let args = vec![wit(&line), json!("/srv/data.db")];
        case(&format!("call-where-to-look-{}", line_word(line)), "where-to-look", args, wit(&paths));
        let observation = Observation {
            name: "data".into(),
            path: "/srv/data.db".into(),
            state: LagState::default(),
            files: local_files(line),
            wal_index: vec![0, 1, 2],
            socket: match line {
                LitestreamLine::V05 => {
                    Some(Ok(r#"{"status":"no_change","txid":9,"replicated_txid":7}"#.into()))
                }
                LitestreamLine::V03 => None,
            },
        };
        let output = vec![
            "level=INFO msg=\"wal segment written\" db=/srv/data.db".to_owned(),
            "level=INFO msg=\"wal segment written\" db=/srv/data.db replica=s3 \
             position=e4ee4096aa45a8bc/00000001:32 elapsed=1ms sz=4120"
                .to_owned(),
        ];
        let tracked = rules.track(line, 100.0, &output, std::slice::from_ref(&observation)).unwrap();
        let args = vec![wit(&line), json!(100.0), wit(&output), wit(&vec![observation])];
        case(&format!("call-track-{}", line_word(line)), "track", args, wit(&tracked));
        let reports: Vec<_> = tracked.into_iter().map(|t| t.report).collect();
        for (i, (max_lag, now)) in [(5.0, 100.0), (5.0, 1000.0)].iter().enumerate() {
            let caught_up = rules.require_caught_up(&reports, *max_lag, *now).unwrap();
            let args = vec![wit(&reports), json!(max_lag), json!(now)];
            let name = format!("call-require-caught-up-{}-{i}", line_word(line));
            case(&name, "require-caught-up", args, answer(&caught_up));
        }
    }
    for (i, text) in ["5", "2m", "nope", "-1"].iter().enumerate() {
        let parsed = rules.parse_max_lag(text).unwrap();
        case(&format!("call-parse-max-lag-{i}"), "parse-max-lag", vec![json!(text)], answer(&parsed));
    }
    let listing = r#"[{"level":0,"min_txid":"0000000000000001","max_txid":"0000000000000001","size":589},
                      {"level":0,"min_txid":"0000000000000002","max_txid":"0000000000000002","size":229}]"#;
    let ours = |size| vec![LocalFile { name: "0000000000000002-0000000000000002.ltx".into(), size }];
    let cases = [
        (
            LitestreamLine::V05,
            WritersEvidence { listing: listing.into(), local_files: ours(229), generation: None },
        ),
        (
            LitestreamLine::V05,
            WritersEvidence { listing: listing.into(), local_files: ours(300), generation: None },
        ),
        (
            LitestreamLine::V05,
            WritersEvidence { listing: "nope".into(), local_files: ours(1), generation: None },
        ),
        (
            LitestreamLine::V03,
            WritersEvidence { listing: String::new(), local_files: vec![], generation: None },
        ),
    ];
    for (i, (line, e)) in cases.iter().enumerate() {
        let verdict = rules.judge_writers(*line, e).unwrap();
        case(&format!("call-judge-writers-{i}"), "judge-writers", vec![wit(line), wit(e)], wit(&verdict));
    }
}

fn restore_cases(rules: &Rules) {
    let targets = vec![Target { name: "a".into(), exists: true }, Target { name: "b".into(), exists: false }];
    let explicit_sets: [Vec<String>; 3] = [vec![], vec!["b".into()], vec!["c".into()]];
    for (i, explicit) in explicit_sets.iter().enumerate() {
        for (force, only_missing) in [(false, false), (true, false), (true, true)] {
            let options = RestoreOptions { force, only_missing };
            let plan = rules.plan_restore(&targets, explicit, options.clone()).unwrap();
            let args = vec![wit(&targets), wit(explicit), wit(&options)];
            case(
                &format!("call-plan-restore-{i}-{force}-{only_missing}"),
                "plan-restore",
                args,
                answer(&plan),
            );
        }
    }
    for explicit in [false, true] {
        let verdict = rules.empty_replica("a", explicit).unwrap();
        case(
            &format!("call-empty-replica-{explicit}"),
            "empty-replica",
            vec![json!("a"), json!(explicit)],
            wit(&verdict),
        );
    }
    let seen = [
        VerifyEvidence {
            restored: true,
            integrity_ok: Some(true),
            sentinel_found: true,
            waited_seconds: 3.0,
            ..Default::default()
        },
        VerifyEvidence { restored: true, integrity_ok: Some(false), ..Default::default() },
        VerifyEvidence { restore_error: Some("lz4: bad magic number".into()), ..Default::default() },
        VerifyEvidence {
            restore_error: Some("connection refused".into()),
            timed_out: true,
            ..Default::default()
        },
        VerifyEvidence { sentinel_error: Some("database is locked".into()), ..Default::default() },
    ];
    for (i, e) in seen.iter().enumerate() {
        let verdict = rules.judge_verification(e).unwrap();
        case(&format!("call-judge-verification-{i}"), "judge-verification", vec![wit(e)], wit(&verdict));
    }
    for (i, (output, at)) in
        [("no matching backup index found", Some("2020-01-01T00:00:00Z")), ("access denied", None)]
            .iter()
            .enumerate()
    {
        let why = rules.explain_restore_failure(output, *at).unwrap();
        let args = vec![json!(output), json!(at)];
        case(&format!("call-explain-restore-failure-{i}"), "explain-restore-failure", args, json!(why));
    }
    let last = |outcome, age_seconds| LastVerification { database: "a".into(), outcome, age_seconds };
    let lasts = [
        vec![last(Some(VerifyOutcome::Verified), Some(10.0))],
        vec![last(Some(VerifyOutcome::Verified), Some(100.0)), last(Some(VerifyOutcome::Failed), Some(1.0))],
        vec![last(None, None)],
    ];
    for (i, l) in lasts.iter().enumerate() {
        let verdict = rules.require_verified(l, 60.0).unwrap();
        case(
            &format!("call-require-verified-{i}"),
            "require-verified",
            vec![wit(l), json!(60.0)],
            answer(&verdict),
        );
    }
}

fn durability_cases(rules: &Rules) {
    let answers: [Result<SyncAnswer, String>; 5] = [
        Ok(SyncAnswer { status: 200, body: r#"{"status":"synced","txid":12}"#.into() }),
        Ok(SyncAnswer { status: 200, body: r#"{"status":"no_change","txid":12}"#.into() }),
        Ok(SyncAnswer { status: 200, body: r#"{"status":"synced_local","txid":12}"#.into() }),
        Ok(SyncAnswer { status: 500, body: "replica unreachable".into() }),
        Err("no answer within 10 s".into()),
    ];
    for (i, a) in answers.iter().enumerate() {
        let outcome = rules.judge_sync(a.clone()).unwrap();
        case(&format!("call-judge-sync-{i}"), "judge-sync", vec![answer(a)], wit(&outcome));
    }
}
