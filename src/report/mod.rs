//! Report writers: the CSV files of a run, its plots (PNG and SVG), the
//! self-contained `report.html`, and the terminal summary.
//!
//! Files are written all-or-nothing: every file goes to a temporary name in
//! the output directory first and is renamed into place only once all of
//! them were written, so a failed run never leaves a half-written report.

pub mod csv;
pub mod html;
pub mod plots;
pub mod table;
pub mod warnings;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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

fn write_temporary(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `files` into `dir` (created if missing), all or nothing.
/// Returns the paths written.
pub fn write_all(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, WriteError> {
    fs::create_dir_all(dir).map_err(|source| WriteError {
        path: dir.to_path_buf(),
        source,
    })?;
    let pid = std::process::id();
    let mut staged = Vec::new();
    for (name, bytes) in files {
        let temporary = dir.join(format!(".{name}.{pid}.tmp"));
        if let Err(source) = write_temporary(&temporary, bytes) {
            let _ = fs::remove_file(&temporary);
            staged.iter().for_each(|(t, _): &(PathBuf, PathBuf)| {
                let _ = fs::remove_file(t);
            });
            return Err(WriteError {
                path: dir.join(name),
                source,
            });
        }
        staged.push((temporary, dir.join(name)));
    }
    let mut written = Vec::new();
    for (temporary, target) in staged {
        fs::rename(&temporary, &target).map_err(|source| WriteError {
            path: target.clone(),
            source,
        })?;
        written.push(target);
    }
    Ok(written)
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
        assert!(err.to_string().contains("file/out"), "{err}");
    }
}
