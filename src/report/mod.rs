//! Report writers: the CSV files of a run, its plots (PNG and SVG), the
//! self-contained `report.html`, and the terminal summary.
//!
//! A report is written whole or not at all ([`folder`]): it is staged in a
//! sibling folder and swapped in with one rename, so a failed or killed
//! run never leaves a half-written report or a mix of two.
//! A process ended on purpose while it renders or writes (a second Ctrl-C)
//! goes through [`exit_removing_temporaries`], which leaves no temporary
//! file behind.

pub mod csv;
pub mod folder;
pub mod html;
pub mod numbers;
pub mod plots;
pub mod table;
pub mod warnings;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

pub use folder::{FolderError, ReportFolder};

use crate::model::Model;
use crate::results::RunResult;

/// What a report is made of: the run and how it was asked for.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The resolved model that was simulated.
    pub model: &'a Model,
    /// Its results.
    pub result: &'a RunResult,
    /// The scenario file's text, as the user wrote it.
    pub scenario_text: &'a str,
    /// A shell command that reproduces the run.
    pub command_line: &'a str,
}

/// The CSV files of a run alone, rendered in memory: `(file name, bytes)`.
pub fn render_tables(result: &RunResult) -> Vec<(String, Vec<u8>)> {
    csv::tables(result)
        .into_iter()
        .map(|(name, table)| (name.to_string(), csv::to_csv(&table)))
        .collect()
}

/// Name of the HTML report file.
pub const HTML_FILE: &str = "report.html";

/// The report files of a run, rendered in memory: `(file name, bytes)`:
/// the CSV tables, each plot as SVG and PNG, then `report.html`.
pub fn render(input: &ReportInput<'_>) -> Result<Vec<(String, Vec<u8>)>, plots::PlotError> {
    let mut files = render_tables(input.result);
    let plots = plots::render_all(input.model, input.result)?;
    for plot in &plots {
        files.push((format!("{}.svg", plot.name), plot.svg.clone().into_bytes()));
        files.push((format!("{}.png", plot.name), plot.png.clone()));
    }
    let warnings = warnings::all(input.model, input.result);
    files.push((
        HTML_FILE.to_string(),
        html::page(input, &plots, &warnings).into_bytes(),
    ));
    Ok(files)
}

/// An output directory could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write report file {path}: {source}")]
pub struct WriteError {
    /// The file or directory that failed.
    pub path: PathBuf,
    /// What the operating system said.
    pub source: std::io::Error,
}

/// The temporary files of this process (report files not yet renamed into
/// place, plot scratch files), for [`exit_removing_temporaries`]. A file is
/// listed, made and written under this lock, and every rename happens under
/// it, so whoever holds it sees no half-made temporary and no half-renamed
/// report.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn staged() -> MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `make` with the scratch file `path`, which it may create, and
/// removes the file after; [`exit_removing_temporaries`] waits for `make`
/// and removes the file too.
fn with_scratch_file<T>(path: &Path, make: impl FnOnce(&Path) -> T) -> T {
    let mut staged = staged();
    staged.push(path.to_path_buf());
    let made = make(path);
    discard(&mut staged, &[path.to_path_buf()]);
    made
}

/// Removes the temporary files of every write in progress and ends the
/// process with exit status `code`: what a second Ctrl-C does. It waits for
/// the file being written or the renames under way to finish, and no other
/// temporary file can be started after it, so the output directory holds
/// complete report files only.
pub fn exit_removing_temporaries(code: i32) -> ! {
    let staged = staged();
    for temporary in staged.iter() {
        remove_temporary(temporary);
    }
    folder::remove_unused_folders();
    std::process::exit(code)
}

/// Takes `temporaries` off [`STAGED`], removing those still on disk.
fn discard(staged: &mut Vec<PathBuf>, temporaries: &[PathBuf]) {
    for temporary in temporaries {
        remove_temporary(temporary);
    }
    staged.retain(|t| !temporaries.contains(t));
}

/// Removes a temporary file or staging folder, if it is still there.
fn remove_temporary(path: &Path) {
    if path.is_dir() {
        let _ = fs::remove_dir_all(path);
    } else {
        let _ = fs::remove_file(path);
    }
}

/// Writes `files` into `dir` (created if missing), replacing the report
/// there whole ([`ReportFolder`]). Returns the paths written.
///
/// # Errors
///
/// [`FolderError::Refused`] for a folder that may not hold a report,
/// [`FolderError::Write`] when writing fails.
pub fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, FolderError> {
    ReportFolder::claim(dir)?.replace(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/report");
        let files = vec![
            ("a.csv".to_string(), b"x\n1\n".to_vec()),
            ("b.csv".to_string(), b"y\n2\n".to_vec()),
        ];
        let written = write_all(&out, &files).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(fs::read(out.join("a.csv")).unwrap(), b"x\n1\n");
        let names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn unwritable_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"not a directory").unwrap();
        let err = write_all(&blocker.join("out"), &[("a.csv".into(), vec![])]).unwrap_err();
        assert!(matches!(err, FolderError::Refused(_)), "{err}");
        assert!(err.to_string().contains("file/out"), "{err}");
    }
}
