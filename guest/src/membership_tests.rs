use super::*;

fn db(name: &str, config: Option<&str>) -> Database {
    Database {
        name: name.into(),
        path: format!("/data/{name}.db"),
        directory: "/data".into(),
        plugin_config: config.map(str::to_owned),
    }
}

fn request(top: Option<&str>, databases: Vec<Database>) -> Request {
    Request {
        top_level: top.map(str::to_owned),
        databases,
        working_directory: "/data".into(),
        litestream_version: "0.5.17".into(),
        control_socket: Some("/private/litestream.sock".into()),
    }
}

const TEMPLATE: &str = r#"{"all-replicate": ["s3://bucket/$DB_NAME"]}"#;

#[test]
fn an_invalid_database_is_refused_alone() {
    let bad = r#"{"replicas": [{"url": 42}]}"#;
    let r = request(Some(TEMPLATE), vec![db("good", None), db("bad", Some(bad))]);
    let admitted = admit(&r, None).expect("admitted");
    assert_eq!(admitted.databases.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["good"]);
    assert_eq!(admitted.plan.replicated, ["good"]);
    assert!(admitted.refused.iter().all(|e| e.database.as_deref() == Some("bad")), "{:?}", admitted.refused);
    assert!(!admitted.refused.is_empty());
    let document = admitted.rendered.expect("rendered with the kept databases").document;
    assert!(document.contains("/data/good.db") && !document.contains("/data/bad.db"), "{document}");
    let why = require_admitted(&admitted.refused).unwrap_err();
    assert!(why.contains("bad") && why.contains("replicas[0].url"), "{why}");
}

#[test]
fn a_top_level_error_refuses_the_set() {
    let r = request(Some(r#"{"all-replicate": 7}"#), vec![db("good", None)]);
    let errors = admit(&r, None).unwrap_err();
    assert!(errors.iter().any(|e| e.database.is_none() && e.key == "all-replicate"), "{errors:?}");
}

#[test]
fn a_valid_set_is_admitted_whole() {
    let r = request(Some(TEMPLATE), vec![db("a", None), db("b", None)]);
    let admitted = admit(&r, None).unwrap();
    assert_eq!(admitted.plan.replicated, ["a", "b"]);
    assert!(admitted.refused.is_empty());
    assert_eq!(require_admitted(&[]), Ok(()));
}

fn doc(dbs: &[&str], extra: &str) -> String {
    let dbs: Vec<String> = dbs.iter().map(|d| d.to_string()).collect();
    format!(r#"{{"socket": {{"enabled": true, "path": "/s"}}{extra}, "dbs": [{}]}}"#, dbs.join(","))
}

const A: &str = r#"{"path": "/data/a.db", "replica": {"url": "s3://bucket/a"}}"#;
const B: &str = r#"{"path": "/data/b.db", "replica": {"url": "s3://bucket/b", "endpoint": "http://127.0.0.1:9000", "force-path-style": true}}"#;

#[test]
fn added_and_removed_databases_change_in_place_on_05() {
    let change = plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[B], "")));
    assert_eq!(
        change,
        Change::InPlace(InPlaceChange {
            unregister: vec!["/data/a.db".into()],
            register: vec![Registration {
                path: "/data/b.db".into(),
                replica_url: "s3://bucket/b?endpoint=http://127.0.0.1:9000&force-path-style=true".into(),
            }],
        })
    );
}

#[test]
fn a_file_replica_registers_as_a_file_url() {
    let f = r#"{"path": "/data/f.db", "replica": {"type": "file", "path": "/backups/f"}}"#;
    let Change::InPlace(InPlaceChange { register, .. }) =
        plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[A, f], "")))
    else {
        panic!("expected in place");
    };
    assert_eq!(register[0].replica_url, "file:///backups/f");
}

#[test]
fn what_a_url_cannot_say_needs_a_restart() {
    let synced = r#"{"path": "/data/c.db", "replica": {"url": "s3://bucket/c", "sync-interval": "10s"}}"#;
    let Change::Restart(why) =
        plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[A, synced], "")))
    else {
        panic!("expected a restart");
    };
    assert!(why.contains("/data/c.db") && why.contains("replica.sync-interval"), "{why}");
    let monitored = r#"{"path": "/data/d.db", "monitor-interval": "1s", "replica": {"url": "s3://b/d"}}"#;
    let Change::Restart(why) =
        plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[A, monitored], "")))
    else {
        panic!("expected a restart");
    };
    assert!(why.contains("`monitor-interval`"), "{why}");
}

#[test]
fn changed_settings_or_databases_need_a_restart() {
    let a2 = r#"{"path": "/data/a.db", "replica": {"url": "s3://other/a"}}"#;
    assert!(matches!(
        plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[a2], ""))),
        Change::Restart(_)
    ));
    let addr = r#", "addr": ":9090""#;
    assert!(matches!(
        plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[A], addr))),
        Change::Restart(_)
    ));
}

#[test]
fn litestream_03_always_restarts_and_nothing_to_do_is_unchanged() {
    let (a, ab) = (doc(&[A], ""), doc(&[A, B], ""));
    assert!(
        matches!(plan_change(LitestreamLine::V03, Some(&a), Some(&ab)), Change::Restart(w) if w.contains("0.3"))
    );
    assert_eq!(plan_change(LitestreamLine::V03, Some(&a), Some(&a)), Change::Unchanged);
    assert_eq!(plan_change(LitestreamLine::V05, None, None), Change::Unchanged);
    assert_eq!(plan_change(LitestreamLine::V05, None, Some(&a)), Change::Start);
    assert_eq!(plan_change(LitestreamLine::V03, Some(&a), None), Change::Stop);
}

