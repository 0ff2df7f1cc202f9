//! `queuesim plan`: the smallest value of a key that meets every SLO.

use std::fmt::Write;
use std::path::Path;

use super::{Failure, ScenarioOptions, interrupt, print_stdout};
use queuesim::experiment::metrics::metric_names;
use queuesim::experiment::plan::{Outcome, Probe, Search, Verdict};
use queuesim::experiment::range::parse_axis;
use queuesim::experiment::slo::{Decision, Slo};
use queuesim::report::table::{grid, short};
use queuesim::scenario;

/// Loads the scenario at every value of `vary`, reads the SLOs against its
/// metrics, searches and prints the answer with its evidence. Exit status 1
/// (a [`Failure::Run`]) when no value meets the SLOs.
pub(crate) fn plan_command(
    path: &Path,
    vary: &str,
    slos: &[String],
    options: &ScenarioOptions,
    max_replications: u32,
) -> Result<(), Failure> {
    let axis = parse_axis(vary).map_err(|e| Failure::Input(e.to_string()))?;
    let candidates = axis
        .values
        .iter()
        .map(|value| {
            let mut overrides = options.all_overrides();
            overrides.push(format!("{}={value}", axis.key));
            scenario::load(path, &overrides)
                .map(|model| (value.clone(), model))
                .map_err(|e| Failure::Input(format!("at {}={value}: {e}", axis.key)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let valid = metric_names(&candidates[0].1);
    let slos = slos
        .iter()
        .map(|text| Slo::parse(text, &valid).map_err(|e| Failure::Input(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = Search {
        candidates: &candidates,
        slos: &slos,
        max_replications,
    }
    .run();
    interrupt::check(|| "the search stopped before an answer".to_owned())?;
    print_stdout(&report(&axis.key, &candidates, &outcome));
    match outcome.answer {
        Some(_) => Ok(()),
        None => Err(Failure::Run(format!(
            "no value of {} in {}..{} meets every SLO",
            axis.key,
            axis.values[0],
            axis.values[axis.values.len() - 1]
        ))),
    }
}

fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Meets => "meets",
        Verdict::Misses => "misses",
        Verdict::Undecided => "undecided at the replication cap (counted as missing)",
    }
}

fn decision_text(decision: Decision) -> &'static str {
    match decision {
        Decision::Met => "met",
        Decision::Missed => "missed",
        Decision::Unclear => "unclear",
    }
}

/// The probes in order, then the answer with the evidence at the answer
/// and at the value below it.
fn report(key: &str, candidates: &[(String, queuesim::model::Model)], outcome: &Outcome) -> String {
    let mut out = String::new();
    if let Some(start) = outcome.theory_start {
        let _ = writeln!(
            out,
            "theory (M/M/c) predicts {key}={} is the smallest value meeting every SLO; confirming by simulation\n",
            candidates[start].0
        );
    }
    for probe in &outcome.probes {
        let _ = writeln!(
            out,
            "{key}={}: {} ({} replications)",
            probe.value,
            verdict_text(probe.verdict),
            probe.replications
        );
    }
    out.push('\n');
    match outcome.answer {
        Some(answer) => {
            let _ = writeln!(out, "answer: {key}={}\n", candidates[answer].0);
            out.push_str(&evidence(outcome.probe(answer)));
            if let Some(below) = answer.checked_sub(1) {
                out.push_str(&evidence(outcome.probe(below)));
            }
        }
        None => {
            let _ = writeln!(out, "answer: none of the values meets every SLO\n");
            if let Some(last) = outcome.probes.last() {
                out.push_str(&evidence(Some(last)));
            }
        }
    }
    out
}

fn evidence(probe: Option<&Probe>) -> String {
    let Some(probe) = probe else {
        return String::new();
    };
    let rows: Vec<Vec<String>> = probe
        .checks
        .iter()
        .map(|c| {
            vec![
                c.slo.to_string(),
                format!("{} ± {}", short(c.estimate.mean), short(c.estimate.ci95)),
                decision_text(c.decision).to_owned(),
                c.theory.map_or("-".to_owned(), short),
            ]
        })
        .collect();
    let header = ["SLO", "simulated (95% CI)", "decision", "theory"].map(String::from);
    format!(
        "at {} ({} replications):\n{}\n",
        probe.value,
        probe.replications,
        grid(&header, &rows)
    )
}
