//! Disaster recovery against a real S3 server that checks credentials (moto), on
//! Litestream 0.3.13 and 0.5.17: restore at start-up and with --force, bad credentials
//! stop start-up, and `verify` says verified, inconclusive and failed for the right
//! reasons.

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tests::host::{
    READY, deleted_then_restored_at_start_up, force_replaces_local_changes, output, replicated, run, stop,
};
use tests::moto::Moto;
use tests::{LITESTREAM_VERSIONS, db, tempdir};

/// A directory whose `data` database replicates to `path` in the bucket, as the key in
/// creds.json (a file, so a test can swap in a deleted key).
fn setup(moto: &Moto, path: &str) -> (tempfile::TempDir, PathBuf, Value) {
    let (keep, dir) = tempdir();
    let key = moto.new_key();
    std::fs::write(dir.join("creds.json"), key.to_string()).unwrap();
    moto.write_metadata(&dir, tests::moto::CREDENTIALS_FILE, path);
    (keep, dir, key)
}

#[test]
fn s3_empty_then_a_deleted_database_comes_back_and_force_swaps_in_the_replica() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir, _) = setup(&moto, &format!("restore-{version}"));
        // Nothing in the bucket yet: a fresh start, not an error.
        let (code, out) = output(&dir, version, "restore", &[]);
        assert_eq!(code, Some(0), "{version}: {out}");
        assert!(out.contains("is empty; skipped") && !dir.join("data.db").exists(), "{version}: {out}");
        let (mut host, rows) = deleted_then_restored_at_start_up(&dir, version);
        stop(&mut host);
        force_replaces_local_changes(&dir, version, &rows);
    }
}

#[test]
fn s3_bad_credentials_stop_start_up_and_make_verify_inconclusive() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir, key) = setup(&moto, &format!("bad-{version}"));
        replicated(&dir, version);
        moto.delete_key(&key);
        let secret = key["secret-access-key"].as_str().unwrap();

        // A broken key must not look like "no backup yet": nothing is created or replicated.
        db::remove(&dir.join("data.db"));
        let mut host = run(&dir, version, &["--restore-if-missing"]);
        let status = host.wait_exit(Duration::from_secs(120));
        let out = host.output();
        assert_eq!(status.code(), Some(1), "{version}: {out}");
        assert!(out.contains("not starting") && out.contains("\"data\""), "{version}: {out}");
        assert!(!out.contains(secret), "{version}: the secret reached the output");
        assert!(!dir.join("data.db").exists(), "{version}: an empty database was created");

        let (code, out) = output(&dir, version, "restore", &[]);
        assert_eq!(code, Some(1), "{version}: {out}");
        assert!(out.contains("cannot restore \"data\""), "{version}: {out}");

        // The replica is out of reach, not damaged: inconclusive, never failed.
        db::create(&dir.join("data.db"));
        let (code, out) = output(&dir, version, "verify", &["--json", "--timeout", "3s"]);
        assert_eq!(code, Some(2), "{version}: {out}");
        assert!(
            out.contains("\"outcome\":\"inconclusive\"") && out.contains("could not be reached"),
            "{out}"
        );
        assert!(!out.contains(secret), "{version}: the secret reached the output");
    }
}

#[test]
fn s3_verify_says_verified_inconclusive_and_failed() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let path = format!("verify-{version}");
        let (_keep, dir, _) = setup(&moto, &path);
        replicated(&dir, version);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(30));
        let (code, out) = output(&dir, version, "verify", &["--json", "--timeout", "20s"]);
        assert_eq!(code, Some(0), "{version}: {out}");
        assert!(out.contains("\"outcome\":\"verified\""), "{out}");
        stop(&mut host);

        let (code, out) = output(&dir, version, "verify", &["--json", "--timeout", "3s"]);
        assert_eq!(code, Some(2), "{version}: {out}");
        assert!(out.contains("is Litestream running?"), "{version}: {out}");

        assert!(moto.damage(&path) > 0, "{version}: nothing in the bucket to damage");
        let (code, out) = output(&dir, version, "verify", &["--json", "--timeout", "10s"]);
        assert_eq!(code, Some(1), "{version}: {out}");
        assert!(out.contains("\"outcome\":\"failed\""), "{version}: {out}");
    }
}
