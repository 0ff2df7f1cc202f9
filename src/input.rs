//! Reading the files a user points queuesim at (scenarios, traces,
//! `empirical` samples, Markov chains, measured times): regular files only,
//! bounded in size, so that a named pipe, a device or a runaway file is a
//! clear error instead of a wait for ever or an abort.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Most bytes queuesim reads from one input file (1 GiB: a trace of about
/// sixty million timestamps).
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Opens `path` for reading if it is a regular file of at most `limit`
/// bytes; the reader fails, rather than truncating, if the file grows past
/// `limit` while it is read.
///
/// # Errors
///
/// The system's error, or `InvalidInput` naming what the path is (a
/// directory, a named pipe, a device) or how big it is.
pub fn open(path: &Path, limit: u64) -> io::Result<Bounded<fs::File>> {
    let file = open_without_waiting(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file",
                describe(metadata.file_type())
            ),
        ));
    }
    let size = metadata.len();
    if size > limit {
        return Err(too_big(size, limit));
    }
    Ok(Bounded {
        inner: file,
        left: limit,
        limit,
    })
}

/// The whole of `path` (see [`open`]).
///
/// # Errors
///
/// As [`open`], and any read error.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, limit)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole of `path` as UTF-8 text (see [`open`]).
///
/// # Errors
///
/// As [`read`], and `InvalidData` for text that is not UTF-8.
pub fn read_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// A reader that fails once more than its limit was read.
#[derive(Debug)]
pub struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| too_big(self.limit + 1, self.limit))?;
        Ok(n)
    }
}

fn too_big(size: u64, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it holds more than {limit} bytes ({size}), the most queuesim reads from one file"),
    )
}

#[cfg(unix)]
fn describe(kind: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn describe(kind: fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Opens for reading without waiting: opening a named pipe that has no
/// writer would otherwise block until one appears.
#[cfg(unix)]
fn open_without_waiting(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        fs::write(&path, vec![b'1'; 100]).unwrap();
        let err = read(&path, 99).unwrap_err().to_string();
        assert!(err.contains("more than 99 bytes"), "{err}");
        assert_eq!(read(&path, 100).unwrap().len(), 100);
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), 10).unwrap_err().to_string();
        assert!(err.contains("a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused_at_once() {
        let err = read(Path::new("/dev/zero"), MAX_INPUT_BYTES)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a device"), "{err}");
    }
}
