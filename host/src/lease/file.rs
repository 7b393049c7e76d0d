//! The lock in a `file://` replica's directory, with the same answers as S3's
//! conditional requests: created with `link(2)` (which fails when the name exists,
//! like `If-None-Match: *`), replaced and removed under an exclusive `flock` on a
//! side file after comparing the SHA-256 of the bytes (the "ETag"), the new bytes
//! written to a temporary file and renamed over it. Local filesystems only: `flock`
//! and `link` are not to be trusted on every network filesystem.

use crate::rules::{LockSeen, WriteOutcome};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct FileLock {
    path: PathBuf,
}

impl FileLock {
    pub fn new(path: PathBuf) -> FileLock {
        FileLock { path }
    }

    pub fn describe(&self) -> String {
        self.path.display().to_string()
    }

    pub fn read(&self) -> Result<LockSeen, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(LockSeen::Present((etag(&bytes), String::from_utf8_lossy(&bytes).into_owned()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LockSeen::Absent),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    pub fn write(&self, if_match: Option<&str>, body: &str) -> (WriteOutcome, Option<String>) {
        match self.try_write(if_match, body.as_bytes()) {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!("lease: writing {}: {e}", self.path.display());
                (WriteOutcome::Failed, None)
            }
        }
    }

    fn try_write(
        &self,
        if_match: Option<&str>,
        body: &[u8],
    ) -> std::io::Result<(WriteOutcome, Option<String>)> {
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(dir)?;
        let tmp = self.temporary(body)?;
        let result = match if_match {
            None => match std::fs::hard_link(&tmp, &self.path) {
                Ok(()) => Ok((WriteOutcome::Written, Some(etag(body)))),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Ok((WriteOutcome::Precondition, None))
                }
                Err(e) => Err(e),
            },
            Some(expected) => self.exclusively(|| match self.current()? {
                None => Ok((WriteOutcome::Absent, None)),
                Some(now) if now != expected => Ok((WriteOutcome::Precondition, None)),
                Some(_) => {
                    std::fs::rename(&tmp, &self.path).map(|()| (WriteOutcome::Written, Some(etag(body))))
                }
            }),
        };
        std::fs::remove_file(&tmp).ok();
        result
    }

    pub fn delete(&self, if_match: &str) -> WriteOutcome {
        let done = self.exclusively(|| match self.current()? {
            None => Ok(WriteOutcome::Absent),
            Some(now) if now != if_match => Ok(WriteOutcome::Precondition),
            Some(_) => std::fs::remove_file(&self.path).map(|()| WriteOutcome::Written),
        });
        done.unwrap_or(WriteOutcome::Failed)
    }

    fn current(&self) -> std::io::Result<Option<String>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(etag(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn temporary(&self, body: &[u8]) -> std::io::Result<PathBuf> {
        let tmp = self.path.with_extension(format!("json.{}.tmp", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        Ok(tmp)
    }

    /// Runs `f` holding an exclusive `flock` on `lock.json.flock` beside the lock.
    fn exclusively<T>(&self, f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
        let side = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("json.flock"))?;
        let held = nix::fcntl::Flock::lock(side, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| std::io::Error::from(e))?;
        let out = f();
        drop(held);
        out
    }
}

/// The lock's "ETag": the SHA-256 of its bytes, quoted as S3 quotes its ETags.
fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", super::sigv4::hex(&Sha256::digest(bytes)))
}
