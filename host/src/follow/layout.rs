//! Where a follower's files live. The database path Datasette opens is a symlink to
//! the current generation, a complete restored copy in `.NAME-follow/` beside it; a
//! new generation (after a crash, or a follower stuck behind) is restored in full
//! and then swapped in by renaming a new symlink over the old one, so a reader opens
//! either the old complete file or the new complete file, never a half-written one.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(
        "{path} exists and is not a follower's copy (a symlink into {dir}); `follow` will not \
         replace it: move it away, or give the follower another path for this database"
    )]
    NotAFollower { path: String, dir: String },
    #[error("cannot prepare {what}: {source}")]
    Io { what: String, source: std::io::Error },
}

#[derive(Debug, Clone)]
pub struct Layout {
    /// The path Datasette opens (and the primary's config names).
    pub path: PathBuf,
    /// `.NAME-follow/` beside it: the generations.
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(path: &Path) -> Layout {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = path.with_file_name(format!(".{name}-follow"));
        Layout { path: path.to_path_buf(), dir }
    }

    /// The follower's path for a database path as Datasette's inputs give it: those
    /// resolve symlinks, so a follower's path arrives as its current generation.
    pub fn for_database(path: &Path) -> Layout {
        let parent = path.parent().and_then(|p| Some((p, p.file_name()?.to_str()?)));
        let generation = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('g'));
        match parent {
            Some((dir, name)) if generation && name.starts_with('.') && name.ends_with("-follow") => {
                let own = &name[1..name.len() - "-follow".len()];
                Layout::new(&dir.parent().unwrap_or(Path::new("/")).join(own))
            }
            _ => Layout::new(path),
        }
    }

    /// The path may be followed: it is missing, or our own symlink. Anything else
    /// (the primary's own database, say) is never replaced.
    pub fn check(&self) -> Result<(), LayoutError> {
        match std::fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(LayoutError::Io { what: self.path.display().to_string(), source }),
            Ok(m) if m.file_type().is_symlink() && self.points_into_dir() => Ok(()),
            Ok(_) => Err(LayoutError::NotAFollower {
                path: self.path.display().to_string(),
                dir: self.dir.display().to_string(),
            }),
        }
    }

    fn points_into_dir(&self) -> bool {
        let Ok(target) = std::fs::read_link(&self.path) else { return false };
        let target = self.path.parent().unwrap_or(Path::new("/")).join(target);
        target.parent() == Some(self.dir.as_path())
    }

    /// A fresh file name for the next generation (none of its files exist).
    pub fn next_generation(&self) -> Result<PathBuf, LayoutError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&self.dir)
            .map_err(|source| LayoutError::Io { what: self.dir.display().to_string(), source })?;
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let mut n = 0;
        loop {
            let candidate = self.dir.join(format!("g{millis}-{n}.db"));
            if !candidate.exists() && !side(&candidate, "-txid").exists() {
                return Ok(candidate);
            }
            n += 1;
        }
    }

    /// Makes `generation` the file the path opens, atomically, and removes every
    /// other generation (a reader with one open keeps it until it closes).
    pub fn swap_in(&self, generation: &Path) -> Result<(), LayoutError> {
        let io = |what: &Path| {
            let what = what.display().to_string();
            move |source| LayoutError::Io { what, source }
        };
        let name = generation.file_name().unwrap_or_default();
        let relative = Path::new(self.dir.file_name().unwrap_or_default()).join(name);
        let tmp = self.dir.join(".link.tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&relative, &tmp).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        self.sweep(generation);
        Ok(())
    }

    /// Removes the generations other than `keep`, with their side files.
    pub fn sweep(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let keep = keep.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('g') && !name.starts_with(&keep) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// `path` with `suffix` appended to its file name (`-txid`, `-wal`…).
pub fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_generations_and_never_replaces_a_real_database() {
        let dir = std::env::temp_dir().join(format!("layout-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let layout = Layout::new(&dir.join("x.db"));
        layout.check().unwrap();
        let first = layout.next_generation().unwrap();
        std::fs::write(&first, "one").unwrap();
        std::fs::write(side(&first, "-txid"), "0000000000000001\n").unwrap();
        layout.swap_in(&first).unwrap();
        assert_eq!(std::fs::read_to_string(&layout.path).unwrap(), "one");
        layout.check().unwrap();
        let second = layout.next_generation().unwrap();
        assert_ne!(first, second);
        std::fs::write(&second, "two").unwrap();
        layout.swap_in(&second).unwrap();
        assert_eq!(std::fs::read_to_string(&layout.path).unwrap(), "two");
        assert!(!first.exists() && !side(&first, "-txid").exists(), "the old generation is swept");
        let resolved = std::fs::canonicalize(&layout.path).unwrap();
        assert_eq!(Layout::for_database(&resolved).path, std::fs::canonicalize(&dir).unwrap().join("x.db"));
        assert_eq!(Layout::for_database(&dir.join("y.db")).path, dir.join("y.db"));
        let real = Layout::new(&dir.join("primary.db"));
        std::fs::write(&real.path, "data").unwrap();
        let e = real.check().unwrap_err().to_string();
        assert!(e.contains("is not a follower's copy") && e.contains("move it away"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
