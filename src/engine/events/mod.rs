//! One replication: the event loop, publication, routing and outcomes.
//!
//! A producer publishes a message into a queue, an exchange or a topic,
//! once its confirm window has a place ([`confirm`]). An exchange routes
//! it on (fanout copies it to every route; an exchange with binding keys
//! to every route its routing key matches, else to its alternate, else
//! the message is lost as unroutable); a topic puts it into one partition.
//! What happens inside a queue (links, waiting, service, batches, retries,
//! expiry) is in [`super::service`]. A message with nowhere left to go
//! after a successful service is delivered.

mod buffer;
mod calendar;
mod confirm;
mod crash;
mod deferred;
mod order;
mod outage;
mod poll;
mod service;
mod store;
mod watch;
mod window;

pub use calendar::Calendar;

use super::arrivals::{ArrivalProcess, RoutingKeyChoice, producer_processes};
use super::observe::{NodeObservations, ReplicationResult, Sample};
use super::outcomes::Outcomes;
use super::rng::{StreamKind, StreamRng, stream};
use super::routing::{PartitionChoice, RouteChoice};
use crate::model::{
    Batching, Consumers, Discipline, ExchangeKind, Link, Model, Overflow, Replication, Target,
};
use buffer::{Buffer, CopyId};
use confirm::{ConfirmWindow, Pending};
use crash::CrashState;
use deferred::DeferredRecords;
use order::OrderCheck;
use outage::ClientQueue;
use poll::PollState;
use store::{Message, ORPHAN, Slab, Store};
use watch::EventWatch;
use window::WindowState;

/// Something that happens at an instant.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// A producer publishes its next message.
    Publish(u32),
    /// A consumer finishes one copy.
    ServiceEnd(CopyId),
    /// A copy pushed to a consumer of a windowed queue reaches it.
    Dispatched(CopyId),
    /// A slot of a windowed queue's consumer finishes one copy.
    SlotEnd(CopyId),
    /// A pulling consumer finishes one copy of its poll.
    PolledEnd(CopyId),
    /// A consumer finishes a batch (index into the batch store).
    BatchEnd(u32),
    /// A failed copy is re-published to its queue after its backoff.
    Republish(CopyId),
    /// A consumer retrying in place attempts its failed copy again.
    RetryInPlace(CopyId),
    /// A copy reaches the far end of a queue's link.
    LinkArrival(CopyId),
    /// The oldest waiting copy of a queue may have expired.
    Expiry(u32),
    /// A partial batch at a queue may have waited long enough.
    BatchTimeout(u32),
    /// Record the queue lengths.
    Sample,
    /// The warm-up ends: measurement starts.
    WarmupEnd,
    /// A publisher confirm reaches a producer.
    Confirm(u32),
    /// A delayed message becomes visible (index into the delayed store).
    DelayOver(u32),
    /// A producer batch may have lingered long enough (index into the
    /// accumulators).
    LingerEnd(u32),
    /// Scheduled event `n / 2` starts (`n` even) or is reverted (odd).
    Scheduled(u32),
    /// A consumer crashes (index among every crashing consumer).
    Crash(u32),
    /// A crashed consumer is back.
    Restart(u32),
    /// A producer retries the publications its client buffer holds.
    ClientRetry(u32),
}

/// Per-queue state of a replication, with the parts of the queue's
/// configuration that every message reads: one place to touch per queue
/// (with 10,000 queues, cache misses are most of the run's time).
struct QueueState<'m> {
    /// The queue's consumers; `None` for a queue nobody consumes.
    pub consumers: Option<&'m Consumers>,
    /// The consumers' pool, its servers, and whether it serves this queue alone.
    pub pool: usize,
    pub pool_servers: u32,
    /// Whether a server that finishes takes this queue's next copy at
    /// once: the queue alone feeds its pool, whose count of consumers is
    /// the scenario's (a pool a scheduled event shrank retires servers).
    pub hands_over: bool,
    /// The consumers' failure probability per attempt (0 without consumers).
    pub failure: f64,
    pub link: Option<Link>,
    pub buffer: Buffer,
    /// Whether the queue has a byte limit or a Redis overflow (trim,
    /// disconnect): the one flag the common path reads of them.
    pub byte_or_redis_limit: bool,
    /// The queue's `capacity_bytes`, infinite without one, and the bytes
    /// of its waiting messages (counted only under a finite limit).
    pub capacity_bytes: f64,
    pub waiting_bytes: f64,
    /// Until when a disconnected consumer is away (`overflow =
    /// "disconnect"`); arrivals before then are lost.
    pub away_until_s: f64,
    /// Scheduled outages the queue is in now: down while above 0.
    pub outages: u16,
    /// Whether a scheduled event's watch follows its backlog.
    pub watched: bool,
    /// Copies in service at this queue.
    pub in_service: u32,
    /// Copies pulling consumers fetched from this queue and have not
    /// finished yet (0 for consumers that do not pull).
    pub polled: u32,
    /// Servers of the pool busy with this queue's copies.
    pub busy_servers: u32,
    /// The consumers' prefetch windows, where they have one.
    pub window: Option<Box<WindowState>>,
    /// When the next expiry check of the queue is due (infinite when none is).
    pub expiry_at_s: f64,
    pub batch_timer_armed: bool,
    /// When the queue's link finishes its current transmission, seconds.
    pub link_free_s: f64,
    pub service_rng: StreamRng,
    pub failure_rng: StreamRng,
    pub backoff_rng: StreamRng,
    pub next_route: RouteChoice,
    /// Arrival order of the messages started; `None` for LIFO queues.
    pub start_order: Option<OrderCheck>,
    /// Arrival order of the messages finished; only with one consumer.
    pub end_order: Option<OrderCheck>,
}

