//! One queue of the fast path: each arrival rejected when the queue is
//! full or served by the earliest free server, and what the queue
//! observes of it (waits, sojourns, levels, sampled lengths).

use super::layout::Layout;
use super::message::{Clock, Message, SOLE};
use super::prefetch::ConsumerWindows;
use super::sampling::{OldestUnprocessed, SampleTimes, SeriesCounts, count_interval};
use super::servers::{Outbox, Servers};
use super::waiting::WaitingStarts;
use crate::engine::observe::NodeObservations;
use crate::engine::outcomes::Outcomes;
use crate::engine::rng::{StreamKind, StreamRng};
use crate::engine::routing::RouteChoice;
use crate::model::{Consumers, Model, Overflow, Queue, QueueId};
use crate::stats::{LatencyHistogram, Tally, TimeWeighted};

/// Length of the overlap of `[from_s, to_s]` and `[start_s, end_s]`.
#[inline]
pub(super) fn overlap_s(from_s: f64, to_s: f64, start_s: f64, end_s: f64) -> f64 {
    (to_s.min(end_s) - from_s.max(start_s)).max(0.0)
}

/// When a message arrived at a queue, started service and left.
#[derive(Debug, Clone, Copy)]
pub(super) struct Visit {
    pub(super) arrival_s: f64,
    pub(super) start_s: f64,
    pub(super) depart_s: f64,
}

impl Visit {
    /// Whether the message waited for a server.
    pub(super) fn waited(&self) -> bool {
        self.start_s > self.arrival_s
    }
}

/// One queue of the fast path.
pub(super) struct Station {
    pub(super) servers: Servers,
    /// Start times of the messages waiting now (non-decreasing).
    pub(super) waiting_starts: WaitingStarts,
    pub(super) inbox: Vec<Message>,
    /// `None` when served messages are delivered.
    pub(super) outbox: Option<Outbox>,
    pub(super) service_rng: StreamRng,
    pub next_route: RouteChoice,
    pub(super) observations: NodeObservations,
    pub(super) queue_area: f64,
    pub(super) service_area: f64,
    pub(super) max_in_queue: usize,
    pub(super) max_in_service: usize,
    pub(super) warmup_levels_known: bool,
    pub(super) series: SeriesCounts,
    /// First sampling instant at or after the latest arrival.
    pub(super) sample_cursor: usize,
    /// Time of instant `sample_cursor` (infinite past the last one): a
    /// message gone by then crosses no instant, the common case.
    pub(super) next_sample_s: f64,
    /// The producer that sends to this queue straight and alone: its
    /// messages arrive in order and are served as they are published,
    /// without passing through the inbox.
    pub(super) sole_feeder: Option<usize>,
    /// Whether the queue delivers what it serves, only producers send to
    /// it and no message reaching it is a copy: then a message's latency
    /// is its sojourn here, recorded once in the node's sojourn and added
    /// to the latency at the end.
    pub(super) sojourn_is_latency: bool,
    /// The sink this queue's deliveries are recorded in, and the one its
    /// losses count against, where the model has several.
    sink: Option<u32>,
    loss_sink: Option<u32>,
    /// Whether the queue's one consumer also serves other queues (a topic
    /// consumer that owns several partitions): it serves their merged
    /// arrivals in arrival order, the oldest head first, and is free from
    /// `consumer_free_s` on, which the pool's loop keeps up to date;
    /// `servers` then holds this queue's own messages only.
    pub(super) shares_consumer: bool,
    pub(super) consumer_free_s: f64,
    /// With [`Self::shares_consumer`], the pool and the queue's position
    /// in it: its arrivals go into the pool's inbox.
    pub(super) pool: u32,
    pub(super) pool_position: u32,
    /// Whether copies of a message may reach the queue (see
    /// [`Layout::receives_copies`]): a copy delivered here settles its
    /// message's outcome only with the message's last copy.
    pub(super) receives_copies: bool,
    /// With [`Self::sojourn_is_latency`], the sojourns of messages that
    /// arrived in the warm-up and left after it (no latency of theirs is
    /// measured).
    pub(super) early_sojourn: Tally,
    pub(super) early_sojourn_hist: LatencyHistogram,
    /// The queue drops its oldest message when full, and filled up.
    pub filled_drop_head: bool,
    /// The consumers' prefetch windows, where the broker pushes into them
    /// (see [`super::prefetch`]).
    pub(super) windows: Option<Box<ConsumerWindows>>,
}

