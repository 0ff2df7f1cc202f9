//! The metrics an experiment compares, sweeps or plans against, one value
//! per replication.
//!
//! The metric names are the estimate columns of `summary.csv`
//! (`p99_latency`, `success_ratio`, …) and, per queue, those of `nodes.csv`
//! prefixed with the queue's name (`orders.mean_wait`). A replication's
//! value of a metric is what `summary.csv`/`nodes.csv` would show for a run
//! of that replication alone. The estimate over several replications
//! ([`metric_estimate`]) is exactly the cell a run of those replications
//! reports: the mean of the values for most metrics, and for a quantile
//! (`p99_latency`, `orders.p99_wait`, …) the quantile of the replications'
//! pooled histograms with a sectioning interval over the values.

use crate::engine::ReplicationResult;
use crate::model::Model;
use crate::results::{
    HistogramKey, NodeMetric, PooledHistograms, RunResult, SummaryMetric, summarize,
};
use crate::stats::Estimate;

/// `(name, value)` of every metric of a run result, in report order: the
/// columns of `summary.csv`, then those of `nodes.csv` queue by queue, then
/// the summary columns added later (after
/// [`SummaryMetric::BEFORE_REPLICATIONS`]), so that older columns keep
/// their places; the values are the means of its estimates.
fn named_values(result: &RunResult) -> Vec<(String, f64)> {
    let (before, after) = SummaryMetric::ALL.split_at(SummaryMetric::BEFORE_REPLICATIONS);
    let summary = |metrics: &'static [SummaryMetric]| {
        (metrics.iter()).map(|metric| (metric.name().to_string(), metric.of(&result.summary).mean))
    };
    let nodes = result.nodes.iter().flat_map(|row| {
        (NodeMetric::ALL.into_iter()).map(move |metric| {
            (
                format!("{}.{}", row.node, metric.name()),
                metric.of(row).mean,
            )
        })
    });
    summary(before).chain(nodes).chain(summary(after)).collect()
}

/// The metric names of `model`, in [`named_values`] order: summary metrics,
/// `node.metric` per queue, then the summary metrics added later.
pub fn metric_names(model: &Model) -> Vec<String> {
    named_values(&summarize(model, &[]))
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The value of every metric (in [`metric_names`] order) for one replication.
pub fn replication_values(model: &Model, replication: &ReplicationResult) -> Vec<f64> {
    named_values(&summarize(model, std::slice::from_ref(replication)))
        .into_iter()
        .map(|(_, value)| value)
        .collect()
}

/// When metric `name` is a quantile: the pooled histogram it reads and
/// its level (`p99_latency`: latency at 0.99; `orders.p99_wait`: the wait
/// at queue `orders` at 0.99).
pub fn quantile_source(name: &str) -> Option<(HistogramKey, f64)> {
    if let Some(level) = SummaryMetric::parse(name).and_then(SummaryMetric::level) {
        return Some((HistogramKey::latency(), level));
    }
    let (node, column) = name.rsplit_once('.')?;
    let measure = NodeMetric::parse(column)?.measure()?;
    Some((HistogramKey::at(measure, node, 0), NodeMetric::LEVEL))
}

/// The estimate of metric `name` over replications whose values are
/// `values` (in replication order) and whose histograms pooled are
/// `pooled`: what a run of those replications reports.
pub fn metric_estimate(
    name: &str,
    values: impl IntoIterator<Item = f64>,
    pooled: &PooledHistograms,
) -> Estimate {
    estimate_with(name, values, |key, level| pooled.quantile(key, level))
}

/// [`metric_estimate`] with `quantile` giving, for a quantile metric, the
/// value at the level of the replications' pooled histogram of a key
/// (called only for quantile metrics): for callers that computed the pooled
/// quantiles earlier and dropped the histograms.
pub fn estimate_with(
    name: &str,
    values: impl IntoIterator<Item = f64>,
    quantile: impl FnOnce(&HistogramKey, f64) -> f64,
) -> Estimate {
    match quantile_source(name) {
        Some((key, level)) => Estimate::sectioned(quantile(&key, level), values),
        None => Estimate::from_replications(values),
    }
}

/// Per-replication values of every metric of one configuration, and the
/// histograms of those replications pooled.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Metric names, as [`metric_names`].
    pub names: Vec<String>,
    /// `(replication number, values)` in increasing replication order.
    pub rows: Vec<(u32, Vec<f64>)>,
    /// The replications' histograms pooled (the quantile metrics' source).
    pub pooled: PooledHistograms,
}