/// Why a message is held back, and where it goes when released.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// By the `delay` of this producer: then it goes to the producer's target.
    Delay(u32),
    /// Until committed in this partition of this topic: then it goes to
    /// every group's copy of the partition.
    Commit { topic: u32, partition: u32 },
}

/// The records a producer has batched for one partition of its topic.
#[derive(Debug, Default)]
struct Accumulator {
    records: Vec<CopyId>,
    bytes: f64,
    /// When the batch goes at the latest: `linger` after its first record.
    due_s: f64,
}

/// A replicated topic's followers and high watermarks.
struct Replicas {
    rng: StreamRng,
    /// When each partition's latest record is committed, seconds.
    watermark_s: Vec<f64>,
    /// Scratch space for one record's fetch times.
    fetches_s: Vec<f64>,
}

/// State of one replication in progress.
struct Simulation<'m> {
    pub model: &'m Model,
    pub now_s: f64,
    warmup_s: f64,
    end_s: f64,
    pub calendar: Calendar<Event>,
    pub store: Store,
    /// Copies of each batch in service.
    pub batches: Slab<Vec<CopyId>>,
    /// Messages held back before they go on: by their producer's `delay`
    /// or by a topic's replication.
    delayed: Slab<(Held, CopyId)>,
    /// Per topic with replication, its follower fetch draws and each
    /// partition's high watermark (when its latest record becomes visible).
    replicas: Vec<Option<Replicas>>,
    /// Per batching producer, one accumulator per partition of its topic,
    /// at `accumulator_base[p] + partition`.
    accumulators: Vec<Accumulator>,
    accumulator_base: Vec<usize>,
    producers: Vec<ArrivalProcess>,
    size_rngs: Vec<StreamRng>,
    producer_classes: Vec<u16>,
    /// Whether any producer gives its messages a TTL of their own.
    pub message_ttls: bool,
    pub queues: Vec<QueueState<'m>>,
    /// Busy servers of each pool.
    pub pool_busy: Vec<u32>,
    /// Servers of each pool now: the model's, unless a scheduled event
    /// changed its consumer count.
    pub pool_servers: Vec<u32>,
    /// Disconnected subscribers still finishing what they hold, whose
    /// reconnect delay has not started.
    pub draining_subscribers: u32,
    /// Per pool of pulling consumers, their fetched records.
    polls: Vec<Option<Box<PollState>>>,
    /// Per producer with `on_unavailable`, the publications it holds.
    clients: Vec<Option<Box<ClientQueue>>>,
    /// Per topic, the scheduled outages it is in now.
    topic_outages: Vec<u16>,
    /// Per scheduled event, what it does to the backlog.
    watches: Vec<EventWatch>,
    /// Per pool whose consumers crash, which are up and what each serves;
    /// `has_crashes` when any pool's do.
    crashes: Vec<Option<Box<CrashState>>>,
    has_crashes: bool,
    exchange_routes: Vec<RouteChoice>,
    partitions: PartitionChoice,
    pub nodes: Vec<NodeObservations>,
    /// Wait and sojourn records not yet counted into `nodes`.
    pub deferred: DeferredRecords,
    outcomes: Outcomes,
    timeseries: Vec<Sample>,
    routing_keys: Vec<RoutingKeyChoice>,
    /// Each producer's confirm window, where it waits for confirms.
    confirms: Vec<Option<ConfirmWindow<'m>>>,
    /// Per queue, whether it is a topic's partition; empty for a model
    /// without topics.
    is_partition: Vec<bool>,
    /// The age of each partition's oldest unprocessed record at each sample.
    lag_ages_s: Vec<f64>,
    /// Whether deliveries are recorded per sink, and per queue the sink
    /// its deliveries count in.
    records_sinks: bool,
    sink_of_queue: Vec<Option<u32>>,
    /// Per queue, the sink a copy lost there counts against.
    sink_losses: Vec<Option<u32>>,
}

/// Runs replication number `replication` of `model` to completion on the
/// event calendar, whatever the model.
pub fn simulate_events(model: &Model, replication: u32) -> ReplicationResult {
    let mut sim = Simulation::new(model, replication);
    sim.start();
    sim.run_until_end();
    sim.finish(replication)
}

