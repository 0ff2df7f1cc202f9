//! What a run measured across replications: the rows of the report files.
//!
//! Every metric is first computed per replication, then summarised over
//! replications with a 95% confidence half-width (Student t). Means,
//! counts and ratios are the mean over replications, so counts are means
//! per replication, and conservation (produced = delivered + lost + in
//! flight) holds for them as it does in each replication. Quantiles (the
//! `p99_*` columns and `latency_quantiles.csv`) are the quantile of every
//! replication's observations pooled, with a sectioning interval
//! ([`Estimate::sectioned`]): the mean of per-replication quantiles is
//! biased low when replications are short.
//!
//! [`Accumulator`] builds the summary replication by replication, so a run
//! need not keep its replications ([`run_summarized`]).

mod accumulate;
mod columns;
pub mod pooled;

pub use accumulate::{Accumulator, run_summarized};
pub use columns::{NodeMetric, Quantity, ReportFile, SummaryMetric};
pub use pooled::{HistogramKey, Measure, PooledHistograms};

use crate::engine::ReplicationResult;
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

/// When cell `column` of `row` of CSV table `table` (a file name such as
/// `nodes.csv`) reports a quantile: the pooled histogram it is read from
/// and the level. How `queuesim merge` recomputes those cells from the
/// histograms a shard carries.
pub fn quantile_cell(
    table: &str,
    header: &[String],
    row: &[String],
    column: usize,
) -> Option<(HistogramKey, f64)> {
    let name = header.get(column)?.as_str();
    let cell = |key: &str| {
        let at = header.iter().position(|h| h == key)?;
        row.get(at).map(String::as_str)
    };
    match ReportFile::from_file_name(table)? {
        ReportFile::Summary => {
            let level = SummaryMetric::parse(name)?.level()?;
            Some((HistogramKey::latency(), level))
        }
        ReportFile::LatencyQuantiles if name == "latency" => {
            Some((HistogramKey::latency(), cell("quantile")?.parse().ok()?))
        }
        ReportFile::Nodes => {
            let measure = NodeMetric::parse(name)?.measure()?;
            Some((
                HistogramKey::at(measure, cell("node")?, 0),
                NodeMetric::LEVEL,
            ))
        }
        ReportFile::Sinks => {
            let level = SummaryMetric::parse(name)?.level()?;
            let key = HistogramKey::at(Measure::SinkLatency, cell("sink")?, 0);
            Some((key, level))
        }
        ReportFile::Classes if name == NodeMetric::P99Wait.name() => {
            let priority = cell("priority")?.parse().ok()?;
            let key = HistogramKey::at(Measure::ClassWait, cell("node")?, priority);
            Some((key, NodeMetric::LEVEL))
        }
        _ => None,
    }
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
    /// Median end-to-end latency of the replications pooled, seconds
    /// (sectioning interval, as every percentile).
    pub p50_latency: Estimate,
    /// 95th percentile, pooled, seconds.
    pub p95_latency: Estimate,
    /// 99th percentile, pooled, seconds.
    pub p99_latency: Estimate,
    /// 99.9th percentile, pooled, seconds.
    pub p999_latency: Estimate,
    /// Delivered messages per second.
    pub throughput: Estimate,
    /// Of the lost, those no exchange could route (no binding matched
    /// their routing key and there was no alternate).
    pub unroutable: Estimate,
    /// Consumers up over the measured window, consumer-seconds: the cost
    /// of the consumer fleet (consumers that own no partition excluded).
    pub consumer_seconds: Estimate,
    /// Messages a crashed consumer was processing, delivered again.
    pub redelivered: Estimate,
    /// Most waiting messages, all queues together, at the sampling
    /// instants of the measured window.
    pub peak_backlog: Estimate,
    /// Of the lost, those whose target was down or refused them, and no
    /// client buffer kept them (or it was full).
    pub unavailable: Estimate,
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
    /// Sent to the dead-letter target, or failed their last allowed
    /// attempt: the sum of the three reasons below.
    pub dead_lettered: Estimate,
    /// Failed attempts that were retried.
    pub retries: Estimate,
    /// Waiting time, seconds.
    pub mean_wait: Estimate,
    /// 99th percentile of waiting time, replications pooled, seconds.
    pub p99_wait: Estimate,
    /// Waiting plus service time, seconds.
    pub mean_sojourn: Estimate,
    /// 99th percentile of sojourn time, replications pooled, seconds.
    pub p99_sojourn: Estimate,
    /// Time-average number of waiting messages.
    pub mean_in_queue: Estimate,
    /// Most waiting messages at once.
    pub max_in_queue: Estimate,
    /// Time-average fraction of busy consumers.
    pub utilization: Estimate,
    /// Successfully processed messages per second.
    pub throughput: Estimate,
    /// Time-average number of delivered, unacknowledged messages.
    pub mean_unacked: Estimate,
    /// Most unacknowledged messages at once.
    pub max_unacked: Estimate,
    /// Dropped on overflow (drop-head) into the dead-letter target.
    pub dead_lettered_maxlen: Estimate,
    /// Expired into the dead-letter target.
    pub dead_lettered_expired: Estimate,
    /// Failed their last allowed attempt.
    pub dead_lettered_rejected: Estimate,
    /// A topic partition's consumer lag (records in it not yet processed,
    /// fetched ones included), time average; undefined for other queues.
    pub mean_lag: Estimate,
    /// Largest lag at the sampling instants of the measured window.
    pub max_lag: Estimate,
    /// 99th percentile of the lag over the sampling instants of the
    /// measured window.
    pub p99_lag: Estimate,
    /// Times the consumer was disconnected for passing the queue's limit
    /// (`overflow = "disconnect"`; 0 elsewhere).
    pub disconnects: Estimate,
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
    /// Waiting time at that level, replications pooled, seconds.
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
    /// 99th percentile of waiting time, replications pooled, seconds.
    pub p99_wait: Estimate,
    /// Waiting plus service time, seconds.
    pub mean_sojourn: Estimate,
}

