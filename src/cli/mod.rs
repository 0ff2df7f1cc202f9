//! The command-line interface: argument parsing and the commands' output.
//!
//! Exit status: 0 success, 1 a run failed, 2 bad input (a scenario that
//! does not validate, an unreadable file, a malformed argument), 130
//! stopped by Ctrl-C or a termination signal (see the `interrupt` module).

mod analyze;
mod compare;
mod fit;
mod import;
mod interrupt;
mod markov;
mod merge;
mod plan;
mod precision;
mod progress;
mod run;
mod shard;
mod sweep;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use queuesim::model::Model;
use queuesim::report::{FolderError, ReportFolder};
use queuesim::scenario;

/// Discrete-event simulator and latency/QoS analyzer for message-queue systems.
#[derive(Debug, Parser)]
#[command(name = "queuesim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads for parallel replications and points (default: the
    /// CPUs a scheduler allocated, `SLURM_CPUS_PER_TASK`, else
    /// `RAYON_NUM_THREADS`, else every core); at least 1, at most 4 per core.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
}

/// Options shared by the commands that load a scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct ScenarioOptions {
    /// Override a value of the scenario, e.g. `queues.orders.consumers.count=12`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Root seed of every random stream (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of independent replications (overrides `simulation.replications`).
    #[arg(long)]
    pub replications: Option<u32>,
}

