//! A run's summary built replication by replication, as replications
//! finish, without keeping them.
//!
//! Of each replication only its value of every reported metric is kept
//! (a few numbers per queue); its histograms are added to the run's
//! [`PooledHistograms`] and its queue-length samples to running sums, and
//! the replication itself is dropped. Memory is then that of the pooled
//! histograms and of the replications still running, not replications ×
//! queues × histograms. The summary does not depend on the order in which
//! replications arrive: values are kept by replication number and combined
//! in that order, histogram and sample sums are integer sums.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use super::pooled::{HistogramKey, Measure, PooledHistograms};
use super::{
    ClassRow, EventRow, NodeMetric, NodeRow, QuantileRow, RunResult, SinkRow, SummaryMetric,
    SummaryRow, TimeseriesRow, WaitQuantileRow, reported_quantiles, with_theory,
};
use crate::engine::{
    self, EventObservations, NodeObservations, ReplicationResult, SinkObservations,
};
use crate::model::Model;
use crate::stats::{Estimate, LatencyHistogram};

/// One replication's value of every summary metric.
#[derive(Debug, Clone)]
struct SummaryValues {
    produced: f64,
    delivered: f64,
    lost: f64,
    in_flight: f64,
    success_ratio: f64,
    mean_latency: f64,
    /// At the levels of [`SummaryMetric::PERCENTILES`].
    latency_levels: [f64; 4],
    throughput: f64,
    unroutable: f64,
    consumer_seconds: f64,
    redelivered: f64,
    peak_backlog: f64,
    unavailable: f64,
}

/// One replication's value of every metric of a queue.
#[derive(Debug, Clone)]
struct NodeValues {
    arrivals: f64,
    served: f64,
    dropped: f64,
    expired: f64,
    dead_lettered: f64,
    retries: f64,
    mean_wait: f64,
    p99_wait: f64,
    mean_sojourn: f64,
    p99_sojourn: f64,
    mean_in_queue: f64,
    max_in_queue: f64,
    utilization: f64,
    throughput: f64,
    mean_unacked: f64,
    max_unacked: f64,
    dead_lettered_maxlen: f64,
    dead_lettered_expired: f64,
    dead_lettered_rejected: f64,
    mean_lag: f64,
    max_lag: f64,
    p99_lag: f64,
    disconnects: f64,
    loss_ratio: f64,
    /// At the levels of [`reported_quantiles`]; empty for a queue without consumers.
    wait_levels: Vec<f64>,
}

/// One replication's value of every metric of a sink.
#[derive(Debug, Clone)]
struct SinkValues {
    delivered: f64,
    success_ratio: f64,
    mean_latency: f64,
    /// At the levels of [`SummaryMetric::PERCENTILES`].
    latency_levels: [f64; 4],
}

impl SinkValues {
    fn of(sink: &SinkObservations) -> Self {
        let decided = sink.delivered + sink.lost;
        Self {
            delivered: sink.delivered as f64,
            success_ratio: sink.on_time as f64 / decided as f64,
            mean_latency: sink.latency.mean(),
            latency_levels: summary_levels(&sink.latency_hist),
        }
    }
}

/// One replication's value of every metric of a priority class at a queue.
#[derive(Debug, Clone)]
struct ClassValues {
    arrivals: f64,
    served: f64,
    mean_wait: f64,
    p99_wait: f64,
    mean_sojourn: f64,
}

/// What a run keeps of one replication.
#[derive(Debug, Clone)]
struct ReplicationValues {
    replication: u32,
    summary: SummaryValues,
    /// Per queue, in model order.
    nodes: Vec<NodeValues>,
    /// Per queue, then per class of [`Model::run_classes`].
    classes: Vec<Vec<ClassValues>>,
    /// End-to-end latency at the levels of [`reported_quantiles`].
    latency_levels: Vec<f64>,
    /// Per sink of [`Model::sinks`].
    sinks: Vec<SinkValues>,
    /// Per scheduled event.
    scheduled: Vec<EventObservations>,
}

