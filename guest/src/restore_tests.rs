use super::*;
use crate::model::VerifyOutcome::{Failed, Inconclusive, Pending, Verified};

fn t(name: &str, exists: bool) -> Target {
    Target { name: name.into(), exists }
}

#[test]
fn existing_files_need_force_and_start_up_restores_only_missing_ones() {
    let targets = [t("a", true), t("b", false)];
    let plain = plan(&targets, &[], false, false).unwrap();
    assert!(matches!(plain[0].step, Step::Skip(_)));
    assert_eq!(plain[1].step, Step::Restore);
    assert_eq!(plan(&targets, &[], true, false).unwrap()[0].step, Step::Restore);
    assert!(matches!(plan(&targets, &[], true, true).unwrap()[0].step, Step::Skip(_)));
    assert_eq!(plan(&targets, &["b".into()], false, false).unwrap().len(), 1);
    assert!(plan(&targets, &["c".into()], false, false).unwrap_err().contains("replicated: a, b"));
}

#[test]
fn an_empty_replica_fails_only_when_asked_for() {
    assert_eq!(empty_replica("a", false).outcome, EmptyReplicaOutcome::FreshStart);
    assert_eq!(empty_replica("a", true).outcome, EmptyReplicaOutcome::Error);
}

fn ev(error: Option<&str>, integrity: Option<bool>, found: bool, timed_out: bool) -> VerifyOutcome {
    verify(&VerifyEvidence {
        sentinel_error: None,
        restored: error.is_none() && integrity.is_some(),
        restore_error: error.map(str::to_owned),
        integrity_ok: integrity,
        sentinel_found: found,
        timed_out,
        waited_seconds: 3.0,
    })
    .outcome
}

#[test]
fn three_outcomes() {
    assert_eq!(ev(None, Some(true), true, false), Verified);
    assert_eq!(ev(None, Some(false), false, false), Failed);
    assert_eq!(ev(Some("decode wal segment: lz4: bad magic number"), None, false, false), Failed);
    assert_eq!(
        ev(Some("dial tcp 127.0.0.1:1: connect: connection refused"), None, false, true),
        Inconclusive
    );
    assert_eq!(ev(None, Some(true), false, false), Pending);
    assert_eq!(ev(None, Some(true), false, true), Inconclusive);
}

#[test]
fn refused_credentials_are_out_of_reach_not_damage() {
    let moto = "cannot fetch generations: InvalidAccessKeyId: The AWS Access Key Id you provided \
                does not exist in our records.\n\tstatus code: 403";
    assert_eq!(ev(Some(moto), None, false, false), Pending);
    assert_eq!(ev(Some(moto), None, false, true), Inconclusive);
    let eof = "decode database: decode page 2: read page header 0: read compressed data: unexpected EOF";
    assert_eq!(ev(Some(eof), None, false, false), Failed);
}

#[test]
fn a_time_no_backup_covers_gets_the_way_to_pick_one() {
    let why = explain_failure("no matching backup index found", Some("2020-01-01T00:00:00Z"));
    assert!(why.contains("no backup covers 2020-01-01T00:00:00Z") && why.contains("litestream generations"));
    assert_eq!(explain_failure("no matching backup index found", None), "no matching backup index found");
    assert_eq!(explain_failure("access denied", Some("x")), "access denied");
}

#[test]
fn a_sentinel_that_cannot_be_written_is_inconclusive() {
    let v =
        verify(&VerifyEvidence { sentinel_error: Some("database is locked".into()), ..Default::default() });
    assert_eq!(v.outcome, Inconclusive);
    assert!(v.reason.contains("database is locked"), "{}", v.reason);
}

#[test]
fn stale_failed_or_missing_verifications_fail() {
    let last = |outcome, age_seconds| LastVerification { database: "a".into(), outcome, age_seconds };
    let r = |l| require_verified(&[l], 60.0);
    assert!(r(last(Some(Verified), Some(10.0))).is_ok());
    assert!(r(last(Some(Verified), Some(100.0))).unwrap_err().contains("a: last verified 100 s ago"));
    assert!(r(last(Some(Failed), Some(1.0))).unwrap_err().contains("last verification failed"));
    assert!(r(last(None, None)).unwrap_err().contains("never verified"));
}
