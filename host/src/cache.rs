//! The per-user cache directory (`$XDG_CACHE_HOME` or `~/.cache`, then
//! `datasette-litestream`; `DATASETTE_LITESTREAM_CACHE` overrides it, empty turns caching
//! off): only this user can read or write it, and files appear in it whole.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The cache directory, or None when caching is off or there is no home.
pub fn dir() -> Option<PathBuf> {
    match std::env::var_os("DATASETTE_LITESTREAM_CACHE") {
        Some(d) if d.is_empty() => None,
        Some(d) => Some(PathBuf::from(d)),
        None => Some(
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
                .join("datasette-litestream"),
        ),
    }
}

/// Writes `bytes` to `path` in the cache: directory 0700, file 0600, fsynced, then
/// renamed into place so a reader never sees half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().expect("cache path has a directory");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
