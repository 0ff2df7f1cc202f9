//! The validated model: the only description of a system the engine sees.
//!
//! A [`Model`] is built from a scenario file by [`crate::scenario`] once every
//! key has been checked, every name resolved to an index and every parameter
//! validated. Holding a `Model` means the system is simulatable: routes point
//! at existing nodes, probabilities lie in [0, 1], times are finite and
//! non-negative, and every distribution was constructed successfully.

use crate::dist::Dist;

/// Index of a queue in [`Model::queues`].
pub type QueueId = usize;
/// Index of an exchange in [`Model::exchanges`].
pub type ExchangeId = usize;
/// Index of a producer in [`Model::producers`].
pub type ProducerId = usize;
/// Index of a partitioned topic in [`Model::topics`].
pub type TopicId = usize;
/// Index of a consumer pool in [`Model::pools`].
pub type PoolId = usize;

/// A whole system, ready to simulate.
#[derive(Debug, Clone)]
pub struct Model {
    /// Scenario name (the file stem unless the file sets `name`).
    pub name: String,
    /// Free text from the scenario's `description`.
    pub description: String,
    /// Run length, warm-up, replications and seed.
    pub simulation: Simulation,
    /// Sources of messages.
    pub producers: Vec<Producer>,
    /// Routing nodes (RabbitMQ-style exchanges).
    pub exchanges: Vec<Exchange>,
    /// Queues, with or without consumers; a topic's partitions are queues
    /// too, named `topic/p0`, `topic/p1`, ...
    pub queues: Vec<Queue>,
    /// Kafka-style partitioned topics.
    pub topics: Vec<Topic>,
    /// Groups of consumers and the queues they take messages from.
    pub pools: Vec<Pool>,
    /// Non-fatal findings of validation (for example an unstable queue).
    pub warnings: Vec<String>,
    /// The routing keys producers give their messages, indexed by
    /// [`RoutingKeyId`]; index 0 is the empty key `""`, the key of a
    /// message without one.
    pub routing_keys: Vec<String>,
    /// Scheduled changes (`[[events]]`), in scenario order.
    pub events: Vec<ScheduledEvent>,
}

/// A change applied at `at_s` in every replication and reverted after
/// `for_s` (never without).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledEvent {
    pub at_s: f64,
    pub for_s: Option<f64>,
    /// Pools whose consumer count it sets: `(pool, consumers)`.
    pub consumers: Vec<(PoolId, u32)>,
    /// Queues that are unavailable during it (a topic's partitions of
    /// every group among them): they refuse what arrives and deliver
    /// nothing.
    pub down: Vec<QueueId>,
    /// Topics that are unavailable during it: their producers' records
    /// are refused.
    pub down_topics: Vec<TopicId>,
}

/// Index of a routing key in [`Model::routing_keys`].
pub type RoutingKeyId = u32;

/// The routing key of a message without one: `""`.
pub const NO_ROUTING_KEY: RoutingKeyId = 0;

/// How long to simulate and how often.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// Simulated seconds measured after the warm-up.
    pub duration_s: f64,
    /// Simulated seconds discarded before measuring.
    pub warmup_s: f64,
    /// Whether the scenario left `warmup` out: `queuesim run` then chooses
    /// the warm-up by MSER-5 ([`crate::engine::auto_warmup`]); `warmup_s`
    /// holds the fixed fallback (10 % of the duration) for everything else.
    pub warmup_auto: bool,
    /// Number of independent replications (at least 1).
    pub replications: u32,
    /// Root of every random stream.
    pub seed: u64,
    /// Interval between two rows of `timeseries.csv`, in seconds (> 0).
    pub sample_every_s: f64,
    /// Messages already waiting at time 0, per queue: `(queue, count)`.
    pub initial: Vec<(QueueId, u64)>,
    /// Which engine may run the model.
    pub engine: EngineChoice,
}

/// Which engine may run a model (`[simulation] engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// The Lindley fast path where the model allows it, else the event engine.
    #[default]
    Auto,
    /// Always the event engine (to compare the two, or to time the event engine).
    Events,
}

/// Where a message goes next: a queue or an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Straight into a queue.
    Queue(QueueId),
    /// Through an exchange, which routes it further.
    Exchange(ExchangeId),
    /// Into one partition of a topic, chosen by its partitioner.
    Topic(TopicId),
}

