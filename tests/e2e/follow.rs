//! Read-only followers (`follow`) against real Litestream 0.5.17, a primary `run`
//! replicating to a real S3 server with authentication (moto) or to a file://
//! replica: rows committed on the primary arrive; an idle primary stays healthy; a
//! frozen S3 server fails the health check once max-lag has passed while the last
//! data is still served, and recovers by itself; a killed follower starts again and
//! catches up; a follower starved of its lock is restored again into a new file;
//! Litestream 0.3, bad config and a real database at the path are refused.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tests::host::{READY, command, output};
use tests::moto::Moto;
use tests::process::Proc;
use tests::{db, eventually, free_port, get, tempdir};

const FOLLOWING: &str = "datasette-litestream: following [data]";

/// A process stopped with SIGSTOP, continued when dropped (even when a test fails).
struct Frozen(i32);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0), Signal::SIGCONT);
    }
}

/// A primary (`run`) and the directory of its follower, sharing one metadata file.
struct Pair {
    primary: Proc,
    primary_dir: PathBuf,
    follower_dir: PathBuf,
}

fn pair(root: &Path, replicas: &str, top: &str) -> Pair {
    let (primary_dir, follower_dir) = (root.join("primary"), root.join("follower"));
    std::fs::create_dir_all(&primary_dir).unwrap();
    std::fs::create_dir_all(&follower_dir).unwrap();
    let metadata = format!(
        "{top}databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n{replicas}"
    );
    for dir in [&primary_dir, &follower_dir] {
        std::fs::write(dir.join("metadata.yaml"), &metadata).unwrap();
    }
    db::create(&primary_dir.join("data.db"));
    db::write_rows(&primary_dir.join("data.db"), 1, 10);
    let mut primary = tests::host::run(&primary_dir, "0.5.17", &[]);
    primary.wait_for(READY, Duration::from_secs(30));
    Pair { primary, primary_dir, follower_dir }
}

fn s3_pair(root: &Path, moto: &Moto) -> Pair {
    let top = format!(
        "plugins:\n  datasette-litestream:\n    access-key-id: {}\n    secret-access-key: {}\n",
        moto.user["access-key-id"].as_str().unwrap(),
        moto.user["secret-access-key"].as_str().unwrap(),
    );
    pair(root, &moto.replica_yaml(&format!("follow-{}", free_port()), "          "), &top)
}

fn file_pair(root: &Path) -> Pair {
    pair(root, &format!("          - url: file://{}\n", root.join("replica").display()), "")
}

/// Starts `follow` in the follower's directory; returns it and its status URL.
fn follow(dir: &Path, extra: &[&str]) -> (Proc, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["--status-addr", &addr, "--follow-interval", "200ms", "--look-interval", "500ms"];
    args.extend_from_slice(extra);
    let n = std::fs::read_dir(dir).map_or(0, |d| d.count());
    let mut follower =
        Proc::spawn(command(dir, "0.5.17", "follow", &args), &dir.join(format!("follow-{n}.log")));
    follower.wait_for(FOLLOWING, Duration::from_secs(60));
    (follower, format!("http://{addr}"))
}

/// Rows as a reader opening the follower's path read-only sees them.
fn follower_rows(dir: &Path) -> usize {
    let uri = format!("file:{}?mode=ro", dir.join("data.db").display());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let c = rusqlite::Connection::open_with_flags(uri, flags).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c.query_row("select count(*) from t", [], |r| r.get::<_, i64>(0)).unwrap() as usize
}

