//! What a replication counts of the messages as a whole, apart from the
//! queues: published, delivered, on time, lost, in flight, end-to-end
//! latency; and the [`ReplicationResult`] both engines build from it.

use super::observe::{
    LatencyByTime, NodeObservations, ReplicationResult, Sample, SinkObservations,
};
use crate::model::Model;
use crate::stats::{LatencyHistogram, Tally};

/// The run-wide counters of one replication.
pub(super) struct Outcomes {
    /// Messages published inside the measured window.
    pub produced: u64,
    pub delivered: u64,
    pub on_time: u64,
    pub lost: u64,
    pub in_flight: u64,
    /// Of the lost, those lost because an exchange could route no copy
    /// of them anywhere.
    pub unroutable: u64,
    pub latency: Tally,
    pub latency_hist: LatencyHistogram,
    latency_by_time: LatencyByTime,
    /// Events processed (or, on the fast path, the events the event
    /// engine would have processed).
    pub events: u64,
    /// Per sink, its deliveries; recorded copy by copy unless the model
    /// has a single path, whose sink's are the run's own.
    pub sinks: Vec<SinkObservations>,
    single_path: bool,
    /// Messages published in the measured window that a crashed consumer
    /// was processing, delivered again.
    pub redelivered: u64,
    /// Consumer-seconds of the measured window that crashed consumers were down.
    pub consumer_down_s: f64,
}

impl Outcomes {
    /// Nothing counted yet, in a run of `model` that ends at `end_s`.
    pub fn new(model: &Model, end_s: f64) -> Self {
        let sinks = model.sinks();
        Self {
            sinks: vec![SinkObservations::new(); sinks.names.len()],
            redelivered: 0,
            consumer_down_s: 0.0,
            single_path: sinks.single_path(),
            produced: 0,
            delivered: 0,
            on_time: 0,
            lost: 0,
            in_flight: 0,
            unroutable: 0,
            latency: Tally::new(),
            latency_hist: LatencyHistogram::new(),
            latency_by_time: LatencyByTime::new(end_s),
            events: 0,
        }
    }

    /// A message created at `created_s`, due at `due_s`, is delivered at
    /// `at_s`; `measured` when it was published inside the measured
    /// window. Its latency goes into the tally and histogram unless
    /// `latency_recorded` (the fast path records some latencies as
    /// sojourns and adds them at the end).
    #[inline(always)]
    pub fn deliver(
        &mut self,
        at_s: f64,
        created_s: f64,
        due_s: f64,
        measured: bool,
        latency_recorded: bool,
    ) {
        let latency_s = at_s - created_s;
        self.latency_by_time.record(at_s, latency_s);
        if !measured {
            return;
        }
        self.delivered += 1;
        if at_s <= due_s {
            self.on_time += 1;
        }
        if !latency_recorded {
            self.latency.record(latency_s);
            self.latency_hist.record(latency_s);
        }
    }

    /// A copy of a message created at `created_s`, due at `due_s`, is
    /// delivered at `at_s` by the consumers of `sink`; its latency goes
    /// into the sink's tally unless `latency_recorded` (added at the end).
    #[inline]
    pub fn deliver_at(
        &mut self,
        sink: u32,
        at_s: f64,
        created_s: f64,
        due_s: f64,
        latency_recorded: bool,
    ) {
        let sink = &mut self.sinks[sink as usize];
        sink.delivered += 1;
        if at_s <= due_s {
            sink.on_time += 1;
        }
        if !latency_recorded {
            sink.latency.record(at_s - created_s);
            sink.latency_hist.record(at_s - created_s);
        }
    }

    /// The replication's result, with its queues' observations and samples.
    pub fn into_result(
        mut self,
        replication: u32,
        measured_s: f64,
        nodes: Vec<NodeObservations>,
        timeseries: Vec<Sample>,
        lag_ages_s: Vec<f64>,
        peak_messages: usize,
    ) -> ReplicationResult {
        if self.single_path {
            self.sinks[0] = SinkObservations {
                delivered: self.delivered,
                lost: self.lost,
                on_time: self.on_time,
                latency: self.latency.clone(),
                latency_hist: self.latency_hist.clone(),
            };
        }
        ReplicationResult {
            replication,
            measured_s,
            produced: self.produced,
            delivered: self.delivered,
            on_time: self.on_time,
            lost: self.lost,
            in_flight: self.in_flight,
            latency: self.latency,
            latency_hist: self.latency_hist,
            latency_by_time: self.latency_by_time.into_slices(),
            nodes,
            timeseries,
            lag_ages_s,
            events: self.events,
            peak_messages,
            unroutable: self.unroutable,
            sinks: self.sinks,
            redelivered: self.redelivered,
            consumer_down_s: self.consumer_down_s,
        }
    }
}
