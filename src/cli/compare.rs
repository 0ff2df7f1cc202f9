//! `queuesim compare`: scenarios side by side under common random numbers.

use std::path::{Path, PathBuf};

use super::{Failure, ScenarioOptions, interrupt, print_stdout};
use queuesim::experiment::compare::{Difference, compare_runs, table, unmatched_queues};
use queuesim::model::Model;
use queuesim::report::csv::to_csv;
use queuesim::report::numbers;
use queuesim::report::plots::render_compare;
use queuesim::report::table::grid;
use queuesim::results::Quantity;
use queuesim::scenario;
use queuesim::stats::Estimate;

/// What `compare` compares: scenario files, and the overrides of the
/// candidates alone.
pub(crate) struct Sides<'a> {
    /// Scenario files; the first is the baseline.
    pub scenarios: &'a [PathBuf],
    /// `--candidate-set` overrides, applied after `--set`.
    pub candidate_overrides: &'a [String],
}

/// Loads every scenario with the baseline's seed and replications (unless
/// `--seed`/`--replications` set them), the candidates with their own
/// overrides too, compares, writes `compare.csv` and the overlay plots to
/// `out` and prints the side-by-side table.
pub(crate) fn compare_command(
    sides: &Sides<'_>,
    out: Option<&Path>,
    options: &ScenarioOptions,
    quiet: bool,
) -> Result<(), Failure> {
    let models = load_sides(sides, options)?;
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
             candidate - baseline with paired 95% CIs (* = significant)\n\n{}{}\nwrote compare.csv and overlay plots to {}\n",
            s.seed,
            s.replications,
            side_by_side(&differences),
            unmatched_notes(&models),
            dir.display()
        ));
    }
    Ok(())
}

/// The baseline and the candidates: with one file and `--candidate-set`,
/// the candidate is that file again; a candidate with its own overrides is
/// named after them (`quickstart [queues.orders.consumers.count=10]`).
fn load_sides(sides: &Sides<'_>, options: &ScenarioOptions) -> Result<Vec<Model>, Failure> {
    let input = |e: scenario::ScenarioError| Failure::Input(e.to_string());
    let (baseline, candidates) = match sides.scenarios {
        [] => return Err(Failure::Input("compare needs a scenario file".to_owned())),
        [only] if !sides.candidate_overrides.is_empty() => (only, vec![only.clone()]),
        [_] => {
            return Err(Failure::Input(
                "compare needs two scenario files, or one with --candidate-set KEY=VALUE \
                 (the candidate is the file with those changes)"
                    .to_owned(),
            ));
        }
        [first, rest @ ..] => (first, rest.to_vec()),
    };
    let first = scenario::load(baseline, &options.all_overrides()).map_err(input)?;
    let common = ScenarioOptions {
        seed: Some(options.seed.unwrap_or(first.simulation.seed)),
        replications: Some(
            options
                .replications
                .unwrap_or(first.simulation.replications),
        ),
        ..options.clone()
    };
    let mut models = vec![scenario::load(baseline, &common.all_overrides()).map_err(input)?];
    let mut overrides = common.all_overrides();
    overrides.extend(sides.candidate_overrides.iter().cloned());
    for path in candidates {
        let mut model = scenario::load(&path, &overrides).map_err(input)?;
        if !sides.candidate_overrides.is_empty() {
            model.name = format!("{} [{}]", model.name, sides.candidate_overrides.join(", "));
        }
        models.push(model);
    }
    Ok(models)
}

/// A line per queue of only one side, after the tables.
fn unmatched_notes(models: &[Model]) -> String {
    (models[1..].iter())
        .flat_map(|candidate| unmatched_queues(&models[0], candidate))
        .map(|line| format!("note: {line}: its metrics show `-` on the other side\n"))
        .collect()
}

fn with_ci(metric: &str, estimate: Estimate) -> String {
    numbers::estimate(Quantity::of_metric(metric), estimate.mean, estimate.ci95)
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
                    with_ci(&d.metric, d.baseline_value),
                    with_ci(&d.metric, d.candidate_value),
                    format!(
                        "{}{}",
                        with_ci(&d.metric, d.difference),
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
