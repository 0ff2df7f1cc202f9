//! A queue whose broker pushes messages into its consumers' prefetch
//! windows (`prefetch`, `dispatch`), on the fast path while no window is
//! full when a message arrives.
//!
//! The event engine pushes the head of the queue to the next consumer, in
//! round-robin order, with room in its window. While the consumer the
//! round-robin comes to always has room, every arrival is pushed at once
//! to consumers 0, 1, … `count − 1`, 0, … in turn: the queue never holds
//! a ready message, so its capacity and overflow never act, and each
//! consumer is a FIFO queue of `concurrency` slots of its own
//! (Kiefer–Wolfowitz's recursion), fed every `count`-th arrival delayed
//! by its `dispatch` draw (one channel delivers in order).
//!
//! A message that arrives while that consumer's window is full goes to
//! another consumer or waits in the queue: the fast path cannot follow,
//! and the replication runs again on the event engine (see
//! [`crate::engine::Choice::window_queue`]), as for a drop-head queue that
//! fills. An acknowledgement at the very instant of an arrival counts as
//! not yet made, so that the order in which the calendar takes
//! simultaneous events never matters.
//!
//! A pushed message is not ready: the queue's `in_queue` stays 0, and the
//! message's dispatch and time in its consumer's buffer are its `wait`.
//! `unacked` counts pushed messages until their acknowledgement (after
//! service, or as they start with `ack = "on-start"`). The busy slots of
//! all consumers add up to `in_service`, whose maximum needs every
//! consumer's starts in time order: they are swept once a window of time
//! is computed ([`ConsumerWindows::sweep_busy_until`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::message::{Clock, Message};
use super::sampling::{SampleTimes, count_interval};
use super::servers::{Servers, free_time_key};
use super::station::{Station, Visit, overlap_s};
use crate::dist::Dist;
use crate::engine::outcomes::Outcomes;
use crate::engine::rng::StreamRng;
use crate::model::{Ack, Consumers, Window};
use crate::stats::TimeWeighted;

/// One consumer: its processing slots and its share of the window.
struct Consumer {
    slots: Servers,
    /// When the last message pushed to it arrives (one channel delivers in order).
    last_arrival_s: f64,
    /// Pushed to it and not yet acknowledged.
    unacked: u32,
}

/// The consumers of one windowed queue on the fast path.
pub(super) struct ConsumerWindows {
    consumers: Vec<Consumer>,
    /// The consumer the next message is pushed to.
    cursor: usize,
    window: Window,
    dispatch: Option<Dist>,
    dispatch_rng: StreamRng,
    /// When each unacknowledged message is acknowledged (as time keys,
    /// [`free_time_key`], so that the max-heap's top is the earliest),
    /// with its consumer.
    acks: BinaryHeap<(Reverse<u64>, u32)>,
    unacked_area: f64,
    max_unacked: usize,
    unacked_warmup_known: bool,
    /// Starts (+1) and ends (−1) of services not yet swept, inside the
    /// measured window's end.
    busy_changes: Vec<(f64, i32)>,
    busy: i32,
    max_busy: usize,
    busy_warmup_known: bool,
    /// A message arrived while the consumer it was due to go to had a full window.
    pub(super) filled: bool,
}

impl ConsumerWindows {
    /// The consumers of a queue whose consumers have `window`, with empty
    /// windows, drawing dispatch times from `dispatch_rng`.
    pub(super) fn new(consumers: &Consumers, window: Window, dispatch_rng: StreamRng) -> Self {
        let consumer = || Consumer {
            slots: Servers::new(window.concurrency),
            last_arrival_s: 0.0,
            unacked: 0,
        };
        Self {
            consumers: (0..consumers.count).map(|_| consumer()).collect(),
            cursor: 0,
            window,
            dispatch: consumers.dispatch.clone(),
            dispatch_rng,
            acks: BinaryHeap::new(),
            unacked_area: 0.0,
            max_unacked: 0,
            unacked_warmup_known: false,
            busy_changes: Vec::new(),
            busy: 0,
            max_busy: 0,
            busy_warmup_known: false,
            filled: false,
        }
    }

    /// Slots of all consumers: the most that can be busy at once.
    fn slots(&self) -> usize {
        self.consumers.len() * self.window.concurrency as usize
    }

    /// Acknowledges the messages acknowledged before `t_s`.
    fn acknowledge_before(&mut self, t_s: f64) {
        let key = free_time_key(t_s);
        while let Some(&(at, k)) = self.acks.peek()
            && at > key
        {
            self.acks.pop();
            self.consumers[k as usize].unacked -= 1;
        }
    }

    /// The consumer the round-robin pushes a message arriving at
    /// `arrival_s` to, or `None` when that consumer's window is full.
    #[inline]
    fn take_credit(&mut self, arrival_s: f64, clock: Clock) -> Option<usize> {
        if !self.unacked_warmup_known && arrival_s >= clock.warmup_s {
            self.acknowledge_before(clock.warmup_s);
            self.max_unacked = self.acks.len();
            self.unacked_warmup_known = true;
        }
        self.acknowledge_before(arrival_s);
        let k = self.cursor;
        if self.consumers[k].unacked >= self.window.limit {
            return None;
        }
        self.cursor = if k + 1 == self.consumers.len() {
            0
        } else {
            k + 1
        };
        Some(k)
    }

