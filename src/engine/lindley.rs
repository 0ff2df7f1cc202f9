//! The fast path: feed-forward networks of FIFO queues, computed by the
//! Lindley / Kiefer–Wolfowitz recursion instead of an event calendar.
//!
//! In a FIFO queue with `c` servers a message starts service at the later
//! of its arrival and the moment the earliest of the `c` servers frees up
//! (Kiefer–Wolfowitz; Lindley's recursion when `c = 1`): its start and
//! departure follow from its arrival and the servers' free times alone, so
//! nothing needs scheduling. When no message can come back to a queue it
//! has left (acyclic routing) and nothing else changes the fate of a
//! waiting message (no retries, TTL, batches, consumers shared between
//! queues other than a topic's partitions, priority classes, links or
//! fanout copies; drop-head overflow only until a queue fills, see
//! [`drop_head_queue`]), a whole network is computed queue by queue in
//! routing order. A topic consumer that owns several partitions serves
//! their merged arrivals in arrival order, which is what serving the
//! oldest head first amounts to.
//!
//! Time advances in windows: producers publish up to the window's end,
//! then each queue, upstream first, serves the window's arrivals and hands
//! on its departures up to the window's end (a queue fed by one producer
//! alone serves that producer's messages as they are published, without
//! holding them). Memory holds the messages in the system and one window's
//! arrivals, not the whole run.
//!
//! Every stream is drawn in the order the event engine draws it wherever
//! that order is unambiguous (a producer's gaps, keys and sizes in
//! publication order, a queue's service times in start order, its route
//! choices in departure order), so both engines follow the same sample
//! path on a single queue or a tandem, and agree in distribution where
//! several senders share an exchange or a topic (tested).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use rand::RngExt;

use super::arrivals::{ArrivalProcess, producer_processes};
use super::observe::{LatencyByTime, NodeObservations, ReplicationResult, Sample};
use super::rng::{StreamKind, StreamRng, stream};
use super::simulation::{cumulative, pick, run_classes};
use crate::model::{
    Arrivals, Consumers, Discipline, EngineChoice, ExchangeKind, Model, Overflow, Partitioner,
    Producer, Queue, QueueId, Target, partition_of_key,
};
use crate::stats::{LatencyHistogram, Tally, TimeWeighted};

/// Publications per window, on average: enough to amortise the per-window
/// pass over the queues, few enough to keep a window's arrivals small.
const PUBLICATIONS_PER_WINDOW: f64 = 8192.0;

/// The engine that runs a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// The Lindley / Kiefer–Wolfowitz fast path.
    Lindley,
    /// The event calendar, for the reason given.
    Events {
        /// What in the model needs the event engine.
        reason: String,
    },
}

/// The engine [`super::simulate`] runs `model` on: the fast path whenever
/// the model allows it.
pub fn engine_for(model: &Model) -> Engine {
    match routing_order(model) {
        Ok(_) => Engine::Lindley,
        Err(reason) => Engine::Events { reason },
    }
}

/// Runs replication `replication` on the fast path, or `None` when the
/// model needs the event engine (see [`engine_for`]) or, in this
/// replication, a queue that drops the oldest message when full filled up
/// (see [`drop_head_queue`]).
pub fn simulate_lindley(model: &Model, replication: u32) -> Option<ReplicationResult> {
    let order = routing_order(model).ok()?;
    let mut run = Run::new(model, &order, replication);
    run.run_windows(&order);
    if run.outcomes.filled_drop_head {
        return None;
    }
    Some(run.finish(replication))
}

/// A queue of a fast-path model that drops its oldest waiting message when
/// full, if any. Dropping a message that was to start later moves every
/// later start earlier, which the recursion cannot undo, so the fast path
/// runs such a queue only while it never fills: a replication in which it
/// fills is run again on the event engine, which gives it the same sample
/// path up to the drop.
pub fn drop_head_queue(model: &Model) -> Option<&str> {
    let order = routing_order(model).ok()?;
    (order.iter().map(|&q| &model.queues[q]))
        .find(|queue| queue.capacity.is_some() && queue.overflow == Overflow::DropHead)
        .map(|queue| queue.name.as_str())
}

/// The queues messages can reach, upstream first, or why the fast path
/// cannot run the model.
fn routing_order(model: &Model) -> Result<Vec<QueueId>, String> {
    if model.simulation.engine == EngineChoice::Events {
        return Err("the scenario asks for it (`simulation.engine = \"events\"`)".into());
    }
    if run_classes(model).len() > 1 {
        return Err("producers publish with several priorities".into());
    }
    if !model.simulation.initial.is_empty() {
        return Err("queues start with a backlog (`simulation.initial`)".into());
    }
    let mut successors = vec![Vec::new(); model.queues.len()];
    let mut reached = vec![false; model.queues.len()];
    let mut frontier = Vec::new();
    for producer in &model.producers {
        queues_of(model, producer.to, &mut frontier)?;
    }
    while let Some(q) = frontier.pop() {
        if std::mem::replace(&mut reached[q], true) {
            continue;
        }
        let consumers = fast_path_consumers(model, q)?;
        for route in &consumers.next {
            queues_of(model, route.to, &mut successors[q])?;
        }
        frontier.extend(&successors[q]);
    }
    topological_order(model, &successors, &reached)
}

