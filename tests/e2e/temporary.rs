//! Temporary credentials (keys and a session token from moto's STS `AssumeRole`, which
//! moto refuses without their token) on every path that makes Litestream build an S3
//! client: a database added while `run --stdin` runs (Litestream 0.5 builds its replica
//! from a URL), `restore`, `run --restore-if-missing`, `verify` and `follow`; and a
//! replica that refuses the key in use fails the health check, naming the database.

use crate::driven::Driven;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use tests::host::{READY, output, run, stop};
use tests::moto::{CREDENTIALS_FILE, Moto};
use tests::process::Proc;
use tests::{LITESTREAM_VERSIONS, db, eventually, free_port, get, tempdir};

/// What moto answers for a key used without its token, or a token without its key.
const REFUSED: [&str; 3] = ["InvalidAccessKeyId", "InvalidToken", "SignatureDoesNotMatch"];

fn refused(text: &str) -> bool {
    REFUSED.iter().any(|r| text.contains(r))
}

#[test]
fn a_database_added_while_running_replicates_with_a_session_token() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        // Static keys beside, for the figure: the time to caught up should not differ.
        for (keys, kind) in [(moto.temporary(), "a session token"), (moto.user.clone(), "static keys")] {
            let (_keep, dir) = tempdir();
            let mut host = Driven::start_as(&dir, &moto, version, &["fixed"], keys);
            let added = dir.join("added.db");
            db::create(&added);
            db::write_rows(&added, 1, 50);
            let asked = Instant::now();
            let event = host.change(&host.inputs(&["fixed", "added"], &[]), 1);
            assert_eq!(event["replicated"], serde_json::json!(["fixed", "added"]), "{version}: {event}");
            host.caught_up("added", &Value::Null);
            eprintln!("{version}: a database added with {kind} was caught up after {:?}", asked.elapsed());
            db::write_rows(&added, 51, 50);
            let out = host.stop();
            assert!(!refused(&out), "{version}, {kind}: S3 refused the credentials:\n{out}");
            assert!(!out.contains("first sync failed"), "{version}, {kind}:\n{out}");
            // `restore` with the same credentials: a config-built client.
            assert_eq!(host.restored("added").len(), 100, "{version}, {kind}");
        }
    }
}

/// data.db replicating to `path` with the temporary credentials in creds.json.
fn setup(dir: &Path, moto: &Moto, path: &str) {
    std::fs::write(dir.join("creds.json"), moto.temporary().to_string()).unwrap();
    moto.write_metadata(dir, CREDENTIALS_FILE, path);
}

#[test]
fn restore_verify_restore_if_missing_and_follow_take_a_session_token() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        setup(&dir, &moto, &format!("temporary-{version}-{}", free_port()));
        let data = dir.join("data.db");
        db::create(&data);
        db::write_rows(&data, 1, 120);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(30));
        // `verify` writes a sentinel row and waits for it on the replica: while `run` runs.
        let (code, out) = output(&dir, version, "verify", &["--json", "--timeout", "20s"]);
        assert_eq!(code, Some(0), "{version}: verify: {out}");
        assert!(out.contains("\"outcome\":\"verified\""), "{version}: {out}");
        stop(&mut host);
        let rows = db::rows(&data);

        db::remove(&data);
        let (code, out) = output(&dir, version, "restore", &[]);
        assert_eq!(code, Some(0), "{version}: restore: {out}");
        assert_eq!(db::rows(&data), rows, "{version}: restore");

        db::remove(&data);
        let mut host = run(&dir, version, &["--restore-if-missing"]);
        host.wait_for(READY, Duration::from_secs(60));
        assert_eq!(db::rows(&data), rows, "{version}: --restore-if-missing");
        stop(&mut host);
        assert!(!refused(&host.output()), "{version}:\n{}", host.output());

        if version.starts_with("0.5") {
            follow_with_a_token(&dir, &rows);
        }
    }
}

/// A follower node in its own directory with the same config restores and follows.
fn follow_with_a_token(primary: &Path, rows: &[(i64, String)]) {
    let (_keep, dir) = tempdir();
    for file in ["creds.json", "metadata.yaml"] {
        std::fs::copy(primary.join(file), dir.join(file)).unwrap();
    }
    let addr = format!("127.0.0.1:{}", free_port());
    let cmd = tests::host::command(
        &dir,
        "0.5.17",
        "follow",
        &["--status-addr", &addr, "--follow-interval", "200ms", "--look-interval", "500ms"],
    );
    let mut follower = Proc::spawn(cmd, &dir.join("follow.log"));
    eventually(Duration::from_secs(60), "the follower holds every row", || {
        dir.join("data.db").exists() && db::rows(&dir.join("data.db")).len() == rows.len()
    });
    eventually(Duration::from_secs(30), "the follower's health check passes", || {
        get(&format!("http://{addr}/-/litestream-health"), None).0 == 200
    });
    follower.signal(nix::sys::signal::Signal::SIGTERM);
    follower.wait_exit(Duration::from_secs(30));
    assert!(!refused(&follower.output()), "{}", follower.output());
}

#[test]
fn a_replica_that_refuses_the_key_fails_the_health_check_naming_the_database() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let key = moto.new_key();
        std::fs::write(dir.join("creds.json"), key.to_string()).unwrap();
        moto.write_metadata(&dir, CREDENTIALS_FILE, &format!("refused-{version}-{}", free_port()));
        let data = dir.join("data.db");
        db::create(&data);
        let addr = format!("127.0.0.1:{}", free_port());
        let mut host = run(&dir, version, &["--status-addr", &addr]);
        host.wait_for(READY, Duration::from_secs(30));
        let health = format!("http://{addr}/-/litestream-health");
        assert_eq!(get(&health, None).0, 200, "{version}: healthy before the key goes");
        moto.delete_key(&key);
        db::write_rows(&data, 1, 10);
        host.wait_for("InvalidAccessKeyId", Duration::from_secs(30));
        let (mut last, mut id) = ((0, String::new()), 10);
        eventually(Duration::from_secs(40), "the health check fails for the credentials", || {
            id += 1;
            db::write_rows(&data, id, 1);
            last = get(&health, None);
            last.0 == 503 && last.1.contains("data") && last.1.contains("credentials")
        });
        let (code, page) = get(&format!("http://{addr}/-/litestream-status"), None);
        assert_eq!(code, 200);
        assert!(page.contains("credentials"), "{version}: the status page hides the cause:\n{page}");
        assert!(!page.contains(key["secret-access-key"].as_str().unwrap()));
        host.signal(nix::sys::signal::Signal::SIGTERM);
        host.wait_exit(Duration::from_secs(60));
    }
}
