//! `queuesim import`: write a scenario from what a running broker exports
//! (see the `queuesim::import` library module), print it or save it, and
//! name on stderr what could not be imported.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{Failure, print_stdout, progress};
use queuesim::import::{self, Imported, output};

/// Where the scenario goes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Write the scenario to this file instead of stdout; with several
    /// vhosts and no --vhost, a folder that receives one NAME.toml each.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace a file that --out would otherwise refuse to overwrite.
    #[arg(long)]
    pub force: bool,
}

/// What to import from.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// From RabbitMQ: a definitions export (`rabbitmqctl export_definitions`
    /// or GET /api/definitions), with live figures from the management API.
    Rabbitmq {
        /// The definitions file (JSON).
        definitions: PathBuf,
        /// GET /api/queues (JSON): publish rates, consumers, backlogs.
        #[arg(long, value_name = "queues.json")]
        stats: Option<PathBuf>,
        /// GET /api/consumers (JSON): prefetch counts.
        #[arg(long, value_name = "consumers.json")]
        consumers: Option<PathBuf>,
        /// GET /api/operator-policies (JSON): definitions exports leave them out.
        #[arg(long, value_name = "operator_policies.json")]
        operator_policies: Option<PathBuf>,
        /// Import only this vhost (default: every vhost with queues).
        #[arg(long, value_name = "VHOST")]
        vhost: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// From Kafka: the output of `kafka-topics.sh --describe` and
    /// `kafka-consumer-groups.sh --describe`, twice for rates.
    Kafka {
        /// `kafka-topics.sh --describe` output.
        #[arg(long, value_name = "topics.txt")]
        topics: PathBuf,
        /// `kafka-consumer-groups.sh --describe` output.
        #[arg(long, value_name = "groups.txt")]
        groups: PathBuf,
        /// The same, taken --interval later: gives the rates.
        #[arg(long, value_name = "groups2.txt")]
        groups_later: Option<PathBuf>,
        /// Time between the two groups snapshots, e.g. `60s`.
        #[arg(long, value_name = "DURATION")]
        interval: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

/// Runs `queuesim import ...`.
pub(crate) fn import_command(command: ImportCommand) -> Result<(), Failure> {
    let input = |e: import::ImportError| Failure::Input(e.to_string());
    match command {
        ImportCommand::Rabbitmq {
            definitions,
            stats,
            consumers,
            operator_policies,
            vhost,
            output,
        } => {
            let inputs = import::rabbitmq::Inputs {
                definitions: &definitions,
                stats: stats.as_deref(),
                consumers: consumers.as_deref(),
                operator_policies: operator_policies.as_deref(),
                vhost: vhost.as_deref(),
            };
            let scenarios = import::rabbitmq::import(&inputs).map_err(input)?;
            deliver(&scenarios, &output)
        }
        ImportCommand::Kafka {
            topics,
            groups,
            groups_later,
            interval,
            output,
        } => {
            let interval_s = interval
                .map(|text| {
                    queuesim::units::parse_duration_s(&text)
                        .map_err(|e| Failure::Input(format!("--interval: {e}")))
                })
                .transpose()?;
            let inputs = import::kafka::Inputs {
                topics: &topics,
                groups: &groups,
                groups_later: groups_later.as_deref(),
                interval_s,
            };
            let scenario = import::kafka::import(&inputs).map_err(input)?;
            deliver(&[scenario], &output)
        }
    }
}

/// Prints the notes on stderr, then the scenarios on stdout or to files.
fn deliver(scenarios: &[Imported], output: &OutputArgs) -> Result<(), Failure> {
    let mut written = Vec::new();
    match (&output.out, scenarios) {
        (None, [one]) => print_stdout(&one.toml),
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|s| s.name.as_str()).collect();
            return Err(Failure::Input(format!(
                "the definitions hold {} vhosts ({}): give --vhost, or --out DIR for one scenario each",
                many.len(),
                names.join(", ")
            )));
        }
        (Some(path), [one]) => {
            save(path, &one.toml, output.force)?;
            written.push(path.clone());
        }
        (Some(dir), many) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::Run(format!("cannot create {}: {e}", dir.display())))?;
            for s in many {
                let path = dir.join(format!("{}.toml", s.name));
                save(&path, &s.toml, output.force)?;
                written.push(path);
            }
        }
    }
    for s in scenarios {
        for note in &s.notes {
            eprintln!("{} not imported as is: {note}", progress::warning_prefix());
        }
    }
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn save(path: &Path, text: &str, force: bool) -> Result<(), Failure> {
    output::write_scenario(path, text, force).map_err(|e| match e {
        output::WriteError::Exists(_) => Failure::Input(e.to_string()),
        output::WriteError::Io { .. } => Failure::Run(e.to_string()),
    })
}
