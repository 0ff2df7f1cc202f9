//! A report folder: where a command writes, claimed before anything is
//! simulated and replaced whole when the report is ready.
//!
//! [`ReportFolder::claim`] resolves the path the user gave (absolute, `.`
//! and `..` removed, symbolic links of the parts that exist followed), so
//! the folder checked is the folder written; refuses a path that is a file,
//! a dangling link, or a folder holding anything but queuesim files; and
//! takes the folder's lock (`flock` on the directory), so a second command
//! writing to the same folder is refused instead of mixing its files in.
//!
//! [`ReportFolder::replace`] stages the new report in a hidden sibling
//! folder, moves the queuesim folders nested in the old one (a sweep, the
//! shards of a run) into it, and swaps it with the old folder in one atomic
//! `rename` (`RENAME_EXCHANGE` on Linux), so a reader, or a process killed
//! at any instant, sees the complete old report or the complete new one,
//! never a mix. The old report is then removed.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use super::{WriteError, discard, staged};

/// How deep queuesim folders nest inside a report folder (a run's folder
/// holds `sweep/`, which holds `shard-0-of-3/`).
const MAX_NESTING: usize = 3;

/// How long a swap waits for a parent folder that another command is
/// swapping at that instant (its nested folders are briefly elsewhere).
const RETRIES: u32 = 50;

/// The folders [`ReportFolder::claim`] made and nothing was written to
/// yet, removed (if still empty) by [`remove_unused_folders`].
static MADE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn made() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    MADE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes the folders claimed, made and still empty: what a process that
/// quits at once leaves otherwise.
pub(super) fn remove_unused_folders() {
    for folder in made().iter() {
        let _ = fs::remove_dir(folder);
    }
}

/// A report folder could not be claimed or replaced.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The path is not a usable report folder: bad input (exit status 2).
    #[error("{0}")]
    Refused(String),
    /// Writing failed (exit status 1).
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A claimed report folder: resolved, checked and locked until dropped.
#[derive(Debug)]
pub struct ReportFolder {
    /// The folder as the user named it, for messages.
    shown: PathBuf,
    /// The folder resolved: absolute, without `.`, `..` or links.
    path: PathBuf,
    /// The open directory whose `flock` is this command's claim.
    _lock: fs::File,
    /// Whether [`Self::claim`] made the folder (removed again, if still
    /// empty, when nothing is written).
    created: bool,
    /// Whether [`Self::replace`] succeeded.
    replaced: bool,
}