impl Samples {
    /// No replications yet for the metrics of `model`.
    pub fn new(model: &Model) -> Self {
        Self {
            names: metric_names(model),
            rows: Vec::new(),
            pooled: PooledHistograms::for_model(model),
        }
    }

    /// Adds replications (in any order); rows stay sorted by replication.
    pub fn extend(&mut self, model: &Model, replications: &[ReplicationResult]) {
        for r in replications {
            self.add(model, r);
        }
    }

    /// Adds one replication (in any order); rows stay sorted by replication.
    pub fn add(&mut self, model: &Model, replication: &ReplicationResult) {
        let at = self
            .rows
            .partition_point(|(r, _)| *r < replication.replication);
        let values = replication_values(model, replication);
        self.rows.insert(at, (replication.replication, values));
        self.pooled.add_replication(replication);
    }

    /// Position of a metric, if the model has it.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The values of metric `index`, in replication order.
    pub fn column(&self, index: usize) -> impl Iterator<Item = f64> + '_ {
        self.rows.iter().map(move |(_, values)| values[index])
    }

    /// Metric `index` over the replications, with its 95% CI: the value
    /// a run of these replications reports (see [`metric_estimate`]).
    pub fn estimate(&self, index: usize) -> Estimate {
        metric_estimate(&self.names[index], self.column(index), &self.pooled)
    }

    /// The pooled value of metric `index` when it is a quantile.
    pub fn pooled_quantile(&self, index: usize) -> Option<f64> {
        let (key, level) = quantile_source(&self.names[index])?;
        Some(self.pooled.quantile(&key, level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine;
    use std::path::Path;

    const TEXT: &str = "
[simulation]
duration = 200
replications = 3
seed = 4
[[producers]]
name = \"p\"
to = \"q\"
rate = 5
[[queues]]
name = \"q\"
[queues.consumers]
count = 1
service = { dist = \"exponential\", mean = 0.1 }
";

    #[test]
    fn samples_reproduce_the_run_summary_exactly() {
        let model = crate::scenario::from_str(TEXT, Path::new("t.toml"), &[]).unwrap();
        let reps = engine::run(&model);
        let mut samples = Samples::new(&model);
        samples.extend(&model, &reps);
        let run = summarize(&model, &reps);
        let p99 = samples.index_of("p99_latency").unwrap();
        assert_eq!(samples.estimate(p99), run.summary.p99_latency);
        let wait = samples.index_of("q.mean_wait").unwrap();
        assert_eq!(samples.estimate(wait), run.nodes[0].mean_wait);
        let p99_wait = samples.index_of("q.p99_wait").unwrap();
        assert_eq!(samples.estimate(p99_wait), run.nodes[0].p99_wait);
        let sojourn = samples.index_of("q.p99_sojourn").unwrap();
        assert_eq!(samples.estimate(sojourn), run.nodes[0].p99_sojourn);
        assert!(samples.names.iter().all(|n| !n.ends_with("_ci95")));
        assert!(samples.index_of("scenario").is_none());
    }

    #[test]
    fn quantile_metrics_are_named_by_their_column() {
        let (key, level) = quantile_source("p999_latency").unwrap();
        assert_eq!((key, level), (HistogramKey::latency(), 0.999));
        let (key, _) = quantile_source("a.b.p99_sojourn").unwrap();
        assert_eq!(key.node, "a.b");
        assert!(quantile_source("a.mean_wait").is_none());
        assert!(quantile_source("success_ratio").is_none());
    }
}