impl Station {
    /// Queue `q` of `model` at the start of a replication, drawing its
    /// service times, route choices and dispatch times from `rng`'s
    /// streams of the queue.
    pub fn new(
        model: &Model,
        q: QueueId,
        layout: &Layout,
        times: &SampleTimes,
        rng: impl Fn(StreamKind) -> StreamRng,
    ) -> Self {
        let queue = &model.queues[q];
        let servers = queue.consumers.as_ref().map_or(1, Consumers::slots);
        let windows = (queue.consumers.as_ref()).and_then(|c| {
            let window = c.window()?;
            Some(Box::new(ConsumerWindows::new(
                c,
                window,
                rng(StreamKind::Dispatch),
            )))
        });
        let (routes_onwards, fed_by_queues) = (layout.routes_onwards[q], layout.fed_by_queues[q]);
        Station {
            servers: Servers::new(servers),
            waiting_starts: WaitingStarts::new(),
            inbox: Vec::new(),
            outbox: routes_onwards.then(|| Outbox::new(servers)),
            service_rng: rng(StreamKind::Service),
            next_route: RouteChoice::new(
                queue.consumers.as_ref().map_or(&[], |c| &c.next),
                rng(StreamKind::NextRoute),
            ),
            observations: NodeObservations::new(1),
            queue_area: 0.0,
            service_area: 0.0,
            max_in_queue: 0,
            max_in_service: 0,
            warmup_levels_known: false,
            series: SeriesCounts {
                in_queue: vec![0; times.times_s.len() + 1],
                in_service: vec![0; times.times_s.len() + 1],
                unacked: if windows.is_some() {
                    vec![0; times.times_s.len() + 1]
                } else {
                    Vec::new()
                },
                oldest: (layout.partitions[q]).then(|| OldestUnprocessed::new(times.times_s.len())),
            },
            sample_cursor: 0,
            next_sample_s: times.times_s[0],
            sole_feeder: layout.sole_feeders[q],
            sojourn_is_latency: !routes_onwards && !fed_by_queues && !layout.receives_copies[q],
            sink: layout.sinks[q],
            loss_sink: layout.sink_losses[q],
            shares_consumer: (queue.consumers.as_ref())
                .is_some_and(|c| model.pools[c.pool].queues.len() > 1),
            consumer_free_s: f64::NEG_INFINITY,
            pool: queue.consumers.as_ref().map_or(0, |c| c.pool as u32),
            pool_position: layout.pool_positions[q],
            receives_copies: layout.receives_copies[q],
            early_sojourn: Tally::new(),
            early_sojourn_hist: LatencyHistogram::new(),
            filled_drop_head: false,
            windows,
        }
    }

    /// Whether this replication must run on the event engine: the queue
    /// drops its oldest message and filled, or a consumer's window was full.
    pub(super) fn needs_events(&self) -> bool {
        self.filled_drop_head || self.windows.as_ref().is_some_and(|w| w.filled)
    }

    /// The levels at the end of the warm-up start the maxima of the measured window.
    pub(super) fn note_warmup_levels(&mut self, clock: Clock) {
        self.warmup_levels_known = true;
        let (in_queue, in_service) = self.levels_at(clock.warmup_s);
        self.max_in_queue = in_queue;
        self.max_in_service = in_service;
    }

