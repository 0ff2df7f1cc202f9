//! `queuesim run`: simulate a scenario, write its report, print a summary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::progress::{warning_prefix, with_progress};
use super::{Failure, ScenarioOptions, claim, interrupt, load, precision, print_stdout, shard};
use queuesim::engine;
use queuesim::model::Model;
use queuesim::report::{self, ReportFolder};

/// Where a model came from: what the report quotes and how to reproduce it.
pub(crate) struct Origin<'a> {
    /// The scenario file.
    pub path: &'a Path,
    /// Every `--set` override, `--seed` and `--replications` included.
    pub overrides: &'a [String],
}

/// Simulates `model`, writes its report files to `folder` and prints the
/// summary.
pub(crate) fn run_one(
    model: &Model,
    origin: &Origin<'_>,
    folder: &mut ReportFolder,
    quiet: bool,
    json: bool,
) -> Result<(), Failure> {
    let dir = folder.shown().to_path_buf();
    let scenario_text = queuesim::input::read_text(origin.path, queuesim::input::MAX_INPUT_BYTES)
        .map_err(|e| {
        Failure::Input(format!(
            "cannot read scenario {}: {e}",
            origin.path.display()
        ))
    })?;
    for warning in &model.warnings {
        eprintln!("{} {warning}", warning_prefix());
    }
    let unwritten = || format!("no report was written to {}", dir.display());
    let started = Instant::now();
    let tell = |choice: &engine::WarmupChoice| tell_warmup(choice, quiet);
    let run = simulate_all(model, &tell, !quiet).map_err(|e| match e {
        queuesim::RunError::Interrupted => Failure::Interrupted(unwritten()),
        e => Failure::Run(e.to_string()),
    })?;
    let elapsed_s = started.elapsed().as_secs_f64();
    for finding in &run.findings {
        eprintln!("{} {finding}", warning_prefix());
    }
    let (model, result) = (&run.model, &run.result);
    let command_line = reproduce(origin, &dir);
    let files = (run.report_files(&scenario_text, &command_line)).map_err(|e| match e {
        report::plots::PlotError::Interrupted => Failure::Interrupted(unwritten()),
        e => Failure::Run(e.to_string()),
    })?;
    interrupt::check(unwritten)?;
    let written = super::replace(folder, &files)?;
    if json {
        let text = serde_json::to_string_pretty(result)
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
            report::table::summary(result),
            written.len(),
            dir.display()
        ));
    }
    Ok(())
}

/// Says on stderr which warm-up was chosen automatically, and warns when
/// the pilots suggest the run is too short to settle.
fn tell_warmup(choice: &engine::WarmupChoice, quiet: bool) {
    if !quiet {
        let how = if choice.detected {
            format!("chosen by MSER-5 on {} pilot replications", choice.pilots)
        } else {
            "10% of the duration: too few deliveries for MSER-5".to_string()
        };
        eprintln!(
            "warm-up: {} s, {how} (set `simulation.warmup` to fix it)",
            choice.warmup_s
        );
    }
    if choice.at_limit {
        eprintln!(
            "{} latency was still drifting at mid-run in a pilot replication: the run may be too short to reach steady state; lengthen `simulation.duration`",
            warning_prefix()
        );
    }
}

/// Runs `model` as the library's [`queuesim::run`] does, counting
/// finished replications on a progress bar.
fn simulate_all(
    model: &Model,
    tell_warmup: &dyn Fn(&engine::WarmupChoice),
    progress: bool,
) -> Result<queuesim::Run, queuesim::RunError> {
    let total = model.simulation.replications;
    with_progress(u64::from(total), "replications", progress, |bar| {
        let done = || bar.inc(1);
        let options = (queuesim::RunOptions::default())
            .on_warmup(tell_warmup)
            .on_replication(&done);
        queuesim::run(model, &options)
    })
}