/// A source of messages.
#[derive(Debug, Clone)]
pub struct Producer {
    /// Name from the scenario.
    pub name: String,
    /// First node every message of this producer enters.
    pub to: Target,
    /// When messages are published.
    pub arrivals: Arrivals,
    /// Priority class (larger is served first under `discipline = "priority"`).
    pub priority: i64,
    /// End-to-end deadline in seconds; a later delivery is not a success.
    pub deadline_s: Option<f64>,
    /// Message size in bytes, when the scenario sets one.
    pub size_bytes: Option<Dist>,
    /// Message keys, for key-partitioned topics.
    pub keys: Option<Keys>,
    /// Per-message TTL in seconds (the AMQP `expiration` property): a
    /// message that reaches the head of a queue this long after entering
    /// it expires there.
    pub ttl_s: Option<f64>,
    /// Routing keys of the messages (RabbitMQ's), with their probabilities
    /// (summing to 1); empty when the producer sets none, and its
    /// messages carry the empty key.
    pub routing_keys: Vec<(RoutingKeyId, f64)>,
    /// Publisher confirms, when the producer waits for them.
    pub confirm: Option<Confirm>,
    /// Scheduled delivery (RocketMQ delay messages, SQS `DelaySeconds`):
    /// a message reaches its target this long after publication, seconds;
    /// `None` for at once.
    pub delay_s: Option<f64>,
    /// Producer batches (Kafka's `linger.ms`, `batch.size`), for a
    /// producer that sends to a topic.
    pub batching: Option<Batching>,
    /// Client-side buffering while its target is down or refuses.
    pub on_unavailable: Option<ClientBuffer>,
}

/// A producer's client-side buffer (`on_unavailable`): a publication its
/// target refuses (down, or full with reject-publish) waits in the
/// producer, first in first out, and is retried every `retry_s`; one that
/// finds the buffer full is lost as unavailable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientBuffer {
    /// Most publications held at once.
    pub capacity: u64,
    /// Time between two attempts to publish what is held, seconds.
    pub retry_s: f64,
}

/// Publisher confirms: at most `in_flight` publications await their
/// confirm at once; a publication due while the window is full waits,
/// first in first out, for a confirm to free a place.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// Time from a publication to its confirm (positive or negative), seconds.
    pub latency: Dist,
    /// Most unconfirmed publications at once, at least 1.
    pub in_flight: u32,
}

impl Producer {
    /// Whether the producer's publications form a homogeneous Poisson
    /// process: Poisson arrivals that no confirm window holds back.
    pub fn publishes_poisson(&self) -> bool {
        self.arrivals.is_poisson() && self.confirm.is_none()
    }
}

/// How a producer's messages are spread over time.
#[derive(Debug, Clone)]
pub enum Arrivals {
    /// Independent gaps from one distribution, in seconds (Poisson when exponential).
    Renewal(Dist),
    /// Markov-modulated on/off bursts (MMPP-2): exponentially distributed on
    /// and off periods, Poisson arrivals at a rate that depends on the phase.
    OnOff {
        /// Mean length of an on period, seconds.
        on_mean_s: f64,
        /// Mean length of an off period, seconds.
        off_mean_s: f64,
        /// Arrival rate while on, per second.
        rate_on_per_s: f64,
        /// Arrival rate while off, per second.
        rate_off_per_s: f64,
    },
    /// Poisson arrivals whose rate is `rates_per_s[i]` from `times_s[i]`
    /// until `times_s[i + 1]`; the last rate holds to the end, and the rate
    /// is 0 before `times_s[0]`.
    Piecewise {
        /// Start of each segment, seconds, increasing.
        times_s: Vec<f64>,
        /// Rate of each segment, per second.
        rates_per_s: Vec<f64>,
    },
    /// Publication times replayed from a file, seconds, sorted; the
    /// producer stops after the last one.
    Trace {
        /// The times, shared by every replication.
        times_s: std::sync::Arc<[f64]>,
    },
}

impl Arrivals {
    /// Long-run mean rate per second over the first `horizon_s` seconds.
    pub fn mean_rate_per_s(&self, horizon_s: f64) -> f64 {
        match self {
            Arrivals::Renewal(dist) => 1.0 / dist.mean(),
            Arrivals::OnOff {
                on_mean_s,
                off_mean_s,
                rate_on_per_s,
                rate_off_per_s,
            } => {
                (on_mean_s * rate_on_per_s + off_mean_s * rate_off_per_s) / (on_mean_s + off_mean_s)
            }
            Arrivals::Piecewise {
                times_s,
                rates_per_s,
            } => {
                let mut messages = 0.0;
                for (i, (&start, &rate)) in times_s.iter().zip(rates_per_s).enumerate() {
                    let end = times_s
                        .get(i + 1)
                        .copied()
                        .unwrap_or(horizon_s)
                        .min(horizon_s);
                    messages += rate * (end - start).max(0.0);
                }
                messages / horizon_s
            }
            Arrivals::Trace { times_s } => {
                times_s.iter().filter(|&&t| t <= horizon_s).count() as f64 / horizon_s
            }
        }
    }

