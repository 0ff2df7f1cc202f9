//! `queuesim run --shard i/n`: simulate part of the replications and write
//! them for `queuesim merge`.

use std::path::{Path, PathBuf};

use super::{Failure, interrupt, print_stdout};
use crate::engine::simulate;
use crate::experiment::shard::{FORMAT, Manifest, Shard, Work, write_run};
use crate::model::Model;
use crate::report::csv::tables;
use crate::results::summarize;

/// Runs the replications of `model` that `shard` owns and writes them to
/// `out` (default `reports/<name>/shard-i-of-n`).
pub(crate) fn run_shard(
    model: &Model,
    shard: Shard,
    out: Option<PathBuf>,
    quiet: bool,
) -> Result<(), Failure> {
    use rayon::prelude::*;
    let default_out = Path::new("reports").join(&model.name);
    let dir = out
        .unwrap_or_else(|| default_out.join(format!("shard-{}-of-{}", shard.index, shard.count)));
    let owned: Vec<u32> = (0..model.simulation.replications)
        .filter(|&r| shard.owns(r as usize))
        .collect();
    let per_replication: Vec<_> = owned
        .par_iter()
        .map(|&r| {
            let rep = simulate(model, r);
            (
                r,
                rep.conserves(),
                tables(&summarize(model, std::slice::from_ref(&rep))),
            )
        })
        .collect();
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
    let manifest = Manifest {
        format: FORMAT,
        scenario: model.name.clone(),
        shard: shard.index,
        shards: shard.count,
        out: default_out,
        work: Work::Run {
            replications: model.simulation.replications,
            tables: table_names,
        },
    };
    let per_replication: Vec<_> = per_replication
        .into_iter()
        .map(|(r, _, tables)| (r, tables))
        .collect();
    write_run(&dir, &manifest, &per_replication).map_err(|e| Failure::Run(e.to_string()))?;
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
