//! What a run measured across replications: the rows of the report files.
//!
//! Every metric is first computed per replication, then summarised as the
//! mean over replications with a 95% confidence half-width (Student t).
//! Counts are therefore means per replication, and conservation
//! (produced = delivered + lost + in flight) holds for them as it does in
//! each replication.

use crate::engine::{ReplicationResult, run_classes};
use crate::model::Model;
use crate::stats::Estimate;
use serde::Serialize;

/// Quantiles of `latency_quantiles.csv`: 0.01 to 0.99 in 0.01 steps, then the tail.
pub fn reported_quantiles() -> Vec<f64> {
    (1..=99)
        .map(|i| f64::from(i) / 100.0)
        .chain([0.999, 0.9999])
        .collect()
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SummaryRow {
    /// Scenario name.
    pub scenario: String,
    /// Replications run.
    pub replications: u32,
    /// Messages published in the measured window, per replication.
    pub produced: Estimate,
    /// Of those, delivered.
    pub delivered: Estimate,
    /// Of those, lost.
    pub lost: Estimate,
    /// Of those, still in the system at the end.
    pub in_flight: Estimate,
    /// Delivered on time / (delivered + lost).
    pub success_ratio: Estimate,
    /// End-to-end latency, seconds.
    pub mean_latency: Estimate,
    /// Median end-to-end latency, seconds.
    pub p50_latency: Estimate,
    /// 95th percentile, seconds.
    pub p95_latency: Estimate,
    /// 99th percentile, seconds.
    pub p99_latency: Estimate,
    /// 99.9th percentile, seconds.
    pub p999_latency: Estimate,
    /// Delivered messages per second.
    pub throughput: Estimate,
}

/// One row of `nodes.csv`: a queue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeRow {
    /// Queue name.
    pub node: String,
    /// Arrivals per replication (re-publications included).
    pub arrivals: Estimate,
    /// Completed service attempts.
    pub served: Estimate,
    /// Dropped or rejected on overflow.
    pub dropped: Estimate,
    /// Expired (TTL).
    pub expired: Estimate,
    /// Failed their last allowed attempt.
    pub dead_lettered: Estimate,
    /// Failed attempts that were retried.
    pub retries: Estimate,
    /// Waiting time, seconds.
    pub mean_wait: Estimate,
    /// 99th percentile of waiting time, seconds.
    pub p99_wait: Estimate,
    /// Waiting plus service time, seconds.
    pub mean_sojourn: Estimate,
    /// 99th percentile of sojourn time, seconds.
    pub p99_sojourn: Estimate,
    /// Time-average number of waiting messages.
    pub mean_in_queue: Estimate,
    /// Most waiting messages at once.
    pub max_in_queue: Estimate,
    /// Time-average fraction of busy consumers.
    pub utilization: Estimate,
    /// Successfully processed messages per second.
    pub throughput: Estimate,
    /// Messages lost at this node (dropped, expired or dead-lettered) per
    /// arrival; undefined for a replication without arrivals.
    pub loss_ratio: Estimate,
    /// Queueing theory's value for this queue where an **exact** result
    /// applies (approximations are left out, so that a disagreement always
    /// means something); `None` otherwise.
    pub theory: Option<NodeTheory>,
}

/// Exact steady-state values of queueing theory for one queue, beside the
/// simulated ones (see [`crate::analytic::scenario`]); NaN where the
/// model gives no value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeTheory {
    /// The model used, e.g. `"M/M/1"`.
    pub model: String,
    /// Mean wait per attempt, seconds.
    pub mean_wait_s: f64,
    /// Mean sojourn per attempt, seconds.
    pub mean_sojourn_s: f64,
    /// Mean fraction of busy consumers.
    pub utilization: f64,
    /// Share of arrivals lost (refused, dropped or expired).
    pub loss: f64,
}

/// One point of a queue's waiting-time distribution (the report's wait plot).
#[derive(Debug, Clone, Default, Serialize)]
pub struct WaitQuantileRow {
    /// Queue name.
    pub node: String,
    /// Probability level in (0, 1).
    pub quantile: f64,
    /// Waiting time at that level, seconds.
    pub wait_s: Estimate,
}

/// One row of `classes.csv`: a priority class at a queue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassRow {
    /// Queue name.
    pub node: String,
    /// Priority value of the class.
    pub priority: i64,
    /// Arrivals per replication.
    pub arrivals: Estimate,
    /// Completed service attempts.
    pub served: Estimate,
    /// Waiting time, seconds.
    pub mean_wait: Estimate,
    /// 99th percentile of waiting time, seconds.
    pub p99_wait: Estimate,
    /// Waiting plus service time, seconds.
    pub mean_sojourn: Estimate,
}

/// One row of `latency_quantiles.csv`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuantileRow {
    /// Probability level in (0, 1).
    pub quantile: f64,
    /// End-to-end latency at that level, seconds.
    pub latency: Estimate,
}

