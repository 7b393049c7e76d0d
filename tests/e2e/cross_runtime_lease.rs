//! Cross-runtime cases for the `lease` interface: where locks live, what a look at a
//! lock means, renewals and their verdicts, and the health of each role, answered by
//! the Rust host for the Python and JavaScript examples to answer identically.

use super::cross_runtime_calls::{answer, case, wit};
use datasette_litestream::rules::{
    EnvVar, LeaseRole, LeaseSettings, Lock, LockSeen, Rendered, Rules, StartupProof, WriteOutcome,
};
use serde_json::json;

fn settings(ttl: f64, owner: Option<&str>) -> LeaseSettings {
    LeaseSettings {
        ttl_seconds: ttl,
        renew_seconds: ttl / 3.0,
        margin_seconds: (ttl / 6.0).max(5.0),
        grace_seconds: 2.0,
        poll_seconds: 2.0,
        owner: owner.map(str::to_owned),
    }
}

fn rendered(replica: serde_json::Value, environment: &[(&str, &str)]) -> Rendered {
    let doc = json!({"access-key-id": "AK", "secret-access-key": "SK",
        "dbs": [{"path": "/srv/a.db", "replica": replica}]});
    Rendered {
        document: doc.to_string(),
        environment: environment
            .iter()
            .map(|(n, v)| EnvVar { name: (*n).into(), value: (*v).into() })
            .collect(),
        secrets: vec!["SK".into()],
        startup: StartupProof::ControlSocket,
    }
}

#[test]
fn lease_answers_for_the_other_runtimes() {
    let rules = Rules::builtin().unwrap();
    let places = [
        rendered(json!({"url": "s3://bkt/a.db?endpoint=http://127.0.0.1:9000"}), &[]),
        rendered(
            json!({"type": "s3", "bucket": "b", "path": "x/y", "region": "eu-west-1"}),
            &[("AWS_SESSION_TOKEN", "T")],
        ),
        rendered(json!({"url": "file:///srv/replica/a"}), &[]),
        rendered(json!({"url": "gs://bucket/a"}), &[]),
    ];
    for (i, r) in places.iter().enumerate() {
        let targets = rules.lease_targets(r).unwrap();
        case(&format!("call-lease-targets-{i}"), "targets", vec![wit(r)], answer(&targets));
    }
    let routes = vec![("http://127.0.0.1:9000".to_owned(), "http://127.0.0.1:4444".to_owned())];
    for (i, r) in places.iter().enumerate() {
        let routed = rules.lease_route(&r.document, &routes).unwrap();
        case(
            &format!("call-lease-route-{i}"),
            "route",
            vec![json!(r.document), wit(&routes)],
            answer(&routed),
        );
    }
    let held = Lock { generation: 3, expires_at: 1_800_000_000.5, owner: Some("web-1:7".into()) };
    let body = r#"{"generation":3,"expires_at":"2027-01-15T10:00:00.5+02:00","owner":"web-1:7"}"#;
    let seen = [
        LockSeen::Absent,
        LockSeen::Present(("\"e1\"".into(), body.into())),
        LockSeen::Present(("\"e2\"".into(), "{".into())),
    ];
    for (i, s) in seen.iter().enumerate() {
        for (j, now) in [1_800_000_000.0, 1_900_000_000.25].iter().enumerate() {
            let sight = rules.lease_look(&settings(30.0, None), s, "web-2:9", *now).unwrap();
            let args = vec![wit(&settings(30.0, None)), wit(s), json!("web-2:9"), json!(now)];
            case(&format!("call-lease-look-{i}-{j}"), "look", args, wit(&sight));
        }
    }
    let renewed = rules.lease_renewal(&settings(12.0, Some("n")), &held, 1_800_000_100.0).unwrap();
    let args = vec![wit(&settings(12.0, Some("n"))), wit(&held), json!(1_800_000_100.0)];
    case("call-lease-renewal", "renewal", args, wit(&renewed));
    let outcomes = [
        WriteOutcome::Written,
        WriteOutcome::Absent,
        WriteOutcome::Precondition,
        WriteOutcome::Conflict,
        WriteOutcome::Failed,
    ];
    for (i, o) in outcomes.iter().enumerate() {
        for (j, now) in [101.0, 130.0].iter().enumerate() {
            let verdict = rules.judge_renewal(&settings(30.0, None), *o, 100.0, 125.0, *now).unwrap();
            let args = vec![wit(&settings(30.0, None)), wit(o), json!(100.0), json!(125.0), json!(now)];
            case(&format!("call-judge-renewal-{i}-{j}"), "judge-renewal", args, wit(&verdict));
        }
    }
    let roles =
        [LeaseRole::Starting, LeaseRole::Primary, LeaseRole::Standby, LeaseRole::Fenced, LeaseRole::Released];
    for (i, role) in roles.iter().enumerate() {
        let reason = (i % 2 == 0).then_some("b holds it");
        let health = rules.lease_health(*role, reason).unwrap();
        case(
            &format!("call-lease-health-{i}"),
            "lease-health",
            vec![wit(role), json!(reason)],
            answer(&health),
        );
    }
}
