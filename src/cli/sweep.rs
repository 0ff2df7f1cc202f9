//! `queuesim sweep`: a grid of configurations, one CSV row per point.

use std::path::{Path, PathBuf};

use super::progress::{warning_prefix, with_progress};
use super::{Failure, interrupt, print_stdout};
use queuesim::experiment::range::{Setting, parse_setting};
use queuesim::experiment::shard::{Manifest, Shard, Work, sweep_files};
use queuesim::experiment::sweep::{
    MAX_LOAD, Sweep, SweepError, point_quantiles, prepare, run, table,
};
use queuesim::report::csv::to_csv;
use queuesim::report::numbers;
use queuesim::report::plots::render_sweep;
use queuesim::report::table::grid;
use queuesim::results::Quantity;
use queuesim::results::SummaryMetric::{self, P50Latency, P99Latency, SuccessRatio, Throughput};
use queuesim::results::pooled::codec;

/// The arguments of `queuesim sweep`.
#[derive(Debug, Clone)]
pub(crate) struct SweepArgs {
    /// Scenario file.
    pub scenario: PathBuf,
    /// `--set KEY=RANGE` (axes) and `--set KEY=VALUE` (fixed) arguments.
    pub settings: Vec<String>,
    /// `--seed`, `--replications` as overrides.
    pub overrides: Vec<String>,
    /// Output directory.
    pub out: Option<PathBuf>,
    /// Which part of the work to run.
    pub shard: Option<Shard>,
    /// No progress bar, no table.
    pub quiet: bool,
}

/// Checks the sweep's values, simulates the (owned part of the) grid,
/// building each point as it runs, and writes `sweep.csv` with its curves
/// or, with `--shard`, the shard's records and histograms.
pub(crate) fn sweep_command(args: &SweepArgs) -> Result<(), Failure> {
    let mut fixed = Vec::new();
    let mut axes = Vec::new();
    for arg in &args.settings {
        match parse_setting(arg).map_err(|e| Failure::Input(e.to_string()))? {
            Setting::Axis(axis) => axes.push(axis),
            Setting::Fixed(value) => fixed.push(value),
        }
    }
    if axes.is_empty() {
        return Err(Failure::Input(
            "sweep needs at least one --set KEY=RANGE (a..b, a..b:step or [v1,v2,...])".to_owned(),
        ));
    }
    fixed.extend(args.overrides.iter().cloned());
    let sweep = prepare(&args.scenario, &fixed, &axes).map_err(failure)?;
    let name = sweep.first.name.clone();
    let default_out = Path::new("reports").join(&name).join("sweep");
    let dir = match (&args.out, args.shard) {
        (Some(dir), _) => dir.clone(),
        (None, Some(shard)) => default_out.join(shard.folder_name()),
        (None, None) => default_out.clone(),
    };
    let mut folder = super::claim(&dir)?;
    let points = sweep.layout.point_count() as u64;
    let stopped = || "the sweep stopped before its last point; nothing was written".to_owned();
    match args.shard {
        Some(shard) => {
            let outcome = with_progress(points, "points", !args.quiet, |bar| {
                run(&sweep, shard, &|| bar.inc(1), &codec::encode)
            });
            interrupt::check(stopped)?;
            let outcome = outcome.map_err(failure)?;
            let work = Work::Sweep {
                layout: sweep.layout.clone(),
            };
            let fingerprint = sweep.fingerprint.clone();
            let manifest = Manifest::new(&sweep.first, fingerprint, shard, default_out, work);
            let files = sweep_files(&manifest, &outcome.records, &outcome.points)
                .map_err(|e| Failure::Run(e.to_string()))?;
            super::replace(&mut folder, &files)?;
            if !args.quiet {
                print_stdout(&format!(
                    "shard {}/{}: {} replications written to {}; combine every shard with `queuesim merge`\n",
                    shard.index,
                    shard.count,
                    outcome.records.len(),
                    dir.display()
                ));
            }
        }
        None => {
            let names = &sweep.layout.names;
            let outcome = with_progress(points, "points", !args.quiet, |bar| {
                run(&sweep, Shard::WHOLE, &|| bar.inc(1), &|pooled| {
                    point_quantiles(names, pooled)
                })
            });
            interrupt::check(stopped)?;
            let outcome = outcome.map_err(failure)?;
            let quantiles: Vec<Vec<f64>> = (outcome.points.into_iter())
                .map(|point| point.expect("the whole sweep runs every point"))
                .collect();
            let csv = table(&sweep.layout, &outcome.records, &quantiles);
            let mut files = vec![("sweep.csv".to_owned(), to_csv(&csv))];
            for plot in
                render_sweep(&sweep.layout, &csv).map_err(|e| Failure::Run(e.to_string()))?
            {
                files.extend(plot.files());
            }
            interrupt::check(|| format!("nothing was written to {}", dir.display()))?;
            super::replace(&mut folder, &files)?;
            if !args.quiet {
                for warning in unstable_points(&sweep, &csv) {
                    eprintln!("{} {warning}", warning_prefix());
                }
                print_stdout(&format!(
                    "{}\nwrote sweep.csv and sweep_curves.png/.svg to {}\n",
                    overview(&sweep, &csv),
                    dir.display()
                ));
            }
        }
    }
    Ok(())
}

/// A sweep that cannot be set up or run: bad input (exit 2), or a signal.
fn failure(error: SweepError) -> Failure {
    match error {
        SweepError::Interrupted => Failure::Interrupted(error.to_string()),
        _ => Failure::Input(error.to_string()),
    }
}

/// The swept keys, a few headline metrics per point with their units, and
/// the busiest queue's offered load.
fn overview(sweep: &Sweep, csv: &queuesim::table::Table) -> String {
    let shown = [P50Latency, P99Latency, SuccessRatio, Throughput].map(SummaryMetric::name);
    let mut header = sweep.layout.keys();
    header.extend(shown.iter().map(|s| s.to_string()));
    header.push(MAX_LOAD.to_owned());
    let column = |name: &str| csv.header.iter().position(|h| h == name);
    let columns: Vec<(usize, Quantity)> = (shown.iter().copied().chain([MAX_LOAD]))
        .filter_map(|m| Some((column(m)?, Quantity::of_metric(m))))
        .collect();
    let keys = sweep.layout.axes.len();
    let cell = |row: &[String], c: usize| row[c].parse().unwrap_or(f64::NAN);
    let rows: Vec<Vec<String>> = (csv.rows.iter())
        .map(|row| {
            let mut cells = row[..keys].to_vec();
            cells.extend(
                columns
                    .iter()
                    .map(|&(c, q)| numbers::value(q, cell(row, c))),
            );
            cells
        })
        .collect();
    grid(&header, &rows)
}

/// A warning per point whose busiest queue has an offered load of 1 or more.
fn unstable_points(sweep: &Sweep, csv: &queuesim::table::Table) -> Vec<String> {
    let Some(load) = csv.header.iter().position(|h| h == MAX_LOAD) else {
        return Vec::new();
    };
    (csv.rows.iter().enumerate())
        .filter_map(|(point, row)| {
            let rho: f64 = row[load].parse().ok()?;
            (rho >= 1.0).then(|| {
                format!(
                    "at {}: the busiest queue's offered load is ρ = {} >= 1, so it has no \
                     steady state (its backlog grows for the whole run, or a bounded queue \
                     loses the excess); latencies there measure the run's length",
                    sweep.layout.describe(point),
                    numbers::value(Quantity::Plain, rho)
                )
            })
        })
        .collect()
}
