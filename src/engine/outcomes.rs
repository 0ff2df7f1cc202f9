//! What a replication counts of the messages as a whole, apart from the
//! queues: published, delivered, on time, lost, in flight, end-to-end
//! latency; and the [`ReplicationResult`] both engines build from it.
//!
//! A message copied to several places (every group of a topic) has its
//! outcome decided by its copies: delivered when its last copy is (its
//! latency is that copy's), lost as soon as one copy is, in flight while
//! a copy is and none is lost. The event engine follows that in its own
//! store; the fast path, which computes each copy on its own, settles
//! copies here ([`Outcomes::copy`]).

use super::observe::{
    LatencyByTime, NodeObservations, ReplicationResult, Sample, SinkObservations,
};
use crate::model::Sinks;
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
    /// Of the lost, those lost because their target was down or refused
    /// them and no client buffer kept them.
    pub unavailable: u64,
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
    /// The fast path's copied messages, some of whose copies are not
    /// settled yet, with a free list of their slots.
    copied: Vec<Copied>,
    free_copied: Vec<u32>,
}

/// Marks a fast-path message that has not been copied: its outcome is its
/// own, counted directly.
pub(super) const SOLE: u32 = u32::MAX;

/// A message copied on the fast path whose copies are not all settled.
#[derive(Debug, Clone, Copy)]
struct Copied {
    created_s: f64,
    due_s: f64,
    /// The latest delivery of its copies so far.
    delivered_s: f64,
    /// Copies neither delivered, lost nor in flight yet.
    unsettled: u32,
    measured: bool,
    /// A copy was lost (and the message counted lost).
    lost: bool,
    /// A copy was still in service or on its way at the end.
    in_flight: bool,
}

impl Outcomes {
    /// Nothing counted yet, in a run with `sinks` that ends at `end_s`.
    pub fn new(sinks: &Sinks, end_s: f64) -> Self {
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
            unavailable: 0,
            latency: Tally::new(),
            latency_hist: LatencyHistogram::new(),
            latency_by_time: LatencyByTime::new(end_s),
            events: 0,
            copied: Vec::new(),
            free_copied: Vec::new(),
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

    /// The message of a fast-path copy, `origin` (or [`SOLE`] for a message
    /// not copied before), created at `created_s`, due at `due_s`,
    /// `measured` when published inside the measured window, is replaced
    /// by `copies` copies; returns what they carry as their origin.
    pub fn copy(
        &mut self,
        origin: u32,
        created_s: f64,
        due_s: f64,
        measured: bool,
        copies: u32,
    ) -> u32 {
        if origin != SOLE {
            self.copied[origin as usize].unsettled += copies - 1;
            return origin;
        }
        let copied = Copied {
            created_s,
            due_s,
            delivered_s: f64::NEG_INFINITY,
            unsettled: copies,
            measured,
            lost: false,
            in_flight: false,
        };
        match self.free_copied.pop() {
            Some(slot) => {
                self.copied[slot as usize] = copied;
                slot
            }
            None => {
                self.copied.push(copied);
                (self.copied.len() - 1) as u32
            }
        }
    }

    /// A copy of message `origin` (from [`Self::copy`]) is delivered at
    /// `at_s`; the message is, at the latest of its copies' deliveries,
    /// once every copy is delivered.
    pub fn deliver_copy(&mut self, origin: u32, at_s: f64) {
        let copied = &mut self.copied[origin as usize];
        copied.delivered_s = copied.delivered_s.max(at_s);
        self.settle(origin);
    }

    /// A copy of message `origin` is lost: the message is, at once.
    #[cold]
    pub fn lose_copy(&mut self, origin: u32) {
        let copied = &mut self.copied[origin as usize];
        if !copied.lost {
            copied.lost = true;
            if copied.measured {
                self.lost += 1;
            }
        }
        self.settle(origin);
    }

    /// A copy of message `origin` is still in the system at the end: the
    /// message is in flight unless another copy is lost.
    #[cold]
    pub fn copy_in_flight(&mut self, origin: u32) {
        self.copied[origin as usize].in_flight = true;
        self.settle(origin);
    }

    /// One more copy of message `origin` is settled; the message's outcome
    /// is counted with its last.
    fn settle(&mut self, origin: u32) {
        let copied = &mut self.copied[origin as usize];
        copied.unsettled -= 1;
        if copied.unsettled > 0 {
            return;
        }
        let copied = *copied;
        self.free_copied.push(origin);
        if copied.lost {
            return;
        }
        if copied.in_flight {
            self.in_flight += u64::from(copied.measured);
            return;
        }
        let (created_s, due_s) = (copied.created_s, copied.due_s);
        self.deliver(copied.delivered_s, created_s, due_s, copied.measured, false);
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
            unavailable: self.unavailable,
            scheduled: Vec::new(),
            sinks: self.sinks,
            redelivered: self.redelivered,
            consumer_down_s: self.consumer_down_s,
        }
    }
}
