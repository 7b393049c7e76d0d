//! The host binary as the tests run it: `datasette-litestream SUB data.db -m
//! metadata.yaml --litestream LS …` in a test's directory, without the ambient
//! settings that would change what it does.

use crate::process::Proc;
use crate::{binary, db, litestream};
use nix::sys::signal::Signal;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// What `run` prints once Litestream replicates.
pub const READY: &str = "datasette-litestream: replicating";

pub fn command(dir: &Path, version: &str, sub: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir)
        .args([sub, "data.db", "-m", "metadata.yaml", "--litestream"])
        .arg(litestream(version))
        .args(extra)
        // Litestream 0.5 refuses every S3 replica when AWS_CA_BUNDLE is set (FACTS).
        .env_remove("AWS_CA_BUNDLE");
    // Keys from the environment would stand in for the ones each test configures.
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LITESTREAM_ACCESS_KEY_ID",
        "LITESTREAM_SECRET_ACCESS_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Starts `run`; its output goes to a log file of its own in `dir`.
pub fn run(dir: &Path, version: &str, extra: &[&str]) -> Proc {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let log = dir.join(format!("run-{version}-{}.log", RUNS.fetch_add(1, Ordering::Relaxed)));
    Proc::spawn(command(dir, version, "run", extra), &log)
}

/// Runs a command to its end: (exit code, stdout then stderr).
pub fn output(dir: &Path, version: &str, sub: &str, extra: &[&str]) -> (Option<i32>, String) {
    let Output { status, stdout, stderr } = command(dir, version, sub, extra).output().unwrap();
    (status.code(), format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr)))
}

/// SIGTERM, and a clean exit (after Litestream's final sync).
pub fn stop(host: &mut Proc) {
    host.signal(Signal::SIGTERM);
    let status = host.wait_exit(Duration::from_secs(40));
    assert!(status.success(), "{status}\n{}", host.output());
}

/// Writes 300 rows into a new data.db, replicates them with `run` and stops it
/// cleanly; returns the rows.
pub fn replicated(dir: &Path, version: &str) -> Vec<(i64, String)> {
    let data = dir.join("data.db");
    db::create(&data);
    db::write_rows(&data, 1, 300);
    let mut host = run(dir, version, &[]);
    host.wait_for(READY, Duration::from_secs(30));
    stop(&mut host);
    db::rows(&data)
}

/// Replicates data.db, deletes it with its side files, and starts `run
/// --restore-if-missing`: every row must be back before replication starts. Returns
/// the running host and the rows.
pub fn deleted_then_restored_at_start_up(dir: &Path, version: &str) -> (Proc, Vec<(i64, String)>) {
    let rows = replicated(dir, version);
    db::remove(&dir.join("data.db"));
    let mut host = run(dir, version, &["--restore-if-missing"]);
    host.wait_for(READY, Duration::from_secs(30));
    assert!(host.output().contains("restored \"data\""), "{version}: {}", host.output());
    assert_eq!(db::rows(&dir.join("data.db")), rows, "{version}");
    (host, rows)
}

/// With rows the replica never saw written into data.db, `restore` refuses to
/// overwrite it and `restore --force` brings back exactly `rows`, intact.
pub fn force_replaces_local_changes(dir: &Path, version: &str, rows: &[(i64, String)]) {
    let data = dir.join("data.db");
    db::write_rows(&data, 1000, 5);
    let (code, out) = output(dir, version, "restore", &[]);
    assert_eq!(code, Some(0), "{version}: {out}");
    assert!(out.contains("pass --force"), "{version}: {out}");
    assert_eq!(db::rows(&data).len(), rows.len() + 5, "{version}: an existing file was overwritten");
    let (code, out) = output(dir, version, "restore", &["--force"]);
    assert_eq!(code, Some(0), "{version}: {out}");
    assert!(out.contains("restored \"data\""), "{version}: {out}");
    assert_eq!(db::rows(&data), rows, "{version}");
    assert!(db::integrity_ok(&data), "{version}");
}
