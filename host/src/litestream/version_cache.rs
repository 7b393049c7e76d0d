//! The per-user cache directory (`$XDG_CACHE_HOME` or `~/.cache`, then
//! `datasette-litestream`; `DATASETTE_LITESTREAM_CACHE` overrides it, empty turns caching
//! off): only this user can read or write it, and files appear in it whole.
//!
//! It holds what `litestream version` printed for a binary file (saving a process start,
//! 20–50 ms, at every start). That text picks the config dialect, so a file in it is only
//! trusted when nobody else could have put it there: the directory itself (not a
//! symlink) and the file (not a symlink) are owned by the effective user and writable by
//! nobody else. Anything else is ignored, never written to, and said once at debug
//! level; the caller then asks the binary. (No compiled code is cached: the rules come
//! compiled inside the binary.)

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Once;

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

/// Owned by the effective user and writable by nobody else.
fn private(m: &Metadata) -> bool {
    m.uid() == nix::unistd::geteuid().as_raw() && m.mode() & 0o022 == 0
}

/// Whether `dir` (itself, not what a symlink points to) is a private directory.
fn trusted_dir(dir: &Path) -> bool {
    let ok = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && private(&m));
    if !ok && dir.exists() {
        untrusted(dir);
    }
    ok
}

fn untrusted(path: &Path) {
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        tracing::debug!(
            path = %path.display(),
            "not using the cache: it must be owned by this user, writable by nobody else, and not a symlink"
        );
    });
}

/// The bytes of a cached file, only when its directory and the file itself are private.
/// The file is opened without following a symlink and checked after opening, so the
/// bytes returned are the ones checked.
pub fn read_trusted(path: &Path) -> Option<Vec<u8>> {
    if !trusted_dir(path.parent()?) {
        return None;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .inspect_err(|e| {
            if e.kind() != std::io::ErrorKind::NotFound {
                untrusted(path)
            }
        })
        .ok()?;
    let m = File::metadata(&file).ok()?;
    if !(m.is_file() && private(&m)) {
        untrusted(path);
        return None;
    }
    let mut bytes = Vec::with_capacity(m.len() as usize);
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Writes `bytes` to `path` in the cache: directory 0700 (created if missing, refused
/// if it is not private), file 0600, fsynced, then renamed into place so a reader
/// never sees half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().expect("cache path has a directory");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    if !trusted_dir(dir) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "cache directory is not private",
        ));
    }
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dl-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_private_directory_is_used() {
        let dir = scratch("private").join("cache");
        write_private(&dir.join("f"), b"code").unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(read_trusted(&dir.join("f")).as_deref(), Some(&b"code"[..]));
    }

    #[test]
    fn a_directory_others_can_write_is_neither_read_nor_written() {
        let dir = scratch("shared");
        write_private(&dir.join("f"), b"code").unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(read_trusted(&dir.join("f")), None);
        assert!(write_private(&dir.join("g"), b"code").is_err());
        assert!(!dir.join("g").exists());
    }

    #[test]
    fn a_directory_owned_by_another_user_is_not_read() {
        // Handing a file to another uid takes root (the test machines and CI run as root).
        assert!(nix::unistd::geteuid().is_root(), "this test must run as root");
        let dir = scratch("other-uid");
        write_private(&dir.join("f"), b"code").unwrap();
        nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
        assert_eq!(read_trusted(&dir.join("f")), None);
        // The file itself handed over, in a directory that is ours.
        let dir = scratch("other-uid-file");
        write_private(&dir.join("f"), b"code").unwrap();
        nix::unistd::chown(&dir.join("f"), Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
        assert_eq!(read_trusted(&dir.join("f")), None);
    }

    #[test]
    fn a_symlinked_file_or_directory_is_not_read() {
        let dir = scratch("symlink");
        let elsewhere = scratch("symlink-target");
        write_private(&elsewhere.join("f"), b"code").unwrap();
        std::os::unix::fs::symlink(elsewhere.join("f"), dir.join("f")).unwrap();
        assert_eq!(read_trusted(&dir.join("f")), None);
        let linked = dir.join("linked-dir");
        std::os::unix::fs::symlink(&elsewhere, &linked).unwrap();
        assert_eq!(read_trusted(&linked.join("f")), None);
    }

    #[test]
    fn a_file_others_can_write_is_not_read() {
        let dir = scratch("file-mode");
        write_private(&dir.join("f"), b"code").unwrap();
        std::fs::set_permissions(dir.join("f"), std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read_trusted(&dir.join("f")), None);
    }
}
