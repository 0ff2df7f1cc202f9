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
    /// Queues, with or without consumers.
    pub queues: Vec<Queue>,
    /// Non-fatal findings of validation (for example an unstable queue).
    pub warnings: Vec<String>,
}

/// How long to simulate and how often.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// Simulated seconds measured after the warm-up.
    pub duration_s: f64,
    /// Simulated seconds discarded before measuring.
    pub warmup_s: f64,
    /// Number of independent replications (at least 1).
    pub replications: u32,
    /// Root of every random stream.
    pub seed: u64,
    /// Interval between two rows of `timeseries.csv`, in seconds (> 0).
    pub sample_every_s: f64,
    /// Messages already waiting at time 0, per queue: `(queue, count)`.
    pub initial: Vec<(QueueId, u64)>,
}

/// Where a message goes next: a queue or an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Straight into a queue.
    Queue(QueueId),
    /// Through an exchange, which routes it further.
    Exchange(ExchangeId),
}

/// A source of messages.
#[derive(Debug, Clone)]
pub struct Producer {
    /// Name from the scenario.
    pub name: String,
    /// First node every message of this producer enters.
    pub to: Target,
    /// Time between two publications, in seconds.
    pub interarrival: Dist,
    /// Priority class (larger is served first under `discipline = "priority"`).
    pub priority: i64,
    /// End-to-end deadline in seconds; a later delivery is not a success.
    pub deadline_s: Option<f64>,
    /// Message size in bytes, when the scenario sets one.
    pub size_bytes: Option<Dist>,
}

/// Kinds of exchange, as in RabbitMQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// A copy of each message to every route.
    Fanout,
    /// One route per message, chosen with probability proportional to its weight.
    Weighted,
    /// One route per message, chosen by the message's routing key; keys are
    /// spread uniformly over the routes when producers set no keys.
    Direct,
}

/// A routing node that holds nothing.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Name from the scenario.
    pub name: String,
    /// How a message is routed.
    pub kind: ExchangeKind,
    /// Destinations with their weights (weights sum to 1 after validation).
    pub routes: Vec<Route>,
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
    /// Behaviour when full.
    pub overflow: Overflow,
    /// Service order.
    pub discipline: Discipline,
    /// A waiting message older than this many seconds expires.
    pub ttl_s: Option<f64>,
    /// Queue that receives expired and finally-failed messages.
    pub dead_letter: Option<QueueId>,
    /// Workers; `None` for a parking queue that only holds messages.
    pub consumers: Option<Consumers>,
}

/// The workers that serve one queue.
#[derive(Debug, Clone)]
pub struct Consumers {
    /// Number of parallel workers (servers), at least 1.
    pub count: u32,
    /// Service time of one message, in seconds.
    pub service: Dist,
    /// Probability that one processing attempt fails after its full service.
    pub failure: f64,
    /// What happens to a failed attempt.
    pub retry: Retry,
    /// Where a successfully processed message goes; empty means it is delivered.
    pub next: Vec<Route>,
}

/// Retry policy of a consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts in all, the first included; `None` retries forever.
    pub max_attempts: Option<u32>,
    /// Delay before a failed message is re-published.
    pub backoff: Backoff,
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
}

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
        }
    }
}

impl Model {
    /// Name of a routing target, for messages and reports.
    pub fn target_name(&self, target: Target) -> &str {
        match target {
            Target::Queue(q) => &self.queues[q].name,
            Target::Exchange(e) => &self.exchanges[e].name,
        }
    }

    /// Distinct priority classes of all producers, largest first.
    pub fn priority_classes(&self) -> Vec<i64> {
        let mut classes: Vec<i64> = self.producers.iter().map(|p| p.priority).collect();
        classes.sort_unstable_by(|a, b| b.cmp(a));
        classes.dedup();
        classes
    }
}
