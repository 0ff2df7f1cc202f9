//! The metrics an experiment compares, sweeps or plans against, one value
//! per replication.
//!
//! The metric names are the estimate columns of `summary.csv`
//! (`p99_latency`, `success_ratio`, …) and, per queue, those of `nodes.csv`
//! prefixed with the queue's name (`orders.mean_wait`). A replication's
//! value of a metric is what `summary.csv`/`nodes.csv` would show for a run
//! of that replication alone, so an [`Estimate`] over the values of several
//! replications is exactly the cell a run of those replications reports.

use crate::engine::ReplicationResult;
use crate::model::Model;
use crate::report::csv::{Table, tables};
use crate::results::{RunResult, summarize};
use crate::stats::Estimate;

/// Suffix of the confidence half-width columns.
const CI_SUFFIX: &str = "_ci95";

/// The estimate columns of a table: names that have a `_ci95` sibling.
fn estimate_columns(table: &Table) -> Vec<usize> {
    (0..table.header.len())
        .filter(|&i| {
            let ci = format!("{}{CI_SUFFIX}", table.header[i]);
            table.header.contains(&ci)
        })
        .collect()
}

/// `(name, value)` of every metric of a run result, in report order; the
/// values are the means of its estimates.
fn named_values(result: &RunResult) -> Vec<(String, f64)> {
    let all = tables(result);
    let mut out = Vec::new();
    for (file, table) in &all {
        let prefix_with_node = match *file {
            "summary.csv" => false,
            "nodes.csv" => true,
            _ => continue,
        };
        let columns = estimate_columns(table);
        for row in &table.rows {
            for &c in &columns {
                let name = if prefix_with_node {
                    format!("{}.{}", row[0], table.header[c])
                } else {
                    table.header[c].clone()
                };
                out.push((name, row[c].parse().unwrap_or(f64::NAN)));
            }
        }
    }
    out
}

/// The metric names of `model`: summary metrics, then `node.metric` per queue.
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

/// Per-replication values of every metric of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Metric names, as [`metric_names`].
    pub names: Vec<String>,
    /// `(replication number, values)` in increasing replication order.
    pub rows: Vec<(u32, Vec<f64>)>,
}

impl Samples {
    /// No replications yet for the metrics of `model`.
    pub fn new(model: &Model) -> Self {
        Self {
            names: metric_names(model),
            rows: Vec::new(),
        }
    }

    /// Adds replications (in any order); rows stay sorted by replication.
    pub fn extend(&mut self, model: &Model, replications: &[ReplicationResult]) {
        self.rows.extend(
            replications
                .iter()
                .map(|r| (r.replication, replication_values(model, r))),
        );
        self.rows.sort_by_key(|(replication, _)| *replication);
    }

    /// Position of a metric, if the model has it.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The values of metric `index`, in replication order.
    pub fn column(&self, index: usize) -> impl Iterator<Item = f64> + '_ {
        self.rows.iter().map(move |(_, values)| values[index])
    }

    /// Mean and 95% CI of metric `index` over the replications.
    pub fn estimate(&self, index: usize) -> Estimate {
        Estimate::from_replications(self.column(index))
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
        assert!(samples.names.iter().all(|n| !n.ends_with(CI_SUFFIX)));
        assert!(samples.index_of("scenario").is_none());
    }
}