/// The crash state of each pool whose consumers crash, consumers
/// numbered across pools in pool order.
fn crash_states(model: &Model, replication: u32) -> Vec<Option<Box<CrashState>>> {
    let mut first = 0;
    (model.pools.iter().enumerate())
        .map(|(p, pool)| {
            let consumers = model.queues[pool.queues[0]].consumers.as_ref()?;
            consumers.crash.as_ref()?;
            let rng = stream(model.simulation.seed, replication, StreamKind::Crash, p);
            let state = CrashState::new(pool.servers, first, rng);
            first += pool.servers;
            Some(Box::new(state))
        })
        .collect()
}

fn class_index(classes: &[i64], priority: i64) -> u16 {
    classes
        .iter()
        .position(|&c| c == priority)
        .expect("every priority of the model is a run class") as u16
}

impl<'m> Simulation<'m> {
    fn new(model: &'m Model, replication: u32) -> Self {
        let seed = model.simulation.seed;
        let classes = model.run_classes();
        let sinks = model.sinks();
        let rng = |kind, index| stream(seed, replication, kind, index);
        let (watches, watched) = watch::event_watches(model);
        let queues = model
            .queues
            .iter()
            .enumerate()
            .map(|(i, queue)| {
                let consumers = queue.consumers.as_ref();
                let pool = consumers.map(|c| &model.pools[c.pool]);
                let window = consumers.and_then(|c| {
                    let window = c.window()?;
                    let rng = rng(StreamKind::Dispatch, i);
                    Some(Box::new(WindowState::new(
                        window,
                        c.count,
                        c.dispatch.clone(),
                        rng,
                    )))
                });
                let several_consumers = consumers.is_some_and(|c| c.count > 1);
                // Consumers holding several messages each start them in
                // their own order.
                let holds = window.is_some() || consumers.is_some_and(|c| c.poll.is_some());
                let fifo_starts =
                    queue.discipline != Discipline::Lifo && !(holds && several_consumers);
                QueueState {
                    consumers,
                    pool: consumers.map_or(0, |c| c.pool),
                    pool_servers: pool.map_or(0, |p| p.servers),
                    hands_over: pool.is_some_and(|p| p.queues.len() == 1),
                    failure: consumers.map_or(0.0, |c| c.failure),
                    link: queue.link,
                    buffer: Buffer::new(queue.discipline, classes.len()),
                    byte_or_redis_limit: queue.capacity_bytes.is_some()
                        || matches!(queue.overflow, Overflow::Trim | Overflow::Disconnect),
                    capacity_bytes: queue.capacity_bytes.unwrap_or(f64::INFINITY),
                    waiting_bytes: 0.0,
                    away_until_s: f64::NEG_INFINITY,
                    outages: 0,
                    watched: watched[i],
                    in_service: 0,
                    polled: 0,
                    busy_servers: 0,
                    window,
                    expiry_at_s: f64::INFINITY,
                    batch_timer_armed: false,
                    link_free_s: 0.0,
                    service_rng: rng(StreamKind::Service, i),
                    failure_rng: rng(StreamKind::Failure, i),
                    backoff_rng: rng(StreamKind::Backoff, i),
                    next_route: RouteChoice::new(
                        consumers.map_or(&[], |c| &c.next),
                        rng(StreamKind::NextRoute, i),
                    ),
                    start_order: fifo_starts.then(|| OrderCheck::new(classes.len())),
                    end_order: (queue.discipline != Discipline::Lifo
                        && pool.is_some_and(|p| p.servers == 1))
                    .then(|| OrderCheck::new(classes.len())),
                }
            })
            .collect();
        let exchange_routes = (model.exchanges.iter().enumerate())
            .map(|(i, e)| RouteChoice::new(&e.routes, rng(StreamKind::ExchangeRoute, i)))
            .collect();
        let producers = producer_processes(model, replication);
        let warmup_s = model.simulation.warmup_s;
        let mut nodes = vec![NodeObservations::new(classes.len()); model.queues.len()];
        for (node, queue) in nodes.iter_mut().zip(&model.queues) {
            let unacked = queue
                .consumers
                .as_ref()
                .is_some_and(|c| c.window().is_some() || c.poll.is_some());
            if unacked {
                node.unacked = Some(crate::stats::TimeWeighted::new(0.0));
            }
        }
        Self {
            model,
            now_s: 0.0,
            warmup_s,
            end_s: warmup_s + model.simulation.duration_s,
            calendar: Calendar::default(),
            store: Store::default(),
            batches: Slab::default(),
            delayed: Slab::default(),
            accumulators: (model.producers.iter())
                .filter(|p| p.batching.is_some())
                .flat_map(|p| match p.to {
                    Target::Topic(t) => 0..model.topics[t].partition_count,
                    _ => 0..0,
                })
                .map(|_| Accumulator::default())
                .collect(),
            accumulator_base: (model.producers.iter())
                .scan(0, |next, p| {
                    let base = *next;
                    if let (Some(_), Target::Topic(t)) = (p.batching, p.to) {
                        *next += model.topics[t].partition_count;
                    }
                    Some(base)
                })
                .collect(),
            replicas: (model.topics.iter().enumerate())
                .map(|(t, topic)| {
                    topic.replication.as_ref().map(|r| Replicas {
                        rng: rng(StreamKind::FollowerFetch, t),
                        watermark_s: vec![0.0; topic.partition_count],
                        fetches_s: Vec::with_capacity(r.followers as usize),
                    })
                })
                .collect(),
            producers,
            size_rngs: (0..model.producers.len())
                .map(|i| rng(StreamKind::Size, i))
                .collect(),
            producer_classes: (model.producers.iter())
                .map(|p| class_index(&classes, p.priority))
                .collect(),
            message_ttls: model.producers.iter().any(|p| p.ttl_s.is_some()),
            queues,
            pool_busy: vec![0; model.pools.len()],
            pool_servers: model.pools.iter().map(|p| p.servers).collect(),
            draining_subscribers: 0,
            clients: outage::client_queues(model),
            topic_outages: vec![0; model.topics.len()],
            watches,
            crashes: crash_states(model, replication),
            has_crashes: (model.pools.iter()).any(|p| {
                model.queues[p.queues[0]]
                    .consumers
                    .as_ref()
                    .is_some_and(|c| c.crash.is_some())
            }),
            polls: (model.pools.iter())
                .map(|pool| {
                    let consumers = model.queues[pool.queues[0]].consumers.as_ref()?;
                    let poll = consumers.poll?;
                    Some(Box::new(PollState::new(poll, pool.servers)))
                })
                .collect(),
            exchange_routes,
            partitions: PartitionChoice::new(model.topics.len()),
            nodes,
            deferred: DeferredRecords::new(model.queues.len()),
            outcomes: Outcomes::new(&sinks, warmup_s + model.simulation.duration_s),
            timeseries: Vec::new(),
            is_partition: match model.topics.is_empty() {
                true => Vec::new(),
                false => model.partition_flags(),
            },
            lag_ages_s: Vec::new(),
            records_sinks: !sinks.single_path(),
            sink_of_queue: sinks.of_queue,
            sink_losses: sinks.lost_at,
            routing_keys: (model.producers.iter().enumerate())
                .map(|(i, p)| RoutingKeyChoice::new(model, replication, i, p))
                .collect(),
            confirms: (model.producers.iter().enumerate())
                .map(|(i, p)| {
                    let confirm = p.confirm.as_ref()?;
                    Some(ConfirmWindow::new(
                        confirm,
                        rng(StreamKind::ConfirmLatency, i),
                    ))
                })
                .collect(),
        }
    }

