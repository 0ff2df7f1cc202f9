//! What one replication observed, in constant memory.

use crate::stats::{LatencyHistogram, Tally, TimeWeighted};

/// Observations of one priority class at one queue.
#[derive(Debug, Clone, Default)]
pub struct ClassObservations {
    /// Arrivals (re-publications included).
    pub arrivals: u64,
    /// Completed service attempts.
    pub served: u64,
    /// Waiting time before service, seconds.
    pub wait: Tally,
    /// Distribution of waiting time.
    pub wait_hist: LatencyHistogram,
    /// Waiting plus service time, seconds.
    pub sojourn: Tally,
}

/// A priority class's observations, borrowed from wherever they are kept.
#[derive(Debug, Clone, Copy)]
pub struct ClassView<'a> {
    /// Arrivals (re-publications included).
    pub arrivals: u64,
    /// Completed service attempts.
    pub served: u64,
    /// Waiting time before service, seconds.
    pub wait: &'a Tally,
    /// Distribution of waiting time.
    pub wait_hist: &'a LatencyHistogram,
    /// Waiting plus service time, seconds.
    pub sojourn: &'a Tally,
}

/// Observations of one queue over the measured window.
#[derive(Debug, Clone)]
pub struct NodeObservations {
    /// Arrivals (re-publications included).
    pub arrivals: u64,
    /// Completed service attempts, successful or not.
    pub served: u64,
    /// Successfully processed messages.
    pub succeeded: u64,
    /// Messages dropped or rejected on overflow.
    pub dropped: u64,
    /// Messages whose TTL ran out while waiting.
    pub expired: u64,
    /// Messages that failed their last allowed attempt (dead-lettered
    /// as rejected, whether or not the queue has a dead-letter target).
    pub dead_lettered_rejected: u64,
    /// Messages dropped on overflow into the dead-letter target.
    pub dead_lettered_maxlen: u64,
    /// Expired messages sent to the dead-letter target.
    pub dead_lettered_expired: u64,
    /// Failed attempts that were retried.
    pub retries: u64,
    /// Times the consumer was disconnected for passing the queue's limit.
    pub disconnects: u64,
    /// Messages of a FIFO queue (or of one priority class) that started
    /// service after one that arrived later, or, with a single consumer,
    /// finished after one: always 0, a self-check of the engine.
    pub out_of_order: u64,
    /// Waiting time before service, seconds.
    pub wait: Tally,
    /// Distribution of waiting time.
    pub wait_hist: LatencyHistogram,
    /// Waiting plus service time, seconds.
    pub sojourn: Tally,
    /// Distribution of sojourn time.
    pub sojourn_hist: LatencyHistogram,
    /// Number of waiting (ready) messages over time.
    pub in_queue: TimeWeighted,
    /// Number of messages in service over time.
    pub in_service: TimeWeighted,
    /// Number of delivered but unacknowledged messages over time, where
    /// it differs from `in_service` (a queue whose consumers have a
    /// window); `None` where it is `in_service`.
    pub unacked: Option<TimeWeighted>,
    /// Per priority class (index 0 = highest); empty when the run has a
    /// single class, whose observations are the node's own (see [`Self::class`]).
    pub classes: Vec<ClassObservations>,
}

impl NodeObservations {
    /// Empty observations for a queue with `classes` priority classes.
    pub fn new(classes: usize) -> Self {
        Self {
            arrivals: 0,
            served: 0,
            succeeded: 0,
            dropped: 0,
            expired: 0,
            dead_lettered_rejected: 0,
            dead_lettered_maxlen: 0,
            dead_lettered_expired: 0,
            retries: 0,
            disconnects: 0,
            out_of_order: 0,
            wait: Tally::new(),
            wait_hist: LatencyHistogram::new(),
            sojourn: Tally::new(),
            sojourn_hist: LatencyHistogram::new(),
            in_queue: TimeWeighted::new(0.0),
            in_service: TimeWeighted::new(0.0),
            unacked: None,
            classes: if classes > 1 {
                vec![ClassObservations::default(); classes]
            } else {
                Vec::new()
            },
        }
    }

