//! Running a model as `queuesim run` does: the automatic warm-up when the
//! scenario leaves it out, every replication in parallel summarised as it
//! finishes, the conservation check, the findings about the run, and the
//! report files. The command line is a thin layer over [`run`].

use std::path::{Path, PathBuf};

use crate::engine::{self, WarmupChoice};
use crate::model::Model;
use crate::report::{self, FolderError, ReportInput, plots::PlotError};
use crate::results::{self, RunResult};

/// How to run a model; `RunOptions::default()` runs it as the command does.
#[derive(Default, Clone, Copy)]
#[non_exhaustive]
pub struct RunOptions<'a> {
    /// Called once as each replication finishes (from worker threads).
    pub on_replication: Option<&'a (dyn Fn() + Sync)>,
    /// Called with the automatic warm-up once it is chosen, before the
    /// measured replications start.
    pub on_warmup: Option<&'a dyn Fn(&WarmupChoice)>,
}

impl<'a> RunOptions<'a> {
    /// Calls `progress` as each replication finishes.
    pub fn on_replication(mut self, progress: &'a (dyn Fn() + Sync)) -> Self {
        self.on_replication = Some(progress);
        self
    }

    /// Calls `tell` with the automatic warm-up once it is chosen.
    pub fn on_warmup(mut self, tell: &'a dyn Fn(&WarmupChoice)) -> Self {
        self.on_warmup = Some(tell);
        self
    }
}

/// A finished run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Run {
    /// The model as simulated: its warm-up fixed where it was chosen.
    pub model: Model,
    /// The automatic warm-up, when the scenario left `warmup` out.
    pub warmup: Option<WarmupChoice>,
    /// The summary over all replications: what the CSV files hold.
    pub result: RunResult,
    /// What the run itself suggests checking (too few replications,
    /// wide intervals, …), one sentence each.
    pub findings: Vec<String>,
}

/// Why a run gave no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A stop was requested ([`engine::request_stop`], or a signal).
    #[error("interrupted")]
    Interrupted,
    /// Some replication lost track of a message: a bug of queuesim.
    #[error(
        "conservation broken (produced != delivered + lost + in flight) in replications {replications:?} of {scenario}: please report this bug"
    )]
    Conservation {
        /// The scenario's name.
        scenario: String,
        /// The replications concerned.
        replications: Vec<u32>,
    },
}

/// Runs every replication of `model` as `queuesim run` does and
/// summarises them; the numbers are those of the command's CSV files.
pub fn run(model: &Model, options: &RunOptions<'_>) -> Result<Run, RunError> {
    let interrupted = || engine::stop_requested().then_some(RunError::Interrupted);
    let auto = engine::auto_warmup(model);
    if let Some(stop) = interrupted() {
        return Err(stop);
    }
    let (model, warmup) = match auto {
        Some((chosen, choice)) => {
            if let Some(tell) = options.on_warmup {
                tell(&choice);
            }
            (chosen, Some(choice))
        }
        None => (model.clone(), None),
    };
    let total = model.simulation.replications;
    let progress = options.on_replication.unwrap_or(&|| {});
    let result = results::run_summarized(&model, 0..total, progress).summarize();
    if let Some(stop) = interrupted() {
        return Err(stop);
    }
    if !result.conservation_failures.is_empty() {
        return Err(RunError::Conservation {
            scenario: model.name.clone(),
            replications: result.conservation_failures,
        });
    }
    let findings = report::warnings::run_findings(&result);
    Ok(Run {
        model,
        warmup,
        result,
        findings,
    })
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A plot could not be drawn (or a stop was requested meanwhile).
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The folder refused the report or could not be written.
    #[error(transparent)]
    Folder(#[from] FolderError),
}

impl Run {
    /// The report's files in memory, `(file name, bytes)`: the CSV files,
    /// the plots and `report.html`, which quotes `scenario_text` and
    /// `command_line` (how to reproduce the run).
    pub fn report_files(
        &self,
        scenario_text: &str,
        command_line: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, PlotError> {
        report::render(&ReportInput {
            model: &self.model,
            result: &self.result,
            scenario_text,
            command_line,
        })
    }

    /// Writes the report into the folder `dir`, replacing an earlier
    /// report there whole (see [`report::ReportFolder`]); returns the
    /// files written.
    pub fn write_report(
        &self,
        dir: &Path,
        scenario_text: &str,
        command_line: &str,
    ) -> Result<Vec<PathBuf>, ReportError> {
        let files = self.report_files(scenario_text, command_line)?;
        Ok(report::write_all(dir, &files)?)
    }
}