    fn measuring(&self) -> bool {
        self.now_s >= self.warmup_s
    }

    /// Schedules the first events: every producer's first message, the
    /// initial backlog, the warm-up end and the first sample.
    fn start(&mut self) {
        for p in 0..self.model.producers.len() {
            if let Some(first_s) =
                self.producers[p].next_after(&self.model.producers[p].arrivals, 0.0)
            {
                self.calendar.schedule(first_s, Event::Publish(p as u32));
            }
        }
        if self.warmup_s > 0.0 {
            self.calendar.schedule(self.warmup_s, Event::WarmupEnd);
        }
        self.calendar.schedule(0.0, Event::Sample);
        if self.has_crashes {
            self.schedule_first_failures();
        }
        for (i, event) in self.model.events.iter().enumerate() {
            let n = 2 * i as u32;
            self.calendar.schedule(event.at_s, Event::Scheduled(n));
            if let Some(for_s) = event.for_s {
                self.calendar
                    .schedule(event.at_s + for_s, Event::Scheduled(n + 1));
            }
        }
        let initial = &self.model.simulation.initial;
        if initial.is_empty() {
            return;
        }
        let backlog = Message {
            class: class_index(&self.model.run_classes(), 0),
            key: 0,
            size_bytes: 0.0,
            ttl_s: f64::INFINITY,
            routing_key: crate::model::NO_ROUTING_KEY,
        };
        for &(queue, count) in initial {
            for _ in 0..count {
                let measured = self.measuring();
                if measured {
                    self.outcomes.produced += 1;
                }
                let copy = self.store.publish(0.0, f64::INFINITY, measured, backlog);
                self.arrive(queue, copy);
            }
        }
    }

