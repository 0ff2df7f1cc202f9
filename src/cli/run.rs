//! `queuesim run`: simulate a scenario, write its report, print a summary.

use std::path::Path;
use std::time::Instant;

use super::progress::{warning_prefix, with_progress};
use super::{Failure, interrupt, print_stdout};
use crate::engine;
use crate::model::Model;
use crate::report::{self, ReportFolder, ReportInput};
use crate::results;

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
    let scenario_text = crate::input::read_text(origin.path, crate::input::MAX_INPUT_BYTES)
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
    let auto = engine::auto_warmup(model);
    interrupt::check(unwritten)?;
    let model = auto.as_ref().map_or(model, |(chosen, _)| chosen);
    if let Some((_, choice)) = &auto {
        tell_warmup(choice, quiet);
    }
    let result = simulate_all(model, !quiet);
    interrupt::check(unwritten)?;
    let elapsed_s = started.elapsed().as_secs_f64();
    if !result.conservation_failures.is_empty() {
        return Err(Failure::Run(format!(
            "conservation broken (produced != delivered + lost + in flight) in replications {:?} of {}: please report this bug",
            result.conservation_failures, model.name
        )));
    }
    for finding in report::warnings::run_findings(&result) {
        eprintln!("{} {finding}", warning_prefix());
    }
    let command_line = reproduce(origin, &dir);
    let files = report::render(&ReportInput {
        model,
        result: &result,
        scenario_text: &scenario_text,
        command_line: &command_line,
    })
    .map_err(|e| match e {
        report::plots::PlotError::Interrupted => Failure::Interrupted(unwritten()),
        e => Failure::Run(e.to_string()),
    })?;
    interrupt::check(unwritten)?;
    let written = super::replace(folder, &files)?;
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

/// Runs every replication in parallel and summarises them as they finish
/// ([`results::run_summarized`]: no replication is kept), counting
/// finished replications on a progress bar.
fn simulate_all(model: &Model, progress: bool) -> results::RunResult {
    let total = model.simulation.replications;
    with_progress(u64::from(total), "replications", progress, |bar| {
        results::run_summarized(model, 0..total, &|| bar.inc(1)).summarize()
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
