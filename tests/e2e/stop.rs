//! A stop tells the truth: when Litestream cannot finish its final sync (the S3 server
//! frozen, or Litestream itself frozen), `run` names each database that may be behind
//! and exits 3; a stop with a healthy replica exits 0 with every row on it.

use crate::lag::Frozen;
use std::path::Path;
use std::time::Duration;
use tests::host::{READY, run};
use tests::moto::Moto;
use tests::process::litestream_child;
use tests::{LITESTREAM_VERSIONS, db, free_port, tempdir};

/// The exit status of a stop whose final sync was not confirmed.
const UNCONFIRMED: i32 = 3;

/// A key of its own, and a short `shutdown-sync-timeout` so a failing stop is quick.
fn metadata(dir: &Path, moto: &Moto, path: &str) {
    let key = moto.new_key();
    let top = format!(
        "    access-key-id: {}\n    secret-access-key: {}\n    shutdown-sync-timeout: 2s\n",
        key["access-key-id"].as_str().unwrap(),
        key["secret-access-key"].as_str().unwrap(),
    );
    moto.write_metadata(dir, &top, path);
}

#[test]
fn a_frozen_s3_server_at_stop_time_exits_3_naming_the_database() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        metadata(&dir, &moto, &format!("stop-s3-{version}-{}", free_port()));
        let data = dir.join("data.db");
        db::create(&data);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(30));
        let frozen = Frozen::new(moto.pid());
        // Committed while S3 cannot take them: only the final sync could ship these.
        db::write_rows(&data, 1, 20);
        std::thread::sleep(Duration::from_millis(300));
        host.signal(nix::sys::signal::Signal::SIGTERM);
        let status = host.wait_exit(Duration::from_secs(60));
        drop(frozen);
        let out = host.output();
        assert_eq!(status.code(), Some(UNCONFIRMED), "{version}:\n{out}");
        assert!(out.contains("error: the final sync of \"data\" was not confirmed"), "{version}:\n{out}");
    }
}

#[test]
fn a_frozen_litestream_is_killed_after_the_grace_and_the_stop_exits_3() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        metadata(&dir, &moto, &format!("stop-frozen-{version}-{}", free_port()));
        let data = dir.join("data.db");
        db::create(&data);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(30));
        let child = litestream_child(host.pid(), Duration::from_secs(5));
        db::write_rows(&data, 1, 20);
        let frozen = Frozen::new(child);
        host.signal(nix::sys::signal::Signal::SIGTERM);
        let status = host.wait_exit(Duration::from_secs(60));
        drop(frozen);
        let out = host.output();
        assert_eq!(status.code(), Some(UNCONFIRMED), "{version}:\n{out}");
        assert!(out.contains("\"data\" was not confirmed: Litestream was killed"), "{version}:\n{out}");
        assert!(!tests::process::alive(child), "{version}: Litestream outlived the stop");
    }
}

#[test]
fn a_stop_with_a_healthy_replica_exits_0_with_every_row_on_it() {
    let moto = Moto::start();
    for version in LITESTREAM_VERSIONS {
        let (_keep, dir) = tempdir();
        metadata(&dir, &moto, &format!("stop-ok-{version}-{}", free_port()));
        let data = dir.join("data.db");
        db::create(&data);
        let mut host = run(&dir, version, &[]);
        host.wait_for(READY, Duration::from_secs(30));
        db::write_rows(&data, 1, 300);
        host.signal(nix::sys::signal::Signal::SIGTERM);
        let status = host.wait_exit(Duration::from_secs(60));
        let out = host.output();
        assert_eq!(status.code(), Some(0), "{version}:\n{out}");
        assert!(out.contains("stopped (final sync confirmed)"), "{version}:\n{out}");
        let rows = db::rows(&data);
        db::remove(&data);
        let (code, text) = tests::host::output(&dir, version, "restore", &[]);
        assert_eq!(code, Some(0), "{version}: {text}");
        assert_eq!(db::rows(&data), rows, "{version}: the replica lacks rows the stop confirmed");
    }
}
