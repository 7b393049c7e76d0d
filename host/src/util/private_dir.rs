//! A directory only this user can enter (0700) for Litestream's config (0600, it may
//! hold keys) and control socket; removed when dropped, so on every exit path that
//! unwinds. A host killed outright leaves it behind; the next start sweeps such
//! directories of dead hosts.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const PREFIX: &str = "datasette-litestream-";

#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    pub fn create() -> std::io::Result<PrivateDir> {
        let base = std::env::temp_dir();
        sweep(&base);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let path = base.join(format!("{PREFIX}{}-{nanos:08x}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(PrivateDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `name` with mode 0600, replacing it atomically.
    pub fn write(&self, name: &str, contents: &str) -> std::io::Result<PathBuf> {
        let target = self.path.join(name);
        let tmp = self.path.join(format!(".{name}.tmp"));
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)?;
        Ok(target)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes directories left by hosts that no longer run (named after their pid).
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let me = nix::unistd::getuid();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let ours = std::os::unix::fs::MetadataExt::uid(&match entry.metadata() {
            Ok(m) => m,
            Err(_) => continue,
        }) == me.as_raw();
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if ours && !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_of_dead_hosts_are_swept_and_living_ones_kept() {
        let base = std::env::temp_dir().join(format!("sweep-test-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let mut ended = std::process::Command::new("true").spawn().unwrap();
        ended.wait().unwrap();
        let dead = base.join(format!("{PREFIX}{}-0000abcd", ended.id()));
        let living = base.join(format!("{PREFIX}1-0000abcd")); // pid 1 is alive
        let other = base.join(format!("{PREFIX}plugin-{}-x", ended.id()));
        for d in [&dead, &living, &other] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("status.sock"), "").unwrap();
        }
        sweep(&base);
        assert!(!dead.exists(), "a dead host's directory is removed");
        assert!(living.exists() && other.exists(), "a living host's and a foreign name are kept");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
