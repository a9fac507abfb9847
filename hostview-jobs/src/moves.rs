//! Moving processed and failed uploads out of `incoming/`.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Destination folder of a finished upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// `<data>/processed/`: imported, already imported or recorded.
    Processed,
    /// `<data>/failed/`: failed permanently or after the last retry.
    Failed,
}

impl Destination {
    /// Returns the folder name below the data directory.
    pub fn folder(self) -> &'static str {
        match self {
            Destination::Processed => "processed",
            Destination::Failed => "failed",
        }
    }
}

/// Errors of moving an upload.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The upload is not below `<data>/incoming/`.
    #[error("{path} is not below {incoming}")]
    OutsideIncoming { path: PathBuf, incoming: PathBuf },
    /// Creating the destination folder or renaming failed.
    #[error("cannot move {from} to {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Moves `path` from `<data_dir>/incoming/<relative>` to `<data_dir>/<destination>/<relative>`,
/// creating parent folders, and returns the new path.
///
/// A symbolic link is moved as the link itself, never its target. When the destination name is
/// taken by a file with the same bytes (the same upload processed again), it is replaced. When it
/// is taken by different content, the file gets the first free suffix `.1`, `.2`, … so that no
/// earlier file is overwritten. Folders that the move leaves empty below `incoming/` are removed.
pub fn move_upload(
    data_dir: &Path,
    path: &Path,
    destination: Destination,
) -> Result<PathBuf, MoveError> {
    let incoming = data_dir.join("incoming");
    let relative = path
        .strip_prefix(&incoming)
        .map_err(|_| MoveError::OutsideIncoming {
            path: path.to_path_buf(),
            incoming: incoming.clone(),
        })?;
    let target = data_dir.join(destination.folder()).join(relative);
    let rename_error = |to: &Path| {
        let (from, to) = (path.to_path_buf(), to.to_path_buf());
        move |source| MoveError::Rename { from, to, source }
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(rename_error(parent))?;
    }
    let target = if same_content(path, &target) {
        target
    } else {
        free_name(&target)
    };
    std::fs::rename(path, &target).map_err(rename_error(&target))?;
    remove_empty_parents(&incoming, path);
    Ok(target)
}

/// Returns whether `a` and `b` are both regular files with identical bytes.
fn same_content(a: &Path, b: &Path) -> bool {
    let (Ok(meta_a), Ok(meta_b)) = (a.symlink_metadata(), b.symlink_metadata()) else {
        return false;
    };
    if !meta_a.is_file() || !meta_b.is_file() || meta_a.len() != meta_b.len() {
        return false;
    }
    let (Ok(file_a), Ok(file_b)) = (std::fs::File::open(a), std::fs::File::open(b)) else {
        return false;
    };
    let mut reader_a = io::BufReader::new(file_a);
    let mut reader_b = io::BufReader::new(file_b);
    let mut buffer_a = vec![0_u8; 64 * 1024];
    let mut buffer_b = vec![0_u8; 64 * 1024];
    loop {
        let Ok(read) = reader_a.read(&mut buffer_a) else {
            return false;
        };
        if read == 0 {
            return true;
        }
        if reader_b.read_exact(&mut buffer_b[..read]).is_err()
            || buffer_a[..read] != buffer_b[..read]
        {
            return false;
        }
    }
}

/// Removes the folders between `path` and `incoming` that are empty now, deepest first.
fn remove_empty_parents(incoming: &Path, path: &Path) {
    let mut folder = path.parent();
    while let Some(current) = folder {
        if current == incoming || !current.starts_with(incoming) {
            break;
        }
        // Fails, and stops the walk, as soon as a folder still has entries.
        if std::fs::remove_dir(current).is_err() {
            break;
        }
        folder = current.parent();
    }
}

/// Returns `target`, or `target.N` with the smallest N that names no existing entry.
fn free_name(target: &Path) -> PathBuf {
    if target.symlink_metadata().is_err() {
        return target.to_path_buf();
    }
    let mut counter = 1_u64;
    loop {
        let mut name = target.as_os_str().to_owned();
        name.push(format!(".{counter}"));
        let candidate = PathBuf::from(name);
        if candidate.symlink_metadata().is_err() {
            return candidate;
        }
        counter += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn move_upload_keeps_relative_path() {
        let data = tempfile::tempdir().unwrap();
        let source = data.path().join("incoming/DEV/2.1.3/2016/29/1_stats.db");
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::write(&source, b"x").unwrap();

        let moved = move_upload(data.path(), &source, Destination::Processed).unwrap();

        assert_eq!(
            moved,
            data.path().join("processed/DEV/2.1.3/2016/29/1_stats.db")
        );
        assert!(moved.exists());
        assert!(!source.exists());
        assert!(
            !data.path().join("incoming/DEV").exists(),
            "empty folders are removed"
        );
        assert!(
            data.path().join("incoming").exists(),
            "incoming itself stays"
        );
    }

    #[test]
    fn move_upload_replaces_identical_copy() {
        let data = tempfile::tempdir().unwrap();
        let source = data.path().join("incoming/DEV/v/2016/29/a.db");
        let taken = data.path().join("processed/DEV/v/2016/29/a.db");
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
        std::fs::write(&source, b"same").unwrap();
        std::fs::write(&taken, b"same").unwrap();

        let moved = move_upload(data.path(), &source, Destination::Processed).unwrap();

        assert_eq!(moved, taken);
        assert!(!data.path().join("processed/DEV/v/2016/29/a.db.1").exists());
    }

    #[test]
    fn move_upload_never_overwrites() {
        let data = tempfile::tempdir().unwrap();
        let source = data.path().join("incoming/DEV/v/2016/29/a.db");
        let taken = data.path().join("failed/DEV/v/2016/29/a.db");
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
        std::fs::write(&source, b"new").unwrap();
        std::fs::write(&taken, b"old").unwrap();

        let moved = move_upload(data.path(), &source, Destination::Failed).unwrap();

        assert_eq!(moved, data.path().join("failed/DEV/v/2016/29/a.db.1"));
        assert_eq!(std::fs::read(&taken).unwrap(), b"old");
        assert_eq!(std::fs::read(&moved).unwrap(), b"new");
    }

    #[test]
    fn move_upload_rejects_path_outside_incoming() {
        let data = tempfile::tempdir().unwrap();
        let error =
            move_upload(data.path(), Path::new("/etc/passwd"), Destination::Failed).unwrap_err();
        assert!(matches!(error, MoveError::OutsideIncoming { .. }));
    }
}
