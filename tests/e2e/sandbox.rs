//! The sandbox holds: a hostile component implementing the rules world is loaded
//! through the host's own loader, and every escape it tries ends in an error (its
//! instruction budget and memory cap are counted, not timed, so the outcome is the
//! same on an idle or a busy machine) while the host (and the real rules) keep working.

use datasette_litestream::rules::{Credentials, CredentialsError, FUEL_PER_CALL, Request, Rules};

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

#[test]
fn a_hostile_component_cannot_escape_or_exhaust_the_host() {
    // Planted in the host's environment: the guest must not see it.
    unsafe { std::env::set_var("HOSTILE_PROBE", "planted-value") };
    // SAFETY: compiled ahead of time by this crate's build script (tests/build.rs).
    let hostile = unsafe { Rules::from_precompiled(&std::fs::read(env!("HOSTILE_CWASM")).unwrap()) }.unwrap();

    for _ in 0..2 {
        let read = hostile.check(&request()).expect("reading fails inside the guest, not as a trap");
        let problem = &read.expect_err("/etc/passwd must not be readable")[0].problem;
        assert!(!problem.contains("root:"), "{problem}");

        let looped = hostile.render(&request(), None).expect_err("an endless loop is stopped");
        assert!(looped.reason.contains(&format!("budget of {FUEL_PER_CALL} instructions")), "{looped}");

        let hoarded = hostile.redact("x").expect_err("unbounded allocation is stopped");
        assert!(hoarded.to_string().contains("redact: it exceeded its memory limit of 128 MiB"), "{hoarded}");

        let env = hostile.parse_credentials("{}").unwrap();
        match env {
            Err(CredentialsError::NotJson(seen)) => {
                assert_eq!(seen, "probe=Err(NotPresent) vars=0", "the guest saw the environment")
            }
            other => panic!("unexpected {other:?}"),
        }

        let net = hostile.compare_credentials(&creds(), &creds()).unwrap();
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
/// site must still fit the per-call limits, with room to spare.
#[test]
fn ten_thousand_databases_render_within_the_limits() {
    let rendered = Rules::builtin().unwrap().render(&many_databases(10_000), None).unwrap().unwrap();
    assert_eq!(rendered.document.matches("s3://bucket/db").count(), 10_000);
    assert!(rendered.document.contains("database_9999.db"));
}

/// The instruction budget never refuses a site that memory allows: about 60,000
/// databases fill 128 MiB, and 40,000 cost under a third of the budget, so even the
/// largest site that fits in memory stays under half of it. Counted in instructions,
/// so the answer is the same on any machine, idle or busy.
#[test]
fn a_site_near_the_memory_limit_fits_the_instruction_budget() {
    let cost = Rules::builtin().unwrap().render_cost(&many_databases(40_000)).unwrap();
    assert!(cost < FUEL_PER_CALL / 3, "40,000 databases cost {cost} of {FUEL_PER_CALL} instructions");
    // Past what memory holds, memory is the limit met, on every machine.
    let err = Rules::builtin().unwrap().render(&many_databases(80_000), None).unwrap_err();
    assert!(err.to_string().contains("memory limit of 128 MiB"), "{err}");
}

/// One value larger than the memory cap: the copy into the guest's memory meets the
/// limit at once, before any rule runs, so no other limit can come first.
#[test]
fn a_request_past_the_memory_limit_gets_an_error_that_says_so() {
    let mut huge = many_databases(1);
    huge.databases[0].plugin_config =
        Some(format!(r#"{{"replicas": ["s3://b/{}"]}}"#, "x".repeat(130 << 20)));
    let err = Rules::builtin().unwrap().render(&huge, None).unwrap_err();
    assert!(err.to_string().contains("render: it exceeded its memory limit of 128 MiB"), "{err}");
    // The process and the rules carry on.
    assert!(Rules::builtin().unwrap().render(&many_databases(3), None).unwrap().is_ok());
}

/// The rules arrive compiled inside the binary: nothing compiled is written anywhere.
/// The cache left holds Litestream's version text only (it picks the config dialect), and
/// a cache directory that others can write (or that belongs to someone else) is neither
/// written nor read.
#[test]
fn no_compiled_code_is_cached_and_a_shared_cache_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let (_keep, dir) = tests::tempdir();
    let render = |cache: &std::path::Path| {
        let out = std::process::Command::new(tests::binary())
            .arg("render")
            .arg("--litestream")
            .arg(tests::litestream("0.5.17"))
            .current_dir(&dir)
            .env("DATASETTE_LITESTREAM_CACHE", cache)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let names = std::fs::read_dir(cache).unwrap().flatten().map(|e| e.file_name());
        names.map(|n| n.to_string_lossy().into_owned()).collect::<Vec<_>>()
    };
    let private = dir.join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let cached = render(&private);
    assert!(!cached.is_empty(), "the version is cached in a private directory");
    assert!(
        cached.iter().all(|f| f.starts_with("litestream-version-")),
        "only the version is cached: {cached:?}"
    );

    let shared = dir.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(render(&shared).is_empty(), "the host wrote into a world-writable directory");
}
