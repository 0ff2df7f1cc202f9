//! One replication on the fast path: producers publish a window's
//! messages, then each queue, upstream first, serves the window's arrivals
//! and hands on its departures.

use super::layout::Layout;
use super::message::{Clock, Message};
use super::sampling::{SampleTimes, SeriesCounts, lag_ages, samples};
use super::servers::Outbox;
use super::source::Source;
use super::station::Station;
use crate::engine::arrivals::producer_processes;
use crate::engine::observe::ReplicationResult;
use crate::engine::outcomes::Outcomes;
use crate::engine::rng::{StreamKind, stream};
use crate::engine::routing::{PartitionChoice, RouteChoice};
use crate::model::{Model, QueueId, Target};

/// Publications per window, on average: enough to amortise the per-window
/// pass over the queues, few enough to keep a window's arrivals small.
const PUBLICATIONS_PER_WINDOW: f64 = 8192.0;

/// Sorts messages by arrival time, stably (ties in the order they were
/// sent); messages from a single sender are sorted already, and then
/// cost one pass.
fn sort_by_arrival(messages: &mut [Message]) {
    let by_arrival = |a: &Message, b: &Message| a.at_s.total_cmp(&b.at_s);
    if !messages.is_sorted_by(|a, b| by_arrival(a, b).is_le()) {
        messages.sort_by(by_arrival);
    }
}

/// State of one replication on the fast path.
pub(super) struct Run<'m> {
    model: &'m Model,
    clock: Clock,
    sources: Vec<Source>,
    exchange_routes: Vec<RouteChoice>,
    partitions: PartitionChoice,
    stations: Vec<Station>,
    /// For each consumer pool, when its consumer frees up, and the window's
    /// arrivals at its queues with their positions in the pool, in the
    /// order they were sent (pools shared by several queues only).
    pool_free_s: Vec<f64>,
    pool_inboxes: Vec<Vec<(Message, u32)>>,
    times: SampleTimes,
    outcomes: Outcomes,
    peak_messages: usize,
    /// A queue that drops the oldest message when full filled up, or a
    /// message arrived while the consumer it was due to be pushed to had a
    /// full window: the replication must run on the event engine (see
    /// [`crate::engine::Choice::drop_head_queue`] and
    /// [`crate::engine::Choice::window_queue`]).
    pub needs_events: bool,
}

impl<'m> Run<'m> {
    pub fn new(model: &'m Model, layout: &Layout, replication: u32) -> Self {
        let seed = model.simulation.seed;
        let rng = |kind, index| stream(seed, replication, kind, index);
        let warmup_s = model.simulation.warmup_s;
        let end_s = warmup_s + model.simulation.duration_s;
        let times = SampleTimes::new(model.simulation.sample_every_s, end_s);
        let sources = (producer_processes(model, replication).into_iter())
            .zip(&model.producers)
            .enumerate()
            .map(|(p, (mut process, producer))| Source {
                next_s: (process.next_after(&producer.arrivals, 0.0)).unwrap_or(f64::INFINITY),
                process,
                size_rng: rng(StreamKind::Size, p),
            })
            .collect();
        let stations = (0..model.queues.len())
            .map(|q| Station::new(model, q, layout, &times, |kind| rng(kind, q)))
            .collect();
        let mut outcomes = Outcomes::new(&model.sinks(), end_s);
        outcomes.events = times.times_s.len() as u64 + u64::from(warmup_s > 0.0);
        Self {
            model,
            clock: Clock { warmup_s, end_s },
            sources,
            exchange_routes: (model.exchanges.iter().enumerate())
                .map(|(i, e)| RouteChoice::new(&e.routes, rng(StreamKind::ExchangeRoute, i)))
                .collect(),
            partitions: PartitionChoice::new(model.topics.len()),
            stations,
            pool_free_s: vec![f64::NEG_INFINITY; model.pools.len()],
            pool_inboxes: vec![Vec::new(); model.pools.len()],
            times,
            outcomes,
            peak_messages: 0,
            needs_events: false,
        }
    }

    /// Number of windows: about [`PUBLICATIONS_PER_WINDOW`] publications each.
    fn window_count(&self) -> u64 {
        let rate_per_s: f64 = (self.model.producers.iter())
            .map(|p| p.arrivals.mean_rate_per_s(self.clock.end_s))
            .sum();
        let windows = (rate_per_s * self.clock.end_s / PUBLICATIONS_PER_WINDOW).ceil();
        if windows.is_finite() {
            (windows as u64).clamp(1, 1 << 32)
        } else {
            1
        }
    }

    pub fn run_windows(&mut self, order: &[QueueId]) {
        let windows = self.window_count();
        for window in 1..=windows {
            if crate::engine::stop_requested() {
                break;
            }
            let until_s = if window == windows {
                self.clock.end_s
            } else {
                self.clock.end_s * (window as f64 / windows as f64)
            };
            self.publish_until(until_s);
            for &q in order {
                self.serve_arrivals(q, until_s);
                if let Some(windows) = self.stations[q].windows.as_deref_mut() {
                    windows.sweep_busy_until(until_s, self.clock);
                }
                self.hand_on(q, until_s);
            }
            if order.iter().any(|&q| self.stations[q].needs_events()) {
                self.needs_events = true;
                break;
            }
            self.note_peak(order);
        }
    }