impl ReplicationValues {
    fn of(model: &Model, levels: &[f64], rep: &ReplicationResult) -> Self {
        let end_s = model.simulation.warmup_s + rep.measured_s;
        let classes = model.run_classes().len();
        Self {
            replication: rep.replication,
            summary: SummaryValues {
                produced: rep.produced as f64,
                delivered: rep.delivered as f64,
                lost: rep.lost as f64,
                in_flight: rep.in_flight as f64,
                success_ratio: rep.success_ratio(),
                mean_latency: rep.latency.mean(),
                latency_levels: summary_levels(&rep.latency_hist),
                throughput: rep.delivered as f64 / rep.measured_s,
                unroutable: rep.unroutable as f64,
                consumer_seconds: model.consumer_count() as f64 * rep.measured_s
                    - rep.consumer_down_s,
                redelivered: rep.redelivered as f64,
                peak_backlog: peak_backlog(rep, model.simulation.warmup_s),
                unavailable: rep.unavailable as f64,
            },
            nodes: with_lags(
                model,
                rep,
                (model.queues.iter().zip(&rep.nodes))
                    .map(|(queue, n)| {
                        let servers = queue.consumers.as_ref().map(|c| f64::from(c.slots()));
                        node_values(n, rep.measured_s, end_s, servers, levels)
                    })
                    .collect(),
            ),
            classes: rep
                .nodes
                .iter()
                .map(|n| (0..classes).map(|c| class_values(n, c)).collect())
                .collect(),
            latency_levels: rep.latency_hist.quantiles(levels),
            sinks: rep.sinks.iter().map(SinkValues::of).collect(),
            scheduled: rep.scheduled.clone(),
        }
    }
}

/// `nodes` with the lag metrics of the topics' partitions filled in: the
/// time-average lag is the mean number of records waiting or unacked (a
/// sum of two time averages, exact); its maximum and 99th percentile are
/// taken over the sampling instants of the measured window.
fn with_lags(
    model: &Model,
    rep: &ReplicationResult,
    mut nodes: Vec<NodeValues>,
) -> Vec<NodeValues> {
    if model.topics.is_empty() {
        return nodes;
    }
    let partitions = model.partition_flags();
    let mut sampled: Vec<Vec<f64>> = vec![Vec::new(); nodes.len()];
    let measured = rep
        .timeseries
        .iter()
        .filter(|s| s.time_s >= model.simulation.warmup_s);
    for s in measured.filter(|s| partitions[s.queue as usize]) {
        sampled[s.queue as usize].push(f64::from(s.in_queue + s.unacked));
    }
    for (q, node) in nodes.iter_mut().enumerate().filter(|(q, _)| partitions[*q]) {
        node.mean_lag = node.mean_in_queue + node.mean_unacked;
        let lags = &mut sampled[q];
        lags.sort_unstable_by(f64::total_cmp);
        node.max_lag = lags.last().copied().unwrap_or(f64::NAN);
        node.p99_lag = nearest_rank(lags, NodeMetric::LEVEL);
    }
    nodes
}

/// The nearest-rank quantile at `level` of `sorted` values; NaN when empty.
fn nearest_rank(sorted: &[f64], level: f64) -> f64 {
    let rank = (level * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1))
        .copied()
        .unwrap_or(f64::NAN)
}

/// The most messages waiting in all queues together at one sampling
/// instant of the measured window; NaN without such an instant.
fn peak_backlog(rep: &ReplicationResult, warmup_s: f64) -> f64 {
    let mut peak: Option<u64> = None;
    let mut at = (f64::NAN, 0u64);
    for sample in rep.timeseries.iter().filter(|s| s.time_s >= warmup_s) {
        if sample.time_s != at.0 {
            peak = Some(peak.map_or(at.1, |p| p.max(at.1)));
            at = (sample.time_s, 0);
        }
        at.1 += u64::from(sample.in_queue);
    }
    if at.0.is_nan() {
        return f64::NAN;
    }
    peak.map_or(at.1, |p| p.max(at.1)) as f64
}