    /// Whether arrivals form a homogeneous Poisson process.
    pub fn is_poisson(&self) -> bool {
        matches!(self, Arrivals::Renewal(dist) if dist.is_exponential())
    }
}

/// Message keys drawn from a Zipf law over `count` keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keys {
    /// Number of distinct keys (at least 1).
    pub count: u64,
    /// Zipf exponent: 0 is uniform, larger values concentrate on few keys.
    pub skew: f64,
}

/// Kinds of exchange, as in RabbitMQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// A copy of each message to every route.
    Fanout,
    /// One route per message, chosen with probability proportional to its weight.
    Weighted,
    /// Without binding keys, one route per message, chosen with probability
    /// proportional to its weight (as `Weighted`); with binding keys
    /// ([`Exchange::keyed`]), every route whose key equals the message's
    /// routing key.
    Direct,
    /// Every route whose binding pattern matches the message's routing key
    /// (`*` one word, `#` zero or more; always [`Exchange::keyed`]).
    Topic,
}

/// A routing node that holds nothing.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Name from the scenario.
    pub name: String,
    /// How a message is routed.
    pub kind: ExchangeKind,
    /// Destinations with their weights (weights sum to 1 after validation;
    /// for key routing they are even and unused).
    pub routes: Vec<Route>,
    /// Key routing, for a direct or topic exchange whose routes have
    /// binding keys; `None` for weight routing.
    pub keyed: Option<KeyRouting>,
}

/// How an exchange routes on keys, resolved at validation: the engine
/// looks up a message's destinations by its [`RoutingKeyId`] and matches
/// no strings.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRouting {
    /// The binding key of each route, in route order.
    pub bindings: Vec<String>,
    /// Where a message that matches no binding goes; `None`: it is lost
    /// as unroutable.
    pub alternate: Option<Target>,
    /// Start of each routing key's destinations in `targets`
    /// (`Model::routing_keys.len() + 1` entries).
    pub offsets: Vec<u32>,
    /// Destinations of every routing key, key after key: the distinct
    /// targets of the matching routes in route order (one copy each), the
    /// alternate when none matches, nothing when the message is unroutable.
    pub targets: Vec<Target>,
    /// Whether each routing key matches some binding.
    pub matched: Vec<bool>,
}

impl KeyRouting {
    /// Where a message with routing key `key` goes (empty: unroutable).
    #[inline]
    pub fn destinations(&self, key: RoutingKeyId) -> &[Target] {
        let k = key as usize;
        &self.targets[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }

    /// Whether a message with routing key `key` matches some binding
    /// (else it goes to the alternate, or is unroutable).
    #[inline]
    pub fn matched(&self, key: RoutingKeyId) -> bool {
        self.matched[key as usize]
    }
}

/// One weighted destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Route {
    /// Destination node.
    pub to: Target,
    /// Probability of this route (normalised so that a route set sums to 1).
    pub weight: f64,
}

/// What happens when a message arrives at a full queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// The oldest waiting message is dropped to make room (RabbitMQ default).
    DropHead,
    /// The arriving message is refused.
    RejectPublish,
    /// The oldest waiting entry is removed and never dead-lettered (a
    /// Redis stream's `XADD MAXLEN`).
    Trim,
    /// Everything waiting is lost and the consumer is away for the
    /// queue's `reconnect_s`, receiving nothing (a Redis pub/sub
    /// subscriber past its output-buffer limit).
    Disconnect,
}

impl Overflow {
    /// Whether a full queue makes room by removing its oldest message.
    pub fn drops_head(self) -> bool {
        matches!(self, Overflow::DropHead | Overflow::Trim)
    }
}

/// Order in which waiting messages are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discipline {
    /// First in, first out.
    Fifo,
    /// Last in, first out.
    Lifo,
    /// Larger priority first, FIFO within a class, non-preemptive.
    Priority,
}

