use super::*;
use crate::model::{Database, FollowerMemory};

fn request(version: &str, config: &str) -> Request {
    Request {
        top_level: None,
        databases: vec![Database {
            name: "x".into(),
            path: "/data/x.db".into(),
            directory: "/data".into(),
            plugin_config: Some(config.into()),
        }],
        working_directory: "/data".into(),
        litestream_version: version.into(),
        control_socket: None,
    }
}

#[test]
fn follows_the_one_replica_without_its_secrets() {
    let config = r#"{"replicas": ["s3://AKID:hunter2@b/x"]}"#;
    let targets = plan(&request("v0.5.17", config)).unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!((targets[0].name.as_str(), targets[0].path.as_str()), ("x", "/data/x.db"));
    assert!(targets[0].replica.contains("b/x") && !targets[0].replica.contains("hunter2"), "{targets:?}");
    let two = r#"{"replicas": ["file:///r/x", "file:///r/y"]}"#;
    let e = plan(&request("v0.5.17", two)).unwrap_err();
    assert_eq!(e[0].key, "replicas", "several replicas are refused as for run: {e:?}");
}

#[test]
fn litestream_03_is_refused_in_one_line_naming_05() {
    let e = plan(&request("v0.3.13", r#"{"replicas": ["file:///r/x"]}"#)).unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].problem.contains("Litestream 0.5") && !e[0].problem.contains('\n'), "{e:?}");
}

#[test]
fn bad_config_gets_the_same_key_level_errors_as_run() {
    let e = plan(&request("v0.5.17", r#"{"replicaz": []}"#)).unwrap_err();
    assert_eq!((e[0].database.as_deref(), e[0].key.as_str()), (Some("x"), "replicaz"));
}

#[test]
fn restore_f_lines_as_litestream_0_5_17_prints_them() {
    let entering = "time=2026-11-30T05:00:00Z level=INFO msg=\"entering follow mode\" replica=file output=follower.db txid=0000000000000006 interval=200ms";
    assert_eq!(progress(entering), FollowEvent::Following(6));
    let applied = "time=2026-11-30T05:00:01Z level=INFO msg=\"follow: applied updates\" replica=file from_txid=00000000000008d2 to_txid=0000000000000a73";
    assert_eq!(progress(applied), FollowEvent::Applied(0xa73));
    assert_eq!(progress("time=x level=INFO msg=\"follow mode stopped\""), FollowEvent::Stopped);
    let empty = "Error: cannot restore: no matching backup files available";
    assert_eq!(progress(empty), FollowEvent::EmptyReplica);
    let resume = "Error: cannot resume follow mode: saved TXID 0000000000000ab5 is ahead of latest snapshot";
    assert!(matches!(progress(resume), FollowEvent::Failed(t) if t.contains("ahead of latest snapshot")));
    let failed =
        "time=x level=ERROR msg=\"follow: error applying updates\" err=\"boom\" consecutive_errors=3";
    assert!(matches!(progress(failed), FollowEvent::Failed(_)));
    assert_eq!(progress("time=x level=INFO msg=\"restoring snapshot\""), FollowEvent::Other);
}

#[test]
fn replica_newest_is_the_largest_max_txid_of_any_level() {
    let json = r#"[{"level":0,"min_txid":"0000000000000001","max_txid":"00000000000000ff"},
                   {"level":1,"min_txid":"0000000000000001","max_txid":"0000000000000100"}]"#;
    assert_eq!(replica_newest(json), Ok(Some(256)));
    assert_eq!(replica_newest("[]"), Ok(None));
    assert!(replica_newest("no such file").is_err());
    assert!(replica_newest(r#"[{"level":0}]"#).is_err());
    assert_eq!(parse_sidecar("0000000000000ab5\n"), Ok(0xab5));
    assert!(parse_sidecar("").is_err());
}

fn look(now: f64, replica: u64, follower: u64, memory: FollowerMemory) -> FollowerLook {
    FollowerLook {
        name: "x".into(),
        now,
        listed_at: now - 0.1,
        replica: Ok(Some(replica)),
        follower: Ok(follower),
        memory,
        stuck_after_seconds: 30.0,
    }
}

#[test]
fn an_idle_primary_is_not_staleness() {
    let first = judge(look(100.0, 7, 7, FollowerMemory::default()));
    assert_eq!(first.state, ReplicationState::CaughtUp);
    let later = judge(look(200.0, 7, 7, first.memory));
    assert_eq!(later.state, ReplicationState::CaughtUp);
    assert!(later.staleness_seconds.unwrap() < 0.2, "{later:?}");
    assert!(require_fresh(std::slice::from_ref(&later), 5.0, 200.0).is_ok());
    assert!(require_fresh(&[later], 5.0, 206.0).is_err(), "no look for 6 s is 6 s of staleness");
}

#[test]
fn an_unreachable_replica_is_staleness() {
    let ok = judge(look(100.0, 7, 7, FollowerMemory::default()));
    let mut down = look(140.0, 7, 7, ok.memory);
    down.replica = Err("connection refused".into());
    let r = judge(down);
    assert_eq!(r.state, ReplicationState::Unknown);
    assert!((r.staleness_seconds.unwrap() - 40.1).abs() < 1e-9, "{r:?}");
    let e = require_fresh(std::slice::from_ref(&r), 30.0, 140.0).unwrap_err();
    assert!(e.contains("x: 40 s since") && e.contains("connection refused"), "{e}");
    assert!(require_fresh(&[r], 60.0, 140.0).is_ok());
}

#[test]
fn a_follower_stuck_behind_is_restored_again_and_one_moving_is_not() {
    let start = judge(look(100.0, 7, 7, FollowerMemory::default()));
    let behind = judge(look(110.0, 9, 7, start.memory.clone()));
    assert_eq!((behind.state, behind.restore_again), (ReplicationState::Behind, false));
    assert!(behind.reason.contains("2 transaction(s) behind"), "{}", behind.reason);
    let stuck = judge(look(131.0, 12, 7, behind.memory.clone()));
    assert!(stuck.restore_again, "{stuck:?}");
    let moving = judge(look(131.0, 12, 11, behind.memory));
    assert!(!moving.restore_again);
}

#[test]
fn never_confirmed_is_not_fresh() {
    let mut first = look(100.0, 7, 3, FollowerMemory::default());
    first.follower = Err("no -txid file yet".into());
    let r = judge(first);
    assert_eq!(r.staleness_seconds, None);
    assert!(require_fresh(&[r], 1000.0, 100.0).unwrap_err().contains("not confirmed up to date yet"));
}

#[test]
fn steady_writes_confirm_earlier_listings_so_the_staleness_stays_small() {
    // A commit every look: the follower is always one TXID behind the replica of the
    // moment, but holds what the previous listing saw.
    let mut memory = FollowerMemory::default();
    for i in 0..100u64 {
        let now = 100.0 + i as f64;
        let r = judge(look(now, 10 + i + 1, 10 + i, memory));
        assert_eq!(r.state, ReplicationState::Behind);
        if i > 0 {
            assert!(r.staleness_seconds.unwrap() <= 1.2, "look {i}: {r:?}");
            assert!(require_fresh(std::slice::from_ref(&r), 5.0, now).is_ok());
        }
        assert!(!r.restore_again, "a follower that moves is never stuck");
        memory = r.memory;
    }
    assert!(memory.listings.len() <= 2, "confirmed listings are dropped: {}", memory.listings.len());
}