/// A replication's latency at the levels of [`SummaryMetric::PERCENTILES`], in one pass.
fn summary_levels(latency: &LatencyHistogram) -> [f64; 4] {
    let values = latency.quantiles(&percentile_levels());
    [values[0], values[1], values[2], values[3]]
}

/// The levels of `summary.csv`'s latency percentiles, in column order.
fn percentile_levels() -> [f64; 4] {
    SummaryMetric::PERCENTILES.map(|m| m.level().expect("a percentile has a level"))
}

fn node_values(
    n: &NodeObservations,
    measured_s: f64,
    end_s: f64,
    servers: Option<f64>,
    levels: &[f64],
) -> NodeValues {
    NodeValues {
        arrivals: n.arrivals as f64,
        served: n.served as f64,
        dropped: n.dropped as f64,
        expired: n.expired as f64,
        dead_lettered: (n.dead_lettered_maxlen + n.dead_lettered_expired + n.dead_lettered_rejected)
            as f64,
        retries: n.retries as f64,
        mean_wait: n.wait.mean(),
        p99_wait: n.wait_hist.quantile(NodeMetric::LEVEL),
        mean_sojourn: n.sojourn.mean(),
        p99_sojourn: n.sojourn_hist.quantile(NodeMetric::LEVEL),
        mean_in_queue: n.in_queue.mean(end_s),
        max_in_queue: n.in_queue.max(),
        utilization: servers.map_or(f64::NAN, |count| n.in_service.mean(end_s) / count),
        throughput: n.succeeded as f64 / measured_s,
        mean_unacked: n.unacked.as_ref().unwrap_or(&n.in_service).mean(end_s),
        max_unacked: n.unacked.as_ref().unwrap_or(&n.in_service).max(),
        dead_lettered_maxlen: n.dead_lettered_maxlen as f64,
        dead_lettered_expired: n.dead_lettered_expired as f64,
        dead_lettered_rejected: n.dead_lettered_rejected as f64,
        mean_lag: f64::NAN,
        max_lag: f64::NAN,
        p99_lag: f64::NAN,
        disconnects: n.disconnects as f64,
        loss_ratio: (n.dropped + n.expired + n.dead_lettered_rejected) as f64 / n.arrivals as f64,
        wait_levels: match servers {
            Some(_) => n.wait_hist.quantiles(levels),
            None => Vec::new(),
        },
    }
}

fn class_values(n: &NodeObservations, c: usize) -> ClassValues {
    let k = n.class(c);
    ClassValues {
        arrivals: k.arrivals as f64,
        served: k.served as f64,
        mean_wait: k.wait.mean(),
        p99_wait: k.wait_hist.quantile(NodeMetric::LEVEL),
        mean_sojourn: k.sojourn.mean(),
    }
}

/// Queue-length samples summed over replications.
#[derive(Debug, Clone, Copy)]
struct SampleSum {
    time_s: f64,
    queue: u32,
    in_queue: u64,
    in_service: u64,
    unacked: u64,
    consumers: u64,
    /// Sum of the lag ages; NaN for a queue that is not a partition.
    lag_age_s: f64,
}

/// The summary of a run in the making: add replications in any order,
/// then [`Accumulator::summarize`].
#[derive(Debug, Clone)]
pub struct Accumulator<'m> {
    model: &'m Model,
    levels: Vec<f64>,
    values: Vec<ReplicationValues>,
    pooled: PooledHistograms,
    samples: Vec<SampleSum>,
    /// Per queue, whether it is a topic's partition (has a lag).
    partitions: Vec<bool>,
    events: u64,
    peak_messages: usize,
    conservation_failures: Vec<u32>,
}

impl<'m> Accumulator<'m> {
    /// No replication of `model` yet.
    pub fn new(model: &'m Model) -> Self {
        Self {
            model,
            levels: reported_quantiles(),
            values: Vec::new(),
            pooled: PooledHistograms::for_model(model),
            samples: Vec::new(),
            partitions: model.partition_flags(),
            events: 0,
            peak_messages: 0,
            conservation_failures: Vec::new(),
        }
    }

