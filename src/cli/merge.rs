//! `queuesim merge`: combine shard directories into the CSV files of the
//! whole run or sweep.

use std::path::{Path, PathBuf};

use super::{Failure, print_stdout};
use crate::experiment::shard::{ShardError, merge};
use crate::report::write_all;

/// Merges `dirs` and writes the files to `out` (default: where the
/// unsharded command writes).
pub(crate) fn merge_command(
    dirs: &[PathBuf],
    out: Option<&Path>,
    quiet: bool,
) -> Result<(), Failure> {
    let merged = merge(dirs).map_err(|e| match e {
        ShardError::Write(_) => Failure::Run(e.to_string()),
        _ => Failure::Input(e.to_string()),
    })?;
    let dir = out.map_or(merged.out, Path::to_path_buf);
    let written = write_all(&dir, &merged.files).map_err(|e| Failure::Run(e.to_string()))?;
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