    /// Every producer but the sole feeders publishes its messages up to
    /// `until_s` (a sole feeder's are published as its queue serves them).
    fn publish_until(&mut self, until_s: f64) {
        for (p, producer) in self.model.producers.iter().enumerate() {
            if let Target::Queue(q) = producer.to
                && self.stations[q].sole_feeder.is_some()
            {
                continue;
            }
            while self.sources[p].next_s <= until_s {
                let message =
                    self.sources[p].publish::<false>(producer, self.clock, &mut self.outcomes);
                self.send(producer.to, message);
            }
        }
    }

    /// Puts a message into queue `q`'s inbox, or, where `q`'s consumer
    /// serves other queues too, into its pool's.
    #[inline]
    fn enqueue(&mut self, q: QueueId, message: Message) {
        let station = &mut self.stations[q];
        if station.shares_consumer {
            let pool = &mut self.pool_inboxes[station.pool as usize];
            pool.push((message, station.pool_position));
        } else {
            station.inbox.push(message);
        }
    }

    /// Puts a message into the inbox of the queue `target` leads to.
    fn send(&mut self, target: Target, message: Message) {
        match target {
            Target::Queue(q) => self.enqueue(q, message),
            Target::Exchange(e) => {
                let route = self.exchange_routes[e].choose();
                self.send(self.model.exchanges[e].routes[route].to, message);
            }
            Target::Topic(t) => {
                let topic = &self.model.topics[t];
                let partition = (self.partitions).partition(topic, t, u64::from(message.key));
                if let [group] = topic.groups.as_slice() {
                    self.enqueue(group.partitions[partition], message);
                    return;
                }
                // Every group receives a copy.
                let measured = self.clock.measured(message.created_s);
                let groups = topic.groups.len() as u32;
                let (created_s, due_s) = (message.created_s, message.due_s);
                let origin =
                    (self.outcomes).copy(message.origin, created_s, due_s, measured, groups);
                for group in &topic.groups {
                    let copy = Message { origin, ..message };
                    self.enqueue(group.partitions[partition], copy);
                }
            }
        }
    }

    /// Queue `q` serves this window's arrivals (up to `until_s`), in
    /// arrival order: its sole feeder's publications, its inbox, or, with a
    /// consumer shared by several partitions, every inbox of the pool.
    fn serve_arrivals(&mut self, q: QueueId, until_s: f64) {
        if let Some(p) = self.stations[q].sole_feeder {
            if self.sources[p].publishes_plain(&self.model.producers[p]) {
                self.serve_published::<true>(q, p, until_s);
            } else {
                self.serve_published::<false>(q, p, until_s);
            }
            return;
        }
        if self.stations[q].shares_consumer {
            self.serve_pool_arrivals(q);
            return;
        }
        let model = self.model;
        let queue = &model.queues[q];
        let consumers =
            (queue.consumers.as_ref()).expect("the fast path serves only queues with consumers");
        let (clock, times, outcomes) = (self.clock, &self.times, &mut self.outcomes);
        let station = &mut self.stations[q];
        let mut inbox = std::mem::take(&mut station.inbox);
        sort_by_arrival(&mut inbox);
        station.serve_all(queue, consumers, &inbox, clock, times, outcomes);
        inbox.clear();
        station.inbox = inbox;
    }

    /// The consumer shared by queue `q` and the other queues of its pool
    /// serves all their arrivals of the window (up to `until_s`) in arrival
    /// order, ties in the pool's order, as the event engine's consumer takes
    /// the queue whose head has waited longest. The first of the pool's
    /// queues in routing order empties the pool's inbox; the others then
    /// find nothing (a topic's partitions have the same senders, all
    /// upstream of every partition). The inbox holds the arrivals in the
    /// order they were sent, which is arrival order already when one
    /// producer publishes to the topic: it is sorted only when it is not,
    /// and then stably, on arrival time and position in the pool, as
    /// merging the queues' own inboxes would give. Out of line, as each way of serving
    /// arrivals: each is compiled on its own, so that a change to one
    /// does not move the registers of another's loop.
    #[inline(never)]
    fn serve_pool_arrivals(&mut self, q: QueueId) {
        let model = self.model;
        let pool_id = (model.queues[q].consumers.as_ref())
            .expect("the fast path serves only queues with consumers")
            .pool;
        let mut arrivals = std::mem::take(&mut self.pool_inboxes[pool_id]);
        let by_arrival = |a: &(Message, u32), b: &(Message, u32)| {
            (a.0.at_s.total_cmp(&b.0.at_s)).then(a.1.cmp(&b.1))
        };
        if !arrivals.is_sorted_by(|a, b| by_arrival(a, b).is_le()) {
            arrivals.sort_by(by_arrival);
        }
        // The pool's queues are partitions of one group: copies reach all or none.
        if self.stations[q].receives_copies {
            self.serve_merged_copies(pool_id, &arrivals);
        } else {
            self.serve_merged::<false>(pool_id, &arrivals);
        }
        arrivals.clear();
        self.pool_inboxes[pool_id] = arrivals;
    }