/// The consumers of queue `q`, when the fast path can compute the queue.
fn fast_path_consumers(model: &Model, q: QueueId) -> Result<&Consumers, String> {
    let queue = &model.queues[q];
    let name = &queue.name;
    let refuse = |what: &str| Err(format!("queue `{name}` {what}"));
    let Some(consumers) = &queue.consumers else {
        return refuse("has no consumers");
    };
    if queue.discipline == Discipline::Lifo {
        return refuse("serves LIFO");
    }
    if queue.ttl_s.is_some() {
        return refuse("has a TTL");
    }
    if queue.link.is_some() {
        return refuse("sits behind a network link");
    }
    if consumers.batch.is_some() {
        return refuse("is consumed in batches");
    }
    if consumers.failure > 0.0 {
        return refuse("has failing attempts (retries, dead letters)");
    }
    let pool = &model.pools[consumers.pool];
    if pool.queues.len() > 1 && !(pool.servers == 1 && partitions_of_one_topic(model, &pool.queues))
    {
        return refuse("shares its consumers with other queues");
    }
    Ok(consumers)
}

/// Whether `queues` are all partitions of one topic: they then have the
/// same senders, so their arrivals of a window are all known at once.
fn partitions_of_one_topic(model: &Model, queues: &[QueueId]) -> bool {
    (model.topics.iter()).any(|t| queues.iter().all(|q| t.partitions.contains(q)))
}

/// Appends the queues a message sent to `target` may land in.
fn queues_of(model: &Model, target: Target, out: &mut Vec<QueueId>) -> Result<(), String> {
    match target {
        Target::Queue(q) => out.push(q),
        Target::Exchange(e) => {
            let exchange = &model.exchanges[e];
            if exchange.kind == ExchangeKind::Fanout {
                return Err(format!(
                    "exchange `{}` copies messages (fanout)",
                    exchange.name
                ));
            }
            for route in &exchange.routes {
                queues_of(model, route.to, out)?;
            }
        }
        Target::Topic(t) => out.extend(&model.topics[t].partitions),
    }
    Ok(())
}

/// Kahn's order of the reached queues, or the cycle that prevents one.
fn topological_order(
    model: &Model,
    successors: &[Vec<QueueId>],
    reached: &[bool],
) -> Result<Vec<QueueId>, String> {
    let mut indegree = vec![0usize; successors.len()];
    for &s in successors.iter().flatten() {
        indegree[s] += 1;
    }
    let mut ready: Vec<QueueId> = (0..successors.len())
        .filter(|&q| reached[q] && indegree[q] == 0)
        .collect();
    let mut order = Vec::new();
    while let Some(q) = ready.pop() {
        order.push(q);
        for &s in &successors[q] {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.push(s);
            }
        }
    }
    match (0..successors.len()).find(|&q| reached[q] && indegree[q] > 0) {
        Some(q) => Err(format!(
            "messages can come back to queue `{}` (a routing cycle)",
            model.queues[q].name
        )),
        None => Ok(order),
    }
}

/// For each queue, the producer that is its only sender, sends straight
/// to it and publishes in order, if any (`order` as from [`routing_order`]).
fn sole_feeders(model: &Model, order: &[QueueId]) -> Vec<Option<usize>> {
    let mut senders = vec![0usize; model.queues.len()];
    let mut direct = vec![None; model.queues.len()];
    let mut reached = Vec::new();
    let targets = (model.producers.iter().map(|p| p.to)).chain(
        (order
            .iter()
            .filter_map(|&q| model.queues[q].consumers.as_ref()))
        .flat_map(|c| c.next.iter().map(|route| route.to)),
    );
    for target in targets {
        reached.clear();
        queues_of(model, target, &mut reached).expect("routing_order accepted every target");
        for &q in &reached {
            senders[q] += 1;
        }
    }
    for (p, producer) in model.producers.iter().enumerate() {
        if let Target::Queue(q) = producer.to
            && publishes_in_order(&producer.arrivals)
        {
            direct[q] = Some(p);
        }
    }
    (direct.into_iter().zip(senders))
        .map(|(producer, count)| producer.filter(|_| count == 1))
        .collect()
}

/// For each queue, whether another queue's consumers may send to it
/// (`order` as from [`routing_order`]).
fn fed_by_queues(model: &Model, order: &[QueueId]) -> Vec<bool> {
    let mut fed = vec![false; model.queues.len()];
    let mut reached = Vec::new();
    for consumers in order
        .iter()
        .filter_map(|&q| model.queues[q].consumers.as_ref())
    {
        for route in &consumers.next {
            queues_of(model, route.to, &mut reached).expect("routing_order accepted every target");
        }
    }
    reached.into_iter().for_each(|q| fed[q] = true);
    fed
}

/// Whether publication times never decrease in the order inboxes are
/// sorted by ([`f64::total_cmp`]): always, but for a trace file, which
/// could list `-0` after `0`.
fn publishes_in_order(arrivals: &Arrivals) -> bool {
    match arrivals {
        Arrivals::Trace { times_s } => times_s.is_sorted_by(|a, b| a.total_cmp(b).is_le()),
        _ => true,
    }
}

