//! `queuesim run`: simulate a scenario, write its report, print a summary.

use std::path::Path;
use std::time::Instant;

use super::{Failure, print_stdout};
use crate::model::Model;
use crate::{engine, report, results};

/// Simulates `model`, writes its report files to `dir` and prints the summary.
pub(crate) fn run_one(model: &Model, dir: &Path, quiet: bool, json: bool) -> Result<(), Failure> {
    for warning in &model.warnings {
        eprintln!("warning: {warning}");
    }
    let started = Instant::now();
    let replications = engine::run(model);
    let elapsed_s = started.elapsed().as_secs_f64();
    let result = results::summarize(model, &replications);
    if !result.conservation_failures.is_empty() {
        return Err(Failure::Run(format!(
            "conservation broken (produced != delivered + lost + in flight) in replications {:?} of {}: please report this bug",
            result.conservation_failures, model.name
        )));
    }
    let written = report::write_all(dir, &report::render(&result))
        .map_err(|e| Failure::Run(e.to_string()))?;
    if json {
        let text = serde_json::to_string_pretty(&result)
            .map_err(|e| Failure::Run(format!("cannot serialise results: {e}")))?;
        print_stdout(&format!("{text}\n"));
    } else if !quiet {
        let s = &model.simulation;
        print_stdout(&format!(
            "{}: {} replications x {} s measured after {} s warm-up; {} events in {:.2} s ({:.1} M events/s)\n\n{}\nwrote {} files to {}\n",
            model.name,
            s.replications,
            s.duration_s,
            s.warmup_s,
            result.events,
            elapsed_s,
            result.events as f64 / elapsed_s.max(1e-9) / 1e6,
            report::table::summary(&result),
            written.len(),
            dir.display()
        ));
    }
    Ok(())
}