    fn run_until_end(&mut self) {
        while let Some((time_s, event)) = self.calendar.pop() {
            let stop = self
                .outcomes
                .events
                .is_multiple_of(super::CHECK_EVERY_EVENTS)
                && super::stop_requested();
            if time_s > self.end_s || stop {
                break;
            }
            self.now_s = time_s;
            self.outcomes.events += 1;
            match event {
                Event::Publish(p) => self.publish(p as usize),
                Event::ServiceEnd(copy) => self.service_end(copy),
                Event::Dispatched(copy) => self.dispatched(copy),
                Event::SlotEnd(copy) => self.slot_end(copy),
                Event::Scheduled(n) => self.scheduled(n),
                Event::Crash(consumer) => self.crash(consumer),
                Event::Restart(consumer) => self.restart(consumer),
                Event::ClientRetry(p) => self.client_retry(p as usize),
                Event::PolledEnd(copy) => self.polled_end(copy),
                Event::BatchEnd(batch) => self.batch_end(batch),
                Event::Republish(copy) => self.arrive(self.queue_of(copy), copy),
                Event::RetryInPlace(copy) => self.attempt_again(copy),
                Event::LinkArrival(copy) => self.enqueue(self.queue_of(copy), copy),
                Event::Expiry(queue) => self.expire(queue as usize),
                Event::BatchTimeout(queue) => {
                    self.queues[queue as usize].batch_timer_armed = false;
                    self.try_start(queue as usize);
                }
                Event::Sample => self.sample(),
                Event::WarmupEnd => {
                    self.deferred.flush(&mut self.nodes);
                    self.nodes.iter_mut().for_each(|n| n.restart(time_s));
                }
                Event::Confirm(p) => self.confirmed(p as usize),
                Event::LingerEnd(a) => {
                    if self.accumulators[a as usize].due_s == self.now_s {
                        self.flush_batch(a as usize);
                    }
                }
                Event::DelayOver(d) => {
                    let (held, copy) = *self.delayed.get(d);
                    self.delayed.remove(d);
                    match held {
                        Held::Delay(p) => self.send(self.model.producers[p as usize].to, copy),
                        Held::Commit { topic, partition } => {
                            self.reach_partition(topic as usize, partition as usize, copy);
                        }
                    }
                }
            }
        }
        self.now_s = self.end_s;
    }

    /// The queue a copy is at or heading to.
    fn queue_of(&self, copy: CopyId) -> usize {
        self.store.copies.get(copy).queue as usize
    }

    fn publish(&mut self, p: usize) {
        let producer = &self.model.producers[p];
        let measured = self.measuring();
        if measured {
            self.outcomes.produced += 1;
        }
        let due_s = self.now_s + producer.deadline_s.unwrap_or(f64::INFINITY);
        let message = Message {
            class: self.producer_classes[p],
            key: self.producers[p].next_key(),
            size_bytes: producer
                .size_bytes
                .as_ref()
                .map_or(0.0, |size| size.sample(&mut self.size_rngs[p])),
            ttl_s: producer.ttl_s.unwrap_or(f64::INFINITY),
            routing_key: self.routing_keys[p].next_key(),
        };
        if let Some(next_s) = self.producers[p].next_after(&producer.arrivals, self.now_s) {
            self.calendar.schedule(next_s, Event::Publish(p as u32));
        }
        let pending = Pending {
            created_s: self.now_s,
            due_s,
            measured,
            message,
        };
        match &mut self.confirms[p] {
            Some(window) if window.is_full() => window.wait(pending),
            _ => self.publish_now(p, pending),
        }
    }

    /// Scheduled event `n / 2` starts (even `n`): each pool it names gets
    /// its count of consumers, each queue or topic it names goes down; or
    /// it is reverted (odd `n`): they get the scenario's count again and
    /// come back. Removed consumers finish what they hold.
    fn scheduled(&mut self, n: u32) {
        let (e, starts) = (n as usize / 2, n.is_multiple_of(2));
        if starts {
            self.watch_event(e, true);
        }
        self.set_down(e, starts);
        self.set_counts(e, starts);
        if !starts {
            self.watch_event(e, false);
        }
    }

    /// Scheduled event `e` sets its pools' counts of consumers (`starts`)
    /// or gives them the scenario's again.
    fn set_counts(&mut self, e: usize, starts: bool) {
        let event = &self.model.events[e];
        for &(pool, count) in &event.consumers {
            let consumers = (self.model.queues[self.model.pools[pool].queues[0]].consumers)
                .as_ref()
                .expect("scheduled counts name pools of consumers");
            let servers = match starts {
                true => count * consumers.concurrency,
                false => self.model.pools[pool].servers,
            };
            let before = self.pool_servers[pool];
            self.set_pool_servers(pool, servers);
            let change =
                (f64::from(servers) - f64::from(before)) / f64::from(consumers.concurrency);
            let counted_s = self.end_s - self.now_s.max(self.warmup_s);
            if counted_s > 0.0 {
                self.outcomes.consumer_down_s -= change * counted_s;
            }
            if servers > before {
                self.try_start(self.model.pools[pool].queues[0]);
            }
        }
    }

    fn set_pool_servers(&mut self, pool: usize, servers: u32) {
        self.pool_servers[pool] = servers;
        let model_pool = &self.model.pools[pool];
        let hands_over = model_pool.queues.len() == 1 && servers == model_pool.servers;
        for &q in &model_pool.queues {
            self.queues[q].pool_servers = servers;
            self.queues[q].hands_over = hands_over;
        }
    }

