//! `queuesim sweep`: a grid of configurations, one CSV row per point.

use std::path::{Path, PathBuf};

use super::progress::with_progress;
use super::{Failure, interrupt, print_stdout};
use queuesim::experiment::range::{Setting, parse_setting};
use queuesim::experiment::shard::{Manifest, Shard, Work, sweep_files};
use queuesim::experiment::sweep::{Sweep, SweepError, prepare, run, table};
use queuesim::report::csv::to_csv;
use queuesim::report::plots::render_sweep;
use queuesim::report::table::grid;
use queuesim::results::SummaryMetric::{self, P50Latency, P99Latency, SuccessRatio, Throughput};

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

/// Loads every point, simulates the (owned part of the) grid and writes
/// `sweep.csv` with its curves or, with `--shard`, the shard's records.
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
    let sweep = prepare(&args.scenario, &fixed, &axes).map_err(|e| match e {
        SweepError::Interrupted => Failure::Interrupted(e.to_string()),
        _ => Failure::Input(e.to_string()),
    })?;
    let name = sweep.models[0].name.clone();
    let default_out = Path::new("reports").join(&name).join("sweep");
    let dir = match (&args.out, args.shard) {
        (Some(dir), _) => dir.clone(),
        (None, Some(shard)) => default_out.join(shard.folder_name()),
        (None, None) => default_out.clone(),
    };
    let mut folder = super::claim(&dir)?;
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let outcome = with_progress(sweep.models.len() as u64, "points", !args.quiet, |bar| {
        run(&sweep, shard, &|| bar.inc(1))
    });
    interrupt::check(|| "the sweep stopped before its last point; nothing was written".to_owned())?;
    match args.shard {
        Some(shard) => {
            let work = Work::Sweep {
                layout: sweep.layout.clone(),
            };
            let manifest = Manifest::new(&sweep.models, shard, default_out, work);
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
            let csv = table(&sweep.layout, &outcome.records, &outcome.points);
            let mut files = vec![("sweep.csv".to_owned(), to_csv(&csv))];
            for plot in
                render_sweep(&sweep.layout, &csv).map_err(|e| Failure::Run(e.to_string()))?
            {
                files.extend(plot.files());
            }
            interrupt::check(|| format!("nothing was written to {}", dir.display()))?;
            super::replace(&mut folder, &files)?;
            if !args.quiet {
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

/// The swept keys and a few headline metrics per point.
fn overview(sweep: &Sweep, csv: &queuesim::table::Table) -> String {
    let shown = [P50Latency, P99Latency, SuccessRatio, Throughput].map(SummaryMetric::name);
    let mut header = sweep.layout.keys.clone();
    header.extend(shown.iter().map(|s| s.to_string()));
    let columns: Vec<usize> = shown
        .iter()
        .filter_map(|m| csv.header.iter().position(|h| h == m))
        .collect();
    let keys = sweep.layout.keys.len();
    let rows: Vec<Vec<String>> = csv
        .rows
        .iter()
        .map(|row| {
            let mut cells = row[..keys].to_vec();
            cells.extend(columns.iter().map(|&c| {
                let value: f64 = row[c].parse().unwrap_or(f64::NAN);
                queuesim::report::table::short(value)
            }));
            cells
        })
        .collect();
    grid(&header, &rows)
}
