//! Findings about a finished run that a reader of its numbers should know:
//! no confidence intervals, intervals too wide to trust, a system that had
//! not settled when the run ended.

use crate::model::Model;
use crate::report::table::short;
use crate::results::RunResult;
use crate::results::SummaryMetric::{MeanLatency, P99Latency, SuccessRatio, Throughput};
use crate::stats::Estimate;

/// A confidence half-width above this fraction of its estimate is "wide".
pub const WIDE_CI_FRACTION: f64 = 0.10;
/// In-flight messages above this fraction of those produced mean the run
/// ended before the system settled.
pub const IN_FLIGHT_FRACTION: f64 = 0.01;

/// The validation warnings of `model` followed by the findings about `result`.
pub fn all(model: &Model, result: &RunResult) -> Vec<String> {
    let mut warnings = model.warnings.clone();
    warnings.extend(run_findings(result));
    warnings
}

/// Findings about the run alone (not the scenario).
pub fn run_findings(result: &RunResult) -> Vec<String> {
    let s = &result.summary;
    let mut found = Vec::new();
    if s.replications < 2 {
        found.push(format!(
            "{} replication: no confidence intervals can be computed; run 5 or more (--replications)",
            s.replications
        ));
    }
    let key_metrics = [MeanLatency, P99Latency, SuccessRatio, Throughput];
    for (name, estimate) in key_metrics.map(|m| (m.name(), m.of(s))) {
        if let Some(fraction) = relative_width(estimate).filter(|f| *f > WIDE_CI_FRACTION) {
            found.push(format!(
                "{name} = {} ± {}: the 95% confidence interval is ±{:.0}% of the estimate; run longer or more replications for a precise answer",
                short(estimate.mean),
                short(estimate.ci95),
                fraction * 100.0
            ));
        }
    }
    let in_flight = s.in_flight.mean / s.produced.mean;
    if in_flight > IN_FLIGHT_FRACTION {
        found.push(format!(
            "{:.1}% of the messages produced were still in flight when the run ended: a queue is unstable or the run is too short to reach steady state",
            in_flight * 100.0
        ));
    }
    found
}

/// Half-width over |mean|, when both are defined and the mean is not 0.
fn relative_width(estimate: Estimate) -> Option<f64> {
    let fraction = estimate.ci95 / estimate.mean.abs();
    fraction.is_finite().then_some(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::SummaryRow;

    fn result_with(summary: SummaryRow) -> RunResult {
        RunResult {
            summary,
            nodes: Vec::new(),
            classes: Vec::new(),
            quantiles: Vec::new(),
            timeseries: Vec::new(),
            wait_quantiles: Vec::new(),
            sinks: Vec::new(),
            scheduled: Vec::new(),
            events: 0,
            peak_messages: 0,
            conservation_failures: Vec::new(),
        }
    }

    fn exact(mean: f64, ci95: f64) -> Estimate {
        Estimate { mean, ci95 }
    }

    #[test]
    fn a_precise_settled_run_has_no_findings() {
        let summary = SummaryRow {
            replications: 10,
            produced: exact(1000.0, 5.0),
            in_flight: exact(2.0, 1.0),
            mean_latency: exact(0.02, 0.0001),
            ..SummaryRow::default()
        };
        assert!(run_findings(&result_with(summary)).is_empty());
    }

    #[test]
    fn wide_intervals_unsettled_runs_and_single_replications_are_reported() {
        let summary = SummaryRow {
            replications: 1,
            produced: exact(1000.0, f64::NAN),
            in_flight: exact(50.0, f64::NAN),
            p99_latency: exact(0.1, 0.03),
            ..SummaryRow::default()
        };
        let found = run_findings(&result_with(summary)).join("\n");
        assert!(found.contains("no confidence intervals"), "{found}");
        assert!(
            found.contains("p99_latency") && found.contains("±30%"),
            "{found}"
        );
        assert!(found.contains("5.0% of the messages"), "{found}");
    }
}