    /// Observations of priority class `c`.
    pub fn class(&self, c: usize) -> ClassView<'_> {
        match self.classes.get(c) {
            Some(k) => ClassView {
                arrivals: k.arrivals,
                served: k.served,
                wait: &k.wait,
                wait_hist: &k.wait_hist,
                sojourn: &k.sojourn,
            },
            None => ClassView {
                arrivals: self.arrivals,
                served: self.served,
                wait: &self.wait,
                wait_hist: &self.wait_hist,
                sojourn: &self.sojourn,
            },
        }
    }

    /// Starts measuring at `now_s`: counts and samples so far are discarded,
    /// current levels are kept.
    pub fn restart(&mut self, now_s: f64) {
        let mut in_queue = self.in_queue.clone();
        let mut in_service = self.in_service.clone();
        let mut unacked = self.unacked.clone();
        in_queue.restart(now_s);
        in_service.restart(now_s);
        if let Some(unacked) = &mut unacked {
            unacked.restart(now_s);
        }
        *self = Self {
            in_queue,
            in_service,
            unacked,
            ..Self::new(self.classes.len())
        };
    }
}

/// Number of time slices of [`ReplicationResult::latency_by_time`].
pub const LATENCY_BUCKETS: usize = 500;

/// Sums of end-to-end latency by delivery time: the [`LATENCY_BUCKETS`]
/// slices of [`ReplicationResult::latency_by_time`].
///
/// The slice of a time is `time / end × LATENCY_BUCKETS`; a division per
/// delivery showed in profiles, and deliveries come mostly in time order,
/// so the span of times sure to fall in the last slice found is kept and
/// the division runs about once per slice. The slices are exactly those
/// of the division.
#[derive(Debug, Clone)]
pub(super) struct LatencyByTime {
    end_s: f64,
    slices: Vec<(f64, u64)>,
    /// Slice of every time in `sure_from_s..sure_until_s`.
    slice: usize,
    sure_from_s: f64,
    sure_until_s: f64,
}

impl LatencyByTime {
    /// Empty slices of a run ending at `end_s`.
    pub fn new(end_s: f64) -> Self {
        Self {
            end_s,
            slices: vec![(0.0, 0); LATENCY_BUCKETS],
            slice: 0,
            sure_from_s: f64::INFINITY,
            sure_until_s: f64::NEG_INFINITY,
        }
    }

    /// Adds a latency of `latency_s` delivered at `at_s`.
    #[inline]
    pub fn record(&mut self, at_s: f64, latency_s: f64) {
        if !(at_s >= self.sure_from_s && at_s < self.sure_until_s) {
            self.locate(at_s);
        }
        let slice = &mut self.slices[self.slice];
        slice.0 += latency_s;
        slice.1 += 1;
    }

    /// Finds the slice of `at_s` and the times sure to share it: those
    /// more than a millionth of a slice inside its bounds, far more than
    /// the rounding error of the division.
    #[cold]
    fn locate(&mut self, at_s: f64) {
        let last = LATENCY_BUCKETS - 1;
        self.slice = ((at_s / self.end_s * LATENCY_BUCKETS as f64) as usize).min(last);
        let width_s = self.end_s / LATENCY_BUCKETS as f64;
        let margin_s = width_s * 1e-6;
        self.sure_from_s = self.slice as f64 * width_s + margin_s;
        self.sure_until_s = if self.slice == last {
            f64::INFINITY
        } else {
            (self.slice + 1) as f64 * width_s - margin_s
        };
    }

    /// The slices, each `(sum of latencies in seconds, count)`.
    pub fn into_slices(self) -> Vec<(f64, u64)> {
        self.slices
    }
}

/// One row of the queue-length time series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Simulated time, seconds.
    pub time_s: f64,
    /// Queue index.
    pub queue: u32,
    /// Waiting (ready) messages.
    pub in_queue: u32,
    /// Messages in service.
    pub in_service: u32,
    /// Delivered but unacknowledged messages.
    pub unacked: u32,
    /// Consumers of the queue's pool that are up (0 without consumers).
    pub consumers: u32,
}