/// Length of the overlap of `[from_s, to_s]` and `[start_s, end_s]`.
#[inline]
fn overlap_s(from_s: f64, to_s: f64, start_s: f64, end_s: f64) -> f64 {
    (to_s.min(end_s) - from_s.max(start_s)).max(0.0)
}

/// A message on its way through the network.
#[derive(Debug, Clone, Copy)]
struct Message {
    /// When it reaches its current queue, or leaves it once served.
    at_s: f64,
    created_s: f64,
    due_s: f64,
    size_bytes: f64,
    key: u64,
}

/// When a message arrived at a queue, started service and left.
#[derive(Debug, Clone, Copy)]
struct Visit {
    arrival_s: f64,
    start_s: f64,
    depart_s: f64,
}

impl Visit {
    /// Whether the message waited for a server.
    fn waited(&self) -> bool {
        self.start_s > self.arrival_s
    }
}

/// Something due at `time_s`, ordered so that a max-heap pops the
/// earliest first, ties in increasing `tie`: a served message waiting for
/// its departure (tie: the order it was served).
#[derive(Debug, Clone, Copy)]
struct Earliest<T> {
    time_s: f64,
    tie: u64,
    item: T,
}

impl<T> Ord for Earliest<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_s.total_cmp(&self.time_s)).then(other.tie.cmp(&self.tie))
    }
}

impl<T> PartialOrd for Earliest<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Earliest<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Earliest<T> {}

/// Served messages of a queue that routes onwards, until their departure.
enum Outbox {
    /// One server: messages leave in the order they arrived.
    InOrder(VecDeque<Message>),
    /// Several servers: messages leave in order of departure time.
    Sorted(BinaryHeap<Earliest<Message>>, u64),
}

impl Outbox {
    fn new(servers: u32) -> Self {
        if servers == 1 {
            Self::InOrder(VecDeque::new())
        } else {
            Self::Sorted(BinaryHeap::new(), 0)
        }
    }

    fn push(&mut self, message: Message) {
        match self {
            Self::InOrder(queue) => queue.push_back(message),
            Self::Sorted(heap, served) => {
                *served += 1;
                heap.push(Earliest {
                    time_s: message.at_s,
                    tie: *served,
                    item: message,
                });
            }
        }
    }

    /// The next message to leave by `until_s`, if any.
    fn pop_until(&mut self, until_s: f64) -> Option<Message> {
        match self {
            Self::InOrder(queue) => queue.pop_front_if(|m| m.at_s <= until_s),
            Self::Sorted(heap, _) => heap
                .peek()
                .is_some_and(|d| d.time_s <= until_s)
                .then(|| heap.pop().expect("peeked").item),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::InOrder(queue) => queue.len(),
            Self::Sorted(heap, _) => heap.len(),
        }
    }
}

/// The `c` servers of a FIFO queue (Kiefer–Wolfowitz's workload vector).
enum Servers {
    /// One server, busy until the given time (Lindley's recursion).
    One { busy_until_s: f64 },
    /// Several servers: when each of them frees up, as time keys
    /// ([`free_time_key`]), one entry per server; a server whose entry is
    /// not after `released_at`, the latest release, is free. Releasing
    /// only moves `released_at`, and a start replaces the earliest entry
    /// in one sift: no entry is ever popped.
    Many {
        count: usize,
        free_at: BinaryHeap<Reverse<u64>>,
        released_at: Reverse<u64>,
    },
}

/// Servers of `free_at` busy after `now` (keys as from [`free_time_key`]).
fn busy_after(free_at: &BinaryHeap<Reverse<u64>>, now: Reverse<u64>) -> usize {
    free_at.iter().filter(|&&free| free < now).count()
}

/// A key that orders times in reverse, so that the max-heap's top is the
/// earliest (`a < b` on keys: `a` is the later time): times are never
/// negative, so their bits sort as they do, and `+ 0.0` turns a -0.0
/// into 0.0, whose bits sort first.
#[inline]
fn free_time_key(time_s: f64) -> Reverse<u64> {
    Reverse((time_s + 0.0).to_bits())
}

impl Servers {
    fn new(count: u32) -> Self {
        if count == 1 {
            Self::One {
                busy_until_s: f64::NEG_INFINITY,
            }
        } else {
            Self::Many {
                count: count as usize,
                free_at: vec![free_time_key(0.0); count as usize].into(),
                released_at: free_time_key(0.0),
            }
        }
    }

    fn count(&self) -> usize {
        match self {
            Self::One { .. } => 1,
            Self::Many { count, .. } => *count,
        }
    }

    /// Frees the servers done by `now_s`.
    #[inline]
    fn release_until(&mut self, now_s: f64) {
        match self {
            Self::One { busy_until_s } => {
                if *busy_until_s <= now_s {
                    *busy_until_s = f64::NEG_INFINITY;
                }
            }
            Self::Many { released_at, .. } => *released_at = free_time_key(now_s),
        }
    }

    /// Servers busy now (after [`Self::release_until`]).
    #[inline]
    fn busy(&self) -> usize {
        match self {
            Self::One { busy_until_s } => usize::from(*busy_until_s > f64::NEG_INFINITY),
            Self::Many {
                free_at,
                released_at,
                ..
            } => busy_after(free_at, *released_at),
        }
    }