/// A queue of a broker.
#[derive(Debug, Clone)]
pub struct Queue {
    /// Name from the scenario.
    pub name: String,
    /// Maximum number of waiting (ready) messages; `None` is unbounded.
    pub capacity: Option<u64>,
    /// Maximum bytes of waiting messages; `None` is unbounded.
    pub capacity_bytes: Option<f64>,
    /// How long a disconnected consumer stays away, seconds (only with
    /// [`Overflow::Disconnect`]).
    pub reconnect_s: f64,
    /// Behaviour when full.
    pub overflow: Overflow,
    /// Service order.
    pub discipline: Discipline,
    /// A waiting message older than this many seconds expires.
    pub ttl_s: Option<f64>,
    /// Queue that receives expired and finally-failed messages.
    pub dead_letter: Option<QueueId>,
    /// Network link that messages cross on their way into the queue.
    pub link: Option<Link>,
    /// Workers; `None` for a parking queue that only holds messages.
    pub consumers: Option<Consumers>,
}

/// A network link in front of a queue: every message is delayed by
/// `latency + size / bandwidth`, and transmissions are serialised, so a
/// saturated link queues messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Propagation delay, seconds.
    pub latency_s: f64,
    /// Capacity in bytes per second; `None` is unlimited.
    pub bandwidth_bytes_per_s: Option<f64>,
}

/// Servers shared by one or more queues: an ordinary queue has a pool of
/// its own; a topic consumer is a one-server pool over its partitions.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// Parallel servers.
    pub servers: u32,
    /// Queues served, in the order ties are broken.
    pub queues: Vec<QueueId>,
}

/// Batched consumption: take up to `max` waiting messages at once, or
/// fewer once the oldest has waited `timeout_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    /// Largest batch, at least 1.
    pub max: u32,
    /// Longest wait for a batch to fill, seconds.
    pub timeout_s: f64,
}

/// Consumers that pull (Kafka's `poll`, Redis's `XREADGROUP COUNT`): a
/// free consumer takes up to `max_records` waiting records of its
/// partitions or queue at once and processes them in order, one at a
/// time; records arriving meanwhile wait for its next poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Poll {
    /// Records one poll takes at most, at least 1.
    pub max_records: u32,
    /// How long a poll that finds nothing waits before it returns empty,
    /// seconds (Kafka's `fetch.max.wait.ms`, Redis's `BLOCK`). A waiting
    /// poll returns as soon as a record arrives, so this changes no result.
    pub max_wait_s: f64,
}

/// The workers that serve one queue.
#[derive(Debug, Clone)]
pub struct Consumers {
    /// Number of parallel workers (servers) of the pool, at least 1.
    pub count: u32,
    /// The pool these workers belong to.
    pub pool: PoolId,
    /// Service time of one message (or one batch), in seconds.
    pub service: Dist,
    /// Extra service time per byte of message (or batch), in seconds.
    pub service_per_byte_s: f64,
    /// Batched consumption, when set.
    pub batch: Option<Batch>,
    /// Probability that one processing attempt fails after its full service.
    pub failure: f64,
    /// What happens to a failed attempt.
    pub retry: Retry,
    /// Where a successfully processed message goes; empty means it is delivered.
    pub next: Vec<Route>,
    /// Processing slots of each consumer (a Celery worker's processes), at least 1.
    pub concurrency: u32,
    /// Unacknowledged messages one consumer may hold (`basic.qos`):
    /// `None` without a window (a free slot takes the next message),
    /// `Some(0)` for an unlimited window.
    pub prefetch: Option<u32>,
    /// When a consumer acknowledges a message.
    pub ack: Ack,
    /// Broker-to-consumer delivery (and ack turnaround) time, seconds.
    pub dispatch: Option<Dist>,
    /// Pulling consumers, when set.
    pub poll: Option<Poll>,
    /// Consumers that crash and restart, when set.
    pub crash: Option<Crash>,
}

/// Each consumer of a pool fails independently, whether busy or idle,
/// after an exponential time of mean `mtbf_s` from its (re)start, and is
/// down for a `restart` time; the message it was processing goes back to
/// the head of its queue and is delivered again, its work lost.
#[derive(Debug, Clone)]
pub struct Crash {
    /// Mean time between failures of one consumer, seconds.
    pub mtbf_s: f64,
    /// How long a crashed consumer stays down, seconds.
    pub restart: Dist,
}

