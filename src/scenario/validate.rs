//! From the raw scenario to the validated [`Model`]: defaults, units,
//! distributions and names resolved, every value range-checked.
//!
//! Structural checks of the routing graph live in [`super::graph`] and load
//! estimates in [`super::traffic`]; both run on the [`Model`] built here.
//! Every error is reported through [`Source`] by key path, so it carries the
//! line of the key in the user's file.
//!
//! Defaults: `name` is the file stem; `simulation.duration` 1000 s,
//! `warmup` chosen automatically by `queuesim run` (MSER-5), 10 % of the
//! duration elsewhere, `replications` 10, `seed` 1,
//! `sample_every` duration / 1000; producer `priority` 0; route `weight` 1;
//! queue `overflow = "drop-head"`, `discipline = "fifo"`, no capacity limit;
//! consumer `count` 1, `failure` 0; no `retry` table means retry forever
//! without delay; `backoff = "constant"` with `initial` 0 s, or
//! `"exponential"` with `initial` 0.1 s, `factor` 2 and `max` 30 s (the
//! defaults of Spring Retry's exponential policy).

use std::collections::HashMap;
use std::path::Path;

use super::bindings::RoutingKeys;
use super::error::{ErrorKind, ScenarioError, closest};
use super::locate::Source;
use super::raw::{
    RawAck, RawBackoff, RawBatching, RawConsumers, RawCrash, RawDiscipline, RawEvent, RawExchange,
    RawExchangeKind, RawNext, RawOnUnavailable, RawOverflow, RawPoll, RawProducer, RawQueue,
    RawRetry, RawRoute, RawScenario, RawSimulation,
};
use crate::dist::{Dist, DistSpec};
use crate::model::{
    Ack, Backoff, Batching, ClientBuffer, Consumers, Crash, Discipline, EngineChoice, Exchange,
    ExchangeKind, Model, Overflow, Poll, Pool, Producer, Queue, ROCKETMQ_LEVELS_S, Retry, Route,
    ScheduledEvent, Simulation, Target, Topic,
};
use crate::units::{Quantity, QuantityKind};

type Result<T> = std::result::Result<T, ScenarioError>;