#[test]
fn an_s3_replica_by_bucket_and_path_registers_as_its_url() {
    let m = r#"{"path": "/data/m.db", "replica": {"type": "s3", "bucket": "b", "path": "x/m", "region": "us-east-1", "name": "t0"}}"#;
    let Change::InPlace(InPlaceChange { register, .. }) =
        plan_change(LitestreamLine::V05, Some(&doc(&[A], "")), Some(&doc(&[A, m], "")))
    else {
        panic!("expected in place");
    };
    assert_eq!(register[0].replica_url, "s3://b/x/m?region=us-east-1");
}

#[test]
fn query_values_are_escaped() {
    assert_eq!(escape("http://h:1/p?x=1&y"), "http://h:1/p%3Fx%3D1%26y");
}

#[test]
fn what_a_url_would_change_restarts_instead() {
    let base = doc(&[A], "");
    for (m, why) in [
        (r#"{"path": "/data/m.db", "replica": {"type": "file", "path": "/rep b/m"}}"#, "survive a URL"),
        (r#"{"path": "/data/m.db", "replica": {"type": "file", "path": "rel/m"}}"#, "survive a URL"),
        (
            r#"{"path": "/data/m.db", "replica": {"type": "s3", "bucket": "b", "path": "/lead/m"}}"#,
            "starts with `/`",
        ),
        (
            r#"{"path": "/data/m.db", "replica": {"type": "s3", "bucket": "b", "path": "m", "endpoint": "127.0.0.1:9000"}}"#,
            "no scheme",
        ),
    ] {
        let change = plan_change(LitestreamLine::V05, Some(&base), Some(&doc(&[A, m], "")));
        assert!(matches!(&change, Change::Restart(w) if w.contains(why)), "{m}: {change:?}");
    }
}

#[test]
fn replica_keys_05_drops_are_warned_and_the_stop_grace_follows_the_line() {
    let replica = r#"{"replicas": [{"url": "s3://b/k", "retention": "168h"}]}"#;
    let plan = crate::plan::plan(&request(None, vec![db("k", Some(replica))])).unwrap();
    assert!(plan.warnings.iter().any(|w| w.contains("ignores replicas[0].retention")), "{:?}", plan.warnings);
    assert_eq!(plan.stop_grace_seconds, 35.0);
    let top = r#"{"shutdown-sync-timeout": "10s"}"#;
    let plan = crate::plan::plan(&request(Some(top), vec![db("k", Some(replica))])).unwrap();
    assert_eq!(plan.stop_grace_seconds, 15.0);
    let v03 =
        Request { litestream_version: "v0.3.13".into(), ..request(Some(top), vec![db("k", Some(replica))]) };
    let plan = crate::plan::plan(&v03).unwrap();
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert_eq!(plan.stop_grace_seconds, 10.0);
}

#[test]
fn durable_writes_are_planned_per_database_and_kept_out_of_litestreams_config() {
    let top = r#"{"all-replicate": ["s3://b/$DB_NAME"], "durable-writes": true, "durable-timeout": 4}"#;
    let own = r#"{"durable-writes": false}"#;
    let r = request(
        Some(top),
        vec![db("a", None), db("b", Some(own)), db("c", Some(r#"{"durable-timeout": "2"}"#))],
    );
    let plan = crate::plan::plan(&r).unwrap();
    let durable: Vec<_> = plan.durable.iter().map(|d| (d.name.as_str(), d.timeout_seconds)).collect();
    assert_eq!(durable, [("a", 4.0), ("c", 2.0)]);
    let rendered = crate::plan::render(&r, None).unwrap();
    assert!(!rendered.document.contains("durable"), "{}", rendered.document);
}

#[test]
fn durable_writes_on_03_or_of_the_wrong_type_are_refused_at_their_key() {
    let v03 = |top: &str, own: Option<&str>| Request {
        litestream_version: "v0.3.13".into(),
        ..request(Some(top), vec![db("d", own)])
    };
    let errors = crate::plan::plan(&v03(r#"{"all-replicate": ["s3://b/x"], "durable-writes": true}"#, None))
        .unwrap_err();
    assert_eq!((errors[0].database.as_deref(), errors[0].key.as_str()), (None, "durable-writes"));
    assert!(errors[0].problem.contains("Litestream 0.5"), "{:?}", errors[0]);
    let errors = crate::plan::plan(&v03(TEMPLATE, Some(r#"{"durable-writes": true}"#))).unwrap_err();
    assert_eq!((errors[0].database.as_deref(), errors[0].key.as_str()), (Some("d"), "durable-writes"));
    let wrong =
        request(Some(r#"{"all-replicate": ["s3://b/x"], "durable-writes": "yes"}"#), vec![db("d", None)]);
    let errors = crate::plan::plan(&wrong).unwrap_err();
    assert_eq!(errors[0].key, "durable-writes");
    let timeout =
        request(Some(TEMPLATE), vec![db("d", Some(r#"{"durable-writes": true, "durable-timeout": -1}"#))]);
    let errors = crate::plan::plan(&timeout).unwrap_err();
    assert_eq!((errors[0].database.as_deref(), errors[0].key.as_str()), (Some("d"), "durable-timeout"));
}