    /// [`Self::serve_merged`] for a group's partitions that copies reach,
    /// out of line: the hot loop of models without copies stays small.
    #[inline(never)]
    fn serve_merged_copies(&mut self, pool_id: usize, arrivals: &[(Message, u32)]) {
        self.serve_merged::<true>(pool_id, arrivals);
    }

    /// The consumer of pool `pool_id` serves `arrivals`, its queues'
    /// arrivals in arrival order, each with the queue's position in the
    /// pool (`COPIES` as [`Station::serve_and_pass`]).
    #[inline(always)]
    fn serve_merged<const COPIES: bool>(&mut self, pool_id: usize, arrivals: &[(Message, u32)]) {
        let model = self.model;
        let members = &model.pools[pool_id].queues;
        let (clock, times, outcomes) = (self.clock, &self.times, &mut self.outcomes);
        let mut free_s = self.pool_free_s[pool_id];
        for &(message, position) in arrivals {
            let member = members[position as usize];
            let queue = &model.queues[member];
            let consumers = queue
                .consumers
                .as_ref()
                .expect("a pool's queues have consumers");
            let station = &mut self.stations[member];
            station.consumer_free_s = free_s;
            if station.windows.is_some() {
                (station).serve_and_pass::<true, COPIES>(
                    queue, consumers, message, clock, times, outcomes,
                );
            } else {
                (station).serve_and_pass::<false, COPIES>(
                    queue, consumers, message, clock, times, outcomes,
                );
            }
            free_s = station.consumer_free_s;
        }
        self.pool_free_s[pool_id] = free_s;
    }

    /// Queue `q` serves the messages its sole feeder `p` publishes up to
    /// `until_s`, as they are published (see [`Source::publish`] for
    /// `PLAIN`); a producer's own messages are never copies. Out of line,
    /// as [`Self::serve_pool_arrivals`].
    #[inline(never)]
    fn serve_published<const PLAIN: bool>(&mut self, q: QueueId, p: usize, until_s: f64) {
        let model = self.model;
        let queue = &model.queues[q];
        let consumers =
            (queue.consumers.as_ref()).expect("the fast path serves only queues with consumers");
        let (clock, times, outcomes) = (self.clock, &self.times, &mut self.outcomes);
        let (station, source) = (&mut self.stations[q], &mut self.sources[p]);
        let producer = &model.producers[p];
        if station.windows.is_some() {
            while source.next_s <= until_s {
                let message = source.publish::<PLAIN>(producer, clock, outcomes);
                (station).serve_and_pass::<true, false>(
                    queue, consumers, message, clock, times, outcomes,
                );
            }
        } else {
            while source.next_s <= until_s {
                let message = source.publish::<PLAIN>(producer, clock, outcomes);
                (station).serve_and_pass::<false, false>(
                    queue, consumers, message, clock, times, outcomes,
                );
            }
        }
    }

    /// Queue `q`'s messages served by `until_s` go on, in departure order.
    fn hand_on(&mut self, q: QueueId, until_s: f64) {
        let model = self.model;
        let Some(consumers) = model.queues[q].consumers.as_ref() else {
            return;
        };
        let next = &consumers.next;
        loop {
            let station = &mut self.stations[q];
            let Some(message) = station.outbox.as_mut().and_then(|o| o.pop_until(until_s)) else {
                break;
            };
            let route = station.next_route.choose();
            self.send(next[route].to, message);
        }
    }

    /// Messages held between windows: waiting, in service or about to move on.
    fn note_peak(&mut self, order: &[QueueId]) {
        let held: usize = (order.iter().map(|&q| &self.stations[q]))
            .map(|s| {
                let pushed = s.windows.as_ref().map_or(0, |w| w.held());
                s.waiting_starts.len()
                    + s.servers.busy()
                    + pushed
                    + s.outbox.as_ref().map_or(0, Outbox::len)
            })
            .sum();
        self.peak_messages = self.peak_messages.max(held);
    }

    pub fn finish(self, replication: u32) -> ReplicationResult {
        let clock = self.clock;
        let queues = self.stations.len();
        let mut series = Vec::with_capacity(queues);
        let mut outcomes = self.outcomes;
        let nodes = (self.stations.into_iter())
            .map(|mut station| {
                series.push(std::mem::replace(
                    &mut station.series,
                    SeriesCounts {
                        in_queue: Vec::new(),
                        in_service: Vec::new(),
                        unacked: Vec::new(),
                        oldest: None,
                    },
                ));
                station.finish(clock, &mut outcomes)
            })
            .collect();
        let consumers: Vec<u32> = (self.model.queues.iter())
            .map(|q| q.consumers.as_ref().map_or(0, |c| c.count))
            .collect();
        let timeseries = samples(&self.times, &series, &consumers);
        let lag_ages_s = lag_ages(&self.times, &series);
        let measured_s = self.model.simulation.duration_s;
        outcomes.into_result(
            replication,
            measured_s,
            nodes,
            timeseries,
            lag_ages_s,
            self.peak_messages,
        )
    }
}
