//! One replication: the event loop and the life of a message.
//!
//! A producer publishes a message into a queue or an exchange. An exchange
//! routes it on (fanout copies it to every route). A queue serves it at once
//! if a consumer is free, otherwise it waits, subject to capacity, overflow
//! and TTL. After service the message fails (and is retried or
//! dead-lettered) or goes on along the consumer's `next` routes; a message
//! with nowhere left to go is delivered.

use rand::RngExt;

use super::buffer::{Buffer, CopyId};
use super::calendar::Calendar;
use super::observe::{NodeObservations, ReplicationResult, Sample};
use super::rng::{StreamKind, StreamRng, stream};
use super::store::{ORPHAN, Store};
use crate::model::{ExchangeKind, Model, Overflow, Route, Target};
use crate::stats::{LatencyHistogram, Tally};

/// Something that happens at an instant.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// A producer publishes its next message.
    Publish(u32),
    /// A consumer finishes a copy.
    ServiceEnd(CopyId),
    /// A failed copy is re-published to its queue after its backoff.
    Republish(CopyId),
    /// The oldest waiting copy of a queue may have expired.
    Expiry(u32),
    /// Record the queue lengths.
    Sample,
    /// The warm-up ends: measurement starts.
    WarmupEnd,
}

/// Cumulative weights of a route set, for one draw per choice.
fn cumulative(routes: &[Route]) -> Vec<f64> {
    routes
        .iter()
        .scan(0.0, |sum, route| {
            *sum += route.weight;
            Some(*sum)
        })
        .collect()
}

/// Index of the route a uniform draw `u` in [0, 1) falls into.
#[inline]
fn pick(cumulative: &[f64], u: f64) -> usize {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let target = u * total;
    cumulative
        .iter()
        .position(|&c| target < c)
        .unwrap_or(cumulative.len() - 1)
}

struct QueueState {
    buffer: Buffer,
    busy: u32,
    expiry_armed: bool,
    service_rng: StreamRng,
    failure_rng: StreamRng,
    next_rng: StreamRng,
    next_cumulative: Vec<f64>,
}

struct ExchangeState {
    rng: StreamRng,
    cumulative: Vec<f64>,
}

/// State of one replication in progress.
struct Simulation<'m> {
    model: &'m Model,
    now_s: f64,
    warmup_s: f64,
    end_s: f64,
    calendar: Calendar<Event>,
    store: Store,
    producer_rngs: Vec<StreamRng>,
    producer_classes: Vec<u16>,
    queues: Vec<QueueState>,
    exchanges: Vec<ExchangeState>,
    nodes: Vec<NodeObservations>,
    produced: u64,
    delivered: u64,
    on_time: u64,
    lost: u64,
    latency: Tally,
    latency_hist: LatencyHistogram,
    timeseries: Vec<Sample>,
    events: u64,
}

/// Priority classes present in a run, largest priority first: the
/// producers' classes, and class 0 for an initial backlog.
pub fn run_classes(model: &Model) -> Vec<i64> {
    let mut classes = model.priority_classes();
    if !model.simulation.initial.is_empty() && !classes.contains(&0) {
        classes.push(0);
        classes.sort_unstable_by(|a, b| b.cmp(a));
    }
    classes
}

/// Runs replication number `replication` of `model` to completion.
pub fn simulate(model: &Model, replication: u32) -> ReplicationResult {
    let mut sim = Simulation::new(model, replication);
    sim.start();
    sim.run_until_end();
    sim.finish(replication)
}