/// When a consumer acknowledges a message, freeing a place in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ack {
    /// After processing it (manual ack, Celery's `acks_late`).
    #[default]
    AfterService,
    /// As processing starts (Celery's default early ack).
    OnStart,
}

/// A consumer pool whose broker pushes messages into per-consumer
/// buffers: the parameters [`Consumers::window`] resolves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Unacknowledged messages per consumer; `u32::MAX` when unlimited.
    pub limit: u32,
    /// Processing slots per consumer.
    pub concurrency: u32,
    /// When a message stops counting against the window.
    pub ack: Ack,
}

/// Mean outcome of one message at a queue whose attempts fail independently.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptShares {
    /// Mean attempts per message, `(1 − pᵏ)/(1 − p)` (`1/(1 − p)` without a limit).
    pub tries: f64,
    /// Share of messages that finally succeed, `1 − pᵏ`.
    pub success: f64,
    /// Share of messages dead-lettered after their last attempt, `pᵏ`.
    pub dead: f64,
}

impl Consumers {
    /// Slots that can be busy at once: `count × concurrency`, fewer when
    /// an after-service window is smaller than the concurrency.
    pub fn slots(&self) -> u32 {
        let usable = match (self.prefetch, self.ack) {
            (Some(p), Ack::AfterService) if p > 0 => p.min(self.concurrency),
            _ => self.concurrency,
        };
        self.count.saturating_mul(usable)
    }

    /// The window of a pool whose consumers buffer pushed messages, or
    /// `None` when a free slot simply takes the next ready message: no
    /// `dispatch`, and no `prefetch` beyond what the slots can start at
    /// once (`prefetch` <= `concurrency` with after-service acks behaves
    /// exactly as `slots()` plain servers). A `dispatch` time without
    /// `prefetch` is a window of `concurrency`: a slot waits for its
    /// message.
    pub fn window(&self) -> Option<Window> {
        let pushes = match (self.prefetch, self.ack) {
            (None, _) => false,
            (Some(0), _) | (Some(_), Ack::OnStart) => true,
            (Some(p), Ack::AfterService) => p > self.concurrency,
        };
        if !pushes && self.dispatch.is_none() {
            return None;
        }
        let (limit, ack) = match self.prefetch {
            None => (self.concurrency, Ack::AfterService),
            Some(0) => (u32::MAX, self.ack),
            Some(p) => (p, self.ack),
        };
        Some(Window {
            limit,
            concurrency: self.concurrency,
            ack,
        })
    }

    /// How long a message holds a consumer that retries in place, as the
    /// mean and second moment (seconds, seconds²) of T = S₁ + … + S_N +
    /// D₁ + … + D_(N−1): N attempts (P(N = n) = pⁿ⁻¹(1 − p) below the
    /// last allowed attempt, the rest at it), each a service time S, and
    /// the backoff D_i after the i-th failure (its delay, scaled by a
    /// uniform jitter factor of variance jitter²/3). `None` unless the
    /// consumers retry failed attempts in place.
    pub fn in_place_hold_s(&self) -> Option<(f64, f64)> {
        let p = self.failure;
        if !self.retry.in_place || p == 0.0 {
            return None;
        }
        if p >= 1.0 && self.retry.max_attempts.is_none() {
            return Some((f64::INFINITY, f64::INFINITY));
        }
        let (s_mean, s_var) = (self.service.mean(), self.service.variance());
        let jitter_var = self.retry.jitter * self.retry.jitter / 3.0;
        let last = self.retry.max_attempts.unwrap_or(u32::MAX);
        let (mut mean, mut second) = (0.0, 0.0);
        let (mut reach, mut backoff_mean, mut backoff_var) = (1.0, 0.0, 0.0);
        for n in 1..=last {
            let weight = if n < last { reach * (1.0 - p) } else { reach };
            let t_mean = f64::from(n) * s_mean + backoff_mean;
            let t_var = f64::from(n) * s_var + backoff_var;
            mean += weight * t_mean;
            second += weight * (t_var + t_mean * t_mean);
            reach *= p;
            if reach < 1e-16 {
                break;
            }
            let delay_s = self.retry.backoff.delay_s(n);
            backoff_mean += delay_s;
            backoff_var += delay_s * delay_s * jitter_var;
        }
        Some((mean, second))
    }