    /// Adds one replication of the model; the replication can be dropped
    /// afterwards.
    pub fn add(&mut self, rep: &ReplicationResult) {
        let values = ReplicationValues::of(self.model, &self.levels, rep);
        self.add_parts(rep, values);
    }

    /// Adds a replication whose values were computed beforehand (outside a lock).
    fn add_parts(&mut self, rep: &ReplicationResult, values: ReplicationValues) {
        self.values.push(values);
        self.pooled.add_replication(rep);
        if self.samples.is_empty() {
            self.samples = (rep.timeseries.iter())
                .map(|s| SampleSum {
                    time_s: s.time_s,
                    queue: s.queue,
                    in_queue: 0,
                    in_service: 0,
                    unacked: 0,
                    consumers: 0,
                    lag_age_s: if self.partitions[s.queue as usize] {
                        0.0
                    } else {
                        f64::NAN
                    },
                })
                .collect();
        }
        let mut ages = rep.lag_ages_s.iter();
        for (sum, sample) in self.samples.iter_mut().zip(&rep.timeseries) {
            sum.in_queue += u64::from(sample.in_queue);
            sum.in_service += u64::from(sample.in_service);
            sum.unacked += u64::from(sample.unacked);
            sum.consumers += u64::from(sample.consumers);
            if self.partitions[sample.queue as usize] {
                sum.lag_age_s += ages.next().copied().unwrap_or(f64::NAN);
            }
        }
        self.events += rep.events;
        self.peak_messages = self.peak_messages.max(rep.peak_messages);
        if !rep.conserves() {
            self.conservation_failures.push(rep.replication);
        }
    }

    /// Replications added so far.
    pub fn replications(&self) -> usize {
        self.values.len()
    }

    /// The histograms of every replication added, pooled.
    pub fn pooled(&self) -> &PooledHistograms {
        &self.pooled
    }

    /// The run result of the replications added so far.
    pub fn summarize(&self) -> RunResult {
        let mut sorted: Vec<&ReplicationValues> = self.values.iter().collect();
        sorted.sort_by_key(|v| v.replication);
        let mut conservation_failures = self.conservation_failures.clone();
        conservation_failures.sort_unstable();
        let view = View {
            model: self.model,
            levels: &self.levels,
            values: &sorted,
            pooled: &self.pooled,
        };
        RunResult {
            summary: view.summary_row(),
            nodes: with_theory(self.model, view.node_rows()),
            classes: view.class_rows(),
            quantiles: view.quantile_rows(),
            timeseries: self.timeseries_rows(),
            wait_quantiles: view.wait_quantile_rows(),
            sinks: view.sink_rows(),
            scheduled: view.event_rows(),
            events: self.events,
            peak_messages: self.peak_messages,
            conservation_failures,
        }
    }

    fn timeseries_rows(&self) -> Vec<TimeseriesRow> {
        let n = self.values.len() as f64;
        (self.samples.iter())
            .map(|s| TimeseriesRow {
                time: s.time_s,
                node: self.model.queues[s.queue as usize].name.clone(),
                in_queue: s.in_queue as f64 / n,
                in_service: s.in_service as f64 / n,
                unacked: s.unacked as f64 / n,
                lag: if self.partitions[s.queue as usize] {
                    (s.in_queue + s.unacked) as f64 / n
                } else {
                    f64::NAN
                },
                lag_seconds: s.lag_age_s / n,
                consumers: match self.model.queues[s.queue as usize].consumers {
                    Some(_) => s.consumers as f64 / n,
                    None => f64::NAN,
                },
            })
            .collect()
    }
}

/// The replications' values in replication order, with the pooled
/// histograms: what the rows are computed from.
struct View<'a> {
    model: &'a Model,
    levels: &'a [f64],
    values: &'a [&'a ReplicationValues],
    pooled: &'a PooledHistograms,
}

