//! `queuesim analyze SCENARIO`: queueing theory for a scenario, as an
//! aligned table or JSON.

use std::fmt::Write;

use super::{Failure, print_stdout};
use queuesim::analytic::scenario::{Applies, ScenarioAnalysis, analyze};
use queuesim::model::Model;
use queuesim::report::table::{grid, short};

/// Analyses `model` and prints the result.
pub(crate) fn analyze_command(model: &Model, json: bool) -> Result<(), Failure> {
    let analysis = analyze(model);
    let text = if json {
        let mut text = serde_json::to_string_pretty(&analysis)
            .map_err(|e| Failure::Run(format!("cannot serialise the analysis: {e}")))?;
        text.push('\n');
        text
    } else {
        render(&analysis)
    };
    print_stdout(&text);
    Ok(())
}

/// The terminal rendering: a table per queue, the reasons, classes,
/// stability and end-to-end latency.
pub fn render(a: &ScenarioAnalysis) -> String {
    let mut out = String::new();
    let state = if a.stable { "stable" } else { "UNSTABLE" };
    let _ = writeln!(out, "{}: {state}\n", a.scenario);
    out.push_str(&node_table(a));
    write_reasons(&mut out, a);
    write_saturation_and_chain(&mut out, a);
    write_end_to_end(&mut out, a);
    out
}

/// One row per queue: the result that applies and its values.
fn node_table(a: &ScenarioAnalysis) -> String {
    let rows: Vec<Vec<String>> = a
        .nodes
        .iter()
        .map(|n| {
            let m = |f: fn(&queuesim::analytic::QueueMetrics) -> f64| {
                n.metrics.as_ref().map_or("-".to_owned(), |m| short(f(m)))
            };
            vec![
                n.node.clone(),
                n.consumers.map_or("-".to_owned(), |c| c.to_string()),
                short(n.arrival_rate),
                n.offered_load.map_or("-".to_owned(), short),
                n.applies.to_string(),
                n.model.clone(),
                m(|m| m.mean_wait_s),
                m(|m| m.mean_sojourn_s),
                m(|m| m.utilization),
                m(|m| m.loss_probability),
            ]
        })
        .collect();
    grid(
        &[
            "node",
            "consumers",
            "arrivals (/s)",
            "load ρ",
            "result",
            "model",
            "mean_wait (s)",
            "mean_sojourn (s)",
            "utilization",
            "loss",
        ],
        &rows,
    )
}

/// Why each result applies (or none does), with the per-class waits.
fn write_reasons(out: &mut String, a: &ScenarioAnalysis) {
    out.push_str("\nwhy:\n");
    for n in &a.nodes {
        let _ = writeln!(out, "  {}: {}", n.node, n.reason);
        for c in &n.classes {
            let _ = writeln!(
                out,
                "    priority {}: {}/s, mean wait {} s, mean sojourn {} s",
                c.priority,
                short(c.arrival_rate),
                short(c.mean_wait_s),
                short(c.mean_sojourn_s)
            );
        }
    }
}

/// Saturated queues and the exact CTMC of a small finite queue.
fn write_saturation_and_chain(out: &mut String, a: &ScenarioAnalysis) {
    for s in &a.saturated {
        let _ = writeln!(
            out,
            "\nsaturated: `{}` has offered load ρ = {} >= 1, {}/s more than its consumers can serve",
            s.node,
            short(s.utilization),
            short(s.excess_rate_per_s)
        );
    }
    if let Some(chain) = &a.ctmc {
        let _ = writeln!(
            out,
            "\nexact CTMC of `{}`: {} states, loss probability {}, mean waiting {}, utilization {}",
            chain.node,
            chain.states,
            short(chain.loss_probability),
            short(chain.mean_in_queue),
            short(chain.utilization)
        );
    } else if let Some(reason) = &a.ctmc_reason {
        let _ = writeln!(out, "\nno CTMC: {reason}");
    }
}

/// The end-to-end mean latency and the bottleneck.
fn write_end_to_end(out: &mut String, a: &ScenarioAnalysis) {
    let e = &a.end_to_end;
    out.push('\n');
    let _ = match e.applies {
        Applies::None => writeln!(out, "end to end: no result ({})", e.reason),
        applies => writeln!(
            out,
            "end to end: mean latency {} s ({applies}: {})",
            short(e.mean_latency_s),
            e.reason
        ),
    };
    if let Some(b) = &e.bottleneck {
        let _ = writeln!(out, "bottleneck: {b}");
    }
}
