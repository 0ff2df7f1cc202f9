//! queuesim: a discrete-event simulator and latency/QoS analyzer for
//! message-queue systems.
//!
//! A scenario (TOML, see `docs/scenarios.md`) describes producers, RabbitMQ
//! exchanges and queues, Kafka topics and their consumers. Loading it gives
//! a [`model::Model`]; [`run`] simulates its replications exactly as
//! `queuesim run` does (the automatic warm-up included) and returns the
//! summary the command writes as CSV, each figure an
//! [`stats::Estimate`] with its 95% confidence interval.
//!
//! ```
//! use std::path::Path;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Load a scenario; `--set`-style overrides go in the second argument.
//! let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mm1.toml");
//! let model = queuesim::scenario::load(&path, &[])?;
//!
//! // Run it as the command would.
//! let run = queuesim::run(&model, &queuesim::RunOptions::default())?;
//! let p99 = run.result.summary.p99_latency;
//! println!("p99 latency {:.4} s ± {:.4} s", p99.mean, p99.ci95);
//!
//! // Theory for the same queue: M/M/1 at λ = 800/s, μ = 1000/s; the
//! // simulated 95% interval covers it.
//! let theory = queuesim::analytic::mm1(800.0, 1000.0)?;
//! let wait = run.result.nodes[0].mean_wait;
//! assert!(wait.covers(theory.mean_wait_s, 0.0), "{wait:?} against {theory:?}");
//!
//! // Write the report folder: CSV files, plots and report.html.
//! let dir = std::env::temp_dir().join(format!("queuesim-doc-{}", std::process::id()));
//! let scenario_text = std::fs::read_to_string(&path)?;
//! let written = run.write_report(&dir, &scenario_text, "queuesim run scenarios/mm1.toml")?;
//! assert!(written.iter().any(|f| f.ends_with("summary.csv")));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! The modules, upstream first: [`scenario`] reads and checks scenario
//! files into a [`model`]; [`dist`] holds the distributions; [`engine`]
//! simulates replications (the Lindley fast path or the event calendar);
//! [`stats`] and [`results`] summarise them; [`analytic`] gives queueing
//! theory and Markov chains; [`experiment`] compares, sweeps, plans and
//! shards; [`fit`] fits distributions to measured times; [`report`]
//! writes CSV files, plots and the HTML report.

pub mod analytic;
pub mod dist;
pub mod engine;
pub mod experiment;
pub mod fit;
pub mod import;
pub mod input;
pub mod model;
pub mod report;
pub mod results;
mod run;
pub mod scenario;
pub mod stats;
pub mod table;
pub mod units;

pub use run::{ReportError, Run, RunError, RunOptions, run};