impl ScenarioOptions {
    /// The `--set` overrides, with `--seed` and `--replications` folded in.
    pub fn all_overrides(&self) -> Vec<String> {
        let mut all = self.overrides.clone();
        all.extend(self.seed.map(|s| format!("simulation.seed={s}")));
        all.extend(
            self.replications
                .map(|r| format!("simulation.replications={r}")),
        );
        all
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate scenarios, write CSV reports and print a summary table.
    Run(run::RunArgs),
    /// Compare scenarios under common random numbers: paired differences
    /// (candidate - baseline) with 95% CIs; writes compare.csv.
    Compare {
        /// Scenario files; the first is the baseline. One file with
        /// `--candidate-set` compares it with itself plus those changes.
        #[arg(required = true, value_name = "SCENARIO")]
        scenarios: Vec<PathBuf>,
        /// Override a value of the candidates only (every scenario after
        /// the first, or a copy of the only one), e.g.
        /// `queues.orders.consumers.count=10`.
        #[arg(long = "candidate-set", value_name = "KEY=VALUE")]
        candidate_overrides: Vec<String>,
        /// Output directory (default: reports/compare).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Overrides applied to every scenario; seed and replications
        /// default to the baseline's.
        #[command(flatten)]
        options: ScenarioOptions,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Simulate a grid of configurations; one row per point in sweep.csv.
    Sweep {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// `KEY=RANGE` to sweep (a..b with both ends included, a..b:step,
        /// [v1,v2,...]) or `KEY=VALUE` to fix; several ranges form a grid.
        #[arg(long = "set", required = true, value_name = "KEY=RANGE")]
        settings: Vec<String>,
        /// Root seed of every random stream (overrides `simulation.seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Replications per point (overrides `simulation.replications`).
        #[arg(long)]
        replications: Option<u32>,
        /// Output directory (default: reports/NAME/sweep, NAME the scenario's name).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Run only shard i of n (0-based) and write it for `queuesim merge`.
        #[arg(long, value_name = "i/n")]
        shard: Option<queuesim::experiment::shard::Shard>,
        /// No progress bar and no table.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Find the smallest value of a key that meets every SLO, with evidence.
    /// Exit status 1 when no value in the range does.
    Plan {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// `KEY=RANGE` to search, smallest (cheapest) value first; meeting
        /// the SLOs is assumed monotone along the range.
        #[arg(long, value_name = "KEY=RANGE")]
        vary: String,
        /// Objective such as `p99_latency<=0.2`, `success_ratio>=0.999` or
        /// `orders.mean_wait<=0.05`; repeat for several.
        #[arg(long, required = true, value_name = "EXPR")]
        slo: Vec<String>,
        /// Scenario overrides.
        #[command(flatten)]
        options: ScenarioOptions,
        /// Most replications per value before a decision is called unclear.
        #[arg(long, default_value_t = 200, value_name = "N")]
        max_replications: u32,
    },
    /// Combine the shard directories of a sharded run or sweep into the
    /// CSV files a single-machine run writes.
    Merge {
        /// Shard directories (every shard, each once).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Output directory (default: that of the unsharded command).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Queueing theory for a scenario: which exact or approximate result
    /// applies to each queue (or why none does), stability, end-to-end
    /// mean latency, and the exact CTMC of a small finite queue.
    Analyze {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Override a value of the scenario, e.g. `queues.orders.consumers.count=12`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Print the analysis as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Stationary distribution of a DTMC (`P`, rows sum to 1) or CTMC
    /// (`Q`, rows sum to 0) read from a CSV or TOML file.
    Markov {
        /// Chain file (`.csv` or `.toml`).
        file: PathBuf,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Fit exponential, gamma, lognormal and Weibull distributions to
    /// measured times (one CSV column, seconds) by maximum likelihood, rank
    /// them by Kolmogorov–Smirnov distance and AIC, and print the TOML line
    /// to paste into a scenario.
    Fit {
        /// CSV file with a header row.
        file: PathBuf,
        /// Column holding the times, in seconds.
        #[arg(long)]
        column: String,
        /// What the times are: processing times (`service`) or times between
        /// arrivals (`interarrival`, also checked against a Poisson process).
        #[arg(long, value_enum, default_value_t)]
        kind: queuesim::fit::Kind,
        /// Print the results as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Write a QQ plot of the values against the best fit (SVG).
        #[arg(long, value_name = "OUT.svg")]
        plot: Option<PathBuf>,
    },
    /// Write a scenario from a running system: RabbitMQ definitions and
    /// management API figures, or Kafka topic and group descriptions.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Check a scenario and print the resolved model.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Scenario overrides.
        #[command(flatten)]
        options: ScenarioOptions,
    },
}

/// Why a command failed, which decides the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: exit status 2.
    Input(String),
    /// The run itself failed: exit status 1.
    Run(String),
    /// Stopped by Ctrl-C: exit status 130. The message says what was not
    /// written (and what was, complete).
    Interrupted(String),
}

/// Parses the process arguments, runs the command and returns its exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.simulates() {
        interrupt::install();
    }
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Run(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Interrupted(message)) => {
            eprintln!("interrupted: {message}");
            ExitCode::from(interrupt::EXIT_STATUS)
        }
    }
}

impl Command {
    /// Whether the command simulates or writes a report, which Ctrl-C and
    /// termination signals stop cleanly.
    fn simulates(&self) -> bool {
        matches!(
            self,
            Self::Run { .. }
                | Self::Compare { .. }
                | Self::Sweep { .. }
                | Self::Plan { .. }
                | Self::Merge { .. }
        )
    }
}

/// Most worker threads per core `--threads` may ask for.
const THREADS_PER_CORE: usize = 4;

/// How many worker threads to start: `--threads`, else the scheduler's
/// allocation (`SLURM_CPUS_PER_TASK`), else 0, which lets rayon read
/// `RAYON_NUM_THREADS` or use every core.
fn worker_threads(requested: Option<usize>) -> Result<usize, Failure> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let slurm = std::env::var("SLURM_CPUS_PER_TASK").ok();
    threads_for(requested, cores, slurm.as_deref())
}

/// [`worker_threads`] on a machine of `cores` cores, with `slurm` the
/// value of `SLURM_CPUS_PER_TASK`, if set.
fn threads_for(
    requested: Option<usize>,
    cores: usize,
    slurm: Option<&str>,
) -> Result<usize, Failure> {
    let allocated = || {
        let text = slurm?;
        text.trim().parse::<usize>().ok().filter(|&n| n > 0)
    };
    match requested {
        Some(0) => Err(Failure::Input(
            "--threads 0: give at least 1 worker thread, or leave --threads out to use the CPUs allocated (SLURM_CPUS_PER_TASK) or every core".to_owned(),
        )),
        Some(n) if n > THREADS_PER_CORE * cores => {
            let cap = THREADS_PER_CORE * cores;
            eprintln!(
                "{} --threads {n} is more than {THREADS_PER_CORE} per core on this {cores}-core machine: using {cap}",
                progress::warning_prefix()
            );
            Ok(cap)
        }
        Some(n) => Ok(n),
        None => Ok(allocated().unwrap_or(0)),
    }
}

