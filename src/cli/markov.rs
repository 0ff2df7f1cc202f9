//! `queuesim markov FILE`: the stationary distribution of a Markov chain
//! read from CSV or TOML, as an aligned table or JSON.

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::{Failure, print_stdout};
use queuesim::analytic::markov::{Chain, ChainKind, SolveMethod, Stationary, read_chain};

/// The `--json` document of `queuesim markov`.
#[derive(Debug, Serialize)]
struct MarkovReport<'a> {
    /// The file read.
    file: String,
    /// `"dtmc"` or `"ctmc"`.
    kind: ChainKind,
    /// One entry per state, in file order.
    states: Vec<StateProbability<'a>>,
    /// Period of a periodic DTMC, `null` otherwise.
    period: Option<u32>,
    /// Names of the transient states (probability 0).
    transient: Vec<&'a str>,
    /// `"dense-lu"` or `"gauss-seidel"`.
    method: SolveMethod,
    /// Gauss–Seidel sweeps (0 for dense LU).
    iterations: usize,
    /// Relative flow imbalance of the solution.
    residual: f64,
}

/// One state and its stationary probability.
#[derive(Debug, Serialize)]
struct StateProbability<'a> {
    /// State name.
    state: &'a str,
    /// Long-run fraction of time (or of steps) in the state.
    probability: f64,
}

/// Reads `file`, solves the chain and prints the result.
pub(crate) fn markov_command(file: &Path, json: bool) -> Result<(), Failure> {
    let chain = read_chain(file).map_err(|e| Failure::Input(e.to_string()))?;
    let stationary = chain
        .stationary()
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    let report = MarkovReport {
        file: file.display().to_string(),
        kind: chain.kind,
        states: chain
            .states
            .iter()
            .zip(&stationary.pi)
            .map(|(state, &probability)| StateProbability { state, probability })
            .collect(),
        period: stationary.periodic,
        transient: stationary
            .transient
            .iter()
            .map(|&s| chain.states[s].as_str())
            .collect(),
        method: stationary.method,
        iterations: stationary.iterations,
        residual: stationary.residual,
    };
    let text = if json {
        let mut text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::Run(format!("cannot serialise the result: {e}")))?;
        text.push('\n');
        text
    } else {
        table(&chain, &stationary, &report)
    };
    print_stdout(&text);
    Ok(())
}

/// The aligned table: one row per state, then the chain's properties.
fn table(chain: &Chain, stationary: &Stationary, report: &MarkovReport) -> String {
    let width = chain
        .states
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max("state".len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} with {} states: stationary distribution\n",
        chain.kind,
        chain.states.len()
    );
    let _ = writeln!(out, "{:<width$}  {:>18}", "state", "probability");
    for row in &report.states {
        let _ = writeln!(out, "{:<width$}  {:>18.15}", row.state, row.probability);
    }
    out.push('\n');
    let _ = match (stationary.periodic, chain.kind) {
        (Some(d), _) => writeln!(
            out,
            "periodic with period {d}: π is the long-run fraction of steps, P^n does not converge"
        ),
        (None, ChainKind::Dtmc) => writeln!(out, "aperiodic"),
        (None, ChainKind::Ctmc) => Ok(()),
    };
    if !report.transient.is_empty() {
        let _ = writeln!(
            out,
            "transient states (π = 0): {}",
            report.transient.join(", ")
        );
    }
    let method = match stationary.method {
        SolveMethod::DenseLu => "dense LU".to_owned(),
        SolveMethod::GaussSeidel => format!("Gauss–Seidel, {} sweeps", stationary.iterations),
    };
    let _ = writeln!(
        out,
        "solver: {method}; residual {:.3e}",
        stationary.residual
    );
    out
}
