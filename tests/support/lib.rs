//! Shared helpers for the end-to-end tests: where the real parts are, temporary
//! directories, SQLite rows, and processes that are cleaned up.

pub mod db;
pub mod process;

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The release host binary that `scripts/test` builds before the tests.
pub fn binary() -> PathBuf {
    let path = std::env::var_os("DATASETTE_LITESTREAM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release/datasette-litestream"));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release` (scripts/test does)",
        path.display()
    );
    path
}

/// The Litestream lines the tests run, as installed by scripts/setup.
pub const LITESTREAM_VERSIONS: [&str; 2] = ["0.3.13", "0.5.17"];

pub fn litestream(version: &str) -> PathBuf {
    let path = root()
        .join(".venv/litestream")
        .join(version)
        .join("bin/litestream");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

/// A temporary directory with its symlinks resolved (paths in configs are resolved).
pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("dl-test-")
        .tempdir()
        .expect("tempdir");
    let path = dir.path().canonicalize().expect("canonical tempdir");
    (dir, path)
}
