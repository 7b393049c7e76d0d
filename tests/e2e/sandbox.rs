//! The sandbox holds: a hostile component implementing the rules world is loaded
//! through the host's own loader, and every escape it tries fails within a second
//! while the host (and the real rules) keep working.

use datasette_litestream::rules::{Credentials, CredentialsError, Request, Rules};
use std::time::{Duration, Instant};

fn request() -> Request {
    Request {
        top_level: None,
        databases: vec![],
        working_directory: "/".into(),
        litestream_version: "v0.3.13".into(),
        control_socket: None,
    }
}

fn creds() -> Credentials {
    Credentials { access_key_id: "A".into(), secret_access_key: "S".into(), session_token: None }
}

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < Duration::from_secs(1), "the call took {:?}", start.elapsed());
    out
}

#[test]
fn a_hostile_component_cannot_escape_or_exhaust_the_host() {
    // Planted in the host's environment: the guest must not see it.
    unsafe { std::env::set_var("HOSTILE_PROBE", "planted-value") };
    let hostile = Rules::from_wasm(&std::fs::read(env!("HOSTILE_WASM")).unwrap()).unwrap();

    for _ in 0..2 {
        let read =
            timed(|| hostile.check(&request())).expect("reading fails inside the guest, not as a trap");
        let problem = &read.expect_err("/etc/passwd must not be readable")[0].problem;
        assert!(!problem.contains("root:"), "{problem}");

        let looped = timed(|| hostile.render(&request(), None)).expect_err("an endless loop is stopped");
        assert!(looped.reason.contains("time limit"), "{looped}");

        let hoarded = timed(|| hostile.redact("x")).expect_err("unbounded allocation is stopped");
        assert!(hoarded.to_string().contains("redact: it exceeded its memory limit of 128 MiB"), "{hoarded}");

        let env = timed(|| hostile.parse_credentials("{}")).unwrap();
        match env {
            Err(CredentialsError::NotJson(seen)) => {
                assert_eq!(seen, "probe=Err(NotPresent) vars=0", "the guest saw the environment")
            }
            other => panic!("unexpected {other:?}"),
        }

        let net = timed(|| hostile.compare_credentials(&creds(), &creds())).unwrap();
        assert!(!net.changed, "the guest opened a socket: {net:?}");
    }

    // The real rules still answer in the same process.
    let plan = Rules::builtin().unwrap().check(&request()).unwrap().unwrap();
    assert!(!plan.start_litestream);
}

fn many_databases(n: usize) -> Request {
    let databases = (0..n)
        .map(|i| datasette_litestream::rules::Database {
            name: format!("database_{i}"),
            path: format!("/srv/data/database_{i}.db"),
            directory: "/srv/data".into(),
            plugin_config: Some(format!(
                r#"{{"replicas": [{{"url": "s3://bucket/db{i}", "sync-interval": "10s"}}]}}"#
            )),
        })
        .collect();
    Request {
        top_level: Some(
            r#"{"access-key-id": "AKIA", "secret-access-key": "S3CRET", "metrics-addr": ":9090"}"#.into(),
        ),
        databases,
        ..request()
    }
}

/// The built-in rules' allocator never frees (each call's instance is dropped): a large
/// site must still fit the per-call memory and time limits, with room to spare.
#[test]
fn ten_thousand_databases_render_within_the_limits() {
    let rendered =
        timed(|| Rules::builtin().unwrap().render(&many_databases(10_000), None)).unwrap().unwrap();
    assert_eq!(rendered.document.matches("s3://bucket/db").count(), 10_000);
    assert!(rendered.document.contains("database_9999.db"));
}

#[test]
fn a_site_past_the_memory_limit_gets_an_error_that_says_so() {
    let err = timed(|| Rules::builtin().unwrap().render(&many_databases(80_000), None)).unwrap_err();
    assert!(err.to_string().contains("memory limit of 128 MiB"), "{err}");
    // The process and the rules carry on.
    assert!(Rules::builtin().unwrap().render(&many_databases(3), None).unwrap().is_ok());
}
