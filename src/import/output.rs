//! Writing imported scenarios to files without ever losing one that is
//! already there: each file is written in full to a temporary file next
//! to it, then put in place in one step (a hard link, which fails if the
//! name is taken; a rename with `force`).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why a scenario could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file exists and `force` was not given.
    #[error("{}: already exists; give --force to replace it", .0.display())]
    Exists(PathBuf),
    /// Writing failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

/// Writes `text` to `path` atomically; replaces an existing file only if
/// `force`.
///
/// # Errors
///
/// [`WriteError::Exists`] when `path` exists and `force` is false;
/// [`WriteError::Io`] when writing fails (nothing is left behind).
pub fn write_scenario(path: &Path, text: &str, force: bool) -> Result<(), WriteError> {
    let io_error = |source| WriteError::Io {
        path: path.to_owned(),
        source,
    };
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(WriteError::Exists(path.to_owned()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path.file_name().ok_or_else(|| {
        io_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error(e));
    }
    let placed = if force {
        fs::rename(&temp, path)
    } else {
        let linked = fs::hard_link(&temp, path);
        let _ = fs::remove_file(&temp);
        linked
    };
    match placed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(WriteError::Exists(path.to_owned()))
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(io_error(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        write_scenario(&path, "a = 1\n", false).unwrap();
        let refused = write_scenario(&path, "a = 2\n", false).unwrap_err();
        assert!(matches!(refused, WriteError::Exists(_)), "{refused}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "a = 1\n");
        write_scenario(&path, "a = 3\n", true).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a = 3\n");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }
}
