//! `queuesim merge`: combine shard directories into the CSV files of the
//! whole run or sweep.

use std::path::{Path, PathBuf};

use super::{Failure, interrupt, print_stdout};
use queuesim::experiment::shard::merge;

/// Merges `dirs` and writes the files to `out` (default: where the
/// unsharded command writes).
pub(crate) fn merge_command(
    dirs: &[PathBuf],
    out: Option<&Path>,
    quiet: bool,
) -> Result<(), Failure> {
    let merged = merge(dirs).map_err(|e| Failure::Input(e.to_string()))?;
    let dir = out.map_or(merged.out, Path::to_path_buf);
    let mut folder = super::claim(&dir)?;
    interrupt::check(|| format!("nothing was written to {}", dir.display()))?;
    let written = super::replace(&mut folder, &merged.files)?;
    if !quiet {
        print_stdout(&format!(
            "merged {} shards into {} files in {}\n",
            dirs.len(),
            written.len(),
            dir.display()
        ));
    }
    Ok(())
}
