//! `queuesim run --shard i/n`: simulate part of the replications and write
//! them for `queuesim merge`.

use std::path::{Path, PathBuf};

use super::{Failure, interrupt, print_stdout};
use queuesim::experiment::shard::{Manifest, Shard, Work, fingerprint, model_digest, run_files};
use queuesim::model::Model;
use queuesim::report::ReportFolder;
use queuesim::report::csv::tables;
use queuesim::results::{PooledHistograms, summarize};

/// Where `run --shard` writes by default: `reports/<name>/shard-i-of-n`.
pub(crate) fn default_dir(name: &str, shard: Shard) -> PathBuf {
    Path::new("reports").join(name).join(shard.folder_name())
}

/// Runs the replications of `model` that `shard` owns and writes them to
/// `folder`.
pub(crate) fn run_shard(
    model: &Model,
    shard: Shard,
    folder: &mut ReportFolder,
    quiet: bool,
) -> Result<(), Failure> {
    use rayon::prelude::*;
    let default_out = Path::new("reports").join(&model.name);
    let dir = folder.shown().to_path_buf();
    let owned: Vec<u32> = (0..model.simulation.replications)
        .filter(|&r| shard.owns(r as usize))
        .collect();
    let pooled = std::sync::Mutex::new(PooledHistograms::for_model(model));
    let choice = queuesim::engine::Choice::for_model(model);
    let per_replication: Vec<_> = owned
        .par_iter()
        .filter(|_| !queuesim::engine::stop_requested())
        .map(|&r| {
            let rep = choice.simulate(r);
            pooled
                .lock()
                .expect("no replication panicked while adding histograms")
                .add_replication(&rep);
            (
                r,
                rep.conserves(),
                tables(&summarize(model, std::slice::from_ref(&rep))),
            )
        })
        .collect();
    let pooled = pooled
        .into_inner()
        .expect("no replication panicked while adding histograms");
    interrupt::check(|| format!("no shard was written to {}", dir.display()))?;
    if let Some((r, ..)) = per_replication.iter().find(|(_, conserves, _)| !conserves) {
        return Err(Failure::Run(format!(
            "conservation broken (produced != delivered + lost + in flight) in replication {r} of {}: please report this bug",
            model.name
        )));
    }
    let table_names = per_replication
        .first()
        .map(|(_, _, t)| t.iter().map(|(name, _)| (*name).to_owned()).collect())
        .unwrap_or_default();
    let work = Work::Run {
        replications: model.simulation.replications,
        tables: table_names,
    };
    let fingerprint = fingerprint([model_digest(model)]);
    let manifest = Manifest::new(model, fingerprint, shard, default_out, work);
    let per_replication: Vec<_> = per_replication
        .into_iter()
        .map(|(r, _, tables)| (r, tables))
        .collect();
    let files =
        run_files(&manifest, &per_replication, &pooled).map_err(|e| Failure::Run(e.to_string()))?;
    super::replace(folder, &files)?;
    if !quiet {
        print_stdout(&format!(
            "shard {}/{} of {}: replications {owned:?} written to {}; combine every shard with `queuesim merge`\n",
            shard.index,
            shard.count,
            model.name,
            dir.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use queuesim::experiment::shard::merge;
    use queuesim::report::csv::to_csv;

    /// Two classes share queue `a`; a third reaches only `b`, so `a` has an
    /// empty class: every kind of quantile cell, an undefined one included.
    const CLASSES: &str = r#"
[simulation]
duration = 200
warmup = 20
replications = 5
seed = 11
[[producers]]
name = "low"
to = "a"
rate = 2
priority = 0
[[producers]]
name = "high"
to = "a"
rate = 1
priority = 5
[[producers]]
name = "direct"
to = "b"
rate = 1
priority = 9
[[queues]]
name = "a"
discipline = "priority"
[queues.consumers]
service = { dist = "exponential", mean = 0.2 }
next = "b"
[[queues]]
name = "b"
discipline = "priority"
[queues.consumers]
service = { dist = "exponential", mean = 0.1 }
"#;

    #[test]
    fn a_sharded_run_with_priority_classes_merges_into_the_run_tables() {
        let model = queuesim::scenario::from_str(CLASSES, Path::new("classes.toml"), &[]).unwrap();
        let root = tempfile::tempdir().unwrap();
        let dirs: Vec<PathBuf> = (0..3)
            .map(|index| {
                let dir = root.path().join(index.to_string());
                let shard = Shard { index, count: 3 };
                let mut folder = ReportFolder::claim(&dir).unwrap();
                run_shard(&model, shard, &mut folder, true).unwrap();
                dir
            })
            .collect();
        let merged = merge(&dirs).unwrap();
        let whole = tables(&summarize(&model, &queuesim::engine::run(&model)));
        assert_eq!(merged.files.len(), whole.len());
        for ((name, bytes), (whole_name, table)) in merged.files.iter().zip(&whole) {
            assert_eq!(name, whole_name);
            assert_eq!(
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&to_csv(table)),
                "{name}"
            );
        }
        let classes = String::from_utf8_lossy(&merged.files[2].1).into_owned();
        assert!(classes.contains("\na,9,0,0,0,0,,,,,,\n"), "{classes}");
    }
}
