//! The command-line interface: argument parsing and the commands' output.
//!
//! Exit status: 0 success, 1 a run failed, 2 bad input (a scenario that
//! does not validate, an unreadable file, a malformed argument).

mod run;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::model::Model;
use crate::scenario;

/// Discrete-event simulator and latency/QoS analyzer for message-queue systems.
#[derive(Debug, Parser)]
#[command(name = "queuesim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
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
    Run {
        /// Scenario files (TOML).
        #[arg(required = true, value_name = "SCENARIO")]
        scenarios: Vec<PathBuf>,
        /// Output directory (default: reports/<scenario name>).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Scenario overrides.
        #[command(flatten)]
        options: ScenarioOptions,
        /// Worker threads for parallel replications (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Print the results as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
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
}

/// Parses the process arguments, runs the command and returns its exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
    }
}

/// Runs one parsed command.
pub fn execute(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run {
            scenarios,
            out,
            options,
            threads,
            quiet,
            json,
        } => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build()
                .map_err(|e| Failure::Run(format!("cannot start worker threads: {e}")))?;
            let models = scenarios
                .iter()
                .map(|path| load(path, &options))
                .collect::<Result<Vec<_>, _>>()?;
            let several = models.len() > 1;
            for model in &models {
                let dir = match (&out, several) {
                    (Some(dir), false) => dir.clone(),
                    (Some(dir), true) => dir.join(&model.name),
                    (None, _) => Path::new("reports").join(&model.name),
                };
                pool.install(|| run::run_one(model, &dir, quiet, json))?;
            }
            Ok(())
        }
        Command::Validate { scenario, options } => {
            let model = load(&scenario, &options)?;
            print_stdout(&scenario::describe(&model));
            Ok(())
        }
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