impl View<'_> {
    /// Mean and Student-t interval of a metric over replications.
    fn mean(&self, metric: impl Fn(&ReplicationValues) -> f64) -> Estimate {
        Estimate::from_replications(self.values.iter().map(|v| metric(v)))
    }

    /// Pooled quantile of `key` at `level`, with a sectioning interval
    /// from the replications' own quantiles (`metric`).
    fn quantile(
        &self,
        key: &HistogramKey,
        level: f64,
        metric: impl Fn(&ReplicationValues) -> f64,
    ) -> Estimate {
        let pooled = self.pooled.quantile(key, level);
        Estimate::sectioned(pooled, self.values.iter().map(|v| metric(v)))
    }

    fn summary_row(&self) -> SummaryRow {
        let latency = HistogramKey::latency();
        let levels = percentile_levels();
        let level = |i: usize| self.quantile(&latency, levels[i], |v| v.summary.latency_levels[i]);
        SummaryRow {
            scenario: self.model.name.clone(),
            replications: self.values.len() as u32,
            produced: self.mean(|v| v.summary.produced),
            delivered: self.mean(|v| v.summary.delivered),
            lost: self.mean(|v| v.summary.lost),
            in_flight: self.mean(|v| v.summary.in_flight),
            success_ratio: self.mean(|v| v.summary.success_ratio),
            mean_latency: self.mean(|v| v.summary.mean_latency),
            p50_latency: level(0),
            p95_latency: level(1),
            p99_latency: level(2),
            p999_latency: level(3),
            throughput: self.mean(|v| v.summary.throughput),
            unroutable: self.mean(|v| v.summary.unroutable),
            consumer_seconds: self.mean(|v| v.summary.consumer_seconds),
            redelivered: self.mean(|v| v.summary.redelivered),
            peak_backlog: self.mean(|v| v.summary.peak_backlog),
            unavailable: self.mean(|v| v.summary.unavailable),
        }
    }

    fn node_rows(&self) -> Vec<NodeRow> {
        (self.model.queues.iter().enumerate())
            .map(|(q, queue)| {
                let node = |metric: fn(&NodeValues) -> f64| self.mean(|v| metric(&v.nodes[q]));
                let wait = HistogramKey::at(Measure::Wait, &queue.name, 0);
                let sojourn = HistogramKey::at(Measure::Sojourn, &queue.name, 0);
                NodeRow {
                    node: queue.name.clone(),
                    arrivals: node(|n| n.arrivals),
                    served: node(|n| n.served),
                    dropped: node(|n| n.dropped),
                    expired: node(|n| n.expired),
                    dead_lettered: node(|n| n.dead_lettered),
                    retries: node(|n| n.retries),
                    mean_wait: node(|n| n.mean_wait),
                    p99_wait: self.quantile(&wait, NodeMetric::LEVEL, |v| v.nodes[q].p99_wait),
                    mean_sojourn: node(|n| n.mean_sojourn),
                    p99_sojourn: self
                        .quantile(&sojourn, NodeMetric::LEVEL, |v| v.nodes[q].p99_sojourn),
                    mean_in_queue: node(|n| n.mean_in_queue),
                    max_in_queue: node(|n| n.max_in_queue),
                    utilization: node(|n| n.utilization),
                    throughput: node(|n| n.throughput),
                    mean_unacked: node(|n| n.mean_unacked),
                    max_unacked: node(|n| n.max_unacked),
                    dead_lettered_maxlen: node(|n| n.dead_lettered_maxlen),
                    dead_lettered_expired: node(|n| n.dead_lettered_expired),
                    dead_lettered_rejected: node(|n| n.dead_lettered_rejected),
                    mean_lag: node(|n| n.mean_lag),
                    max_lag: node(|n| n.max_lag),
                    p99_lag: node(|n| n.p99_lag),
                    disconnects: node(|n| n.disconnects),
                    loss_ratio: node(|n| n.loss_ratio),
                    theory: None,
                }
            })
            .collect()
    }

    fn event_rows(&self) -> Vec<EventRow> {
        (self.model.events.iter().enumerate())
            .map(|(e, event)| {
                let seen =
                    |metric: fn(&EventObservations) -> f64| self.mean(|v| metric(&v.scheduled[e]));
                EventRow {
                    event: e,
                    what: self.model.describe_event(event),
                    start: event.at_s,
                    end: event.for_s.map_or(f64::INFINITY, |f| event.at_s + f),
                    backlog_before: seen(|o| o.backlog_before as f64),
                    peak_backlog: seen(|o| o.peak_backlog as f64),
                    drain_time: seen(|o| o.drain_time_s),
                    drained: match event.for_s {
                        Some(_) => seen(|o| f64::from(u8::from(!o.drain_time_s.is_nan()))),
                        None => Estimate::from_replications([f64::NAN]),
                    },
                    p99_latency: seen(|o| o.p99_latency_s),
                }
            })
            .collect()
    }

    fn sink_rows(&self) -> Vec<SinkRow> {
        let levels = percentile_levels();
        (self.model.sinks().names.into_iter().enumerate())
            .map(|(s, name)| {
                let latency = HistogramKey::at(Measure::SinkLatency, &name, 0);
                let sink = |metric: fn(&SinkValues) -> f64| self.mean(|v| metric(&v.sinks[s]));
                let level =
                    |i: usize| self.quantile(&latency, levels[i], |v| v.sinks[s].latency_levels[i]);
                SinkRow {
                    sink: name,
                    delivered: sink(|k| k.delivered),
                    success_ratio: sink(|k| k.success_ratio),
                    mean_latency: sink(|k| k.mean_latency),
                    p50_latency: level(0),
                    p95_latency: level(1),
                    p99_latency: level(2),
                    p999_latency: level(3),
                }
            })
            .collect()
    }

    fn class_rows(&self) -> Vec<ClassRow> {
        let classes = self.model.run_classes();
        let mut rows = Vec::new();
        for (q, queue) in self.model.queues.iter().enumerate() {
            for (c, &priority) in classes.iter().enumerate() {
                let class =
                    |metric: fn(&ClassValues) -> f64| self.mean(|v| metric(&v.classes[q][c]));
                let wait = HistogramKey::at(Measure::ClassWait, &queue.name, priority);
                rows.push(ClassRow {
                    node: queue.name.clone(),
                    priority,
                    arrivals: class(|k| k.arrivals),
                    served: class(|k| k.served),
                    mean_wait: class(|k| k.mean_wait),
                    p99_wait: self.quantile(&wait, NodeMetric::LEVEL, |v| v.classes[q][c].p99_wait),
                    mean_sojourn: class(|k| k.mean_sojourn),
                });
            }
        }
        rows
    }

    fn quantile_rows(&self) -> Vec<QuantileRow> {
        let pooled = (self.pooled).quantiles(&HistogramKey::latency(), self.levels);
        (self.levels.iter().zip(pooled).enumerate())
            .map(|(i, (&level, pooled))| QuantileRow {
                quantile: level,
                latency: Estimate::sectioned(
                    pooled,
                    self.values.iter().map(|v| v.latency_levels[i]),
                ),
            })
            .collect()
    }

    fn wait_quantile_rows(&self) -> Vec<WaitQuantileRow> {
        let mut rows = Vec::new();
        for (q, queue) in self.model.queues.iter().enumerate() {
            if queue.consumers.is_none() {
                continue;
            }
            let wait = HistogramKey::at(Measure::Wait, &queue.name, 0);
            let pooled = self.pooled.quantiles(&wait, self.levels);
            for (i, (&level, pooled)) in self.levels.iter().zip(pooled).enumerate() {
                let per_replication = self.values.iter().map(|v| v.nodes[q].wait_levels[i]);
                rows.push(WaitQuantileRow {
                    node: queue.name.clone(),
                    quantile: level,
                    wait_s: Estimate::sectioned(pooled, per_replication),
                });
            }
        }
        rows
    }
}