/// One row of `sinks.csv`: what one final consumer (a queue whose
/// consumers deliver, or a topic group) delivered of the messages
/// published in the measured window. With copies (fanout exchanges,
/// several topic groups) each sink counts its own copy, so a slow path's
/// latency shows beside a fast one's; without copies the sinks split the
/// run's deliveries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SinkRow {
    /// The queue's name, `topic@group` for a topic group (`topic` for the
    /// one-group shorthand).
    pub sink: String,
    /// Copies delivered here.
    pub delivered: Estimate,
    /// Copies delivered here on time, per copy delivered here or lost on
    /// a path that leads only here (with one sink and no copies, exactly
    /// `summary.csv`'s `success_ratio`).
    pub success_ratio: Estimate,
    /// From the message's publication to this copy's delivery, seconds.
    pub mean_latency: Estimate,
    pub p50_latency: Estimate,
    pub p95_latency: Estimate,
    pub p99_latency: Estimate,
    pub p999_latency: Estimate,
}

/// One row of `latency_quantiles.csv`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuantileRow {
    /// Probability level in (0, 1).
    pub quantile: f64,
    /// End-to-end latency at that level, replications pooled, seconds.
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
    /// Delivered, unacknowledged messages (mean over replications).
    pub unacked: f64,
    /// A topic partition's records not yet processed (mean over
    /// replications); NaN for other queues.
    pub lag: f64,
    /// Age of a partition's oldest unprocessed record, 0 when there is
    /// none (mean over replications), seconds; NaN for other queues.
    pub lag_seconds: f64,
    /// Consumers of the queue's pool that are up (mean over
    /// replications); NaN for a queue without consumers.
    pub consumers: f64,
}

/// One row of `events.csv`: what a scheduled event did, across
/// replications.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EventRow {
    /// Its place among `[[events]]`, from 0.
    pub event: usize,
    /// What it does, e.g. `down orders; consumers orders=2`.
    pub what: String,
    /// When it starts and ends (infinite: never reverted), seconds.
    pub start: f64,
    pub end: f64,
    /// Messages waiting in its queues (and held for them by producers)
    /// when it started.
    pub backlog_before: Estimate,
    /// The most of them while it lasted.
    pub peak_backlog: Estimate,
    /// Seconds from its end until they were first back to
    /// `backlog_before`, over the replications where they were.
    pub drain_time: Estimate,
    /// Share of replications where they were back before the run ended.
    pub drained: Estimate,
    /// Mean over replications of the 99th percentile of the latency of
    /// the messages published while it lasted, seconds.
    pub p99_latency: Estimate,
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
    /// The `sinks.csv` rows.
    pub sinks: Vec<SinkRow>,
    /// The `events.csv` rows: one per scheduled event.
    pub scheduled: Vec<EventRow>,
    /// Events processed over all replications.
    pub events: u64,
    /// Most messages in the system at once in any replication.
    pub peak_messages: usize,
    /// Replications that broke conservation (must stay empty).
    pub conservation_failures: Vec<u32>,
}

/// Summarises the replications of a run of `model` (in any order).
pub fn summarize(model: &Model, reps: &[ReplicationResult]) -> RunResult {
    let mut accumulator = Accumulator::new(model);
    for rep in reps {
        accumulator.add(rep);
    }
    accumulator.summarize()
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