impl<'m> Simulation<'m> {
    fn new(model: &'m Model, replication: u32) -> Self {
        let seed = model.simulation.seed;
        let classes = run_classes(model);
        let class_of = |priority: i64| {
            classes
                .iter()
                .position(|&c| c == priority)
                .expect("every producer priority is a run class") as u16
        };
        let queues = model
            .queues
            .iter()
            .enumerate()
            .map(|(i, queue)| QueueState {
                buffer: Buffer::new(queue.discipline, classes.len()),
                busy: 0,
                expiry_armed: false,
                service_rng: stream(seed, replication, StreamKind::Service, i),
                failure_rng: stream(seed, replication, StreamKind::Failure, i),
                next_rng: stream(seed, replication, StreamKind::NextRoute, i),
                next_cumulative: queue
                    .consumers
                    .as_ref()
                    .map(|c| cumulative(&c.next))
                    .unwrap_or_default(),
            })
            .collect();
        let exchanges = model
            .exchanges
            .iter()
            .enumerate()
            .map(|(i, exchange)| ExchangeState {
                rng: stream(seed, replication, StreamKind::ExchangeRoute, i),
                cumulative: cumulative(&exchange.routes),
            })
            .collect();
        let warmup_s = model.simulation.warmup_s;
        Self {
            model,
            now_s: 0.0,
            warmup_s,
            end_s: warmup_s + model.simulation.duration_s,
            calendar: Calendar::default(),
            store: Store::default(),
            producer_rngs: (0..model.producers.len())
                .map(|i| stream(seed, replication, StreamKind::Interarrival, i))
                .collect(),
            producer_classes: model
                .producers
                .iter()
                .map(|p| class_of(p.priority))
                .collect(),
            queues,
            exchanges,
            nodes: vec![NodeObservations::new(classes.len()); model.queues.len()],
            produced: 0,
            delivered: 0,
            on_time: 0,
            lost: 0,
            latency: Tally::new(),
            latency_hist: LatencyHistogram::new(),
            timeseries: Vec::new(),
            events: 0,
        }
    }

    fn measuring(&self) -> bool {
        self.now_s >= self.warmup_s
    }

    /// Schedules the first events: every producer's first message, the
    /// initial backlog, the warm-up end and the first sample.
    fn start(&mut self) {
        for p in 0..self.model.producers.len() {
            let gap = self.model.producers[p]
                .interarrival
                .sample(&mut self.producer_rngs[p]);
            self.calendar.schedule(gap, Event::Publish(p as u32));
        }
        if self.warmup_s > 0.0 {
            self.calendar.schedule(self.warmup_s, Event::WarmupEnd);
        }
        self.calendar.schedule(0.0, Event::Sample);
        let backlog_class = run_classes(self.model)
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(0) as u16;
        for &(queue, count) in &self.model.simulation.initial {
            for _ in 0..count {
                let measured = self.measuring();
                if measured {
                    self.produced += 1;
                }
                let copy = self
                    .store
                    .publish(0.0, f64::INFINITY, measured, backlog_class);
                self.arrive(queue, copy);
            }
        }
    }

    fn run_until_end(&mut self) {
        while let Some(time_s) = self.calendar.peek_time() {
            if time_s > self.end_s {
                break;
            }
            let (time_s, event) = self.calendar.pop().expect("peeked event exists");
            self.now_s = time_s;
            self.events += 1;
            match event {
                Event::Publish(p) => self.publish(p as usize),
                Event::ServiceEnd(copy) => self.service_end(copy),
                Event::Republish(copy) => {
                    let queue = self.store.copies.get(copy).queue as usize;
                    self.arrive(queue, copy);
                }
                Event::Expiry(queue) => self.expire(queue as usize),
                Event::Sample => self.sample(),
                Event::WarmupEnd => self.nodes.iter_mut().for_each(|n| n.restart(time_s)),
            }
        }
        self.now_s = self.end_s;
    }

    fn publish(&mut self, p: usize) {
        let producer = &self.model.producers[p];
        let measured = self.measuring();
        if measured {
            self.produced += 1;
        }
        let due_s = self.now_s + producer.deadline_s.unwrap_or(f64::INFINITY);
        let copy = self
            .store
            .publish(self.now_s, due_s, measured, self.producer_classes[p]);
        let gap = producer.interarrival.sample(&mut self.producer_rngs[p]);
        self.calendar
            .schedule(self.now_s + gap, Event::Publish(p as u32));
        self.send(producer.to, copy);
    }