    /// Attempts and outcomes per message, from `failure` (p) and
    /// `retry.max_attempts` (k).
    pub fn attempt_shares(&self) -> AttemptShares {
        let p = self.failure;
        let (tries, success, dead) = match self.retry.max_attempts {
            _ if p == 0.0 => (1.0, 1.0, 0.0),
            None if p < 1.0 => (1.0 / (1.0 - p), 1.0, 0.0),
            None => (f64::INFINITY, 0.0, 0.0),
            Some(k) => {
                let pk = p.powf(f64::from(k));
                let tries = if p < 1.0 {
                    (1.0 - pk) / (1.0 - p)
                } else {
                    f64::from(k)
                };
                (tries, 1.0 - pk, pk)
            }
        };
        AttemptShares {
            tries,
            success,
            dead,
        }
    }
}

/// Retry policy of a consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included; `None` retries forever.
    pub max_attempts: Option<u32>,
    /// Delay before a failed message is re-published.
    pub backoff: Backoff,
    /// Relative jitter in [0, 1]: each delay is scaled by a uniform factor
    /// in [1 − jitter, 1 + jitter].
    pub jitter: f64,
    /// Whether the consumer keeps a failed message and retries it after
    /// the backoff, blocking meanwhile (a Kafka consumer), instead of
    /// re-publishing it to the queue's tail.
    pub in_place: bool,
}

/// Delay between a failed attempt and the re-publication of the message.
#[derive(Debug, Clone, PartialEq)]
pub enum Backoff {
    /// The same delay after every failure.
    Constant {
        /// Delay in seconds.
        delay_s: f64,
    },
    /// `initial * factor^(failures - 1)`, capped at `max`.
    Exponential {
        /// Delay after the first failure, in seconds.
        initial_s: f64,
        /// Growth per failure (>= 1).
        factor: f64,
        /// Largest delay, in seconds.
        max_s: f64,
    },
    /// A ladder: `delays_s[n - 1]` after the n-th failure, its last rung
    /// beyond its end (RocketMQ's delay levels).
    Levels {
        /// The delays, in seconds, at least one.
        delays_s: Vec<f64>,
    },
}

/// RocketMQ's reconsume ladder, delay levels 3 to 18, seconds.
pub const ROCKETMQ_LEVELS_S: [f64; 16] = [
    10.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0, 480.0, 540.0, 600.0, 1200.0,
    1800.0, 3600.0, 7200.0,
];

impl Backoff {
    /// Delay in seconds before the retry that follows the `failures`-th failure (1-based).
    pub fn delay_s(&self, failures: u32) -> f64 {
        match *self {
            Backoff::Constant { delay_s } => delay_s,
            Backoff::Exponential {
                initial_s,
                factor,
                max_s,
            } => (initial_s * factor.powi(failures.saturating_sub(1) as i32)).min(max_s),
            Backoff::Levels { ref delays_s } => {
                let rung = (failures.saturating_sub(1) as usize).min(delays_s.len() - 1);
                delays_s[rung]
            }
        }
    }
}

/// How a topic spreads messages over its partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioner {
    /// By a hash of the message key (round-robin for messages without a key).
    Key,
    /// In turn.
    RoundRobin,
}

/// Mixes a message key into a well-spread 64-bit hash (SplitMix64's
/// finaliser), so that consecutive keys land on unrelated partitions.
fn key_hash(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Keys {
    /// Probability of key `k` (1-based, key 1 the most frequent) under the
    /// Zipf law: proportional to `k^-skew`.
    pub fn probabilities(&self) -> Vec<f64> {
        let weights: Vec<f64> = (1..=self.count)
            .map(|k| (k as f64).powf(-self.skew))
            .collect();
        let total: f64 = weights.iter().sum();
        weights.into_iter().map(|w| w / total).collect()
    }

    /// Share of messages that a key partitioner sends to each of `partitions` partitions.
    pub fn partition_shares(&self, partitions: usize) -> Vec<f64> {
        let mut shares = vec![0.0; partitions];
        for (k, p) in (1..=self.count).zip(self.probabilities()) {
            shares[partition_of_key(k, partitions)] += p;
        }
        shares
    }
}

/// Partition of a message key among `partitions` partitions (`partitions` > 0).
pub fn partition_of_key(key: u64, partitions: usize) -> usize {
    (key_hash(key) % partitions as u64) as usize
}

/// A Kafka-style partitioned log read by one or more consumer groups.
#[derive(Debug, Clone)]
pub struct Topic {
    /// Name from the scenario.
    pub name: String,
    /// Number of partitions, at least 1.
    pub partition_count: usize,
    /// The groups that read it, each receiving every record: at least one
    /// (a topic without consumers has one group without consumers). A
    /// broadcast group of `n` consumers is `n` groups of one consumer.
    pub groups: Vec<TopicGroup>,
    /// How messages are spread over partitions.
    pub partitioner: Partitioner,
    /// `acks=all` replication, when a record waits for followers before
    /// consumers may see it.
    pub replication: Option<Replication>,
}

/// A topic's replication with `acks=all`: a record is committed, and
/// visible to consumers, once `min_insync` replicas (the leader
/// included) hold it, and never before an earlier record of its
/// partition (the high watermark only moves forward).
#[derive(Debug, Clone)]
pub struct Replication {
    /// Followers, `factor - 1`, each fetching the record independently.
    pub followers: u32,
    /// Followers that must hold it, `min_insync - 1` (at least 1).
    pub acks_needed: u32,
    /// One follower's fetch time, seconds.
    pub follower_fetch: Dist,
}

/// A producer's batches: records for one partition accumulate until
/// `linger_s` after the first, or until they pass `max_bytes`, and are
/// then published at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batching {
    /// Longest wait of a batch's first record, seconds.
    pub linger_s: f64,
    /// Size at which a batch goes at once; infinite without a limit.
    pub max_bytes: f64,
}