/// Builds the model of `raw`; relative file paths in distributions are
/// resolved against `base_dir`. Graph checks and warnings come after.
pub(super) fn build(
    raw: &RawScenario,
    src: &Source,
    origin: &Path,
    base_dir: &Path,
) -> Result<Model> {
    let mut v = Validator {
        src,
        base_dir,
        nodes: Nodes::collect(raw, src)?,
        warnings: Vec::new(),
        routing_keys: RoutingKeys::default(),
    };
    let simulation = v.simulation(&raw.simulation)?;
    let producers = raw
        .producers
        .iter()
        .map(|p| v.producer(p))
        .collect::<Result<_>>()?;
    let mut exchanges: Vec<Exchange> = raw
        .exchanges
        .iter()
        .map(|e| v.exchange(e))
        .collect::<Result<_>>()?;
    super::bindings::resolve(&mut exchanges, &v.routing_keys.names, src)?;
    let mut queues: Vec<Queue> = raw
        .queues
        .iter()
        .map(|q| v.queue(q))
        .collect::<Result<_>>()?;
    let mut pools = own_pools(&mut queues);
    let topics: Vec<Topic> = raw
        .topics
        .iter()
        .map(|t| v.topic(t, &mut queues, &mut pools))
        .collect::<Result<_>>()?;
    let name = raw.name.clone().unwrap_or_else(|| {
        origin.file_stem().map_or_else(
            || "scenario".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    if let Err(why) = check_folder_name(&name) {
        let kind = ErrorKind::InvalidValue(format!(
            "`{name}` {why}: the name is the default report folder `reports/<name>`, so it must be one folder name (letters, digits, spaces, `-`, `_`, `.`; no `/` or `\\`; not `.` or `..`; at most 200 bytes)"
        ));
        return Err(src.error("name", kind));
    }
    let user_queues = &queues[..raw.queues.len()];
    let events = (raw.events.iter().enumerate())
        .map(|(i, e)| v.scheduled_event(i, e, user_queues, &topics))
        .collect::<Result<_>>()?;
    let mut model = Model {
        events,
        name,
        description: raw.description.clone().unwrap_or_default(),
        simulation,
        producers,
        exchanges,
        queues,
        topics,
        pools,
        warnings: v.warnings,
        routing_keys: v.routing_keys.names,
    };
    let idle = super::bindings::idle_routing_keys(&model);
    for (raw_producer, _) in raw.producers.iter().zip(idle).filter(|&(_, idle)| idle) {
        let name = match raw_producer.routing_key {
            Some(_) => "routing_key",
            None => "routing_keys",
        };
        model.warnings.push(format!(
            "`producers.{}.{name}` has no effect: no exchange with binding keys can be reached \
             from `{}`, and only a direct or topic exchange with binding keys routes on keys",
            raw_producer.name, raw_producer.to
        ));
    }
    Ok(model)
}

/// Whether `name` can stand as one folder under `reports/`: not empty, not
/// `.` or `..`, no path separator or control character, at most 200 bytes.
fn check_folder_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.trim().is_empty() {
        Err("is empty")
    } else if name == "." || name == ".." {
        Err("names a folder above or at `reports`")
    } else if name.contains(['/', '\\']) {
        Err("holds a path separator")
    } else if name.chars().any(char::is_control) {
        Err("holds a control character")
    } else if name.len() > 200 {
        Err("is longer than 200 bytes")
    } else {
        Ok(())
    }
}

/// One pool per queue with consumers, holding that queue's workers.
fn own_pools(queues: &mut [Queue]) -> Vec<Pool> {
    let mut pools = Vec::new();
    for (q, queue) in queues.iter_mut().enumerate() {
        if let Some(c) = &mut queue.consumers {
            c.pool = pools.len();
            pools.push(Pool {
                servers: c.slots(),
                queues: vec![q],
            });
        }
    }
    pools
}

/// Every node name, resolved to its target.
pub(super) struct Nodes {
    targets: HashMap<String, Target>,
    queues: Vec<String>,
    exchanges: Vec<String>,
    topics: Vec<String>,
}

impl Nodes {
    /// Collects node names, refusing empty and duplicate ones. Queues,
    /// exchanges and topics share one namespace; producers have their own.
    fn collect(raw: &RawScenario, src: &Source) -> Result<Self> {
        let mut seen: HashMap<(&str, String), String> = HashMap::new();
        let mut check = |list: &str, index: usize, name: &str, namespace: &'static str| {
            let key = format!("{list}.{name}");
            let lookup = format!("{list}[{index}]");
            if name.trim().is_empty() {
                let kind = ErrorKind::InvalidValue("a name cannot be empty".into());
                return Err(src.error_at(&format!("{lookup}.name"), &lookup, kind));
            }
            if let Some(first) = seen.insert((namespace, name.to_owned()), key.clone()) {
                let kind = ErrorKind::DuplicateName {
                    name: name.to_owned(),
                    first,
                };
                return Err(src.error_at(&key, &lookup, kind));
            }
            Ok(())
        };
        for (i, p) in raw.producers.iter().enumerate() {
            check("producers", i, &p.name, "producer")?;
        }
        for (i, q) in raw.queues.iter().enumerate() {
            check("queues", i, &q.name, "node")?;
        }
        for (i, e) in raw.exchanges.iter().enumerate() {
            check("exchanges", i, &e.name, "node")?;
        }
        for (i, t) in raw.topics.iter().enumerate() {
            check("topics", i, &t.name, "node")?;
        }
        let queues: Vec<String> = raw.queues.iter().map(|q| q.name.clone()).collect();
        let exchanges: Vec<String> = raw.exchanges.iter().map(|e| e.name.clone()).collect();
        let topics: Vec<String> = raw.topics.iter().map(|t| t.name.clone()).collect();
        let targets = (queues.iter().enumerate())
            .map(|(i, n)| (n.clone(), Target::Queue(i)))
            .chain((exchanges.iter().enumerate()).map(|(i, n)| (n.clone(), Target::Exchange(i))))
            .chain((topics.iter().enumerate()).map(|(i, n)| (n.clone(), Target::Topic(i))))
            .collect();
        Ok(Nodes {
            targets,
            queues,
            exchanges,
            topics,
        })
    }
}

pub(super) struct Validator<'a> {
    pub(super) src: &'a Source<'a>,
    pub(super) base_dir: &'a Path,
    pub(super) nodes: Nodes,
    pub(super) warnings: Vec<String>,
    pub(super) routing_keys: RoutingKeys,
}