impl ReportFolder {
    /// Resolves `path`, checks that it may hold a report and locks it,
    /// creating it (empty) if it does not exist.
    ///
    /// # Errors
    ///
    /// [`FolderError::Refused`] for a path that is a file or a dangling
    /// link, a folder holding other files, or one another command is
    /// writing; [`FolderError::Write`] when it cannot be created.
    pub fn claim(path: &Path) -> Result<Self, FolderError> {
        let shown = path.to_path_buf();
        let resolved = resolve(path)?;
        if resolved.parent().is_none() || resolved.file_name().is_none() {
            return Err(refused(
                path,
                "a report folder cannot be the root directory",
            ));
        }
        match fs::metadata(&resolved) {
            Ok(m) if !m.is_dir() => return Err(refused(path, "it is a file, not a folder")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(refused(path, &e.to_string())),
        }
        let created = !resolved.exists();
        fs::create_dir_all(&resolved).map_err(|source| WriteError {
            path: shown.clone(),
            source,
        })?;
        if created {
            made().push(resolved.clone());
        }
        let lock = lock_folder(&shown, &resolved)?;
        let folder = Self {
            shown,
            path: resolved,
            _lock: lock,
            created,
            replaced: false,
        };
        folder.remove_stale_staging();
        check_queuesim_only(&folder.shown, &folder.path)?;
        Ok(folder)
    }

    /// The folder as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The resolved folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the folder's report with `files` (`(name, bytes)`), whole:
    /// the queuesim folders nested in it are kept. Returns the paths of the
    /// files as the user names them.
    ///
    /// # Errors
    ///
    /// [`FolderError::Refused`] when files other than queuesim's appeared
    /// in the folder meanwhile; [`FolderError::Write`] when a file or the
    /// swap fails (the old report is then untouched).
    pub fn replace(&mut self, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, FolderError> {
        let staging = self.staging_path();
        let swapped = self
            .stage(&staging, files)
            .and_then(|in_use| self.swap_in(&staging).map(|()| in_use));
        let mut list = staged();
        discard(&mut list, &[staging]);
        drop(list);
        drop(swapped?);
        self.replaced = true;
        made().retain(|folder| *folder != self.path);
        sync_dir(self.path.parent().unwrap_or(&self.path));
        Ok(files
            .iter()
            .map(|(name, _)| self.shown.join(name))
            .collect())
    }

    /// `.<name>.staging-<pid>` beside the folder.
    fn staging_path(&self) -> PathBuf {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        let parent = self.path.parent().unwrap_or(&self.path);
        parent.join(format!(".{name}.staging-{}", std::process::id()))
    }

    /// Writes `files` into the new folder `staging`, listed for
    /// [`super::exit_removing_temporaries`]; each file is written under the
    /// temporaries' lock, so that removal never races a file being made. Returns its lock, which tells
    /// other commands that it is no stale folder to remove.
    fn stage(&self, staging: &Path, files: &[(String, Vec<u8>)]) -> Result<fs::File, FolderError> {
        let failed = |path: &Path| {
            let path = self.shown.join(path.file_name().unwrap_or_default());
            move |source| FolderError::Write(WriteError { path, source })
        };
        {
            let mut list = staged();
            list.push(staging.to_path_buf());
            if staging.exists() {
                let _ = fs::remove_dir_all(staging);
            }
            fs::create_dir(staging).map_err(failed(&self.path))?;
        }
        let in_use = lock_folder(&self.shown, staging)?;
        for (name, bytes) in files {
            let target = staging.join(name);
            let _list = staged();
            write_synced(&target, bytes).map_err(failed(&target))?;
        }
        sync_dir(staging);
        Ok(in_use)
    }

    /// Moves the nested queuesim folders into `staging` and swaps it with
    /// the folder, all under the temporaries' lock (a second Ctrl-C waits).
    fn swap_in(&self, staging: &Path) -> Result<(), FolderError> {
        let _list = staged();
        check_queuesim_only(&self.shown, &self.path)?;
        let failed = |source| {
            FolderError::Write(WriteError {
                path: self.shown.clone(),
                source,
            })
        };
        for nested in nested_folders(&self.path).map_err(failed)? {
            let name = nested.file_name().unwrap_or_default();
            fs::rename(&nested, staging.join(name)).map_err(failed)?;
        }
        exchange(staging, &self.path).map_err(failed)
    }

    /// Removes the staging folders that commands killed mid-swap left
    /// beside this one (none of them holds its staging lock any more).
    fn remove_stale_staging(&self) {
        let (Some(parent), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return;
        };
        let prefix = format!(".{}.staging-", name.to_string_lossy());
        let Ok(entries) = fs::read_dir(parent) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let is_staging = entry.file_name().to_string_lossy().starts_with(&prefix);
            if is_staging && lock_folder(&self.shown, &entry.path()).is_ok() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

impl Drop for ReportFolder {
    fn drop(&mut self) {
        if self.created && !self.replaced {
            let _ = fs::remove_dir(&self.path);
            made().retain(|folder| *folder != self.path);
        }
    }
}

fn refused(path: &Path, why: &str) -> FolderError {
    FolderError::Refused(format!(
        "cannot use {} as the output folder: {why}; choose another --out",
        path.display()
    ))
}

/// `path` made absolute, with `.` and `..` removed and the symbolic links
/// among its existing parts followed: the folder the system would write.
///
/// # Errors
///
/// A dangling or looping link, or a part that cannot be inspected.
pub fn resolve(path: &Path) -> Result<PathBuf, FolderError> {
    let current = std::env::current_dir().map_err(|e| refused(path, &e.to_string()))?;
    let mut resolved = PathBuf::new();
    for component in current.join(path).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => resolved.push(component),
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(part) => {
                resolved.push(part);
                let is_link = fs::symlink_metadata(&resolved).is_ok_and(|m| m.is_symlink());
                if is_link {
                    let target = fs::read_link(&resolved).unwrap_or_default();
                    resolved = fs::canonicalize(&resolved).map_err(|e| {
                        let why = if e.kind() == io::ErrorKind::NotFound {
                            format!(
                                "{} is a symbolic link to {}, which does not exist",
                                resolved.display(),
                                target.display()
                            )
                        } else {
                            format!("cannot follow the link {}: {e}", resolved.display())
                        };
                        refused(path, &why)
                    })?;
                }
            }
        }
    }
    Ok(resolved)
}

/// Whether `name` is a file a queuesim command writes: CSV tables, plots,
/// the HTML page, a shard's manifest and histograms, or the temporary file
/// of an interrupted write of an earlier version.
pub fn is_report_file(name: &str) -> bool {
    let extension = Path::new(name).extension().and_then(|e| e.to_str());
    is_temporary(name)
        || name == super::HTML_FILE
        || name == "shard.json"
        || name == crate::experiment::shard::HISTOGRAMS
        || matches!(extension, Some("csv" | "svg" | "png"))
}

/// Whether `name` is the temporary file of an interrupted write of an
/// earlier version.
fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// The files one of which every queuesim report holds: a folder with
/// files but none of these (say a user's own `nodes.csv`) is no report.
const MAIN_FILES: [&str; 4] = ["summary.csv", "sweep.csv", "compare.csv", "shard.json"];

/// Refuses a folder holding anything but queuesim files and folders.
fn check_queuesim_only(shown: &Path, dir: &Path) -> Result<(), FolderError> {
    let mut foreign = Vec::new();
    foreign_entries(dir, Path::new(""), 0, &mut foreign)
        .map_err(|e| refused(shown, &e.to_string()))?;
    if foreign.is_empty() {
        return Ok(());
    }
    Err(FolderError::Refused(format!(
        "refusing to write the report into {}: it holds files that are not queuesim report files ({}); choose another --out",
        shown.display(),
        foreign.join(", ")
    )))
}

/// Adds to `foreign` what in `dir` (named `shown` relative to the report
/// folder) is neither a report file nor a queuesim folder; when `dir` has
/// report-like files but none of [`MAIN_FILES`], all of them are foreign.
fn foreign_entries(
    dir: &Path,
    shown: &Path,
    depth: usize,
    foreign: &mut Vec<String>,
) -> io::Result<()> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        let relative = shown.join(&name).display().to_string();
        if kind.is_dir() && depth < MAX_NESTING {
            foreign_entries(&entry.path(), Path::new(&relative), depth + 1, foreign)?;
        } else if kind.is_file() && is_report_file(&name) {
            files.push((name, relative));
        } else {
            foreign.push(relative);
        }
    }
    let is_report = files.iter().all(|(name, _)| is_temporary(name))
        || files
            .iter()
            .any(|(name, _)| MAIN_FILES.contains(&name.as_str()));
    if !is_report {
        foreign.extend(files.into_iter().map(|(_, relative)| relative));
    }
    Ok(())
}

