//! `queuesim compare`: configurations side by side with paired differences.
//!
//! Replication `r` of every configuration is simulated with the same seed,
//! so producers and queues that line up between the models (same position
//! in the file) draw the same arrival and service numbers: common random
//! numbers. The difference candidate − baseline is then computed per
//! replication and its 95% CI is Student's t over those paired differences;
//! the noise the configurations share cancels out, which makes the interval
//! much narrower than that of two independent runs. For a quantile the
//! difference is that of the pooled quantiles, its interval sectioning over
//! the paired per-replication differences (as a run reports a quantile).

use serde::Serialize;

use super::metrics::Samples;
use crate::engine;
use crate::model::Model;
use crate::results::{RunResult, summarize};
use crate::stats::Estimate;
use crate::table::{Table, number};

/// One metric of one candidate against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Metric name (summary metric or `node.metric`).
    pub metric: String,
    /// Baseline scenario name.
    pub baseline: String,
    /// Candidate scenario name.
    pub candidate: String,
    /// The metric in the baseline.
    pub baseline_value: Estimate,
    /// The metric in the candidate.
    pub candidate_value: Estimate,
    /// Candidate − baseline, paired per replication.
    pub difference: Estimate,
    /// Whether the 95% CI of the difference excludes zero.
    pub significant: bool,
}

/// Configurations that cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// Fewer than two configurations.
    #[error("compare needs at least two scenarios")]
    TooFew,
    /// Paired differences need the same replications on both sides.
    #[error(
        "scenario {candidate} has {found} replications, the baseline {expected}; pass --replications to use the same number"
    )]
    Replications {
        /// The scenario that differs.
        candidate: String,
        /// The baseline's replications.
        expected: u32,
        /// The candidate's replications.
        found: u32,
    },
}

/// Simulates every model and returns each model's per-replication metrics
/// and its run result (what `queuesim run` would report). Once a stop was
/// requested ([`engine::request_stop`]) it returns the models done before.
pub fn simulate_all(models: &[Model]) -> Vec<(Samples, RunResult)> {
    models
        .iter()
        .map_while(|model| {
            let replications = engine::run(model);
            if engine::stop_requested() {
                return None;
            }
            let mut samples = Samples::new(model);
            samples.extend(model, &replications);
            Some((samples, summarize(model, &replications)))
        })
        .collect()
}

/// The outcome of [`compare_runs`].
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Every candidate against the baseline, as [`compare`] returns them.
    pub differences: Vec<Difference>,
    /// The run result of every model, baseline first (for overlay plots).
    pub runs: Vec<RunResult>,
}

/// Compares every model after the first with the first (the baseline), on
/// every metric both have, paired by replication. The models' seeds are
/// used as they are: give them the same seed for common random numbers.
///
/// # Errors
///
/// [`CompareError`] with fewer than two models or unequal replication counts.
pub fn compare(models: &[Model]) -> Result<Vec<Difference>, CompareError> {
    compare_runs(models).map(|c| c.differences)
}

/// [`compare`], also returning every model's run result. Once a stop was
/// requested ([`engine::request_stop`]) the comparison is partial.
///
/// # Errors
///
/// [`CompareError`] with fewer than two models or unequal replication counts.
pub fn compare_runs(models: &[Model]) -> Result<Comparison, CompareError> {
    let Some((baseline, candidates)) = models.split_first() else {
        return Err(CompareError::TooFew);
    };
    if candidates.is_empty() {
        return Err(CompareError::TooFew);
    }
    let expected = baseline.simulation.replications;
    if let Some(m) = candidates
        .iter()
        .find(|m| m.simulation.replications != expected)
    {
        return Err(CompareError::Replications {
            candidate: m.name.clone(),
            expected,
            found: m.simulation.replications,
        });
    }
    let (samples, runs): (Vec<Samples>, Vec<RunResult>) = simulate_all(models).into_iter().unzip();
    let differences = candidates
        .iter()
        .zip(samples.iter().skip(1))
        .flat_map(|(candidate, s)| differences(baseline, &samples[0], candidate, s))
        .collect();
    Ok(Comparison { differences, runs })
}

/// Candidate − baseline of one metric, paired per replication: the
/// difference of the reported values (pooled quantiles for a quantile) with
/// an interval over the per-replication differences.
fn paired(base: &Samples, b: usize, cand: &Samples, c: usize) -> Estimate {
    let per_replication = base.column(b).zip(cand.column(c)).map(|(x, y)| y - x);
    match (base.pooled_quantile(b), cand.pooled_quantile(c)) {
        (Some(x), Some(y)) => Estimate::sectioned(y - x, per_replication),
        _ => Estimate::from_replications(per_replication),
    }
}