impl Validator<'_> {
    pub(super) fn invalid(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        self.src.error(key, ErrorKind::InvalidValue(message.into()))
    }

    /// A time, rate or size: converted to its base unit, finite, and
    /// `> 0` (when `positive`) or `>= 0`.
    pub(super) fn quantity(
        &self,
        key: &str,
        q: &Quantity,
        kind: QuantityKind,
        positive: bool,
    ) -> Result<f64> {
        let value = q
            .to_base(kind)
            .map_err(|e| self.invalid(key, e.to_string()))?;
        self.number(key, value, positive)
    }

    /// A finite number, `> 0` (when `positive`) or `>= 0`.
    pub(super) fn number(&self, key: &str, value: f64, positive: bool) -> Result<f64> {
        if !value.is_finite() {
            Err(self.invalid(key, format!("must be a finite number, not {value}")))
        } else if positive && value <= 0.0 {
            Err(self.invalid(key, format!("must be greater than 0 (got {value})")))
        } else if value < 0.0 {
            Err(self.invalid(key, format!("must not be negative (got {value})")))
        } else {
            Ok(value)
        }
    }

    pub(super) fn dist(&self, key: &str, spec: &DistSpec, kind: QuantityKind) -> Result<Dist> {
        let dist = spec
            .build(kind, self.base_dir)
            .map_err(|e| self.invalid(key, e.to_string()))?;
        self.number(key, dist.mean(), false)
            .map_err(|_| self.invalid(key, format!("has no finite mean ({dist})")))?;
        Ok(dist)
    }

    /// Resolves a reference to a node; `queue_only` for `dead_letter` and `initial`.
    pub(super) fn target(&self, key: &str, name: &str, queue_only: bool) -> Result<Target> {
        match self.nodes.targets.get(name) {
            Some(Target::Exchange(_) | Target::Topic(_)) if queue_only => Err(self.invalid(
                key,
                format!("`{name}` is an exchange or a topic; this must name a queue"),
            )),
            Some(&t) => Ok(t),
            None => {
                let mut known = self.nodes.queues.clone();
                if !queue_only {
                    known.extend(self.nodes.exchanges.iter().cloned());
                    known.extend(self.nodes.topics.iter().cloned());
                }
                let kind = ErrorKind::UnknownNode {
                    name: name.to_owned(),
                    expected: if queue_only {
                        "queue"
                    } else {
                        "queue, exchange or topic"
                    },
                    suggestion: closest(name, known.iter().map(String::as_str)),
                    known,
                };
                Err(self.src.error(key, kind))
            }
        }
    }

    fn simulation(&self, raw: &RawSimulation) -> Result<Simulation> {
        let time = |key: &str, q: &Option<Quantity>, positive: bool| -> Result<Option<f64>> {
            q.as_ref()
                .map(|q| self.quantity(key, q, QuantityKind::Duration, positive))
                .transpose()
        };
        let duration_s = time("simulation.duration", &raw.duration, true)?.unwrap_or(1000.0);
        let warmup_s = time("simulation.warmup", &raw.warmup, false)?.unwrap_or(0.1 * duration_s);
        let sample_every_s = time("simulation.sample_every", &raw.sample_every, true)?
            .unwrap_or(duration_s / 1000.0);
        let replications = raw.replications.unwrap_or(10);
        if replications == 0 {
            return Err(self.invalid("simulation.replications", "must be at least 1"));
        }
        let mut initial = Vec::new();
        for (name, &count) in raw.initial.iter().flatten() {
            let key = format!("simulation.initial.{name}");
            if let Target::Queue(q) = self.target(&key, name, true)? {
                initial.push((q, count));
            }
        }
        initial.sort_unstable();
        let engine = match raw.engine.as_deref() {
            None | Some("auto") => EngineChoice::Auto,
            Some("events") => EngineChoice::Events,
            Some(other) => {
                let why = format!("must be \"auto\" or \"events\", not \"{other}\"");
                return Err(self.invalid("simulation.engine", why));
            }
        };
        Ok(Simulation {
            duration_s,
            warmup_s,
            warmup_auto: raw.warmup.is_none(),
            replications,
            seed: raw.seed.unwrap_or(1),
            sample_every_s,
            initial,
            engine,
        })
    }

    fn producer(&mut self, p: &RawProducer) -> Result<Producer> {
        let key = format!("producers.{}", p.name);
        let to = self.target(&format!("{key}.to"), &p.to, false)?;
        let arrivals = self.arrivals(&key, p)?;
        let keys = (p.keys.as_ref())
            .map(|k| self.keys(&format!("{key}.keys"), k))
            .transpose()?;
        let deadline_s = (p.deadline.as_ref())
            .map(|d| self.quantity(&format!("{key}.deadline"), d, QuantityKind::Duration, true))
            .transpose()?;
        let size_bytes = (p.size.as_ref())
            .map(|s| self.dist(&format!("{key}.size"), s, QuantityKind::Bytes))
            .transpose()?;
        let routing_keys = self.producer_routing_keys(&key, p)?;
        let confirm = (p.confirm.as_ref())
            .map(|c| self.confirm(&format!("{key}.confirm"), c))
            .transpose()?;
        Ok(Producer {
            name: p.name.clone(),
            to,
            arrivals,
            priority: p.priority.unwrap_or(0),
            deadline_s,
            size_bytes,
            keys,
            ttl_s: (p.ttl.as_ref())
                .map(|t| self.quantity(&format!("{key}.ttl"), t, QuantityKind::Duration, true))
                .transpose()?,
            routing_keys,
            confirm,
            delay_s: (p.delay.as_ref())
                .map(|d| self.quantity(&format!("{key}.delay"), d, QuantityKind::Duration, false))
                .transpose()?
                .filter(|&d| d > 0.0),
            batching: (p.batching.as_ref())
                .map(|b| self.batching(&format!("{key}.batching"), b, to, p.delay.is_some()))
                .transpose()?,
            on_unavailable: (p.on_unavailable.as_ref())
                .map(|o| self.on_unavailable(&format!("{key}.on_unavailable"), o))
                .transpose()?,
        })
    }

    /// A producer's `on_unavailable`: 10000 publications retried every
    /// second unless set.
    fn on_unavailable(&self, key: &str, o: &RawOnUnavailable) -> Result<ClientBuffer> {
        let capacity = o.buffer.unwrap_or(10_000);
        if capacity > 100_000_000 {
            return Err(self.invalid(
                &format!("{key}.buffer"),
                format!("must be at most 100000000 publications (got {capacity})"),
            ));
        }
        let retry_s = match &o.retry {
            Some(r) => self.quantity(&format!("{key}.retry"), r, QuantityKind::Duration, true)?,
            None => 1.0,
        };
        Ok(ClientBuffer { capacity, retry_s })
    }

    /// A producer's `batching`, for a producer that sends to a topic.
    fn batching(&self, key: &str, b: &RawBatching, to: Target, delayed: bool) -> Result<Batching> {
        if !matches!(to, Target::Topic(_)) {
            return Err(self.invalid(
                key,
                "batches records per partition, so the producer's `to` must be a topic",
            ));
        }
        if delayed {
            return Err(self.invalid(key, "cannot be combined with `delay`; remove one of them"));
        }
        let linger_s = self.quantity(
            &format!("{key}.linger"),
            &b.linger,
            QuantityKind::Duration,
            false,
        )?;
        let max_bytes = (b.max_bytes.as_ref())
            .map(|m| self.quantity(&format!("{key}.max_bytes"), m, QuantityKind::Bytes, true))
            .transpose()?
            .unwrap_or(f64::INFINITY);
        Ok(Batching {
            linger_s,
            max_bytes,
        })
    }

    /// A non-empty list of distinct destinations with positive weights,
    /// normalised to sum 1.
    fn routes(&self, key: &str, raw: &[RawRoute]) -> Result<Vec<Route>> {
        if raw.is_empty() {
            return Err(self.invalid(
                key,
                "the route list is empty; add at least one `{ to = ... }`",
            ));
        }
        let mut routes: Vec<Route> = Vec::with_capacity(raw.len());
        for r in raw {
            let route_key = format!("{key}.{}", r.to);
            if r.key.is_some() {
                return Err(self.invalid(
                    &format!("{route_key}.key"),
                    "a binding key belongs to a route of a direct or topic exchange; a `next` \
                     route takes a `weight`",
                ));
            }
            let to = self.target(&format!("{route_key}.to"), &r.to, false)?;
            if routes.iter().any(|x| x.to == to) {
                return Err(self.invalid(
                    &route_key,
                    format!("`{}` is listed twice; keep one route per destination", r.to),
                ));
            }
            let weight = self.number(
                &format!("{route_key}.weight"),
                r.weight.unwrap_or(1.0),
                true,
            )?;
            routes.push(Route { to, weight });
        }
        let total: f64 = routes.iter().map(|r| r.weight).sum();
        if !total.is_finite() {
            return Err(self.invalid(key, "the weights add up to infinity; use smaller weights"));
        }
        routes.iter_mut().for_each(|r| r.weight /= total);
        Ok(routes)
    }

    fn exchange(&mut self, e: &RawExchange) -> Result<Exchange> {
        let key = format!("exchanges.{}", e.name);
        if e.routes.iter().any(|r| r.key.is_some()) {
            return self.keyed_exchange(&key, e);
        }
        if e.kind == RawExchangeKind::Topic && !e.routes.is_empty() {
            return Err(self.invalid(
                &format!("{key}.routes"),
                "a topic exchange routes on binding keys: give every route a `key`, for \
                 example `{ to = \"orders\", key = \"order.*\" }`",
            ));
        }
        if e.alternate.is_some() {
            return Err(self.invalid(
                &format!("{key}.alternate"),
                "applies only to an exchange whose routes have binding keys: every message of \
                 a fanout, weighted or key-less direct exchange takes a route",
            ));
        }
        let mut routes = self.routes(&format!("{key}.routes"), &e.routes)?;
        let kind = match e.kind {
            RawExchangeKind::Fanout => {
                for r in e.routes.iter().filter(|r| r.weight.is_some()) {
                    self.warnings.push(format!(
                        "`{key}.routes.{}.weight` is ignored: a fanout exchange copies every \
                         message to every route",
                        r.to
                    ));
                }
                let n = routes.len() as f64;
                routes.iter_mut().for_each(|r| r.weight = 1.0 / n);
                ExchangeKind::Fanout
            }
            RawExchangeKind::Weighted => ExchangeKind::Weighted,
            RawExchangeKind::Direct => ExchangeKind::Direct,
            RawExchangeKind::Topic => unreachable!("a topic exchange without keys is refused"),
        };
        Ok(Exchange {
            name: e.name.clone(),
            kind,
            routes,
            keyed: None,
        })
    }

    fn queue(&mut self, q: &RawQueue) -> Result<Queue> {
        let key = format!("queues.{}", q.name);
        let consumers = (q.consumers.as_ref())
            .map(|c| self.consumers(&format!("{key}.consumers"), c))
            .transpose()?;
        if q.capacity == Some(0) && consumers.is_none() {
            return Err(self.invalid(
                &format!("{key}.capacity"),
                "a queue without consumers and capacity 0 drops every message; \
                 raise the capacity or add [queues.consumers]",
            ));
        }
        let capacity_bytes = (q.capacity_bytes.as_ref())
            .map(|b| {
                let bytes_key = format!("{key}.capacity_bytes");
                self.quantity(&bytes_key, b, QuantityKind::Bytes, true)
            })
            .transpose()?;
        if q.overflow.is_some() && q.capacity.is_none() && capacity_bytes.is_none() {
            self.warnings.push(format!(
                "`{key}.overflow` has no effect: the queue has no `capacity` or `capacity_bytes`"
            ));
        }
        let overflow = match q.overflow.unwrap_or(RawOverflow::DropHead) {
            RawOverflow::DropHead => Overflow::DropHead,
            RawOverflow::RejectPublish => Overflow::RejectPublish,
            RawOverflow::Trim => Overflow::Trim,
            RawOverflow::Disconnect => Overflow::Disconnect,
        };
        let reconnect_s = match &q.reconnect {
            None => 0.0,
            Some(_) if overflow != Overflow::Disconnect => {
                return Err(self.invalid(
                    &format!("{key}.reconnect"),
                    "applies only to `overflow = \"disconnect\"` (a pub/sub subscriber); \
                     remove it or set that overflow",
                ));
            }
            Some(r) => {
                let reconnect_key = format!("{key}.reconnect");
                self.quantity(&reconnect_key, r, QuantityKind::Duration, false)?
            }
        };
        let ttl_s = (q.ttl.as_ref())
            .map(|t| self.quantity(&format!("{key}.ttl"), t, QuantityKind::Duration, true))
            .transpose()?;
        let dead_letter = match &q.dead_letter {
            None => None,
            Some(name) if *name == q.name => {
                return Err(self.invalid(
                    &format!("{key}.dead_letter"),
                    "a queue cannot be its own dead-letter queue; name another queue",
                ));
            }
            Some(name) => match self.target(&format!("{key}.dead_letter"), name, true)? {
                Target::Queue(id) => Some(id),
                Target::Exchange(_) | Target::Topic(_) => None,
            },
        };
        let link = (q.link.as_ref())
            .map(|l| self.link(&format!("{key}.link"), l))
            .transpose()?;
        Ok(Queue {
            name: q.name.clone(),
            capacity: q.capacity,
            capacity_bytes,
            reconnect_s,
            overflow,
            discipline: match q.discipline.unwrap_or(RawDiscipline::Fifo) {
                RawDiscipline::Fifo => Discipline::Fifo,
                RawDiscipline::Lifo => Discipline::Lifo,
                RawDiscipline::Priority => Discipline::Priority,
            },
            ttl_s,
            dead_letter,
            link,
            consumers,
        })
    }

    pub(super) fn consumers(&mut self, key: &str, c: &RawConsumers) -> Result<Consumers> {
        let count = c.count.unwrap_or(1);
        if count == 0 {
            return Err(self.invalid(
                &format!("{key}.count"),
                "must be at least 1; omit [queues.consumers] for a queue without consumers",
            ));
        }
        let service = match &c.service {
            Some(spec) => self.dist(&format!("{key}.service"), spec, QuantityKind::Duration)?,
            None => {
                let hint = "; add for example `service = { dist = \"exponential\", mean = 0.01 }`";
                return Err(self.src.error(
                    key,
                    ErrorKind::MissingKey {
                        key: "service".into(),
                        hint: hint.into(),
                    },
                ));
            }
        };
        let failure = c.failure.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&failure) {
            return Err(self.invalid(
                &format!("{key}.failure"),
                format!("is a probability and must lie in [0, 1] (got {failure})"),
            ));
        }
        let retry = match &c.retry {
            Some(r) => self.retry(&format!("{key}.retry"), r)?,
            None => Retry {
                max_attempts: None,
                backoff: Backoff::Constant { delay_s: 0.0 },
                jitter: 0.0,
                in_place: false,
            },
        };
        if c.retry.is_some() && failure == 0.0 {
            self.warnings.push(format!(
                "`{key}.retry` has no effect: `failure` is 0, so no attempt fails"
            ));
        }
        let next = match &c.next {
            None => Vec::new(),
            Some(RawNext::One(name)) => vec![Route {
                to: self.target(&format!("{key}.next"), name, false)?,
                weight: 1.0,
            }],
            Some(RawNext::Routes(routes)) => self.routes(&format!("{key}.next"), routes)?,
        };
        let service_per_byte_s = self.number(
            &format!("{key}.service_per_byte"),
            c.service_per_byte.unwrap_or(0.0),
            false,
        )?;
        let batch = (c.batch.as_ref())
            .map(|b| self.batch(&format!("{key}.batch"), b))
            .transpose()?;
        let concurrency = c.concurrency.unwrap_or(1);
        if concurrency == 0 {
            return Err(self.invalid(
                &format!("{key}.concurrency"),
                "counts the processing slots of each consumer and must be at least 1",
            ));
        }
        let dispatch = (c.dispatch.as_ref())
            .map(|d| self.dist(&format!("{key}.dispatch"), d, QuantityKind::Duration))
            .transpose()?;
        let ack = match c.ack {
            None | Some(RawAck::AfterService) => Ack::AfterService,
            Some(RawAck::OnStart) => Ack::OnStart,
        };
        if c.ack.is_some() && c.prefetch.is_none() {
            self.warnings.push(format!(
                "`{key}.ack` has no effect without `prefetch`: a consumer then takes a \
                 message only when a slot is free"
            ));
        }
        if let Some(p) = c.prefetch
            && p > 0
            && p < concurrency
            && ack == Ack::AfterService
        {
            self.warnings.push(format!(
                "`{key}.prefetch` = {p} is below `concurrency` = {concurrency}: only {p} \
                 slot(s) of each consumer can ever be busy"
            ));
        }
        if batch.is_some() && (c.prefetch.is_some() || dispatch.is_some()) {
            let name = if c.prefetch.is_some() {
                "prefetch"
            } else {
                "dispatch"
            };
            return Err(self.invalid(
                &format!("{key}.{name}"),
                "cannot be combined with `batch` yet; remove one of the two",
            ));
        }
        let poll = (c.poll.as_ref())
            .map(|p| self.poll(&format!("{key}.poll"), p))
            .transpose()?;
        if poll.is_some() {
            let pushing = [
                ("batch", c.batch.is_some()),
                ("prefetch", c.prefetch.is_some()),
                ("dispatch", c.dispatch.is_some()),
                ("concurrency", c.concurrency.is_some_and(|n| n > 1)),
            ];
            if let Some((name, _)) = pushing.iter().find(|(_, set)| *set) {
                return Err(self.invalid(
                    &format!("{key}.{name}"),
                    "belongs to consumers the broker pushes to; pulling consumers \
                     (`poll`) take up to `max_records` per poll instead: remove one of the two",
                ));
            }
        }
        let crash = (c.crash.as_ref())
            .map(|r| self.crash(&format!("{key}.crash"), r))
            .transpose()?;
        if crash.is_some() {
            let unsupported = [
                ("batch", c.batch.is_some()),
                ("prefetch", c.prefetch.is_some()),
                ("dispatch", c.dispatch.is_some()),
                ("poll", c.poll.is_some()),
                ("concurrency", c.concurrency.is_some_and(|n| n > 1)),
            ];
            if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
                return Err(self.invalid(
                    &format!("{key}.crash"),
                    format!(
                        "crashing consumers are simulated without `{name}` in this version; \
                         remove one of the two"
                    ),
                ));
            }
        }
        Ok(Consumers {
            count,
            pool: 0,
            service,
            service_per_byte_s,
            batch,
            failure,
            retry,
            next,
            concurrency,
            prefetch: c.prefetch,
            ack,
            dispatch,
            poll,
            crash,
        })
    }

    /// Event number `i` (`events[i]`), its queues (of `[[queues]]`)
    /// resolved to their pools.
    fn scheduled_event(
        &self,
        i: usize,
        e: &RawEvent,
        queues: &[Queue],
        topics: &[Topic],
    ) -> Result<ScheduledEvent> {
        let key = format!("events[{i}]");
        let at_s = self.quantity(&format!("{key}.at"), &e.at, QuantityKind::Duration, false)?;
        let for_s = (e.lasts.as_ref())
            .map(|q| self.quantity(&format!("{key}.for"), q, QuantityKind::Duration, false))
            .transpose()?;
        let (mut down, mut down_topics) = (Vec::new(), Vec::new());
        for (j, name) in e.down.iter().flatten().enumerate() {
            if let Some(q) = queues.iter().position(|q| q.name == *name) {
                down.push(q);
            } else if let Some(t) = topics.iter().position(|t| t.name == *name) {
                down_topics.push(t);
                (topics[t].groups.iter()).for_each(|g| down.extend(&g.partitions));
            } else {
                let known = queues.iter().map(|q| q.name.as_str());
                let known: Vec<&str> = known
                    .chain(topics.iter().map(|t| t.name.as_str()))
                    .collect();
                return Err(self.invalid(
                    &format!("{key}.down[{j}]"),
                    format!(
                        "`{name}` is neither a queue nor a topic; name one of {}",
                        known
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        down.sort_unstable();
        down.dedup();
        down_topics.sort_unstable();
        down_topics.dedup();
        let mut consumers = Vec::new();
        for (name, &count) in e.consumers.iter().flatten() {
            let queue_key = format!("{key}.consumers.{name}");
            let found = queues.iter().find(|q| q.name == *name);
            let Some(c) = found.and_then(|q| q.consumers.as_ref()) else {
                return Err(self.invalid(
                    &queue_key,
                    format!(
                        "`{name}` is not a queue with consumers; name one of `[[queues]]` \
                         (a topic group's count changes with rebalances, not supported yet)"
                    ),
                ));
            };
            let held =
                c.window().is_some() || c.poll.is_some() || c.crash.is_some() || c.batch.is_some();
            if held {
                return Err(self.invalid(
                    &queue_key,
                    "a scheduled count applies to plain consumers in this version: not with \
                     `prefetch`, `dispatch`, `poll`, `batch` or `crash`",
                ));
            }
            consumers.push((c.pool, count));
        }
        Ok(ScheduledEvent {
            at_s,
            for_s,
            consumers,
            down,
            down_topics,
        })
    }

    fn crash(&self, key: &str, r: &RawCrash) -> Result<Crash> {
        let mtbf_key = format!("{key}.mtbf");
        let mtbf_s = self.quantity(&mtbf_key, &r.mtbf, QuantityKind::Duration, true)?;
        let Some(restart) = &r.restart else {
            return Err(self.src.error(
                key,
                ErrorKind::MissingKey {
                    key: "restart".into(),
                    hint: "; add for example `restart = { dist = \"lognormal\", mean = \"30s\", cv = 1.0 }`".into(),
                },
            ));
        };
        let restart = self.dist(&format!("{key}.restart"), restart, QuantityKind::Duration)?;
        Ok(Crash { mtbf_s, restart })
    }

    fn poll(&self, key: &str, p: &RawPoll) -> Result<Poll> {
        let max_records = p.max_records.unwrap_or(500);
        if max_records == 0 || max_records > 1_000_000 {
            return Err(self.invalid(
                &format!("{key}.max_records"),
                format!("must be between 1 and 1000000 records (got {max_records})"),
            ));
        }
        let max_wait_s = (p.max_wait.as_ref())
            .map(|q| self.quantity(&format!("{key}.max_wait"), q, QuantityKind::Duration, false))
            .transpose()?
            .unwrap_or(0.5);
        Ok(Poll {
            max_records,
            max_wait_s,
        })
    }

    fn retry(&self, key: &str, r: &RawRetry) -> Result<Retry> {
        if r.max_attempts == Some(0) {
            return Err(self.invalid(
                &format!("{key}.max_attempts"),
                "counts every attempt, the first included, so it must be at least 1 \
                 (1 means no retry)",
            ));
        }
        let time = |name: &str, q: &Option<Quantity>| -> Result<Option<f64>> {
            (q.as_ref())
                .map(|q| self.quantity(&format!("{key}.{name}"), q, QuantityKind::Duration, false))
                .transpose()
        };
        let initial = time("initial", &r.initial)?;
        let kind = r.backoff.unwrap_or(RawBackoff::Constant);
        let ladder = matches!(kind, RawBackoff::Levels | RawBackoff::Rocketmq);
        self.check_backoff_keys(key, r, ladder)?;
        let backoff = match kind {
            RawBackoff::Levels => {
                let delays = r.delays.as_deref().unwrap_or_default();
                if delays.is_empty() {
                    return Err(self.invalid(
                        &format!("{key}.delays"),
                        "`backoff = \"levels\"` needs its ladder: give at least one delay, \
                         for example `delays = [\"1s\", \"10s\", \"1m\"]`",
                    ));
                }
                let delays_s = (delays.iter().enumerate())
                    .map(|(i, d)| {
                        let rung_key = format!("{key}.delays[{i}]");
                        self.quantity(&rung_key, d, QuantityKind::Duration, false)
                    })
                    .collect::<Result<Vec<f64>>>()?;
                Backoff::Levels { delays_s }
            }
            RawBackoff::Rocketmq => Backoff::Levels {
                delays_s: ROCKETMQ_LEVELS_S.to_vec(),
            },
            RawBackoff::Constant => {
                for (name, set) in [("factor", r.factor.is_some()), ("max", r.max.is_some())] {
                    if set {
                        return Err(self.invalid(
                            &format!("{key}.{name}"),
                            "applies only to `backoff = \"exponential\"`; remove it or \
                             set the backoff",
                        ));
                    }
                }
                Backoff::Constant {
                    delay_s: initial.unwrap_or(0.0),
                }
            }
            RawBackoff::Exponential => {
                let factor =
                    self.number(&format!("{key}.factor"), r.factor.unwrap_or(2.0), true)?;
                if factor < 1.0 {
                    return Err(self.invalid(
                        &format!("{key}.factor"),
                        format!("must be at least 1 so that delays grow (got {factor})"),
                    ));
                }
                let initial_s = initial.unwrap_or(0.1);
                let max_s = time("max", &r.max)?.unwrap_or(30.0_f64.max(initial_s));
                if max_s < initial_s {
                    return Err(self.invalid(
                        &format!("{key}.max"),
                        format!("must not be below `initial` ({initial_s} s)"),
                    ));
                }
                Backoff::Exponential {
                    initial_s,
                    factor,
                    max_s,
                }
            }
        };
        let jitter = r.jitter.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&jitter) {
            return Err(self.invalid(
                &format!("{key}.jitter"),
                format!("is a fraction of the delay and must lie in [0, 1] (got {jitter})"),
            ));
        }
        // A ladder dead-letters after its last rung: RocketMQ's 16
        // reconsumes, a `levels` ladder's length.
        let max_attempts = match &backoff {
            Backoff::Levels { delays_s } if r.max_attempts.is_none() => {
                Some(delays_s.len() as u32 + 1)
            }
            _ => r.max_attempts,
        };
        Ok(Retry {
            max_attempts,
            backoff,
            jitter,
            in_place: false,
        })
    }

    /// Refuses keys of another kind of backoff than `r`'s: `initial`,
    /// `factor` and `max` shape computed delays, `delays` is a ladder's.
    fn check_backoff_keys(&self, key: &str, r: &RawRetry, ladder: bool) -> Result<()> {
        let computed = [
            ("initial", r.initial.is_some()),
            ("factor", r.factor.is_some()),
            ("max", r.max.is_some()),
        ];
        let misplaced = match ladder {
            true => computed.iter().find(|(_, set)| *set).map(|(name, _)| *name),
            false => r.delays.is_some().then_some("delays"),
        };
        let Some(name) = misplaced else {
            return Ok(());
        };
        let why = match ladder {
            true => {
                "does not apply to a ladder (`backoff = \"levels\"` or \"rocketmq\"), \
                     whose delays are its rungs; remove it"
            }
            false => "is the ladder of `backoff = \"levels\"`; remove it or set that backoff",
        };
        Err(self.invalid(&format!("{key}.{name}"), why))
    }
}