    #[inline]
    fn has_free(&self) -> bool {
        match self {
            Self::One { .. } => self.busy() == 0,
            Self::Many {
                free_at,
                released_at,
                ..
            } => free_at
                .peek()
                .is_some_and(|&earliest| earliest >= *released_at),
        }
    }

    /// Takes the earliest free server for a message arriving at
    /// `arrival_s` (after [`Self::release_until`]) until `start_s +
    /// service_s`; returns `start_s` and, if `count_busy`, the servers
    /// busy from then on (else 0: counting costs one look at each server).
    #[inline]
    fn take(&mut self, arrival_s: f64, service_s: f64, count_busy: bool) -> (f64, usize) {
        match self {
            Self::One { busy_until_s } => {
                let start_s = if *busy_until_s > arrival_s {
                    *busy_until_s
                } else {
                    arrival_s
                };
                *busy_until_s = start_s + service_s;
                (start_s, 1)
            }
            Self::Many { count, free_at, .. } => {
                let arrival = free_time_key(arrival_s);
                let earliest = *free_at.peek().expect("a queue has a server");
                // The earliest server frees up after the arrival.
                let all_busy = earliest < arrival;
                let busy = match (count_busy, all_busy) {
                    (false, _) => 0,
                    (true, true) => *count,
                    (true, false) => busy_after(free_at, arrival) + 1,
                };
                let start_s = if all_busy {
                    f64::from_bits(earliest.0)
                } else {
                    arrival_s
                };
                *free_at.peek_mut().expect("a queue has a server") =
                    free_time_key(start_s + service_s);
                (start_s, busy)
            }
        }
    }
}

/// Queue lengths at the sampling instants, as differences: an interval in
/// queue or in service adds one from its first instant to its last.
struct SeriesCounts {
    in_queue: Vec<i32>,
    in_service: Vec<i32>,
}

/// The sampling instants of the event engine, with index lookups.
struct SampleTimes {
    times_s: Vec<f64>,
    every_s: f64,
}

impl SampleTimes {
    /// Instants 0, every, 2 every… up to `end_s`, summed as the event engine does.
    fn new(every_s: f64, end_s: f64) -> Self {
        let mut times_s = vec![0.0];
        let mut t = 0.0;
        loop {
            t += every_s;
            if t > end_s {
                break;
            }
            times_s.push(t);
        }
        Self { times_s, every_s }
    }

    /// Index of the first instant at or after `t_s` (`len` when none).
    fn first_at_or_after(&self, t_s: f64) -> usize {
        let len = self.times_s.len();
        let mut k = ((t_s / self.every_s).ceil().max(0.0) as usize).min(len);
        while k > 0 && self.times_s[k - 1] >= t_s {
            k -= 1;
        }
        while k < len && self.times_s[k] < t_s {
            k += 1;
        }
        k
    }

    /// [`Self::first_at_or_after`] for a `t_s` known to lie at or after
    /// instant `from`'s predecessor: a few steps forward, else a lookup.
    #[inline]
    fn first_from(&self, from: usize, t_s: f64) -> usize {
        let len = self.times_s.len();
        let mut k = from;
        for _ in 0..4 {
            if k == len || self.times_s[k] >= t_s {
                return k;
            }
            k += 1;
        }
        self.first_at_or_after(t_s).max(k)
    }
}

/// Adds one to the instants `first..past` of `counts`.
#[inline]
fn count_interval(counts: &mut [i32], first: usize, past: usize) {
    if first < past {
        counts[first] += 1;
        counts[past] -= 1;
    }
}

/// Sorts messages by arrival time, stably (ties in the order they were
/// sent); messages from a single sender are sorted already, and then
/// cost one pass.
fn sort_by_arrival(messages: &mut [Message]) {
    let by_arrival = |a: &Message, b: &Message| a.at_s.total_cmp(&b.at_s);
    if !messages.is_sorted_by(|a, b| by_arrival(a, b).is_le()) {
        messages.sort_by(by_arrival);
    }
}

/// Start times of the messages waiting at a queue, earliest first, in a
/// ring buffer whose capacity is a power of two.
///
/// An arrival first forgets the starts it has passed: usually none, one
/// or two, in a pattern no branch predictor can learn. The first four
/// are compared at once, without branches, and a loop takes over only
/// when all four have passed; a loop alone (`VecDeque`) cost the fast
/// path about a quarter of its time on M/M/1. A message that does not
/// wait is written past the end and not counted, again without a branch.
struct WaitingStarts {
    slots: Vec<f64>,
    /// Slot of the earliest start.
    head: usize,
    len: usize,
}