    /// Producer `p` publishes a message now (it was due at `created_s`),
    /// unless its client buffer holds it.
    fn publish_now(&mut self, p: usize, pending: Pending) {
        let pending = match self.clients[p].is_some() {
            true => self.hold_unless_accepted(p, pending),
            false => Some(pending),
        };
        if let Some(pending) = pending {
            self.publish_out(p, pending);
        }
    }

    /// Producer `p`'s publication goes out, taking a place in its confirm
    /// window if it has one.
    fn publish_out(&mut self, p: usize, pending: Pending) {
        let copy =
            (self.store).publish(self.now_s, pending.due_s, pending.measured, pending.message);
        if pending.created_s < self.now_s {
            self.store.backdate(copy, pending.created_s);
        }
        if let Some(window) = &mut self.confirms[p] {
            let delay_s = window.take();
            (self.calendar).schedule(self.now_s + delay_s, Event::Confirm(p as u32));
        }
        let producer = &self.model.producers[p];
        if let (Some(batching), Target::Topic(t)) = (producer.batching, producer.to) {
            self.batch_record(p, t, batching, copy);
            return;
        }
        match self.model.producers[p].delay_s {
            None => self.send(self.model.producers[p].to, copy),
            Some(delay_s) => {
                let d = self.delayed.insert((Held::Delay(p as u32), copy));
                (self.calendar).schedule(self.now_s + delay_s, Event::DelayOver(d));
            }
        }
    }

    /// A publisher confirm reaches producer `p`: the publication that has
    /// waited longest for a place goes out.
    fn confirmed(&mut self, p: usize) {
        let window = self.confirms[p]
            .as_mut()
            .expect("only producers with confirms receive them");
        if let Some(pending) = window.confirmed() {
            self.publish_now(p, pending);
        }
    }

    /// Hands a copy to a queue, an exchange or a topic.
    pub(super) fn send(&mut self, target: Target, copy: CopyId) {
        match target {
            Target::Queue(q) => self.arrive(q, copy),
            Target::Exchange(e) => {
                let exchange = &self.model.exchanges[e];
                if let Some(keyed) = &exchange.keyed {
                    let key = self.store.copies.get(copy).routing_key;
                    match keyed.destinations(key).split_first() {
                        None => self.unroutable(copy),
                        Some((&first, rest)) => {
                            for &to in rest {
                                let extra = self.store.duplicate(copy);
                                self.send(to, extra);
                            }
                            self.send(first, copy);
                        }
                    }
                    return;
                }
                match exchange.kind {
                    ExchangeKind::Weighted | ExchangeKind::Direct | ExchangeKind::Topic => {
                        let route = self.exchange_routes[e].choose();
                        self.send(exchange.routes[route].to, copy);
                    }
                    ExchangeKind::Fanout => {
                        let (first, rest) = exchange
                            .routes
                            .split_first()
                            .expect("validated exchanges have routes");
                        for route in rest {
                            let extra = self.store.duplicate(copy);
                            self.send(route.to, extra);
                        }
                        self.send(first.to, copy);
                    }
                }
            }
            Target::Topic(t) => {
                let topic = &self.model.topics[t];
                let key = self.store.copies.get(copy).key;
                let partition = self.partitions.partition(topic, t, key);
                self.commit_or_reach(t, partition, copy);
            }
        }
    }

    /// A record written to `partition` of topic `t` reaches the groups'
    /// partitions now, or once committed where the topic replicates.
    fn commit_or_reach(&mut self, t: usize, partition: usize, copy: CopyId) {
        match &self.model.topics[t].replication {
            None => self.reach_partition(t, partition, copy),
            Some(replication) => {
                let visible_s = self.commit_time_s(t, partition, replication);
                let held = Held::Commit {
                    topic: t as u32,
                    partition: partition as u32,
                };
                let d = self.delayed.insert((held, copy));
                self.calendar.schedule(visible_s, Event::DelayOver(d));
            }
        }
    }

    /// Producer `p` adds a record for topic `t` to the batch of its
    /// partition; the batch goes when it passes `max_bytes`, else at
    /// `linger` after its first record.
    fn batch_record(&mut self, p: usize, t: usize, batching: Batching, copy: CopyId) {
        let key = self.store.copies.get(copy).key;
        let partition = self.partitions.partition(&self.model.topics[t], t, key);
        let a = self.accumulator_base[p] + partition;
        let size_bytes = self.store.copies.get(copy).size_bytes;
        let accumulator = &mut self.accumulators[a];
        if accumulator.records.is_empty() {
            accumulator.due_s = self.now_s + batching.linger_s;
            (self.calendar).schedule(accumulator.due_s, Event::LingerEnd(a as u32));
        }
        accumulator.records.push(copy);
        accumulator.bytes += size_bytes;
        if accumulator.bytes >= batching.max_bytes {
            self.flush_batch(a);
        }
    }