/// Paired differences of the metrics `candidate` shares with `baseline`,
/// in the baseline's order; then the metrics of only one of them (the
/// queues of only one scenario), the other side and the difference
/// undefined (NaN, an empty cell in `compare.csv`).
pub fn differences(
    baseline: &Model,
    base: &Samples,
    candidate: &Model,
    cand: &Samples,
) -> Vec<Difference> {
    let row = |metric: &str, baseline_value, candidate_value, difference: Estimate| Difference {
        metric: metric.to_owned(),
        baseline: baseline.name.clone(),
        candidate: candidate.name.clone(),
        baseline_value,
        candidate_value,
        significant: difference.mean.abs() > difference.ci95,
        difference,
    };
    let in_baseline =
        (base.names.iter().enumerate()).map(|(b, metric)| match cand.index_of(metric) {
            Some(c) => row(
                metric,
                base.estimate(b),
                cand.estimate(c),
                paired(base, b, cand, c),
            ),
            None => row(
                metric,
                base.estimate(b),
                Estimate::default(),
                Estimate::default(),
            ),
        });
    let only_in_candidate = (cand.names.iter().enumerate())
        .filter(|(_, metric)| base.index_of(metric).is_none())
        .map(|(c, metric)| {
            row(
                metric,
                Estimate::default(),
                cand.estimate(c),
                Estimate::default(),
            )
        });
    in_baseline.chain(only_in_candidate).collect()
}

/// The queues of only one of `baseline` and `candidate`, in words (one
/// line each): their metrics have no counterpart to differ from.
pub fn unmatched_queues(baseline: &Model, candidate: &Model) -> Vec<String> {
    let names = |m: &Model| -> Vec<String> { m.queues.iter().map(|q| q.name.clone()).collect() };
    let (ours, theirs) = (names(baseline), names(candidate));
    let only = |these: &[String], those: &[String], side: &Model| -> Vec<String> {
        (these.iter())
            .filter(|q| !those.contains(q))
            .map(|q| format!("queue `{q}` is only in `{}`", side.name))
            .collect()
    };
    let mut lines = only(&ours, &theirs, baseline);
    lines.extend(only(&theirs, &ours, candidate));
    lines
}

/// `compare.csv`: one row per (candidate, metric).
pub fn table(differences: &[Difference]) -> Table {
    let header = [
        "metric",
        "baseline",
        "candidate",
        "baseline_mean",
        "baseline_ci95",
        "candidate_mean",
        "candidate_ci95",
        "difference",
        "difference_ci95",
        "significant",
    ]
    .map(String::from)
    .to_vec();
    let rows = differences
        .iter()
        .map(|d| {
            vec![
                d.metric.clone(),
                d.baseline.clone(),
                d.candidate.clone(),
                number(d.baseline_value.mean),
                number(d.baseline_value.ci95),
                number(d.candidate_value.mean),
                number(d.candidate_value.ci95),
                number(d.difference.mean),
                number(d.difference.ci95),
                d.significant.to_string(),
            ]
        })
        .collect();
    Table { header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn model(consumers: u32, replications: u32) -> Model {
        model_with_queue(consumers, replications, "q")
    }

    fn model_with_queue(consumers: u32, replications: u32, queue: &str) -> Model {
        let text = format!(
            "[simulation]\nduration = 100\nreplications = {replications}\nseed = 3\n\
             [[producers]]\nname = \"p\"\nto = \"{queue}\"\nrate = 2\n\
             [[queues]]\nname = \"{queue}\"\n[queues.consumers]\ncount = {consumers}\n\
             service = {{ dist = \"exponential\", mean = 0.4 }}\n"
        );
        crate::scenario::from_str(&text, Path::new("m.toml"), &[]).unwrap()
    }

    #[test]
    fn identical_models_differ_by_exactly_zero() {
        let diffs = compare(&[model(1, 4), model(1, 4)]).unwrap();
        assert!(!diffs.is_empty());
        for d in diffs.iter().filter(|d| !d.difference.mean.is_nan()) {
            assert_eq!(d.difference.mean, 0.0, "{}", d.metric);
            assert_eq!(d.difference.ci95, 0.0, "{}", d.metric);
            assert!(!d.significant);
        }
    }

    #[test]
    fn a_queue_of_one_scenario_only_is_kept_with_an_undefined_side() {
        let (base, cand) = (model(1, 3), model_with_queue(1, 3, "r"));
        let diffs = compare(&[base.clone(), cand.clone()]).unwrap();
        let only_base = diffs.iter().find(|d| d.metric == "q.mean_wait").unwrap();
        assert!(only_base.baseline_value.mean > 0.0);
        assert!(only_base.candidate_value.mean.is_nan() && !only_base.significant);
        let only_cand = diffs.iter().find(|d| d.metric == "r.mean_wait").unwrap();
        assert!(only_cand.baseline_value.mean.is_nan());
        assert!(only_cand.candidate_value.mean > 0.0);
        assert_eq!(
            unmatched_queues(&base, &cand),
            ["queue `q` is only in `m`", "queue `r` is only in `m`"]
        );
    }

    #[test]
    fn unequal_replications_and_a_lone_model_are_refused() {
        let err = compare(&[model(1, 4), model(2, 5)]).unwrap_err();
        assert!(err.to_string().contains("--replications"), "{err}");
        assert_eq!(compare(&[model(1, 4)]).unwrap_err(), CompareError::TooFew);
    }
}