    /// Frees the servers done by `t_s` and forgets the waiting messages
    /// started by then.
    #[inline(always)]
    pub(super) fn release_until(&mut self, t_s: f64) {
        self.servers.release_until(t_s);
        self.waiting_starts.forget_until(t_s);
    }

    /// Waiting messages and busy servers at `t_s`, no earlier than any
    /// arrival served so far.
    pub(super) fn levels_at(&mut self, t_s: f64) -> (usize, usize) {
        self.release_until(t_s);
        (self.waiting_starts.len(), self.servers.busy())
    }

    /// [`Self::serve_and_pass`] for each of `messages`, in order, the
    /// variant for this queue chosen once.
    #[inline(never)]
    pub(super) fn serve_all(
        &mut self,
        queue: &Queue,
        consumers: &Consumers,
        messages: &[Message],
        clock: Clock,
        times: &SampleTimes,
        outcomes: &mut Outcomes,
    ) {
        match (self.windows.is_some(), self.receives_copies) {
            (false, false) => {
                for &message in messages {
                    self.serve_and_pass::<false, false>(
                        queue, consumers, message, clock, times, outcomes,
                    );
                }
            }
            (true, false) => {
                for &message in messages {
                    self.serve_and_pass::<true, false>(
                        queue, consumers, message, clock, times, outcomes,
                    );
                }
            }
            (false, true) => {
                for &message in messages {
                    self.serve_and_pass::<false, true>(
                        queue, consumers, message, clock, times, outcomes,
                    );
                }
            }
            (true, true) => {
                for &message in messages {
                    self.serve_and_pass::<true, true>(
                        queue, consumers, message, clock, times, outcomes,
                    );
                }
            }
        }
    }

    /// Serves one arrival (see [`Self::serve`]) and passes it on: into
    /// the outbox, or delivered. `PUSHED`: the queue's consumers have
    /// prefetch windows; `COPIES`: copies may reach the queue (both
    /// decided once per batch of arrivals, not per message).
    #[inline(always)]
    pub(super) fn serve_and_pass<const PUSHED: bool, const COPIES: bool>(
        &mut self,
        queue: &Queue,
        consumers: &Consumers,
        message: Message,
        clock: Clock,
        times: &SampleTimes,
        outcomes: &mut Outcomes,
    ) {
        let served = self.serve::<PUSHED>(queue, consumers, message, clock, times, outcomes);
        match (served, &mut self.outbox) {
            (None, _) => {}
            (Some(served), Some(outbox)) => outbox.push(served),
            (Some(served), None) => {
                let measured = clock.measured(served.created_s);
                let (at_s, created_s, due_s) = (served.at_s, served.created_s, served.due_s);
                if COPIES && served.origin != SOLE {
                    outcomes.deliver_copy(served.origin, at_s);
                } else {
                    outcomes.deliver(at_s, created_s, due_s, measured, self.sojourn_is_latency);
                }
                if let (Some(sink), true) = (self.sink, measured) {
                    outcomes.deliver_at(sink, at_s, created_s, due_s, self.sojourn_is_latency);
                }
            }
        }
    }