impl WaitingStarts {
    fn new() -> Self {
        Self {
            slots: vec![0.0; 16],
            head: 0,
            len: 0,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    /// Adds `start_s` (no earlier than any start held) if `waits`.
    #[inline(always)]
    fn push_if(&mut self, waits: bool, start_s: f64) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        self.slots[(self.head + self.len) & mask] = start_s;
        self.len += usize::from(waits);
    }

    /// Forgets the starts at or before `t_s`.
    #[inline(always)]
    fn forget_until(&mut self, t_s: f64) {
        /// Starts compared without a branch.
        const STEPS: usize = 4;
        let mask = self.slots.len() - 1;
        let started = (0..STEPS)
            .map(|k| usize::from((self.len > k) & (self.slots[(self.head + k) & mask] <= t_s)))
            .sum::<usize>();
        self.head = (self.head + started) & mask;
        self.len -= started;
        if started == STEPS {
            while self.len > 0 && self.slots[self.head] <= t_s {
                self.head = (self.head + 1) & mask;
                self.len -= 1;
            }
        }
    }

    /// Doubles the capacity, the earliest start moved to slot 0.
    #[cold]
    fn grow(&mut self) {
        let capacity = 2 * self.slots.len();
        let mut slots = Vec::with_capacity(capacity);
        slots.extend_from_slice(&self.slots[self.head..]);
        slots.extend_from_slice(&self.slots[..self.head]);
        slots.resize(capacity, 0.0);
        self.slots = slots;
        self.head = 0;
    }
}

/// One queue of the fast path.
struct Station {
    servers: Servers,
    /// Start times of the messages waiting now (non-decreasing).
    waiting_starts: WaitingStarts,
    inbox: Vec<Message>,
    /// `None` when served messages are delivered.
    outbox: Option<Outbox>,
    service_rng: StreamRng,
    next_rng: StreamRng,
    next_cumulative: Vec<f64>,
    observations: NodeObservations,
    queue_area: f64,
    service_area: f64,
    max_in_queue: usize,
    max_in_service: usize,
    warmup_levels_known: bool,
    series: SeriesCounts,
    /// First sampling instant at or after the latest arrival.
    sample_cursor: usize,
    /// Time of instant `sample_cursor` (infinite past the last one): a
    /// message gone by then crosses no instant, the common case.
    next_sample_s: f64,
    /// The producer that sends to this queue straight and alone: its
    /// messages arrive in order and are served as they are published,
    /// without passing through the inbox.
    sole_feeder: Option<usize>,
    /// Whether the queue delivers what it serves and only producers send
    /// to it: then a message's latency is its sojourn here, recorded once
    /// in the node's sojourn and added to the latency at the end.
    sojourn_is_latency: bool,
    /// Whether the queue's one consumer also serves other queues (a topic
    /// consumer that owns several partitions): it serves their merged
    /// arrivals in arrival order, the oldest head first, and is free from
    /// `consumer_free_s` on, which the pool's loop keeps up to date;
    /// `servers` then holds this queue's own messages only.
    shares_consumer: bool,
    consumer_free_s: f64,
    /// With [`Self::sojourn_is_latency`], the sojourns of messages that
    /// arrived in the warm-up and left after it (no latency of theirs is
    /// measured).
    early_sojourn: Tally,
    early_sojourn_hist: LatencyHistogram,
}

/// What the whole replication counts, apart from the queues.
struct Outcomes {
    produced: u64,
    delivered: u64,
    on_time: u64,
    lost: u64,
    in_flight: u64,
    latency: Tally,
    latency_hist: LatencyHistogram,
    latency_by_time: LatencyByTime,
    events: u64,
    /// A queue that drops the oldest message when full filled up: the
    /// replication must run on the event engine (see [`drop_head_queue`]).
    filled_drop_head: bool,
}

/// The window being computed and the measured window.
#[derive(Clone, Copy)]
struct Clock {
    warmup_s: f64,
    end_s: f64,
}

impl Clock {
    fn measured(&self, created_s: f64) -> bool {
        created_s >= self.warmup_s
    }

    fn in_window(&self, t_s: f64) -> bool {
        t_s >= self.warmup_s && t_s <= self.end_s
    }
}

impl Outcomes {
    /// Delivers `message` at `at_s`; its latency goes into the tally and
    /// histogram unless `latency_recorded` (as a sojourn, see
    /// [`Station::sojourn_is_latency`]).
    #[inline(always)]
    fn deliver(&mut self, message: &Message, at_s: f64, clock: Clock, latency_recorded: bool) {
        let latency_s = at_s - message.created_s;
        self.latency_by_time.record(at_s, latency_s);
        if !clock.measured(message.created_s) {
            return;
        }
        self.delivered += 1;
        if at_s <= message.due_s {
            self.on_time += 1;
        }
        if !latency_recorded {
            self.latency.record(latency_s);
            self.latency_hist.record(latency_s);
        }
    }
}

impl Station {
    /// The levels at the end of the warm-up start the maxima of the measured window.
    fn note_warmup_levels(&mut self, clock: Clock) {
        self.warmup_levels_known = true;
        let (in_queue, in_service) = self.levels_at(clock.warmup_s);
        self.max_in_queue = in_queue;
        self.max_in_service = in_service;
    }

    /// Frees the servers done by `t_s` and forgets the waiting messages
    /// started by then.
    #[inline(always)]
    fn release_until(&mut self, t_s: f64) {
        self.servers.release_until(t_s);
        self.waiting_starts.forget_until(t_s);
    }

    /// Waiting messages and busy servers at `t_s`, no earlier than any
    /// arrival served so far.
    fn levels_at(&mut self, t_s: f64) -> (usize, usize) {
        self.release_until(t_s);
        (self.waiting_starts.len(), self.servers.busy())
    }

