//! Shared helpers for the end-to-end tests: where the real parts are, temporary
//! directories, SQLite rows, and processes that are cleaned up.

pub mod db;
pub mod host;
pub mod moto;
pub mod process;

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The release host binary that `scripts/test` builds before the tests.
pub fn binary() -> PathBuf {
    let path = std::env::var_os("DATASETTE_LITESTREAM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release/datasette-litestream"));
    assert!(path.exists(), "{} is missing: run `cargo build --release` (scripts/test does)", path.display());
    path
}

/// The Litestream lines the tests run, as installed by scripts/setup.
pub const LITESTREAM_VERSIONS: [&str; 2] = ["0.3.13", "0.5.17"];

pub fn litestream(version: &str) -> PathBuf {
    let path = root().join(".venv/litestream").join(version).join("bin/litestream");
    assert!(path.exists(), "{} is missing: run scripts/setup", path.display());
    path
}

/// A temporary directory with its symlinks resolved (paths in configs are resolved).
pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("dl-test-").tempdir().expect("tempdir");
    let path = dir.path().canonicalize().expect("canonical tempdir");
    (dir, path)
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// GET `url` with an optional bearer token: (status, body); connection errors are status 0.
pub fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    match req.call() {
        Ok(mut resp) => (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

/// Polls `check` every 100 ms until it holds; panics with `what` after `limit`.
pub fn eventually(limit: std::time::Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