/// One row of `timeseries.csv`, averaged over replications.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TimeseriesRow {
    /// Simulated time, seconds.
    pub time: f64,
    /// Queue name.
    pub node: String,
    /// Waiting messages (mean over replications).
    pub in_queue: f64,
    /// Messages in service (mean over replications).
    pub in_service: f64,
}

/// Everything a run produced, summarised across replications.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The `summary.csv` row.
    pub summary: SummaryRow,
    /// The `nodes.csv` rows.
    pub nodes: Vec<NodeRow>,
    /// The `classes.csv` rows.
    pub classes: Vec<ClassRow>,
    /// The `latency_quantiles.csv` rows.
    pub quantiles: Vec<QuantileRow>,
    /// The `timeseries.csv` rows.
    pub timeseries: Vec<TimeseriesRow>,
    /// Waiting-time quantiles of every queue with consumers, at the levels
    /// of [`reported_quantiles`], queue by queue.
    pub wait_quantiles: Vec<WaitQuantileRow>,
    /// Events processed over all replications.
    pub events: u64,
    /// Most messages in the system at once in any replication.
    pub peak_messages: usize,
    /// Replications that broke conservation (must stay empty).
    pub conservation_failures: Vec<u32>,
}

fn estimate(reps: &[ReplicationResult], metric: impl Fn(&ReplicationResult) -> f64) -> Estimate {
    Estimate::from_replications(reps.iter().map(metric))
}

/// Summarises the replications of a run of `model`.
pub fn summarize(model: &Model, reps: &[ReplicationResult]) -> RunResult {
    RunResult {
        summary: summary_row(model, reps),
        nodes: with_theory(model, node_rows(model, reps)),
        classes: class_rows(model, reps),
        quantiles: reported_quantiles()
            .into_iter()
            .map(|q| QuantileRow {
                quantile: q,
                latency: estimate(reps, |r| r.latency_hist.quantile(q)),
            })
            .collect(),
        timeseries: timeseries_rows(model, reps),
        wait_quantiles: wait_quantile_rows(model, reps),
        events: reps.iter().map(|r| r.events).sum(),
        peak_messages: reps.iter().map(|r| r.peak_messages).max().unwrap_or(0),
        conservation_failures: reps
            .iter()
            .filter(|r| !r.conserves())
            .map(|r| r.replication)
            .collect(),
    }
}

fn summary_row(model: &Model, reps: &[ReplicationResult]) -> SummaryRow {
    let quantile = |q: f64| estimate(reps, move |r| r.latency_hist.quantile(q));
    SummaryRow {
        scenario: model.name.clone(),
        replications: reps.len() as u32,
        produced: estimate(reps, |r| r.produced as f64),
        delivered: estimate(reps, |r| r.delivered as f64),
        lost: estimate(reps, |r| r.lost as f64),
        in_flight: estimate(reps, |r| r.in_flight as f64),
        success_ratio: estimate(reps, ReplicationResult::success_ratio),
        mean_latency: estimate(reps, |r| r.latency.mean()),
        p50_latency: quantile(0.5),
        p95_latency: quantile(0.95),
        p99_latency: quantile(0.99),
        p999_latency: quantile(0.999),
        throughput: estimate(reps, |r| r.delivered as f64 / r.measured_s),
    }
}

fn node_rows(model: &Model, reps: &[ReplicationResult]) -> Vec<NodeRow> {
    model
        .queues
        .iter()
        .enumerate()
        .map(|(q, queue)| {
            let node = |metric: &dyn Fn(&crate::engine::NodeObservations, f64) -> f64| {
                estimate(reps, |r| metric(&r.nodes[q], r.measured_s))
            };
            let servers = queue.consumers.as_ref().map(|c| f64::from(c.count));
            let end_of = |r: &ReplicationResult| model.simulation.warmup_s + r.measured_s;
            NodeRow {
                node: queue.name.clone(),
                arrivals: node(&|n, _| n.arrivals as f64),
                served: node(&|n, _| n.served as f64),
                dropped: node(&|n, _| n.dropped as f64),
                expired: node(&|n, _| n.expired as f64),
                dead_lettered: node(&|n, _| n.dead_lettered as f64),
                retries: node(&|n, _| n.retries as f64),
                mean_wait: node(&|n, _| n.wait.mean()),
                p99_wait: node(&|n, _| n.wait_hist.quantile(0.99)),
                mean_sojourn: node(&|n, _| n.sojourn.mean()),
                p99_sojourn: node(&|n, _| n.sojourn_hist.quantile(0.99)),
                mean_in_queue: estimate(reps, |r| r.nodes[q].in_queue.mean(end_of(r))),
                max_in_queue: node(&|n, _| n.in_queue.max()),
                utilization: estimate(reps, |r| match servers {
                    Some(count) => r.nodes[q].in_service.mean(end_of(r)) / count,
                    None => f64::NAN,
                }),
                throughput: node(&|n, measured_s| n.succeeded as f64 / measured_s),
                loss_ratio: node(&|n, _| {
                    (n.dropped + n.expired + n.dead_lettered) as f64 / n.arrivals as f64
                }),
                theory: None,
            }
        })
        .collect()
}

