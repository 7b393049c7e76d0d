use super::evidence::tests::{ltx_header, shm};
use super::*;
use crate::model::FileHead;

const SALT: [u8; 8] = [1; 8];

fn v05(
    state: LagState,
    txid: u64,
    wal_end_frames: u64,
    committed_frames: u32,
    replicated: Result<u64, &str>,
) -> Observation {
    Observation {
        name: "city_budget".into(),
        path: "/srv/city_budget.db".into(),
        state,
        files: LocalFiles::Ltx(Some(FileHead {
            name: "f.ltx".into(),
            head: ltx_header(txid, 0, 32, wal_end_frames * 4120, SALT),
        })),
        wal_index: shm(committed_frames, 4096, SALT),
        socket: Some(
            replicated
                .map(|r| format!(r#"{{"status":"no_change","path":"/srv/city_budget.db","txid":{txid},"replicated_txid":{r}}}"#))
                .map_err(|e| e.to_owned()),
        ),
    }
}

fn one(line: LitestreamLine, now: f64, output: &[&str], o: Observation) -> (LagReport, LagState) {
    let output: Vec<String> = output.iter().map(|s| s.to_string()).collect();
    let t = track(line, now, &output, vec![o]).remove(0);
    (t.report, t.state)
}

#[test]
fn an_idle_database_is_caught_up_however_old_its_last_write() {
    let (r, s) = one(LitestreamLine::V05, 100.0, &[], v05(LagState::default(), 7, 2, 2, Ok(7)));
    assert_eq!((r.state, r.lag_seconds), (ReplicationState::CaughtUp, 0.0));
    let (r, _) = one(LitestreamLine::V05, 3700.0, &[], v05(s, 7, 2, 2, Ok(7)));
    assert_eq!(
        (r.state, r.lag_seconds, r.reason.as_str()),
        (ReplicationState::CaughtUp, 0.0, "caught up at txid 7")
    );
}

#[test]
fn lag_is_the_age_of_the_oldest_change_not_on_the_replica() {
    let (_, s) = one(LitestreamLine::V05, 100.0, &[], v05(LagState::default(), 7, 2, 2, Ok(7)));
    // Commits Litestream has not taken in (a frozen Litestream): behind from this look.
    let (r, s) = one(LitestreamLine::V05, 101.0, &[], v05(s, 7, 2, 3, Ok(7)));
    assert_eq!(r.state, ReplicationState::Behind);
    let (r, s) = one(LitestreamLine::V05, 111.0, &[], v05(s, 7, 2, 5, Ok(7)));
    assert_eq!((r.state, r.lag_seconds), (ReplicationState::Behind, 10.0));
    assert!(r.reason.starts_with("10 s of changes not on the replica (last replicated "), "{}", r.reason);
    // Litestream takes them in but the replica does not have them yet: still 10 s old.
    let (r, s) = one(LitestreamLine::V05, 112.0, &[], v05(s, 9, 5, 5, Ok(7)));
    assert_eq!((r.lag_seconds, r.behind_by), (11.0, Some(2)));
    // The replica catches up: caught up again.
    let (r, _) = one(LitestreamLine::V05, 113.0, &[], v05(s, 9, 5, 5, Ok(9)));
    assert_eq!((r.state, r.lag_seconds, r.replicated_at), (ReplicationState::CaughtUp, 0.0, Some(113.0)));
}

#[test]
fn steady_writes_keep_the_lag_to_the_oldest_waiting_change() {
    let mut s = LagState::default();
    let mut worst: f64 = 0.0;
    for tick in 0..200u64 {
        // Each look sees one new TXID locally; the replica is two behind it.
        let (r, next) = one(LitestreamLine::V05, tick as f64, &[], v05(s, tick + 3, 0, 0, Ok(tick + 1)));
        worst = worst.max(r.lag_seconds);
        s = next;
    }
    assert_eq!(worst, 1.0);
    assert!(s.pending.len() <= 2);
}

#[test]
fn a_silent_socket_is_unknown_and_keeps_the_last_known_replica() {
    let (_, s) = one(LitestreamLine::V05, 100.0, &[], v05(LagState::default(), 7, 2, 2, Ok(7)));
    let (r, s) = one(
        LitestreamLine::V05,
        101.0,
        &[],
        v05(s, 7, 2, 3, Err("Litestream's control socket did not answer within 1s")),
    );
    assert_eq!(r.state, ReplicationState::Unknown);
    assert_eq!(r.replica, Some(Position::Txid(7)));
    assert_eq!(r.unknown_since, Some(101.0));
    let (r, _) = one(
        LitestreamLine::V05,
        106.0,
        &[],
        v05(s, 7, 2, 3, Err("Litestream's control socket did not answer within 1s")),
    );
    assert_eq!((r.unknown_since, r.lag_seconds), (Some(101.0), 5.0));
    let err = require_caught_up(&[r], 30.0, 106.0).unwrap_err();
    assert_eq!(err, "unknown: city_budget: Litestream's control socket did not answer within 1s (for 5 s)");
}

#[test]
fn a_replica_error_resets_replicated_txid_to_zero_which_is_not_a_position() {
    let (_, s) = one(LitestreamLine::V05, 100.0, &[], v05(LagState::default(), 7, 2, 2, Ok(7)));
    let (r, _) = one(LitestreamLine::V05, 101.0, &[], v05(s, 7, 2, 2, Ok(0)));
    assert_eq!((r.state, r.replica), (ReplicationState::CaughtUp, Some(Position::Txid(7))));
}

fn v03(state: LagState, shadow_size: u64, committed_frames: u32) -> Observation {
    let mut header = vec![0u8; 32];
    header[8..12].copy_from_slice(&4096u32.to_be_bytes());
    header[16..24].copy_from_slice(&SALT);
    Observation {
        name: "data".into(),
        path: "/srv/data.db".into(),
        state,
        files: LocalFiles::Shadow(ShadowFiles {
            generation: Some("e4ee4096aa45a8bc".into()),
            newest_file: Some(FileHead { name: "00000000.wal".into(), head: header }),
            newest_size: shadow_size,
        }),
        wal_index: shm(committed_frames, 4096, SALT),
        socket: None,
    }
}

const WRITTEN: &str = r#"level=INFO msg="wal segment written" db=/srv/data.db replica=file position=e4ee4096aa45a8bc/00000000:4152 elapsed=795µs sz=4120"#;

#[test]
fn litestream_03_uploads_come_from_its_output() {
    // First look: the shadow position is the baseline (0.3 uploads any difference at once).
    let (r, s) = one(LitestreamLine::V03, 10.0, &[], v03(LagState::default(), 4152, 1));
    assert_eq!(r.state, ReplicationState::CaughtUp);
    // A commit copied into the shadow WAL, not uploaded yet.
    let (r, s) = one(LitestreamLine::V03, 11.0, &[], v03(s, 8272, 2));
    assert_eq!((r.state, r.behind_by), (ReplicationState::Behind, Some(4120)));
    // Its upload: end = 4152 + 4120 = 8272.
    let (r, s) = one(LitestreamLine::V03, 12.0, &[WRITTEN], v03(s, 8272, 2));
    assert_eq!(r.state, ReplicationState::CaughtUp);
    // Litestream frozen: SQLite commits, the shadow WAL does not move.
    let (r, s) = one(LitestreamLine::V03, 13.0, &[], v03(s, 8272, 3));
    assert_eq!(r.state, ReplicationState::Behind);
    let (r, _) = one(LitestreamLine::V03, 20.0, &[], v03(s, 8272, 4));
    assert_eq!(r.lag_seconds, 7.0);
    assert!(require_caught_up(std::slice::from_ref(&r), 10.0, 20.0).is_ok());
    assert!(require_caught_up(&[r], 5.0, 20.0).unwrap_err().starts_with("behind: data: 7 s of changes"));
}

#[test]
fn a_new_generation_on_the_replica_supersedes_the_old_one() {
    let (_, s) = one(LitestreamLine::V03, 10.0, &[], v03(LagState::default(), 4152, 1));
    let (_, s) = one(LitestreamLine::V03, 11.0, &[], v03(s, 8272, 2));
    let mut o = v03(s, 4152, 1);
    if let LocalFiles::Shadow(files) = &mut o.files {
        files.generation = Some("122f9261c093bdde".into());
    }
    let line = WRITTEN
        .replace("e4ee4096aa45a8bc/00000000:4152", "122f9261c093bdde/00000000:0")
        .replace("4120", "4152");
    let (r, _) = one(LitestreamLine::V03, 12.0, &[&line], o);
    assert_eq!(r.state, ReplicationState::CaughtUp, "{r:?}");
}

#[test]
fn paths_follow_litestreams_layout() {
    let p = paths(LitestreamLine::V05, "/srv/data.db");
    assert_eq!(
        (p.position_source.as_str(), p.wal_index.as_str()),
        ("/srv/.data.db-litestream/ltx/0", "/srv/data.db-shm")
    );
    let p = paths(LitestreamLine::V03, "/srv/data.db");
    assert_eq!(p.shadow_directory.as_deref(), Some("/srv/.data.db-litestream/generations/{generation}/wal"));
}

#[test]
fn a_socket_answer_that_is_not_json_is_unknown() {
    let mut o = v05(LagState::default(), 7, 2, 2, Ok(7));
    o.socket = Some(Ok("<html>".into()));
    let (r, _) = one(LitestreamLine::V05, 1.0, &[], o);
    assert_eq!(r.state, ReplicationState::Unknown);
    assert!(r.reason.contains("not JSON"), "{}", r.reason);
}

#[test]
fn a_waiting_change_keeps_ageing_between_looks() {
    let (_, s) = one(LitestreamLine::V05, 100.0, &[], v05(LagState::default(), 7, 2, 2, Ok(7)));
    let (r, _) = one(LitestreamLine::V05, 101.0, &[], v05(s, 7, 2, 3, Ok(7)));
    assert_eq!(r.lag_seconds, 0.0);
    assert!(require_caught_up(std::slice::from_ref(&r), 5.0, 105.5).is_ok());
    assert!(
        require_caught_up(&[r], 5.0, 106.5).unwrap_err().starts_with("behind: city_budget: 6 s of changes")
    );
}

#[test]
fn files_of_the_other_line_are_no_evidence() {
    let mut o = v05(LagState::default(), 5, 1, 1, Ok(5));
    o.files = LocalFiles::Shadow(ShadowFiles::default());
    let (r, _) = one(LitestreamLine::V05, 10.0, &[], o);
    assert_eq!(r.state, ReplicationState::Unknown);
    assert!(r.reason.contains("other Litestream line"), "{}", r.reason);
}