/// The shell command that reproduces a run into `dir`.
fn reproduce(origin: &Origin<'_>, dir: &Path) -> String {
    let mut words = vec![
        "queuesim".to_string(),
        "run".to_string(),
        shell_quote(&origin.path.display().to_string()),
    ];
    for value in origin.overrides {
        words.push("--set".to_string());
        words.push(shell_quote(value));
    }
    words.push("--out".to_string());
    words.push(shell_quote(&dir.display().to_string()));
    words.join(" ")
}

/// `word` quoted for a POSIX shell when it holds anything but safe characters.
fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reproducing_command_quotes_what_a_shell_would_split() {
        let overrides = [
            "producers.web.rate=900/s".to_string(),
            "name=it's".to_string(),
        ];
        let origin = Origin {
            path: Path::new("scenarios/my scenario.toml"),
            overrides: &overrides,
        };
        assert_eq!(
            reproduce(&origin, Path::new("reports/x")),
            "queuesim run 'scenarios/my scenario.toml' --set producers.web.rate=900/s \
             --set 'name=it'\\''s' --out reports/x"
        );
    }
}

/// What `queuesim run` is asked to do.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// Output directory (default: reports/NAME, NAME the scenario's name).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Scenario overrides.
    #[command(flatten)]
    pub options: ScenarioOptions,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Run only shard i of n (0-based) of the replications and write
    /// them for `queuesim merge` instead of a report.
    #[arg(long, value_name = "i/n")]
    pub shard: Option<queuesim::experiment::shard::Shard>,
    /// Add replications until the 95% CI half-width of the target
    /// metric is below this fraction of its mean, e.g. 0.02.
    #[arg(long, value_name = "FRACTION")]
    pub precision: Option<f64>,
    /// Target metric of --precision: a summary metric or `node.metric`.
    #[arg(long, default_value = "mean_latency", value_name = "METRIC")]
    pub precision_metric: String,
    /// Most replications --precision may run.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub max_replications: u32,
}

/// `queuesim run`: every scenario's report, or its shard.
pub(crate) fn run_command(args: RunArgs) -> Result<(), Failure> {
    let RunArgs {
        scenarios,
        out,
        options,
        quiet,
        json,
        shard,
        precision,
        precision_metric,
        max_replications,
    } = args;
    let models = scenarios
        .iter()
        .map(|path| load(path, &options))
        .collect::<Result<Vec<_>, _>>()?;
    let overrides = options.all_overrides();
    let mut folders = report_folders(&models, out.as_deref(), shard)?;
    let mut written = Vec::new();
    for ((model, path), folder) in models.iter().zip(&scenarios).zip(&mut folders) {
        if let Some(shard) = shard {
            shard::run_shard(model, shard, folder, quiet)?;
            continue;
        }
        let settled;
        let model = match precision {
            Some(precision) => {
                settled =
                    precision::settle(model, precision, &precision_metric, max_replications, quiet)
                        .map_err(|f| interrupt::noting_written(f, &written))?;
                &settled
            }
            None => model,
        };
        let origin = Origin {
            path,
            overrides: &overrides,
        };
        run_one(model, &origin, folder, quiet, json)
            .map_err(|f| interrupt::noting_written(f, &written))?;
        written.push(folder.shown().to_path_buf());
    }
    Ok(())
}

/// Claims each model's report folder: `--out` itself for one scenario, a
/// folder per scenario inside it for several, else `reports/NAME` (or the
/// shard's folder).
fn report_folders(
    models: &[Model],
    out: Option<&Path>,
    shard: Option<queuesim::experiment::shard::Shard>,
) -> Result<Vec<ReportFolder>, Failure> {
    let several = models.len() > 1;
    let mut folders = Vec::new();
    for model in models {
        let dir: PathBuf = match (out, several, shard) {
            (Some(dir), false, _) => dir.to_path_buf(),
            (Some(dir), true, _) => dir.join(&model.name),
            (None, _, Some(shard)) => shard::default_dir(&model.name, shard),
            (None, _, None) => Path::new("reports").join(&model.name),
        };
        folders.push(claim(&dir)?);
    }
    Ok(folders)
}
