//! `queuesim compare`: scenarios side by side under common random numbers.

use std::path::{Path, PathBuf};

use super::{Failure, ScenarioOptions, interrupt, print_stdout};
use queuesim::experiment::compare::{Difference, compare_runs, table};
use queuesim::report::csv::to_csv;
use queuesim::report::plots::render_compare;
use queuesim::report::table::{grid, short};
use queuesim::scenario;

/// Loads every scenario with the baseline's seed and replications (unless
/// `--seed`/`--replications` set them), compares, writes `compare.csv` and
/// the overlay plots to `out` and prints the side-by-side table.
pub(crate) fn compare_command(
    scenarios: &[PathBuf],
    out: Option<&Path>,
    options: &ScenarioOptions,
    quiet: bool,
) -> Result<(), Failure> {
    let input = |e: scenario::ScenarioError| Failure::Input(e.to_string());
    let first = scenario::load(&scenarios[0], &options.all_overrides()).map_err(input)?;
    let common = ScenarioOptions {
        seed: Some(options.seed.unwrap_or(first.simulation.seed)),
        replications: Some(
            options
                .replications
                .unwrap_or(first.simulation.replications),
        ),
        ..options.clone()
    };
    let models = scenarios
        .iter()
        .map(|path| scenario::load(path, &common.all_overrides()).map_err(input))
        .collect::<Result<Vec<_>, _>>()?;
    let dir = out.map_or_else(|| Path::new("reports").join("compare"), Path::to_path_buf);
    let mut folder = super::claim(&dir)?;
    let comparison = compare_runs(&models).map_err(|e| Failure::Input(e.to_string()))?;
    interrupt::check(|| {
        "the comparison stopped before its last scenario; nothing was written".to_owned()
    })?;
    let differences = comparison.differences;
    let mut files = vec![("compare.csv".to_owned(), to_csv(&table(&differences)))];
    for plot in render_compare(&comparison.runs).map_err(|e| Failure::Run(e.to_string()))? {
        files.extend(plot.files());
    }
    interrupt::check(|| format!("nothing was written to {}", dir.display()))?;
    super::replace(&mut folder, &files)?;
    if !quiet {
        let s = &models[0].simulation;
        print_stdout(&format!(
            "common random numbers: seed {}, {} replications per scenario; differences are \
             candidate - baseline with paired 95% CIs (* = significant)\n\n{}\nwrote compare.csv and overlay plots to {}\n",
            s.seed,
            s.replications,
            side_by_side(&differences),
            dir.display()
        ));
    }
    Ok(())
}

fn with_ci(mean: f64, ci95: f64) -> String {
    if ci95.is_nan() {
        short(mean)
    } else {
        format!("{} ± {}", short(mean), short(ci95))
    }
}

/// One block per candidate: metric, baseline, candidate, difference.
fn side_by_side(differences: &[Difference]) -> String {
    let mut out = String::new();
    let mut candidates: Vec<&str> = differences.iter().map(|d| d.candidate.as_str()).collect();
    candidates.dedup();
    for (k, _) in candidates.iter().enumerate() {
        let block: Vec<&Difference> = differences
            .iter()
            .filter(|d| {
                let position = candidates.iter().position(|c| *c == d.candidate);
                position == Some(k)
            })
            .collect();
        let Some(first) = block.first() else { continue };
        let rows: Vec<Vec<String>> = block
            .iter()
            .map(|d| {
                vec![
                    d.metric.clone(),
                    with_ci(d.baseline_value.mean, d.baseline_value.ci95),
                    with_ci(d.candidate_value.mean, d.candidate_value.ci95),
                    format!(
                        "{}{}",
                        with_ci(d.difference.mean, d.difference.ci95),
                        if d.significant { " *" } else { "" }
                    ),
                ]
            })
            .collect();
        let header = [
            "metric".to_owned(),
            first.baseline.clone(),
            first.candidate.clone(),
            "difference".to_owned(),
        ];
        out.push_str(&grid(&header, &rows));
        out.push('\n');
    }
    out
}