fn status(base: &str) -> Value {
    let (code, body) = get(&format!("{base}/-/litestream-status.json"), None);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn health(base: &str, max_lag: u32) -> (u16, String) {
    get(&format!("{base}/-/litestream-health?max-lag={max_lag}"), None)
}

/// Waits for `n` more looks at the follower (positive evidence before asserting
/// that something did not happen).
fn looks(base: &str, n: usize) {
    let at = |s: &Value| s["followers"][0]["looked_at"].as_f64().unwrap_or(0.0);
    let mut last = at(&status(base));
    for _ in 0..n {
        eventually(Duration::from_secs(20), "another look", || at(&status(base)) > last);
        last = at(&status(base));
    }
}

#[test]
fn a_follower_keeps_up_through_s3_stays_healthy_while_idle_and_fails_while_s3_is_frozen() {
    let (_keep, root) = tempdir();
    let moto = Moto::start();
    let p = s3_pair(&root, &moto);
    let (mut follower, base) = follow(&p.follower_dir, &[]);
    db::write_rows(&p.primary_dir.join("data.db"), 11, 20);
    eventually(Duration::from_secs(20), "30 rows on the follower", || follower_rows(&p.follower_dir) == 30);
    eventually(Duration::from_secs(10), "healthy", || health(&base, 5).0 == 200);
    let lag = &status(&base)["followers"][0]["lag"];
    assert_eq!(lag["state"], "caught-up", "{lag}");
    assert_eq!(lag["follower_txid"], lag["replica_txid"], "{lag}");
    // An idle primary for longer than max-lag is not staleness.
    looks(&base, 6);
    let (code, reason) = health(&base, 2);
    assert_eq!(code, 200, "idle for 3 s with max-lag=2: {reason}");
    // S3 frozen: the last data is still served, and the health check fails once
    // max-lag has passed without a confirmation.
    let frozen = Frozen(moto.pid());
    kill(Pid::from_raw(frozen.0), Signal::SIGSTOP).unwrap();
    eventually(Duration::from_secs(30), "503 with S3 frozen", || health(&base, 3).0 == 503);
    let (_, reason) = health(&base, 3);
    assert!(reason.contains("data:") && reason.contains("since it last confirmed"), "{reason}");
    assert_eq!(follower_rows(&p.follower_dir), 30, "the follower keeps serving its last data");
    drop(frozen);
    db::write_rows(&p.primary_dir.join("data.db"), 31, 5);
    eventually(Duration::from_secs(60), "35 rows after S3 answers again", || {
        follower_rows(&p.follower_dir) == 35
    });
    eventually(Duration::from_secs(20), "healthy again", || health(&base, 3).0 == 200);
    assert!(db::integrity_ok(&p.follower_dir.join("data.db")));
    let text = follower.output();
    assert!(!text.contains(moto.user["secret-access-key"].as_str().unwrap()), "a secret in the output");
    follower.signal(Signal::SIGTERM);
    assert!(follower.wait_exit(Duration::from_secs(30)).success(), "{}", follower.output());
    drop(p.primary);
}

#[test]
fn rotated_credentials_keep_a_follower_following_and_a_revoked_key_fails_its_health() {
    let (_keep, root) = tempdir();
    let moto = Moto::start();
    let p = s3_pair(&root, &moto);
    // The follower reads its keys from a file it re-reads every second.
    let first = moto.new_key();
    std::fs::write(p.follower_dir.join("creds.json"), first.to_string()).unwrap();
    let metadata = std::fs::read_to_string(p.primary_dir.join("metadata.yaml")).unwrap();
    let replicas = &metadata[metadata.find("databases:").unwrap()..];
    let top = "plugins:\n  datasette-litestream:\n    credentials-file: creds.json\n    credentials-refresh-interval: 1\n";
    std::fs::write(p.follower_dir.join("metadata.yaml"), format!("{top}{replicas}")).unwrap();
    let (mut follower, base) = follow(&p.follower_dir, &[]);
    eventually(Duration::from_secs(20), "10 rows", || follower_rows(&p.follower_dir) == 10);
    let second = moto.new_key();
    std::fs::write(p.follower_dir.join("creds.json"), second.to_string()).unwrap();
    follower.wait_for("credentials changed", Duration::from_secs(10));
    eventually(Duration::from_secs(30), "the new generation in place", || {
        follower.output().matches("now opens").count() >= 2
    });
    moto.delete_key(&first);
    db::write_rows(&p.primary_dir.join("data.db"), 11, 10);
    eventually(Duration::from_secs(30), "20 rows with the new key", || follower_rows(&p.follower_dir) == 20);
    eventually(Duration::from_secs(10), "healthy", || health(&base, 5).0 == 200);
    // The key in use revoked: the last data is still served, the health check fails
    // once max-lag has passed, and a new key brings the follower back by itself.
    moto.delete_key(&second);
    eventually(Duration::from_secs(30), "503 with the key revoked", || health(&base, 3).0 == 503);
    assert_eq!(follower_rows(&p.follower_dir), 20, "the follower keeps serving its last data");
    let third = moto.new_key();
    std::fs::write(p.follower_dir.join("creds.json"), third.to_string()).unwrap();
    db::write_rows(&p.primary_dir.join("data.db"), 21, 5);
    eventually(Duration::from_secs(30), "25 rows with the third key", || {
        follower_rows(&p.follower_dir) == 25
    });
    eventually(Duration::from_secs(10), "healthy again", || health(&base, 3).0 == 200);
    let text = follower.output();
    for key in [&second, &third] {
        let secret = key["secret-access-key"].as_str().unwrap();
        assert!(!text.contains(secret) && !status(&base).to_string().contains(secret), "a secret was shown");
    }
    follower.signal(Signal::SIGTERM);
    assert!(follower.wait_exit(Duration::from_secs(30)).success());
}

#[test]
fn a_killed_follower_starts_again_and_catches_up() {
    let (_keep, root) = tempdir();
    let p = file_pair(&root);
    let (mut first, _) = follow(&p.follower_dir, &[]);
    eventually(Duration::from_secs(20), "10 rows", || follower_rows(&p.follower_dir) == 10);
    first.signal(Signal::SIGKILL);
    first.wait_exit(Duration::from_secs(10));
    db::write_rows(&p.primary_dir.join("data.db"), 11, 15);
    let (mut second, base) = follow(&p.follower_dir, &[]);
    eventually(Duration::from_secs(20), "25 rows", || follower_rows(&p.follower_dir) == 25);
    eventually(Duration::from_secs(10), "healthy", || health(&base, 5).0 == 200);
    // Steady writes: the follower is never at the replica's newest TXID of the moment,
    // yet it confirms each earlier listing, so the health check stays 200.
    let primary = p.primary_dir.join("data.db");
    let writer = std::thread::spawn(move || {
        for id in 26..86 {
            db::write_rows(&primary, id, 1);
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut answers = Vec::new();
    while !writer.is_finished() {
        answers.push(health(&base, 3));
        std::thread::sleep(Duration::from_millis(500));
    }
    writer.join().unwrap();
    let refused: Vec<_> = answers.iter().filter(|(code, _)| *code != 200).collect();
    assert!(
        answers.len() >= 10 && refused.is_empty(),
        "{} of {} probes refused: {refused:?}",
        refused.len(),
        answers.len()
    );
    eventually(Duration::from_secs(20), "85 rows", || follower_rows(&p.follower_dir) == 85);
    let generations = std::fs::read_dir(p.follower_dir.join(".data.db-follow")).unwrap().count();
    assert!(generations <= 2, "old generations are swept: {generations} files");
    second.signal(Signal::SIGTERM);
    assert!(second.wait_exit(Duration::from_secs(30)).success());
}

#[test]
fn a_follower_starved_of_its_lock_is_restored_again_into_a_new_file() {
    let (_keep, root) = tempdir();
    let p = file_pair(&root);
    let (mut follower, base) = follow(&p.follower_dir, &["--stuck-after", "3s"]);
    eventually(Duration::from_secs(20), "10 rows", || follower_rows(&p.follower_dir) == 10);
    let before = std::fs::read_link(p.follower_dir.join("data.db")).unwrap();
    // A reader that never ends its read transaction: restore -f cannot take its lock.
    let reader = rusqlite::Connection::open(p.follower_dir.join("data.db")).unwrap();
    reader.execute_batch("begin").unwrap();
    let held: i64 = reader.query_row("select count(*) from t", [], |r| r.get(0)).unwrap();
    db::write_rows(&p.primary_dir.join("data.db"), 11, 5);
    let restores = || status(&base)["followers"][0]["restores"].as_u64().unwrap();
    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        eventually(Duration::from_secs(40), "restored again", || restores() >= 1)
    }));
    assert!(waited.is_ok(), "not restored again:\n{}\n{}", follower.output(), status(&base));
    eventually(Duration::from_secs(20), "15 rows through the new file", || {
        follower_rows(&p.follower_dir) == 15
    });
    looks(&base, 4);
    assert_eq!(restores(), 1, "restored again once, not once per look:\n{}", follower.output());
    assert_ne!(std::fs::read_link(p.follower_dir.join("data.db")).unwrap(), before);
    let still: i64 = reader.query_row("select count(*) from t", [], |r| r.get(0)).unwrap();
    assert_eq!((held, still), (10, 10), "the stuck reader keeps its consistent old file");
    drop(reader);
    follower.signal(Signal::SIGTERM);
    assert!(follower.wait_exit(Duration::from_secs(30)).success());
}

#[test]
fn litestream_03_bad_config_and_a_real_database_are_refused() {
    let (_keep, dir) = tempdir();
    std::fs::write(
        dir.join("metadata.yaml"),
        format!("databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas: [\"file://{}\"]\n", dir.join("r").display()),
    )
    .unwrap();
    let (code, text) = output(&dir, "0.3.13", "follow", &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("following needs Litestream 0.5") && text.lines().count() <= 3, "{text}");
    db::create(&dir.join("data.db"));
    let (code, text) = output(&dir, "0.5.17", "follow", &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("is not a follower's copy") && text.contains("move it away"), "{text}");
    assert_eq!(db::rows(&dir.join("data.db")).len(), 0, "the real database is untouched");
    std::fs::write(
        dir.join("metadata.yaml"),
        "databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicaz: []\n",
    )
    .unwrap();
    let (code, text) = output(&dir, "0.5.17", "follow", &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("database \"data\", key \"replicaz\": unknown key"), "{text}");
}

/// A follower started before its primary's first upload (a fresh deployment) waits for
/// the replica instead of counting each empty restore as a crash, then follows.
#[test]
fn a_follower_started_before_its_primary_waits_for_the_replica() {
    let (_keep, root) = tempdir();
    let (primary_dir, follower_dir) = (root.join("primary"), root.join("follower"));
    let metadata = format!(
        "databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: file://{}\n",
        root.join("replica").display()
    );
    for dir in [&primary_dir, &follower_dir] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("metadata.yaml"), &metadata).unwrap();
    }
    let addr = format!("127.0.0.1:{}", free_port());
    let args = ["--status-addr", &addr, "--follow-interval", "200ms", "--look-interval", "500ms"];
    let mut follower =
        Proc::spawn(command(&follower_dir, "0.5.17", "follow", &args), &root.join("follow.log"));
    // More empty restores than the crash limit (5 within a minute) allows crashes.
    follower.wait_for_nth("no matching backup files available", 7, Duration::from_secs(60));
    let base = format!("http://{addr}");
    // Between two tries it waits (each try is a restore again, briefly).
    eventually(Duration::from_secs(10), "waiting for the replica", || {
        status(&base)["followers"][0]["state"] == "waiting-for-replica"
    });
    let s = status(&base);
    assert_eq!(s["followers"][0]["restarts"], 0, "no empty restore counts as a crash: {s}");
    assert!(follower.output().contains("its replica is empty"), "{}", follower.output());

    db::create(&primary_dir.join("data.db"));
    db::write_rows(&primary_dir.join("data.db"), 1, 12);
    let mut primary = tests::host::run(&primary_dir, "0.5.17", &[]);
    primary.wait_for(READY, Duration::from_secs(30));
    eventually(Duration::from_secs(60), "12 rows on the follower", || {
        follower_dir.join("data.db").exists() && follower_rows(&follower_dir) == 12
    });
    eventually(Duration::from_secs(20), "healthy", || health(&base, 5).0 == 200);
    follower.signal(Signal::SIGTERM);
    assert!(follower.wait_exit(Duration::from_secs(30)).success(), "{}", follower.output());
    tests::host::stop(&mut primary);
}