/// The folders inside `dir` (queuesim folders, once checked).
fn nested_folders(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut folders = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            folders.push(entry.path());
        }
    }
    Ok(folders)
}

/// Opens `dir` and takes its exclusive lock, refusing if another process
/// holds it. Retries when the folder was swapped between opening and
/// locking, so the lock taken is that of the folder now at `dir`.
fn lock_folder(shown: &Path, dir: &Path) -> Result<fs::File, FolderError> {
    loop {
        let file = fs::File::open(dir).map_err(|e| refused(shown, &e.to_string()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(FolderError::Refused(format!(
                    "another queuesim command is writing into {}; wait for it to finish or choose another --out",
                    shown.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(refused(shown, &e.to_string())),
        }
        if same_file(&file, dir) {
            return Ok(file);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, _: &Path) -> bool {
    true
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes a folder's entries to disk (best effort: not every system can).
fn sync_dir(dir: &Path) {
    if let Ok(file) = fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

/// Swaps the folders `new` and `target` in one step, so that `target` is
/// the new folder and `new` the old one. When `target` is briefly missing
/// (another command swapping its parent moves it), waits for it; when it
/// stays missing (removed), `new` is renamed into place and nothing is
/// left at `new`.
fn exchange(new: &Path, target: &Path) -> io::Result<()> {
    for _ in 0..RETRIES {
        match swap(new, target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && new.exists() => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            done => return done,
        }
    }
    fs::rename(new, target)
}

#[cfg(target_os = "linux")]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Without an atomic exchange: the old folder steps aside, the new one
/// takes its place, and the old one is moved to `a` for removal.
#[cfg(not(target_os = "linux"))]
fn swap(a: &Path, b: &Path) -> io::Result<()> {
    let aside = a.with_extension("old");
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(tag: &str) -> Vec<(String, Vec<u8>)> {
        ["a.csv", "b.csv"]
            .iter()
            .map(|n| (n.to_string(), format!("{tag}\n").into_bytes()))
            .collect()
    }

    #[test]
    fn a_replaced_report_keeps_no_old_file_and_no_staging_folder() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("old.png"), b"old").unwrap();
        fs::write(out.join("summary.csv"), b"old").unwrap();
        ReportFolder::claim(&out)
            .unwrap()
            .replace(&files("new"))
            .unwrap();
        let mut names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.csv", "b.csv"]);
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn nested_queuesim_folders_survive_a_replacement() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        fs::create_dir_all(out.join("sweep/shard-0-of-2")).unwrap();
        fs::write(out.join("sweep/shard-0-of-2/shard.json"), b"{}").unwrap();
        fs::write(out.join("summary.csv"), b"old").unwrap();
        ReportFolder::claim(&out)
            .unwrap()
            .replace(&files("new"))
            .unwrap();
        assert!(out.join("sweep/shard-0-of-2/shard.json").is_file());
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("r");
        let first = ReportFolder::claim(&out).unwrap();
        let err = ReportFolder::claim(&out).unwrap_err().to_string();
        assert!(err.contains("another queuesim command"), "{err}");
        drop(first);
        assert!(!out.exists(), "an unused folder it made is removed");
        ReportFolder::claim(&out).unwrap();
    }

    #[test]
    fn dot_dot_through_a_missing_folder_is_the_folder_above() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        fs::write(data.join("nodes.csv"), b"mine").unwrap();
        fs::write(data.join("notes.txt"), b"mine").unwrap();
        let err = ReportFolder::claim(&data.join("x/..")).unwrap_err();
        assert!(matches!(err, FolderError::Refused(_)), "{err}");
        assert!(err.to_string().contains("notes.txt"), "{err}");
        assert_eq!(resolve(&data.join("x/../.")).unwrap(), data);
    }

    #[test]
    fn a_folder_of_csv_files_without_a_report_summary_is_refused() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("nodes.csv"), b"mine").unwrap();
        let err = ReportFolder::claim(root.path()).unwrap_err().to_string();
        assert!(err.contains("nodes.csv"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(root.path().join("nowhere"), &link).unwrap();
        let err = ReportFolder::claim(&link).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn a_stale_staging_folder_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let stale = root.path().join(".r.staging-1");
        fs::create_dir(&stale).unwrap();
        ReportFolder::claim(&root.path().join("r")).unwrap();
        assert!(!stale.exists());
    }
}