    /// Serves one arrival: rejected when full, or started as soon as a
    /// server is free; returns the served message with its departure time.
    #[inline(always)]
    pub(super) fn serve<const PUSHED: bool>(
        &mut self,
        queue: &Queue,
        consumers: &Consumers,
        message: Message,
        clock: Clock,
        times: &SampleTimes,
        outcomes: &mut Outcomes,
    ) -> Option<Message> {
        if PUSHED {
            return self.serve_pushed(consumers, message, clock, times, outcomes);
        }
        let arrival_s = message.at_s;
        if !self.warmup_levels_known && arrival_s >= clock.warmup_s {
            self.note_warmup_levels(clock);
        }
        self.release_until(arrival_s);
        let measuring = arrival_s >= clock.warmup_s;
        if measuring {
            self.observations.arrivals += 1;
        }
        if (queue.capacity)
            .is_some_and(|k| !self.servers.has_free() && self.waiting_starts.len() as u64 >= k)
        {
            if queue.overflow == Overflow::DropHead {
                self.filled_drop_head = true;
                return None;
            }
            if measuring {
                self.observations.dropped += 1;
            }
            if clock.measured(message.created_s) {
                if let Some(sink) = self.loss_sink {
                    outcomes.sinks[sink as usize].lost += 1;
                }
                if message.origin == SOLE {
                    outcomes.lost += 1;
                }
            }
            if message.origin != SOLE {
                outcomes.lose_copy(message.origin);
            }
            return None;
        }
        let service_s = consumers.service.sample(&mut self.service_rng)
            + consumers.service_per_byte_s * message.size_bytes;
        let count_busy = self.max_in_service < self.servers.count();
        let (start_s, busy) = if self.shares_consumer {
            let start_s = if self.consumer_free_s > arrival_s {
                self.consumer_free_s
            } else {
                arrival_s
            };
            self.consumer_free_s = start_s + service_s;
            self.servers.take(start_s, service_s, count_busy)
        } else {
            self.servers.take(arrival_s, service_s, count_busy)
        };
        let visit = Visit {
            arrival_s,
            start_s,
            depart_s: start_s + service_s,
        };
        self.waiting_starts.push_if(visit.waited(), start_s);
        if measuring {
            self.max_in_queue = self.max_in_queue.max(self.waiting_starts.len());
        }
        let depart_s = visit.depart_s;
        if measuring && depart_s <= clock.end_s {
            self.record_measured(visit, busy, times);
            outcomes.events += 1;
        } else {
            self.record(visit, busy, clock, times);
            return self.leave(visit, message, clock, outcomes);
        }
        Some(Message {
            at_s: depart_s,
            ..message
        })
    }

    /// The departure of a served message, arrived in the warm-up or
    /// leaving after the run: counted as in flight when it leaves after
    /// the run, else its sojourn is recorded if it leaves in the measured
    /// window; returns it with its departure time unless it is in flight.
    #[inline(always)]
    pub(super) fn leave(
        &mut self,
        visit: Visit,
        message: Message,
        clock: Clock,
        outcomes: &mut Outcomes,
    ) -> Option<Message> {
        let Visit {
            arrival_s,
            depart_s,
            ..
        } = visit;
        if depart_s > clock.end_s {
            if message.origin != SOLE {
                outcomes.copy_in_flight(message.origin);
            } else if clock.measured(message.created_s) {
                outcomes.in_flight += 1;
            }
            return None;
        }
        outcomes.events += 1;
        if depart_s >= clock.warmup_s {
            self.observations.served += 1;
            // A latency is measured only for messages published after the warm-up.
            let (sojourn, hist) = if self.sojourn_is_latency && arrival_s < clock.warmup_s {
                (&mut self.early_sojourn, &mut self.early_sojourn_hist)
            } else {
                let node = &mut self.observations;
                (&mut node.sojourn, &mut node.sojourn_hist)
            };
            sojourn.record(depart_s - arrival_s);
            hist.record(depart_s - arrival_s);
        }
        Some(Message {
            at_s: depart_s,
            ..message
        })
    }

    /// [`Self::record`] and the sojourn of a message that arrived and
    /// left inside the measured window, the common case.
    #[inline(always)]
    pub(super) fn record_measured(&mut self, visit: Visit, busy: usize, times: &SampleTimes) {
        let Visit {
            arrival_s,
            start_s,
            depart_s,
        } = visit;
        let node = &mut self.observations;
        node.wait.record(start_s - arrival_s);
        node.wait_hist.record(start_s - arrival_s);
        node.served += 1;
        node.sojourn.record(depart_s - arrival_s);
        node.sojourn_hist.record(depart_s - arrival_s);
        self.max_in_service = self.max_in_service.max(busy);
        self.queue_area += start_s - arrival_s;
        self.service_area += depart_s - start_s;
        if depart_s > self.next_sample_s {
            self.count_at_instants(visit, times);
        }
    }