/// Everything one replication measured.
#[derive(Debug, Clone)]
pub struct ReplicationResult {
    /// Replication index, from 0.
    pub replication: u32,
    /// Length of the measured window, seconds.
    pub measured_s: f64,
    /// Messages published inside the measured window.
    pub produced: u64,
    /// Of those, delivered by the end of the run.
    pub delivered: u64,
    /// Of those, delivered within their deadline (all delivered where none is set).
    pub on_time: u64,
    /// Of those, lost (dropped, rejected, expired or finally failed).
    pub lost: u64,
    /// Of those, still in the system at the end.
    pub in_flight: u64,
    /// End-to-end latency of delivered messages, seconds.
    pub latency: Tally,
    /// Distribution of end-to-end latency.
    pub latency_hist: LatencyHistogram,
    /// End-to-end latency of every delivered message, warm-up included,
    /// by delivery time: [`LATENCY_BUCKETS`] equal slices of the whole run,
    /// each `(sum of latencies in seconds, count)`. The input of warm-up
    /// detection (MSER).
    pub latency_by_time: Vec<(f64, u64)>,
    /// Per queue, in model order.
    pub nodes: Vec<NodeObservations>,
    /// Queue lengths at regular instants.
    pub timeseries: Vec<Sample>,
    /// Age of the oldest record not yet processed (0 when there is none)
    /// at each row of `timeseries` whose queue is a topic's partition, in
    /// row order, seconds: a partition's `lag_seconds`.
    pub lag_ages_s: Vec<f64>,
    /// Events processed.
    pub events: u64,
    /// Most messages in the system at once (high-water mark of the store).
    pub peak_messages: usize,
    /// Of the lost, those lost as unroutable: a copy reached an exchange
    /// whose bindings its routing key matched none of, without an alternate.
    pub unroutable: u64,
    /// Of the lost, those lost as unavailable: their target was down, or
    /// refused them, and no client buffer kept them.
    pub unavailable: u64,
    /// Per scheduled event, what it did to its backlog.
    pub scheduled: Vec<EventObservations>,
    /// Per sink of [`crate::model::Model::sinks`], the copies delivered there.
    pub sinks: Vec<SinkObservations>,
    /// Messages a crashed consumer was processing, delivered again.
    pub redelivered: u64,
    /// Consumer-seconds of the measured window that crashed consumers were down.
    pub consumer_down_s: f64,
}

/// What one replication saw of a scheduled event (`events.csv`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventObservations {
    /// Messages waiting in the event's queues, and held for them by
    /// producers, when it started.
    pub backlog_before: u64,
    /// The most of them from its start to its end.
    pub peak_backlog: u64,
    /// From its end until they were first back to `backlog_before`,
    /// seconds; NaN when they never were before the run ended (or the
    /// event never ends).
    pub drain_time_s: f64,
    /// 99th percentile of the end-to-end latency of the messages published
    /// while it lasted, seconds; NaN when none was delivered.
    pub p99_latency_s: f64,
}

/// What one replication saw of the copies a sink (a final consumer)
/// delivered, of messages published in the measured window.
#[derive(Debug, Clone)]
pub struct SinkObservations {
    pub delivered: u64,
    /// Copies lost at a queue whose every path leads to this sink.
    pub lost: u64,
    /// Of those, delivered within their message's deadline.
    pub on_time: u64,
    /// From the message's publication to this copy's delivery, seconds.
    pub latency: Tally,
    pub latency_hist: LatencyHistogram,
}

impl SinkObservations {
    /// Nothing delivered yet.
    pub fn new() -> Self {
        Self {
            delivered: 0,
            lost: 0,
            on_time: 0,
            latency: Tally::new(),
            latency_hist: LatencyHistogram::new(),
        }
    }
}

impl Default for SinkObservations {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicationResult {
    /// Whether every message published in the window is accounted for:
    /// produced = delivered + lost + in flight.
    pub fn conserves(&self) -> bool {
        self.produced == self.delivered + self.lost + self.in_flight
    }

    /// Delivered within the deadline / (delivered + lost); NaN when no outcome is known.
    pub fn success_ratio(&self) -> f64 {
        let known = self.delivered + self.lost;
        if known == 0 {
            f64::NAN
        } else {
            self.on_time as f64 / known as f64
        }
    }
}