    /// Serves one arrival (see [`Self::serve`]) and passes it on: into
    /// the outbox, or delivered.
    #[inline(always)]
    fn serve_and_pass(
        &mut self,
        queue: &Queue,
        consumers: &Consumers,
        message: Message,
        clock: Clock,
        times: &SampleTimes,
        outcomes: &mut Outcomes,
    ) {
        let served = self.serve(queue, consumers, message, clock, times, outcomes);
        match (served, &mut self.outbox) {
            (None, _) => {}
            (Some(served), Some(outbox)) => outbox.push(served),
            (Some(served), None) => {
                outcomes.deliver(&served, served.at_s, clock, self.sojourn_is_latency)
            }
        }
    }

    /// Serves one arrival: rejected when full, or started as soon as a
    /// server is free; returns the served message with its departure time.
    #[inline(always)]
    fn serve(
        &mut self,
        queue: &Queue,
        consumers: &Consumers,
        message: Message,
        clock: Clock,
        times: &SampleTimes,
        outcomes: &mut Outcomes,
    ) -> Option<Message> {
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
                outcomes.filled_drop_head = true;
                return None;
            }
            if measuring {
                self.observations.dropped += 1;
            }
            if clock.measured(message.created_s) {
                outcomes.lost += 1;
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
            if depart_s > clock.end_s {
                if clock.measured(message.created_s) {
                    outcomes.in_flight += 1;
                }
                return None;
            }
            outcomes.events += 1;
            if depart_s >= clock.warmup_s {
                self.observations.served += 1;
                let (sojourn, hist) = if self.sojourn_is_latency {
                    (&mut self.early_sojourn, &mut self.early_sojourn_hist)
                } else {
                    let node = &mut self.observations;
                    (&mut node.sojourn, &mut node.sojourn_hist)
                };
                sojourn.record(depart_s - arrival_s);
                hist.record(depart_s - arrival_s);
            }
        }
        Some(Message {
            at_s: depart_s,
            ..message
        })
    }