/// One consumer group's view of a topic: its own copy of every partition.
#[derive(Debug, Clone)]
pub struct TopicGroup {
    /// The group's name (`analytics`, `cache.c0` for a broadcast
    /// consumer); empty for the `[topics.consumers]` shorthand.
    pub name: String,
    /// The group's copy of each partition, as a queue, in partition order.
    pub partitions: Vec<QueueId>,
}

impl Model {
    /// What scheduled event `event` does, in words: `down orders;
    /// consumers orders=2`.
    pub fn describe_event(&self, event: &ScheduledEvent) -> String {
        let user_queues = |q: &&QueueId| {
            self.topics
                .iter()
                .all(|t| t.groups.iter().all(|g| !g.partitions.contains(q)))
        };
        let down = (event.down.iter().filter(user_queues))
            .map(|&q| self.queues[q].name.as_str())
            .chain(
                event
                    .down_topics
                    .iter()
                    .map(|&t| self.topics[t].name.as_str()),
            );
        let down: Vec<&str> = down.collect();
        let counts: Vec<String> = (event.consumers.iter())
            .map(|&(pool, count)| {
                format!("{}={count}", self.queues[self.pools[pool].queues[0]].name)
            })
            .collect();
        let parts = [("down", down.join(" ")), ("consumers", counts.join(" "))];
        (parts.iter())
            .filter(|(_, names)| !names.is_empty())
            .map(|(what, names)| format!("{what} {names}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// For each queue, whether it is a topic's partition (of some group):
    /// the queues that have a consumer lag.
    pub fn partition_flags(&self) -> Vec<bool> {
        let mut flags = vec![false; self.queues.len()];
        (self.topics.iter())
            .flat_map(Topic::partition_queues)
            .for_each(|q| flags[q] = true);
        flags
    }
}

/// The final consumers of a model, where copies end: each topic group
/// whose consumers deliver (`topic@group`, or `topic` for the one-group
/// shorthand) and each other queue whose consumers deliver (by name).
#[derive(Debug, Clone, PartialEq)]
pub struct Sinks {
    /// Sink names, in model order: queues first, then topic groups.
    pub names: Vec<String>,
    /// Per queue, the sink its deliveries count in.
    pub of_queue: Vec<Option<u32>>,
    /// Per queue, the one sink every path from it leads to, where a copy
    /// lost there counts against that sink; `None` where paths lead to
    /// several sinks or none.
    pub lost_at: Vec<Option<u32>>,
    /// Whether a message can be copied (a fanout or keyed exchange, a
    /// topic with several groups), so that a sink sees copies rather than
    /// messages.
    pub copies: bool,
}

impl Sinks {
    /// Whether a sink's deliveries are exactly the run's: one sink and no
    /// copies, so that every delivered message is delivered there once.
    pub fn single_path(&self) -> bool {
        self.names.len() == 1 && !self.copies
    }
}

impl Model {
    /// Consumers of every pool (a topic consumer that owns no partition
    /// has no pool and is not counted).
    pub fn consumer_count(&self) -> u64 {
        (self.pools.iter())
            .filter_map(|p| self.queues[p.queues[0]].consumers.as_ref())
            .map(|c| u64::from(c.count))
            .sum()
    }

    /// Where this model's messages end, see [`Sinks`].
    pub fn sinks(&self) -> Sinks {
        let delivers =
            |q: QueueId| (self.queues[q].consumers.as_ref()).is_some_and(|c| c.next.is_empty());
        let partitions = self.partition_flags();
        let mut names = Vec::new();
        let mut of_queue = vec![None; self.queues.len()];
        for q in (0..self.queues.len()).filter(|&q| !partitions[q] && delivers(q)) {
            of_queue[q] = Some(names.len() as u32);
            names.push(self.queues[q].name.clone());
        }
        for topic in &self.topics {
            for group in &topic.groups {
                let delivering: Vec<QueueId> = group
                    .partitions
                    .iter()
                    .copied()
                    .filter(|&q| delivers(q))
                    .collect();
                if delivering.is_empty() {
                    continue;
                }
                delivering
                    .iter()
                    .for_each(|&q| of_queue[q] = Some(names.len() as u32));
                names.push(match group.name.as_str() {
                    "" => topic.name.clone(),
                    group => format!("{}@{group}", topic.name),
                });
            }
        }
        let copies = self.topics.iter().any(|t| t.groups.len() > 1)
            || (self.exchanges.iter()).any(|e| e.kind == ExchangeKind::Fanout || e.keyed.is_some());
        let mut reach = SinkReach {
            model: self,
            of_queue: &of_queue,
            memo: vec![None; self.queues.len()],
        };
        let lost_at = (0..self.queues.len())
            .map(|q| match reach.reached_from_queue(q).as_slice() {
                [only] => Some(*only),
                _ => None,
            })
            .collect();
        Sinks {
            names,
            of_queue,
            lost_at,
            copies,
        }
    }
}

/// The sinks reachable from each queue along its consumers' routes,
/// worked out once per queue (a queue on a cycle sees the sinks of the
/// rest of the cycle).
struct SinkReach<'a> {
    model: &'a Model,
    of_queue: &'a [Option<u32>],
    memo: Vec<Option<Vec<u32>>>,
}

impl SinkReach<'_> {
    fn reached_from_queue(&mut self, q: QueueId) -> Vec<u32> {
        if let Some(known) = &self.memo[q] {
            return known.clone();
        }
        self.memo[q] = Some(Vec::new());
        let mut found: Vec<u32> = self.of_queue[q].into_iter().collect();
        if let Some(c) = &self.model.queues[q].consumers {
            for route in &c.next {
                found.extend(self.reached_from_target(route.to));
            }
        }
        found.sort_unstable();
        found.dedup();
        self.memo[q] = Some(found.clone());
        found
    }

    fn reached_from_target(&mut self, target: Target) -> Vec<u32> {
        let model = self.model;
        match target {
            Target::Queue(q) => self.reached_from_queue(q),
            Target::Exchange(e) => {
                let exchange = &model.exchanges[e];
                let alternate = exchange.keyed.as_ref().and_then(|k| k.alternate);
                (exchange.routes.iter().map(|r| r.to).chain(alternate))
                    .flat_map(|to| self.reached_from_target(to))
                    .collect()
            }
            Target::Topic(t) => (model.topics[t].partition_queues())
                .flat_map(|q| self.reached_from_queue(q))
                .collect(),
        }
    }
}

impl Topic {
    /// Every partition queue of every group.
    pub fn partition_queues(&self) -> impl Iterator<Item = QueueId> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.partitions.iter().copied())
    }
}

impl Model {
    /// Name of a routing target, for messages and reports.
    pub fn target_name(&self, target: Target) -> &str {
        match target {
            Target::Queue(q) => &self.queues[q].name,
            Target::Exchange(e) => &self.exchanges[e].name,
            Target::Topic(t) => &self.topics[t].name,
        }
    }

    /// Distinct priority classes of all producers, largest first.
    pub fn priority_classes(&self) -> Vec<i64> {
        let mut classes: Vec<i64> = self.producers.iter().map(|p| p.priority).collect();
        classes.sort_unstable_by(|a, b| b.cmp(a));
        classes.dedup();
        classes
    }

    /// Priority classes present in a run, largest priority first: the
    /// producers' classes, and class 0 for an initial backlog.
    pub fn run_classes(&self) -> Vec<i64> {
        let mut classes = self.priority_classes();
        if !self.simulation.initial.is_empty() && !classes.contains(&0) {
            classes.push(0);
            classes.sort_unstable_by(|a, b| b.cmp(a));
        }
        classes
    }
}