    /// Waiting time, busy servers (`busy` from its start), the areas under
    /// the levels and the sampled levels of one served message.
    #[inline(always)]
    pub(super) fn record(&mut self, visit: Visit, busy: usize, clock: Clock, times: &SampleTimes) {
        let Visit {
            arrival_s,
            start_s,
            depart_s,
        } = visit;
        if clock.in_window(start_s) {
            let node = &mut self.observations;
            node.wait.record(start_s - arrival_s);
            node.wait_hist.record(start_s - arrival_s);
            self.max_in_service = self.max_in_service.max(busy);
        }
        let (w, e) = (clock.warmup_s, clock.end_s);
        if arrival_s >= w && depart_s <= e {
            self.queue_area += start_s - arrival_s;
            self.service_area += depart_s - start_s;
        } else {
            self.queue_area += overlap_s(arrival_s, start_s, w, e);
            self.service_area += overlap_s(start_s, depart_s, w, e);
        }
        if depart_s > self.next_sample_s {
            self.count_at_instants(visit, times);
        }
    }

    /// Counts a message in the sampled levels of the instants its wait
    /// and its service cover (rare: most messages cover none).
    #[cold]
    pub(super) fn count_at_instants(&mut self, visit: Visit, times: &SampleTimes) {
        let arrived = times.first_from(self.sample_cursor, visit.arrival_s);
        self.sample_cursor = arrived;
        self.next_sample_s = times.times_s.get(arrived).copied().unwrap_or(f64::INFINITY);
        let started = if visit.waited() {
            times.first_from(arrived, visit.start_s)
        } else {
            arrived
        };
        let departed = times.first_from(started, visit.depart_s);
        count_interval(&mut self.series.in_queue, arrived, started);
        count_interval(&mut self.series.in_service, started, departed);
        if let Some(oldest) = &mut self.series.oldest {
            oldest.note(visit.arrival_s, arrived, departed);
        }
    }

    /// The queue's observations over the measured window; the latencies
    /// it recorded as sojourns go into `outcomes`.
    pub(super) fn finish(mut self, clock: Clock, outcomes: &mut Outcomes) -> NodeObservations {
        if !self.warmup_levels_known {
            self.note_warmup_levels(clock);
        }
        let (in_queue, in_service) = self.levels_at(clock.end_s);
        let (in_service, max_in_service, unacked) = match self.windows.as_deref_mut() {
            None => (in_service, self.max_in_service, None),
            Some(windows) => {
                let (busy, max_busy) = windows.busy_at_end(clock);
                (busy, max_busy, Some(windows.unacked(clock)))
            }
        };
        let (w, e) = (clock.warmup_s, clock.end_s);
        let max_in_queue = self.max_in_queue as f64;
        let max_in_service = max_in_service as f64;
        let mut observations = self.observations;
        observations.unacked = unacked;
        observations.succeeded = observations.served;
        if self.sojourn_is_latency {
            outcomes.latency.merge(&observations.sojourn);
            outcomes.latency_hist.add(&observations.sojourn_hist);
            if let Some(sink) = self.sink {
                let sink = &mut outcomes.sinks[sink as usize];
                sink.latency.merge(&observations.sojourn);
                sink.latency_hist.add(&observations.sojourn_hist);
            }
            observations.sojourn.merge(&self.early_sojourn);
            observations.sojourn_hist.add(&self.early_sojourn_hist);
        }
        observations.in_queue =
            TimeWeighted::from_area(w, e, self.queue_area, in_queue as f64, max_in_queue);
        observations.in_service =
            TimeWeighted::from_area(w, e, self.service_area, in_service as f64, max_in_service);
        observations
    }
}
