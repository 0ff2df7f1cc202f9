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
    /// Messages that failed their last allowed attempt.
    pub dead_lettered: u64,
    /// Failed attempts that were retried.
    pub retries: u64,
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
    /// Number of waiting messages over time.
    pub in_queue: TimeWeighted,
    /// Number of messages in service over time.
    pub in_service: TimeWeighted,
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
            dead_lettered: 0,
            retries: 0,
            out_of_order: 0,
            wait: Tally::new(),
            wait_hist: LatencyHistogram::new(),
            sojourn: Tally::new(),
            sojourn_hist: LatencyHistogram::new(),
            in_queue: TimeWeighted::new(0.0),
            in_service: TimeWeighted::new(0.0),
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
        in_queue.restart(now_s);
        in_service.restart(now_s);
        *self = Self {
            in_queue,
            in_service,
            ..Self::new(self.classes.len())
        };
    }
}

/// Number of time slices of [`ReplicationResult::latency_by_time`].
pub const LATENCY_BUCKETS: usize = 500;

/// One row of the queue-length time series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Simulated time, seconds.
    pub time_s: f64,
    /// Queue index.
    pub queue: u32,
    /// Waiting messages.
    pub in_queue: u32,
    /// Messages in service.
    pub in_service: u32,
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
    /// Events processed.
    pub events: u64,
    /// Most messages in the system at once (high-water mark of the store).
    pub peak_messages: usize,
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