    /// Accumulator `a`'s records are published at once, in order.
    fn flush_batch(&mut self, a: usize) {
        let p = self.accumulator_base.partition_point(|&base| base <= a) - 1;
        let Target::Topic(t) = self.model.producers[p].to else {
            unreachable!("only producers to a topic batch");
        };
        let partition = a - self.accumulator_base[p];
        let records = std::mem::take(&mut self.accumulators[a].records);
        self.accumulators[a].bytes = 0.0;
        self.accumulators[a].due_s = f64::NAN;
        for copy in records {
            self.commit_or_reach(t, partition, copy);
        }
    }

    /// A record of partition `partition` of topic `t` becomes visible:
    /// every group's copy of the partition receives it.
    fn reach_partition(&mut self, t: usize, partition: usize, copy: CopyId) {
        let topic = &self.model.topics[t];
        let (first, rest) = (topic.groups)
            .split_first()
            .expect("validated topics have a group");
        for group in rest {
            let extra = self.store.duplicate(copy);
            self.arrive(group.partitions[partition], extra);
        }
        self.arrive(first.partitions[partition], copy);
    }

    /// When a record written now to `partition` of topic `t` is committed:
    /// once the `acks_needed`-th fastest follower has fetched it, and not
    /// before the partition's previous record.
    fn commit_time_s(&mut self, t: usize, partition: usize, replication: &Replication) -> f64 {
        let replicas = self.replicas[t]
            .as_mut()
            .expect("replicated topics have replicas");
        replicas.fetches_s.clear();
        for _ in 0..replication.followers {
            let fetch_s = replication.follower_fetch.sample(&mut replicas.rng);
            replicas.fetches_s.push(fetch_s);
        }
        replicas.fetches_s.sort_unstable_by(f64::total_cmp);
        let commit_s = self.now_s + replicas.fetches_s[replication.acks_needed as usize - 1];
        let watermark_s = &mut replicas.watermark_s[partition];
        *watermark_s = watermark_s.max(commit_s);
        *watermark_s
    }

    pub(super) fn deliver(&mut self, copy: CopyId) {
        let c = self.store.copies.get(copy);
        let origin_id = c.origin;
        let sink = match self.records_sinks {
            true => self.sink_of_queue[c.queue as usize],
            false => None,
        };
        self.store.copies.remove(copy);
        if origin_id == ORPHAN {
            return;
        }
        if let Some(sink) = sink {
            self.deliver_at_sink(sink, origin_id);
        }
        let origin = self.store.origins.get_mut(origin_id);
        origin.outstanding -= 1;
        if origin.outstanding > 0 {
            return;
        }
        let resolved = origin.resolved;
        let measured = origin.measured;
        let (created_s, due_s) = (origin.created_s, origin.due_s);
        self.store.origins.remove(origin_id);
        if !self.watches.is_empty() && !resolved {
            self.watch_delivery(created_s);
        }
        if !resolved {
            (self.outcomes).deliver(self.now_s, created_s, due_s, measured, false);
        }
    }

    /// A copy of message `origin_id` is delivered at `sink`.
    #[inline(never)]
    fn deliver_at_sink(&mut self, sink: u32, origin_id: u32) {
        let origin = self.store.origins.get(origin_id);
        if origin.measured {
            let (created_s, due_s) = (origin.created_s, origin.due_s);
            (self.outcomes).deliver_at(sink, self.now_s, created_s, due_s, false);
        }
    }

    /// A copy is lost at the queue it is at; it parks in `dead_letter`
    /// when one is given.
    pub(super) fn lose(&mut self, copy: CopyId, dead_letter: Option<usize>) {
        if self.records_sinks {
            self.count_sink_loss(copy);
        }
        self.discard(copy, dead_letter);
    }

    /// A lost copy counts against the one sink its queue leads to, if any.
    #[inline(never)]
    fn count_sink_loss(&mut self, copy: CopyId) {
        let c = self.store.copies.get(copy);
        let Some(sink) = self.sink_losses[c.queue as usize] else {
            return;
        };
        if c.origin != ORPHAN && self.store.origins.get(c.origin).measured {
            self.outcomes.sinks[sink as usize].lost += 1;
        }
    }

    /// A copy is lost (wherever it is); it parks in `dead_letter` when one
    /// is given.
    fn discard(&mut self, copy: CopyId, dead_letter: Option<usize>) {
        let origin_id = self.store.copies.get(copy).origin;
        if origin_id != ORPHAN {
            let origin = self.store.origins.get_mut(origin_id);
            origin.outstanding -= 1;
            if !origin.resolved {
                origin.resolved = true;
                if origin.measured {
                    self.outcomes.lost += 1;
                }
            }
            if origin.outstanding == 0 {
                self.store.origins.remove(origin_id);
            }
        }
        match dead_letter {
            Some(dlq) => {
                let c = self.store.copies.get_mut(copy);
                c.origin = ORPHAN;
                c.failures = 0;
                self.arrive(dlq, copy);
            }
            None => self.store.copies.remove(copy),
        }
    }