/// Fills [`NodeRow::theory`] from the exact results of
/// [`crate::analytic::scenario::analyze`].
fn with_theory(model: &Model, mut rows: Vec<NodeRow>) -> Vec<NodeRow> {
    let options = crate::analytic::scenario::AnalyzeOptions { build_ctmc: false };
    let analysis = crate::analytic::scenario::analyze_with(model, &options);
    for (row, node) in rows.iter_mut().zip(&analysis.nodes) {
        if node.applies != crate::analytic::scenario::Applies::Exact {
            continue;
        }
        row.theory = node.metrics.as_ref().map(|m| NodeTheory {
            model: node.model.clone(),
            mean_wait_s: m.mean_wait_s,
            mean_sojourn_s: m.mean_sojourn_s,
            utilization: m.utilization,
            loss: m.loss_probability + node.dead_letter_share,
        });
    }
    rows
}

/// Relative slack added to a 95% confidence half-width before theory is
/// said to disagree with the simulation.
pub const THEORY_SLACK: f64 = 0.02;

/// The exact theoretical values that fall outside the simulated 95%
/// confidence interval widened by [`THEORY_SLACK`] of the theoretical
/// value, as `"node.metric simulated ± ci vs theory value"`. Metrics
/// without a confidence interval (one replication) are not judged.
pub fn theory_disagreements(result: &RunResult) -> Vec<String> {
    let mut found = Vec::new();
    for row in &result.nodes {
        let Some(theory) = &row.theory else { continue };
        let pairs = [
            ("mean_wait", row.mean_wait, theory.mean_wait_s),
            ("mean_sojourn", row.mean_sojourn, theory.mean_sojourn_s),
            ("utilization", row.utilization, theory.utilization),
            ("loss_ratio", row.loss_ratio, theory.loss),
        ];
        for (name, simulated, value) in pairs {
            let judged =
                value.is_finite() && simulated.mean.is_finite() && simulated.ci95.is_finite();
            let allowed = simulated.ci95 + THEORY_SLACK * value.abs();
            if judged && (simulated.mean - value).abs() > allowed {
                found.push(format!(
                    "{}.{name} simulated {} ± {} vs theory {} ({})",
                    row.node, simulated.mean, simulated.ci95, value, theory.model
                ));
            }
        }
    }
    found
}

fn wait_quantile_rows(model: &Model, reps: &[ReplicationResult]) -> Vec<WaitQuantileRow> {
    let levels = reported_quantiles();
    model
        .queues
        .iter()
        .enumerate()
        .filter(|(_, queue)| queue.consumers.is_some())
        .flat_map(|(q, queue)| {
            levels.iter().map(move |&level| WaitQuantileRow {
                node: queue.name.clone(),
                quantile: level,
                wait_s: estimate(reps, |r| r.nodes[q].wait_hist.quantile(level)),
            })
        })
        .collect()
}

fn class_rows(model: &Model, reps: &[ReplicationResult]) -> Vec<ClassRow> {
    let classes = run_classes(model);
    let mut rows = Vec::new();
    for (q, queue) in model.queues.iter().enumerate() {
        for (c, &priority) in classes.iter().enumerate() {
            let class = |metric: &dyn Fn(crate::engine::ClassView<'_>) -> f64| {
                estimate(reps, |r| metric(r.nodes[q].class(c)))
            };
            rows.push(ClassRow {
                node: queue.name.clone(),
                priority,
                arrivals: class(&|k| k.arrivals as f64),
                served: class(&|k| k.served as f64),
                mean_wait: class(&|k| k.wait.mean()),
                p99_wait: class(&|k| k.wait_hist.quantile(0.99)),
                mean_sojourn: class(&|k| k.sojourn.mean()),
            });
        }
    }
    rows
}

fn timeseries_rows(model: &Model, reps: &[ReplicationResult]) -> Vec<TimeseriesRow> {
    let Some(first) = reps.first() else {
        return Vec::new();
    };
    let n = reps.len() as f64;
    (0..first.timeseries.len())
        .map(|i| {
            let sample = first.timeseries[i];
            let mean_of = |field: fn(&crate::engine::Sample) -> u32| {
                reps.iter()
                    .map(|r| f64::from(field(&r.timeseries[i])))
                    .sum::<f64>()
                    / n
            };
            TimeseriesRow {
                time: sample.time_s,
                node: model.queues[sample.queue as usize].name.clone(),
                in_queue: mean_of(|s| s.in_queue),
                in_service: mean_of(|s| s.in_service),
            }
        })
        .collect()
}