    /// [`Self::record`] and the sojourn of a message that arrived and
    /// left inside the measured window, the common case.
    #[inline(always)]
    fn record_measured(&mut self, visit: Visit, busy: usize, times: &SampleTimes) {
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
    fn record(&mut self, visit: Visit, busy: usize, clock: Clock, times: &SampleTimes) {
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
    fn count_at_instants(&mut self, visit: Visit, times: &SampleTimes) {
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
    }

    /// The queue's observations over the measured window; the latencies
    /// it recorded as sojourns go into `outcomes`.
    fn finish(mut self, clock: Clock, outcomes: &mut Outcomes) -> NodeObservations {
        if !self.warmup_levels_known {
            self.note_warmup_levels(clock);
        }
        let (in_queue, in_service) = self.levels_at(clock.end_s);
        let (w, e) = (clock.warmup_s, clock.end_s);
        let max_in_queue = self.max_in_queue as f64;
        let max_in_service = self.max_in_service as f64;
        let mut observations = self.observations;
        observations.succeeded = observations.served;
        if self.sojourn_is_latency {
            outcomes.latency.merge(&observations.sojourn);
            outcomes.latency_hist.add(&observations.sojourn_hist);
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

/// A producer on the fast path.
struct Source {
    process: ArrivalProcess,
    size_rng: StreamRng,
    /// When it publishes next (infinite once it has nothing more to publish).
    next_s: f64,
}

impl Source {
    /// Whether the producer's messages have no deadline, key or size:
    /// nothing to draw or compute but the time.
    fn publishes_plain(&self, producer: &Producer) -> bool {
        producer.deadline_s.is_none() && !self.process.draws_keys() && producer.size_bytes.is_none()
    }

    /// Publishes the next message of `producer` (due now) and draws when
    /// the one after is due; `PLAIN` as [`Self::publishes_plain`] says.
    #[inline(always)]
    fn publish<const PLAIN: bool>(
        &mut self,
        producer: &Producer,
        clock: Clock,
        outcomes: &mut Outcomes,
    ) -> Message {
        let now_s = self.next_s;
        outcomes.events += 1;
        if clock.measured(now_s) {
            outcomes.produced += 1;
        }
        let message = if PLAIN {
            Message {
                at_s: now_s,
                created_s: now_s,
                due_s: f64::INFINITY,
                key: 0,
                size_bytes: 0.0,
            }
        } else {
            Message {
                at_s: now_s,
                created_s: now_s,
                due_s: now_s + producer.deadline_s.unwrap_or(f64::INFINITY),
                key: self.process.next_key(),
                size_bytes: (producer.size_bytes.as_ref())
                    .map_or(0.0, |size| size.sample(&mut self.size_rng)),
            }
        };
        self.next_s = (self.process.next_after(&producer.arrivals, now_s)).unwrap_or(f64::INFINITY);
        message
    }
}

/// State of one replication on the fast path.
struct Run<'m> {
    model: &'m Model,
    clock: Clock,
    sources: Vec<Source>,
    exchange_rngs: Vec<StreamRng>,
    exchange_cumulative: Vec<Vec<f64>>,
    topic_turns: Vec<usize>,
    stations: Vec<Station>,
    /// For each consumer pool, when its consumer frees up (pools shared by
    /// several queues only).
    pool_free_s: Vec<f64>,
    times: SampleTimes,
    outcomes: Outcomes,
    peak_messages: usize,
}

impl<'m> Run<'m> {
    fn new(model: &'m Model, order: &[QueueId], replication: u32) -> Self {
        let seed = model.simulation.seed;
        let rng = |kind, index| stream(seed, replication, kind, index);
        let warmup_s = model.simulation.warmup_s;
        let end_s = warmup_s + model.simulation.duration_s;
        let times = SampleTimes::new(model.simulation.sample_every_s, end_s);
        let mut routes_onwards = vec![false; model.queues.len()];
        for &q in order {
            routes_onwards[q] = model.queues[q]
                .consumers
                .as_ref()
                .is_some_and(|c| !c.next.is_empty());
        }
        let feeders = sole_feeders(model, order);
        let fed_by_queues = fed_by_queues(model, order);
        let sources = (producer_processes(model, replication).into_iter())
            .zip(&model.producers)
            .enumerate()
            .map(|(p, (mut process, producer))| Source {
                next_s: (process.next_after(&producer.arrivals, 0.0)).unwrap_or(f64::INFINITY),
                process,
                size_rng: rng(StreamKind::Size, p),
            })
            .collect();
        let stations = (model.queues.iter().enumerate())
            .map(|(i, queue)| {
                let servers = queue.consumers.as_ref().map_or(1, |c| c.count);
                Station {
                    servers: Servers::new(servers),
                    waiting_starts: WaitingStarts::new(),
                    inbox: Vec::new(),
                    outbox: routes_onwards[i].then(|| Outbox::new(servers)),
                    service_rng: rng(StreamKind::Service, i),
                    next_rng: rng(StreamKind::NextRoute, i),
                    next_cumulative: (queue.consumers.as_ref())
                        .map(|c| cumulative(&c.next))
                        .unwrap_or_default(),
                    observations: NodeObservations::new(1),
                    queue_area: 0.0,
                    service_area: 0.0,
                    max_in_queue: 0,
                    max_in_service: 0,
                    warmup_levels_known: false,
                    series: SeriesCounts {
                        in_queue: vec![0; times.times_s.len() + 1],
                        in_service: vec![0; times.times_s.len() + 1],
                    },
                    sample_cursor: 0,
                    next_sample_s: times.times_s[0],
                    sole_feeder: feeders[i],
                    sojourn_is_latency: !routes_onwards[i] && !fed_by_queues[i],
                    shares_consumer: (queue.consumers.as_ref())
                        .is_some_and(|c| model.pools[c.pool].queues.len() > 1),
                    consumer_free_s: f64::NEG_INFINITY,
                    early_sojourn: Tally::new(),
                    early_sojourn_hist: LatencyHistogram::new(),
                }
            })
            .collect();
        let samples = times.times_s.len() as u64;
        Self {
            model,
            clock: Clock { warmup_s, end_s },
            sources,
            exchange_rngs: (0..model.exchanges.len())
                .map(|i| rng(StreamKind::ExchangeRoute, i))
                .collect(),
            exchange_cumulative: (model.exchanges.iter())
                .map(|e| cumulative(&e.routes))
                .collect(),
            topic_turns: vec![0; model.topics.len()],
            stations,
            pool_free_s: vec![f64::NEG_INFINITY; model.pools.len()],
            times,
            outcomes: Outcomes {
                produced: 0,
                delivered: 0,
                on_time: 0,
                lost: 0,
                in_flight: 0,
                latency: Tally::new(),
                latency_hist: LatencyHistogram::new(),
                latency_by_time: LatencyByTime::new(end_s),
                events: samples + u64::from(warmup_s > 0.0),
                filled_drop_head: false,
            },
            peak_messages: 0,
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

    fn run_windows(&mut self, order: &[QueueId]) {
        let windows = self.window_count();
        for window in 1..=windows {
            if super::stop_requested() || self.outcomes.filled_drop_head {
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
                self.hand_on(q, until_s);
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

    /// Puts a message into the inbox of the queue `target` leads to.
    fn send(&mut self, target: Target, message: Message) {
        match target {
            Target::Queue(q) => self.stations[q].inbox.push(message),
            Target::Exchange(e) => {
                let u: f64 = self.exchange_rngs[e].random();
                let route = pick(&self.exchange_cumulative[e], u);
                self.send(self.model.exchanges[e].routes[route].to, message);
            }
            Target::Topic(t) => {
                let topic = &self.model.topics[t];
                let partitions = topic.partitions.len();
                let partition = match topic.partitioner {
                    Partitioner::Key if message.key != 0 => {
                        partition_of_key(message.key, partitions)
                    }
                    _ => {
                        let turn = self.topic_turns[t];
                        self.topic_turns[t] = (turn + 1) % partitions;
                        turn
                    }
                };
                self.stations[topic.partitions[partition]]
                    .inbox
                    .push(message);
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
        for &message in &inbox {
            station.serve_and_pass(queue, consumers, message, clock, times, outcomes);
        }
        inbox.clear();
        station.inbox = inbox;
    }

    /// The consumer shared by queue `q` and the other queues of its pool
    /// serves all their arrivals of the window (up to `until_s`) in arrival
    /// order, ties in the pool's order, as the event engine's consumer takes
    /// the queue whose head has waited longest. The first of the pool's
    /// queues in routing order empties every inbox of the pool; the others
    /// then find nothing (a topic's partitions have the same senders, all
    /// upstream of every partition).
    fn serve_pool_arrivals(&mut self, q: QueueId) {
        let model = self.model;
        let pool_id = (model.queues[q].consumers.as_ref())
            .expect("the fast path serves only queues with consumers")
            .pool;
        let pool = &model.pools[pool_id];
        let mut arrivals: Vec<(Message, QueueId)> = Vec::new();
        for &member in &pool.queues {
            let inbox = self.stations[member].inbox.drain(..);
            arrivals.extend(inbox.map(|message| (message, member)));
        }
        arrivals.sort_by(|a, b| a.0.at_s.total_cmp(&b.0.at_s));
        let (clock, times, outcomes) = (self.clock, &self.times, &mut self.outcomes);
        let mut free_s = self.pool_free_s[pool_id];
        for (message, member) in arrivals {
            let queue = &model.queues[member];
            let consumers = queue
                .consumers
                .as_ref()
                .expect("a pool's queues have consumers");
            let station = &mut self.stations[member];
            station.consumer_free_s = free_s;
            station.serve_and_pass(queue, consumers, message, clock, times, outcomes);
            free_s = station.consumer_free_s;
        }
        self.pool_free_s[pool_id] = free_s;
    }

    /// Queue `q` serves the messages its sole feeder `p` publishes up to
    /// `until_s`, as they are published (see [`Source::publish`] for `PLAIN`).
    fn serve_published<const PLAIN: bool>(&mut self, q: QueueId, p: usize, until_s: f64) {
        let model = self.model;
        let queue = &model.queues[q];
        let consumers =
            (queue.consumers.as_ref()).expect("the fast path serves only queues with consumers");
        let (clock, times, outcomes) = (self.clock, &self.times, &mut self.outcomes);
        let (station, source) = (&mut self.stations[q], &mut self.sources[p]);
        let producer = &model.producers[p];
        while source.next_s <= until_s {
            let message = source.publish::<PLAIN>(producer, clock, outcomes);
            station.serve_and_pass(queue, consumers, message, clock, times, outcomes);
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
            let route = if next.len() == 1 {
                0
            } else {
                let u: f64 = station.next_rng.random();
                pick(&station.next_cumulative, u)
            };
            self.send(next[route].to, message);
        }
    }

    /// Messages held between windows: waiting, in service or about to move on.
    fn note_peak(&mut self, order: &[QueueId]) {
        let held: usize = (order.iter().map(|&q| &self.stations[q]))
            .map(|s| {
                s.waiting_starts.len() + s.servers.busy() + s.outbox.as_ref().map_or(0, Outbox::len)
            })
            .sum();
        self.peak_messages = self.peak_messages.max(held);
    }

    fn finish(self, replication: u32) -> ReplicationResult {
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
                    },
                ));
                station.finish(clock, &mut outcomes)
            })
            .collect();
        let timeseries = samples(&self.times, &series);
        ReplicationResult {
            replication,
            measured_s: self.model.simulation.duration_s,
            produced: outcomes.produced,
            delivered: outcomes.delivered,
            on_time: outcomes.on_time,
            lost: outcomes.lost,
            in_flight: outcomes.in_flight,
            latency: outcomes.latency,
            latency_hist: outcomes.latency_hist,
            latency_by_time: outcomes.latency_by_time.into_slices(),
            nodes,
            timeseries,
            events: outcomes.events,
            peak_messages: self.peak_messages,
        }
    }
}

/// The queue-length rows, instant by instant, from the per-queue differences.
fn samples(times: &SampleTimes, series: &[SeriesCounts]) -> Vec<Sample> {
    let mut rows = Vec::with_capacity(times.times_s.len() * series.len());
    let mut levels = vec![(0i32, 0i32); series.len()];
    for (k, &time_s) in times.times_s.iter().enumerate() {
        for (q, (counts, level)) in series.iter().zip(&mut levels).enumerate() {
            level.0 += counts.in_queue[k];
            level.1 += counts.in_service[k];
            rows.push(Sample {
                time_s,
                queue: q as u32,
                in_queue: level.0 as u32,
                in_service: level.1 as u32,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_starts_follow_a_plain_queue_through_growth_and_long_forgets() {
        let mut ring = WaitingStarts::new();
        let mut plain = VecDeque::new();
        let mut start_s = 0.0;
        for i in 0..2_000u32 {
            // Stretches where the queue builds up, then ones where an
            // arrival forgets many starts at once.
            let waits = i % 97 < 60 || i % 5 == 0;
            start_s += f64::from(i % 7) * 0.25;
            ring.push_if(waits, start_s);
            if waits {
                plain.push_back(start_s);
            }
            let lag_s = if (i / 100) % 2 == 0 {
                50.0
            } else {
                f64::from(i % 13) * 0.5
            };
            let t_s = start_s - lag_s;
            ring.forget_until(t_s);
            while plain.front().is_some_and(|&s| s <= t_s) {
                plain.pop_front();
            }
            assert_eq!(ring.len(), plain.len(), "after message {i}");
            let mask = ring.slots.len() - 1;
            let held: Vec<f64> = (0..ring.len())
                .map(|k| ring.slots[(ring.head + k) & mask])
                .collect();
            assert!(held.iter().eq(plain.iter()), "after message {i}");
        }
        assert!(ring.slots.len() > 16, "the ring grew");
    }
}
