//! What each scheduled event did, for `events.csv`: the backlog when it
//! started, its peak while it lasted, the drain time (from the end of the
//! event until the backlog first returns to its level when the event
//! started), and the latency of the messages published during it.
//!
//! An event's backlog is the messages waiting in the queues it names
//! (those it takes down, those whose consumers it changes; for a topic,
//! every group's copy of its partitions) plus the publications held in
//! the client buffers of producers sending to them. It is followed at
//! every change, not at sampling instants, from the start of the event
//! until it has drained.

use super::Simulation;
use crate::engine::observe::EventObservations;
use crate::model::{Model, ScheduledEvent, Target};
use crate::stats::LatencyHistogram;

/// How far an event has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Before,
    During,
    Draining,
    Done,
}

/// One scheduled event's watch.
pub(super) struct EventWatch {
    queues: Vec<usize>,
    producers: Vec<usize>,
    start_s: f64,
    /// Infinite for an event that is never reverted.
    end_s: f64,
    phase: Phase,
    backlog_before: u64,
    peak_backlog: u64,
    drain_time_s: f64,
    latency: LatencyHistogram,
}

impl EventWatch {
    fn new(model: &Model, event: &ScheduledEvent) -> Self {
        let mut queues = event.down.clone();
        for &(pool, _) in &event.consumers {
            queues.extend(&model.pools[pool].queues);
        }
        queues.sort_unstable();
        queues.dedup();
        let producers = (model.producers.iter().enumerate())
            .filter(|(_, p)| match p.to {
                Target::Queue(q) => queues.contains(&q),
                Target::Topic(t) => event.down_topics.contains(&t),
                Target::Exchange(_) => false,
            })
            .map(|(i, _)| i)
            .collect();
        Self {
            queues,
            producers,
            start_s: event.at_s,
            end_s: event.for_s.map_or(f64::INFINITY, |f| event.at_s + f),
            phase: Phase::Before,
            backlog_before: 0,
            peak_backlog: 0,
            drain_time_s: f64::NAN,
            latency: LatencyHistogram::new(),
        }
    }

    fn observations(&self) -> EventObservations {
        let delivered = self.latency.count() > 0;
        EventObservations {
            backlog_before: self.backlog_before,
            peak_backlog: self.peak_backlog,
            drain_time_s: self.drain_time_s,
            p99_latency_s: match delivered {
                true => self.latency.quantile(0.99),
                false => f64::NAN,
            },
        }
    }
}

/// A watch per scheduled event of `model`, and per queue whether one
/// of them watches it.
pub(super) fn event_watches(model: &Model) -> (Vec<EventWatch>, Vec<bool>) {
    let watches: Vec<EventWatch> = (model.events.iter())
        .map(|e| EventWatch::new(model, e))
        .collect();
    let mut watched = vec![false; model.queues.len()];
    for &q in watches.iter().flat_map(|w| &w.queues) {
        watched[q] = true;
    }
    (watches, watched)
}

impl Simulation<'_> {
    /// The backlog of watch `w` now.
    fn backlog(&self, w: usize) -> u64 {
        let watch = &self.watches[w];
        let waiting: usize = watch
            .queues
            .iter()
            .map(|&q| self.queues[q].buffer.len())
            .sum();
        let held: usize = (watch.producers.iter())
            .filter_map(|&p| self.clients[p].as_ref())
            .map(|c| c.len())
            .sum();
        (waiting + held) as u64
    }

    /// Event `e` starts (`started`) or is reverted: the backlog it starts
    /// from, or the start of its drain.
    pub(super) fn watch_event(&mut self, e: usize, started: bool) {
        let backlog = self.backlog(e);
        let watch = &mut self.watches[e];
        if started {
            watch.phase = Phase::During;
            watch.backlog_before = backlog;
            watch.peak_backlog = backlog;
        } else {
            watch.phase = Phase::Draining;
            self.follow(e);
        }
    }

    /// The backlog of queue `q` changed.
    pub(super) fn watch_queue(&mut self, q: usize) {
        for w in 0..self.watches.len() {
            if self.watches[w].queues.contains(&q) {
                self.follow(w);
            }
        }
    }

    /// The client buffer of producer `p` changed.
    pub(super) fn watch_producer(&mut self, p: usize) {
        for w in 0..self.watches.len() {
            if self.watches[w].producers.contains(&p) {
                self.follow(w);
            }
        }
    }

    /// Watch `w`'s backlog may have changed: a new peak while the event
    /// lasts, the end of its drain after.
    fn follow(&mut self, w: usize) {
        let phase = self.watches[w].phase;
        if phase == Phase::Before || phase == Phase::Done {
            return;
        }
        let backlog = self.backlog(w);
        let now_s = self.now_s;
        let watch = &mut self.watches[w];
        match phase {
            Phase::During => watch.peak_backlog = watch.peak_backlog.max(backlog),
            _ if backlog <= watch.backlog_before => {
                watch.drain_time_s = now_s - watch.end_s;
                watch.phase = Phase::Done;
            }
            _ => {}
        }
    }

    /// A message published at `created_s` is delivered now: its latency
    /// counts for every event it was published during.
    pub(super) fn watch_delivery(&mut self, created_s: f64) {
        let latency_s = self.now_s - created_s;
        for watch in &mut self.watches {
            if watch.start_s <= created_s && created_s < watch.end_s {
                watch.latency.record(latency_s);
            }
        }
    }

    /// What every event's watch saw.
    pub(super) fn event_observations(&self) -> Vec<EventObservations> {
        self.watches.iter().map(EventWatch::observations).collect()
    }
}