/// Runs the replications numbered `replications` of `model` in parallel
/// and folds each into the summary as soon as it finishes, calling `done`
/// after each: memory holds the replications in progress (one per thread)
/// and the pooled histograms, never every replication. The result is that
/// of [`super::summarize`] over [`engine::run_replications`], whatever the
/// number of threads.
pub fn run_summarized<'m>(
    model: &'m Model,
    replications: Range<u32>,
    done: &(dyn Fn() + Sync),
) -> Accumulator<'m> {
    let accumulator = Mutex::new(Accumulator::new(model));
    let levels = reported_quantiles();
    let choice = engine::Choice::for_model(model);
    let _stopped = replications.into_par_iter().try_for_each(|replication| {
        if engine::stop_requested() {
            return Err(());
        }
        let rep = choice.simulate(replication);
        let values = ReplicationValues::of(model, &levels, &rep);
        accumulator
            .lock()
            .expect("no replication panicked while holding the summary")
            .add_parts(&rep, values);
        done();
        Ok(())
    });
    accumulator
        .into_inner()
        .expect("no replication panicked while holding the summary")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::csv::tables;

    const TEXT: &str = "
[simulation]
duration = 300
warmup = 30
replications = 6
seed = 5
[[producers]]
name = \"p\"
to = \"a\"
rate = 3
priority = 1
[[producers]]
name = \"r\"
to = \"a\"
rate = 1
[[queues]]
name = \"a\"
discipline = \"priority\"
[queues.consumers]
service = { dist = \"exponential\", mean = 0.2 }
next = \"b\"
[[queues]]
name = \"b\"
[queues.consumers]
service = { dist = \"exponential\", mean = 0.1 }
";

    fn model() -> Model {
        crate::scenario::from_str(TEXT, std::path::Path::new("t.toml"), &[]).unwrap()
    }

    fn json(result: &RunResult) -> String {
        serde_json::to_string(result).unwrap()
    }

    #[test]
    fn the_summary_does_not_depend_on_the_order_of_replications() {
        let model = model();
        let reps = engine::run(&model);
        let mut reversed = Accumulator::new(&model);
        for rep in reps.iter().rev() {
            reversed.add(rep);
        }
        assert_eq!(
            json(&reversed.summarize()),
            json(&super::super::summarize(&model, &reps))
        );
    }

    #[test]
    fn a_streamed_run_is_the_same_on_any_number_of_threads() {
        let model = model();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| run_summarized(&model, 0..6, &|| {}).summarize())
        };
        let whole = super::super::summarize(&model, &engine::run(&model));
        for threads in [1, 3] {
            assert_eq!(tables(&on(threads)), tables(&whole), "{threads} threads");
            assert_eq!(json(&on(threads)), json(&whole), "{threads} threads");
        }
    }

    #[test]
    fn quantiles_are_pooled_means_are_averaged() {
        let model = model();
        let reps = engine::run(&model);
        let result = super::super::summarize(&model, &reps);
        let mut pooled = crate::stats::LatencyHistogram::new();
        for rep in &reps {
            pooled.add(&rep.nodes[1].sojourn_hist);
        }
        assert_eq!(
            result.nodes[1].p99_sojourn.mean,
            pooled.quantile(NodeMetric::LEVEL)
        );
        let per_replication = reps
            .iter()
            .map(|r| r.nodes[1].sojourn_hist.quantile(NodeMetric::LEVEL));
        let averaged = Estimate::from_replications(per_replication);
        assert_ne!(result.nodes[1].p99_sojourn.mean, averaged.mean);
        let means = Estimate::from_replications(reps.iter().map(|r| r.nodes[1].sojourn.mean()));
        assert_eq!(result.nodes[1].mean_sojourn, means);
        assert_eq!(result.classes.len(), 4);
        assert_eq!(result.summary.replications, 6);
    }
}