    /// Consumer `k` receives a message pushed at `arrival_s` that takes
    /// `service_s`; returns its visit and when it is acknowledged.
    #[inline]
    fn deliver(
        &mut self,
        k: usize,
        arrival_s: f64,
        service_s: f64,
        clock: Clock,
        outcomes: &mut Outcomes,
    ) -> (Visit, f64) {
        let consumer = &mut self.consumers[k];
        let at_s = match &self.dispatch {
            None => arrival_s,
            Some(dispatch) => {
                let at_s = (arrival_s + dispatch.sample(&mut self.dispatch_rng))
                    .max(consumer.last_arrival_s);
                consumer.last_arrival_s = at_s;
                if at_s <= clock.end_s {
                    outcomes.events += 1;
                }
                at_s
            }
        };
        let (start_s, _) = consumer.slots.take(at_s, service_s, false);
        let depart_s = start_s + service_s;
        let ack_s = match self.window.ack {
            Ack::AfterService => depart_s,
            Ack::OnStart => start_s,
        };
        consumer.unacked += 1;
        self.acks.push((free_time_key(ack_s), k as u32));
        if clock.in_window(arrival_s) {
            self.max_unacked = self.max_unacked.max(self.acks.len());
        }
        self.unacked_area += overlap_s(arrival_s, ack_s, clock.warmup_s, clock.end_s);
        let saturated = self.busy_warmup_known && self.max_busy == self.slots();
        if start_s <= clock.end_s && !saturated {
            self.busy_changes.push((start_s, 1));
            if depart_s <= clock.end_s {
                self.busy_changes.push((depart_s, -1));
            }
        }
        let visit = Visit {
            arrival_s,
            start_s,
            depart_s,
        };
        (visit, ack_s)
    }

    /// Follows the busy slots through the starts and ends up to `until_s`
    /// (every start by then is known once the arrivals up to `until_s`
    /// are served), ends before starts at the same instant, for their
    /// maximum over the measured window.
    pub(super) fn sweep_busy_until(&mut self, until_s: f64, clock: Clock) {
        let changes = &mut self.busy_changes;
        changes.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let done = changes.partition_point(|&(t_s, _)| t_s <= until_s);
        for &(t_s, change) in &changes[..done] {
            if !self.busy_warmup_known && t_s >= clock.warmup_s {
                self.max_busy = self.busy as usize;
                self.busy_warmup_known = true;
            }
            self.busy += change;
            if change > 0 && t_s >= clock.warmup_s {
                self.max_busy = self.max_busy.max(self.busy as usize);
            }
        }
        changes.drain(..done);
    }

    /// Messages pushed and not yet acknowledged, as last counted.
    pub(super) fn held(&self) -> usize {
        self.acks.len()
    }

    /// Busy slots at the end of the run and their maximum over the
    /// measured window.
    pub(super) fn busy_at_end(&mut self, clock: Clock) -> (usize, usize) {
        self.sweep_busy_until(clock.end_s, clock);
        if !self.busy_warmup_known {
            self.max_busy = self.busy as usize;
        }
        let busy = (self.consumers.iter_mut())
            .map(|c| {
                c.slots.release_until(clock.end_s);
                c.slots.busy()
            })
            .sum();
        (busy, self.max_busy)
    }

    /// Unacknowledged messages over the measured window.
    pub(super) fn unacked(&mut self, clock: Clock) -> TimeWeighted {
        if !self.unacked_warmup_known {
            self.acknowledge_before(clock.warmup_s);
            self.max_unacked = self.acks.len();
        }
        self.acknowledge_before(clock.end_s);
        let (w, e) = (clock.warmup_s, clock.end_s);
        let level = self.acks.len() as f64;
        TimeWeighted::from_area(w, e, self.unacked_area, level, self.max_unacked as f64)
    }
}

impl Station {
    /// Serves one arrival at a windowed queue: pushed to the next consumer
    /// in round-robin order and started when it reaches it and one of its
    /// slots is free; returns the served message with its departure time
    /// (`None` when it leaves after the run, or the consumer's window was
    /// full and the replication must run on the event engine).
    #[inline(never)]
    pub(super) fn serve_pushed(
        &mut self,
        consumers: &Consumers,
        message: Message,
        clock: Clock,
        times: &SampleTimes,
        outcomes: &mut Outcomes,
    ) -> Option<Message> {
        let arrival_s = message.at_s;
        let windows = (self.windows.as_deref_mut()).expect("only windowed queues push");
        let Some(k) = windows.take_credit(arrival_s, clock) else {
            windows.filled = true;
            return None;
        };
        if arrival_s >= clock.warmup_s {
            self.observations.arrivals += 1;
        }
        let service_s = consumers.service.sample(&mut self.service_rng)
            + consumers.service_per_byte_s * message.size_bytes;
        let (visit, ack_s) = windows.deliver(k, arrival_s, service_s, clock, outcomes);
        if clock.in_window(visit.start_s) {
            let node = &mut self.observations;
            node.wait.record(visit.start_s - arrival_s);
            node.wait_hist.record(visit.start_s - arrival_s);
        }
        self.service_area += overlap_s(visit.start_s, visit.depart_s, clock.warmup_s, clock.end_s);
        if visit.depart_s > self.next_sample_s {
            self.count_pushed_at_instants(visit, ack_s, times);
        }
        self.leave(visit, message, clock, outcomes)
    }

    /// Counts a pushed message in the sampled levels of the instants its
    /// service and its time unacknowledged cover.
    #[cold]
    fn count_pushed_at_instants(&mut self, visit: Visit, ack_s: f64, times: &SampleTimes) {
        let arrived = times.first_from(self.sample_cursor, visit.arrival_s);
        self.sample_cursor = arrived;
        self.next_sample_s = times.times_s.get(arrived).copied().unwrap_or(f64::INFINITY);
        let started = times.first_from(arrived, visit.start_s);
        let departed = times.first_from(started, visit.depart_s);
        let acked = times.first_from(arrived, ack_s);
        count_interval(&mut self.series.in_service, started, departed);
        count_interval(&mut self.series.unacked, arrived, acked);
    }
}