    /// Hands a copy to a queue or an exchange.
    fn send(&mut self, target: Target, copy: CopyId) {
        match target {
            Target::Queue(q) => self.arrive(q, copy),
            Target::Exchange(e) => {
                let exchange = &self.model.exchanges[e];
                match exchange.kind {
                    ExchangeKind::Weighted | ExchangeKind::Direct => {
                        let state = &mut self.exchanges[e];
                        let u: f64 = state.rng.random();
                        let route = pick(&state.cumulative, u);
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
        }
    }

    /// A copy arrives at queue `q`: served at once, queued, or lost to overflow.
    fn arrive(&mut self, q: usize, copy: CopyId) {
        let now_s = self.now_s;
        let class = {
            let c = self.store.copies.get_mut(copy);
            c.entered_s = now_s;
            c.queue = q as u32;
            c.class as usize
        };
        let node = &mut self.nodes[q];
        node.arrivals += 1;
        node.classes[class].arrivals += 1;
        let queue = &self.model.queues[q];
        let state = &self.queues[q];
        if let Some(consumers) = &queue.consumers
            && state.busy < consumers.count
        {
            self.start_service(q, copy);
            return;
        }
        if let Some(capacity) = queue.capacity
            && state.buffer.len() as u64 >= capacity
        {
            self.nodes[q].dropped += 1;
            match queue.overflow {
                Overflow::RejectPublish => {
                    self.lose(copy, None);
                    return;
                }
                Overflow::DropHead => match self.queues[q].buffer.pop_for_drop() {
                    Some(head) => self.lose(head, queue.dead_letter),
                    None => {
                        self.lose(copy, queue.dead_letter);
                        return;
                    }
                },
            }
        }
        self.queues[q].buffer.push(copy, class);
        self.update_in_queue(q);
        if queue.ttl_s.is_some() && !self.queues[q].expiry_armed {
            self.arm_expiry(q);
        }
    }

    fn start_service(&mut self, q: usize, copy: CopyId) {
        let now_s = self.now_s;
        let consumers = self.model.queues[q]
            .consumers
            .as_ref()
            .expect("only queues with consumers serve");
        let state = &mut self.queues[q];
        state.busy += 1;
        let service_s = consumers.service.sample(&mut state.service_rng);
        let busy = state.busy;
        let c = self.store.copies.get_mut(copy);
        c.service_start_s = now_s;
        let wait_s = now_s - c.entered_s;
        let class = c.class as usize;
        let node = &mut self.nodes[q];
        node.wait.record(wait_s);
        node.wait_hist.record(wait_s);
        let class_obs = &mut node.classes[class];
        class_obs.wait.record(wait_s);
        class_obs.wait_hist.record(wait_s);
        node.in_service.set(now_s, f64::from(busy));
        self.calendar
            .schedule(now_s + service_s, Event::ServiceEnd(copy));
    }

    fn service_end(&mut self, copy: CopyId) {
        let now_s = self.now_s;
        let (q, class, entered_s) = {
            let c = self.store.copies.get(copy);
            (c.queue as usize, c.class as usize, c.entered_s)
        };
        let queue = &self.model.queues[q];
        let consumers = queue
            .consumers
            .as_ref()
            .expect("only queues with consumers serve");
        let state = &mut self.queues[q];
        state.busy -= 1;
        let busy = state.busy;
        let failed =
            consumers.failure > 0.0 && state.failure_rng.random::<f64>() < consumers.failure;
        let sojourn_s = now_s - entered_s;
        let node = &mut self.nodes[q];
        node.served += 1;
        node.sojourn.record(sojourn_s);
        node.sojourn_hist.record(sojourn_s);
        node.classes[class].served += 1;
        node.classes[class].sojourn.record(sojourn_s);
        node.in_service.set(now_s, f64::from(busy));
        if let Some(next) = self.queues[q].buffer.pop_next() {
            self.update_in_queue(q);
            self.start_service(q, next);
        }
        if failed {
            self.fail(q, copy);
        } else {
            self.nodes[q].succeeded += 1;
            self.forward(q, copy);
        }
    }

    /// A failed attempt: retry after the backoff, or dead-letter after the last one.
    fn fail(&mut self, q: usize, copy: CopyId) {
        let queue = &self.model.queues[q];
        let retry = &queue
            .consumers
            .as_ref()
            .expect("only queues with consumers fail")
            .retry;
        let failures = {
            let c = self.store.copies.get_mut(copy);
            c.failures += 1;
            c.failures
        };
        if retry.max_attempts.is_some_and(|max| failures >= max) {
            self.nodes[q].dead_lettered += 1;
            self.lose(copy, queue.dead_letter);
        } else {
            self.nodes[q].retries += 1;
            let delay_s = retry.backoff.delay_s(failures);
            self.calendar
                .schedule(self.now_s + delay_s, Event::Republish(copy));
        }
    }

    /// A successfully processed copy goes on along `next`, or is delivered.
    fn forward(&mut self, q: usize, copy: CopyId) {
        let next = &self.model.queues[q]
            .consumers
            .as_ref()
            .expect("only queues with consumers forward")
            .next;
        if next.is_empty() {
            self.deliver(copy);
            return;
        }
        self.store.copies.get_mut(copy).failures = 0;
        let route = if next.len() == 1 {
            0
        } else {
            let state = &mut self.queues[q];
            let u: f64 = state.next_rng.random();
            pick(&state.next_cumulative, u)
        };
        self.send(next[route].to, copy);
    }

    fn deliver(&mut self, copy: CopyId) {
        let origin_id = self.store.copies.get(copy).origin;
        self.store.copies.remove(copy);
        if origin_id == ORPHAN {
            return;
        }
        let origin = self.store.origins.get_mut(origin_id);
        origin.outstanding -= 1;
        if origin.outstanding > 0 {
            return;
        }
        let resolved = origin.resolved;
        let measured = origin.measured;
        let latency_s = self.now_s - origin.created_s;
        let on_time = self.now_s <= origin.due_s;
        self.store.origins.remove(origin_id);
        if resolved || !measured {
            return;
        }
        self.delivered += 1;
        if on_time {
            self.on_time += 1;
        }
        self.latency.record(latency_s);
        self.latency_hist.record(latency_s);
    }

    /// A copy is lost; it parks in `dead_letter` when one is given.
    fn lose(&mut self, copy: CopyId, dead_letter: Option<usize>) {
        let origin_id = self.store.copies.get(copy).origin;
        if origin_id != ORPHAN {
            let origin = self.store.origins.get_mut(origin_id);
            origin.outstanding -= 1;
            if !origin.resolved {
                origin.resolved = true;
                if origin.measured {
                    self.lost += 1;
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

    /// Expiry time of the oldest waiting copy of queue `q`, if any.
    fn next_expiry_s(&self, q: usize) -> Option<f64> {
        let ttl_s = self.model.queues[q].ttl_s?;
        self.queues[q]
            .buffer
            .oldest()
            .map(|id| self.store.copies.get(id).entered_s + ttl_s)
            .min_by(f64::total_cmp)
    }

    fn arm_expiry(&mut self, q: usize) {
        if let Some(at_s) = self.next_expiry_s(q) {
            self.queues[q].expiry_armed = true;
            self.calendar.schedule(at_s, Event::Expiry(q as u32));
        }
    }

    fn expire(&mut self, q: usize) {
        self.queues[q].expiry_armed = false;
        let ttl_s = self.model.queues[q].ttl_s.expect("expiry only with a TTL");
        loop {
            let expired = self.queues[q]
                .buffer
                .oldest()
                .find(|&id| self.store.copies.get(id).entered_s + ttl_s <= self.now_s);
            let Some(id) = expired else { break };
            self.queues[q].buffer.remove_oldest(id);
            self.nodes[q].expired += 1;
            self.update_in_queue(q);
            self.lose(id, self.model.queues[q].dead_letter);
        }
        self.arm_expiry(q);
    }

    #[inline]
    fn update_in_queue(&mut self, q: usize) {
        let len = self.queues[q].buffer.len() as f64;
        self.nodes[q].in_queue.set(self.now_s, len);
    }

    fn sample(&mut self) {
        for (q, state) in self.queues.iter().enumerate() {
            self.timeseries.push(Sample {
                time_s: self.now_s,
                queue: q as u32,
                in_queue: state.buffer.len() as u32,
                in_service: state.busy,
            });
        }
        let next_s = self.now_s + self.model.simulation.sample_every_s;
        if next_s <= self.end_s {
            self.calendar.schedule(next_s, Event::Sample);
        }
    }

    fn finish(mut self, replication: u32) -> ReplicationResult {
        let end_s = self.end_s;
        for node in &mut self.nodes {
            let in_queue = node.in_queue.level();
            node.in_queue.set(end_s, in_queue);
            let in_service = node.in_service.level();
            node.in_service.set(end_s, in_service);
        }
        let in_flight = self
            .store
            .origins
            .live_indexes()
            .into_iter()
            .map(|id| self.store.origins.get(id))
            .filter(|o| o.measured && !o.resolved)
            .count() as u64;
        ReplicationResult {
            replication,
            measured_s: self.model.simulation.duration_s,
            produced: self.produced,
            delivered: self.delivered,
            on_time: self.on_time,
            lost: self.lost,
            in_flight,
            latency: self.latency,
            latency_hist: self.latency_hist,
            nodes: self.nodes,
            timeseries: self.timeseries,
            events: self.events,
            peak_messages: self.store.copies.capacity_used(),
        }
    }
}