/// Runs one parsed command.
pub fn execute(cli: Cli) -> Result<(), Failure> {
    let threads = worker_threads(cli.threads)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Failure::Run(format!("cannot start worker threads: {e}")))?;
    pool.install(|| execute_command(cli.command))
}

fn execute_command(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run(args) => run::run_command(args),
        Command::Compare {
            scenarios,
            candidate_overrides,
            out,
            options,
            quiet,
        } => compare::compare_command(
            &compare::Sides {
                scenarios: &scenarios,
                candidate_overrides: &candidate_overrides,
            },
            out.as_deref(),
            &options,
            quiet,
        ),
        Command::Sweep {
            scenario,
            settings,
            seed,
            replications,
            out,
            shard,
            quiet,
        } => sweep::sweep_command(&sweep::SweepArgs {
            scenario,
            settings,
            overrides: ScenarioOptions {
                overrides: Vec::new(),
                seed,
                replications,
            }
            .all_overrides(),
            out,
            shard,
            quiet,
        }),
        Command::Plan {
            scenario,
            vary,
            slo,
            options,
            max_replications,
        } => plan::plan_command(&scenario, &vary, &slo, &options, max_replications),
        Command::Merge { dirs, out, quiet } => merge::merge_command(&dirs, out.as_deref(), quiet),
        Command::Analyze {
            scenario,
            overrides,
            json,
        } => {
            let model =
                scenario::load(&scenario, &overrides).map_err(|e| Failure::Input(e.to_string()))?;
            analyze::analyze_command(&model, json)
        }
        Command::Markov { file, json } => markov::markov_command(&file, json),
        Command::Fit {
            file,
            column,
            kind,
            json,
            plot,
        } => fit::fit_file(&file, &column, kind, json, plot.as_deref()),
        Command::Import(command) => import::import_command(command),
        Command::Validate { scenario, options } => {
            let model = load(&scenario, &options)?;
            print_stdout(&scenario::describe(&model));
            Ok(())
        }
    }
}

/// Claims the report folder `dir` ([`ReportFolder::claim`]): done before
/// anything is simulated, so a folder that cannot take the report is
/// refused at once.
pub(crate) fn claim(dir: &Path) -> Result<ReportFolder, Failure> {
    ReportFolder::claim(dir).map_err(folder_failure)
}

/// Replaces the report in `folder` with `files`; returns the paths written.
pub(crate) fn replace(
    folder: &mut ReportFolder,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>, Failure> {
    folder.replace(files).map_err(folder_failure)
}

fn folder_failure(error: FolderError) -> Failure {
    match error {
        FolderError::Refused(message) => Failure::Input(message),
        FolderError::Write(e) => Failure::Run(e.to_string()),
    }
}

fn load(path: &Path, options: &ScenarioOptions) -> Result<Model, Failure> {
    scenario::load(path, &options.all_overrides()).map_err(|e| Failure::Input(e.to_string()))
}

/// Prints to stdout; a closed pipe (`queuesim ... | head`) is not an error.
pub(crate) fn print_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_follow_the_request_then_the_scheduler_and_are_capped() {
        assert_eq!(threads_for(Some(3), 2, Some("1")).unwrap(), 3);
        assert_eq!(threads_for(None, 8, Some("1")).unwrap(), 1);
        assert_eq!(threads_for(None, 8, Some(" 2 ")).unwrap(), 2);
        assert_eq!(threads_for(None, 8, Some("all")).unwrap(), 0);
        assert_eq!(threads_for(None, 8, None).unwrap(), 0);
        assert_eq!(threads_for(Some(100_000), 2, None).unwrap(), 8);
        assert!(matches!(
            threads_for(Some(0), 2, None),
            Err(Failure::Input(_))
        ));
    }
}