    /// A copy reached an exchange that routes it nowhere: it is lost, and
    /// its message counts as unroutable if this loss decides its outcome.
    fn unroutable(&mut self, copy: CopyId) {
        let origin_id = self.store.copies.get(copy).origin;
        if origin_id != ORPHAN {
            let origin = self.store.origins.get(origin_id);
            if origin.measured && !origin.resolved {
                self.outcomes.unroutable += 1;
            }
        }
        self.discard(copy, None);
    }

    fn sample(&mut self) {
        let up = self.consumers_up();
        for (q, state) in self.queues.iter().enumerate() {
            self.timeseries.push(Sample {
                consumers: state.consumers.map_or(0, |_| up[state.pool]),
                time_s: self.now_s,
                queue: q as u32,
                in_queue: state.buffer.len() as u32,
                in_service: state.in_service,
                unacked: match &state.window {
                    Some(window) => window.unacked,
                    None if state.polled > 0 => state.polled,
                    None => state.in_service,
                },
            });
        }
        if !self.is_partition.is_empty() {
            self.sample_lag_ages();
        }
        let next_s = self.now_s + self.model.simulation.sample_every_s;
        if next_s <= self.end_s {
            self.calendar.schedule(next_s, Event::Sample);
        }
    }

    /// Per pool, its consumers that are up now: its count (changed by a
    /// scheduled event) less those crashed and not yet back.
    fn consumers_up(&self) -> Vec<u32> {
        (self.model.pools.iter().enumerate())
            .map(|(p, pool)| {
                let concurrency = (self.model.queues[pool.queues[0]].consumers.as_ref())
                    .map_or(1, |c| c.concurrency);
                let down = self.crashes[p].as_ref().map_or(0, |c| c.down());
                self.pool_servers[p] / concurrency - down
            })
            .collect()
    }

    /// The age of each partition's oldest unprocessed record, 0 when it
    /// has none. A partition is served in order, so that record is the one
    /// in service, else the oldest one fetched by a poll, else the head of
    /// the queue; the records in service are those whose service end is
    /// pending.
    fn sample_lag_ages(&mut self) {
        let mut oldest_s = vec![self.now_s; self.is_partition.len()];
        for (q, state) in self.queues.iter().enumerate() {
            if let Some(head) = state
                .buffer
                .oldest()
                .next()
                .filter(|_| self.is_partition[q])
            {
                oldest_s[q] = self.store.copies.get(head).entered_s;
            }
        }
        let in_service = (self.calendar.pending()).filter_map(|event| match *event {
            Event::ServiceEnd(copy) | Event::PolledEnd(copy) | Event::RetryInPlace(copy) => {
                Some(copy)
            }
            _ => None,
        });
        let fetched = self.polls.iter().flatten().flat_map(|p| p.waiting());
        for copy in in_service.chain(fetched) {
            let c = self.store.copies.get(copy);
            let q = c.queue as usize;
            if self.is_partition[q] {
                oldest_s[q] = oldest_s[q].min(c.entered_s);
            }
        }
        let partitions = oldest_s.iter().zip(&self.is_partition).filter(|(_, p)| **p);
        (self.lag_ages_s).extend(partitions.map(|(&oldest_s, _)| self.now_s - oldest_s));
    }

    fn finish(mut self, replication: u32) -> ReplicationResult {
        self.deferred.flush(&mut self.nodes);
        if self.has_crashes {
            self.count_consumers_still_down();
        }
        let end_s = self.end_s;
        for node in &mut self.nodes {
            let in_queue = node.in_queue.level();
            node.in_queue.set(end_s, in_queue);
            let in_service = node.in_service.level();
            node.in_service.set(end_s, in_service);
            if let Some(unacked) = &mut node.unacked {
                let level = unacked.level();
                unacked.set(end_s, level);
            }
        }
        let in_flight = self
            .store
            .origins
            .live_indexes()
            .into_iter()
            .map(|id| self.store.origins.get(id))
            .filter(|o| o.measured && !o.resolved)
            .count() as u64;
        let measured_s = self.model.simulation.duration_s;
        let peak_messages = self.store.copies.capacity_used();
        let waiting: u64 = (self.confirms.iter().flatten())
            .map(ConfirmWindow::measured_waiting)
            .sum();
        let held: u64 = self
            .clients
            .iter()
            .flatten()
            .map(|c| c.measured_held())
            .sum();
        self.outcomes.in_flight = in_flight + waiting + held;
        let events = self.event_observations();
        let mut result = (self.outcomes).into_result(
            replication,
            measured_s,
            self.nodes,
            self.timeseries,
            self.lag_ages_s,
            peak_messages,
        );
        result.scheduled = events;
        result
    }
}
