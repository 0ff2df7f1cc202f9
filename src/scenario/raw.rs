//! The raw scenario: serde structs that mirror the TOML file key for key.
//!
//! Nothing here is validated beyond what serde checks (known keys, types).
//! Every struct denies unknown fields, so a typo is an error that
//! [`super::locate`] turns into a message with the line and the closest
//! valid key.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::dist::DistSpec;
use crate::units::Quantity;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub simulation: RawSimulation,
    #[serde(default)]
    pub producers: Vec<RawProducer>,
    #[serde(default)]
    pub exchanges: Vec<RawExchange>,
    #[serde(default)]
    pub queues: Vec<RawQueue>,
    #[serde(default)]
    pub topics: Vec<RawTopic>,
    #[serde(default)]
    pub events: Vec<RawEvent>,
}

/// One `[[events]]` element: a scheduled change, applied in every
/// replication.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub at: Quantity,
    /// How long it lasts before it is reverted; forever without.
    #[serde(rename = "for")]
    pub lasts: Option<Quantity>,
    /// Queue name → consumers during the event.
    pub consumers: Option<BTreeMap<String, u32>>,
    /// Queues or topics that are unavailable during the event.
    pub down: Option<Vec<String>>,
}

/// `[simulation]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub duration: Option<Quantity>,
    pub warmup: Option<Quantity>,
    pub replications: Option<u32>,
    #[serde(default, deserialize_with = "seed")]
    pub seed: Option<u64>,
    pub sample_every: Option<Quantity>,
    pub initial: Option<BTreeMap<String, u64>>,
    pub engine: Option<String>,
}

/// One `[[producers]]` element.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProducer {
    pub name: String,
    pub to: String,
    pub rate: Option<Quantity>,
    pub interarrival: Option<DistSpec>,
    pub priority: Option<i64>,
    pub deadline: Option<Quantity>,
    pub size: Option<DistSpec>,
    pub keys: Option<RawKeys>,
    pub pattern: Option<RawPattern>,
    /// A CSV file with a `time` column of publication times, in seconds.
    pub trace: Option<String>,
    pub ttl: Option<Quantity>,
    /// Scheduled delivery: how long after publication a message becomes visible.
    pub delay: Option<Quantity>,
    pub batching: Option<RawBatching>,
    /// One routing key for every message.
    pub routing_key: Option<String>,
    /// Routing keys drawn per message by weight.
    pub routing_keys: Option<Vec<RawRoutingKey>>,
    /// Publisher confirms.
    pub confirm: Option<RawConfirm>,
    /// Client-side buffering while the target is down or refuses.
    pub on_unavailable: Option<RawOnUnavailable>,
}

/// `on_unavailable = { buffer, retry }` of a producer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnUnavailable {
    pub buffer: Option<u64>,
    pub retry: Option<Quantity>,
}

/// One `{ key, weight }` of a producer's `routing_keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoutingKey {
    pub key: String,
    pub weight: Option<f64>,
}

/// `confirm = { latency, in_flight }` of a producer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfirm {
    pub latency: DistSpec,
    pub in_flight: Option<u32>,
}

/// `batching = { linger, max_bytes }` of a producer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBatching {
    pub linger: Quantity,
    pub max_bytes: Option<Quantity>,
}

/// `keys = { count, skew }` of a producer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeys {
    pub count: u64,
    pub skew: Option<f64>,
}

/// `pattern = { kind = ..., ... }` of a producer.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RawPattern {
    /// On/off bursts (MMPP-2).
    Onoff {
        on: Quantity,
        off: Quantity,
        rate_on: Quantity,
        rate_off: Option<Quantity>,
    },
    /// Piecewise-constant rate.
    Piecewise {
        times: Vec<Quantity>,
        rates: Vec<Quantity>,
    },
}

/// `kind` of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawExchangeKind {
    Fanout,
    Weighted,
    Direct,
    Topic,
}

/// One `[[exchanges]]` element.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExchange {
    pub name: String,
    pub kind: RawExchangeKind,
    pub routes: Vec<RawRoute>,
    /// Where messages that match no binding go.
    pub alternate: Option<String>,
}

/// One `{ to, weight }` route of an exchange or of a consumer's `next`
/// (`{ to, key }` for an exchange that routes on keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub to: String,
    pub weight: Option<f64>,
    /// Binding key.
    pub key: Option<String>,
}

/// `overflow` of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawOverflow {
    DropHead,
    RejectPublish,
    Trim,
    Disconnect,
}

/// `discipline` of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawDiscipline {
    Fifo,
    Lifo,
    Priority,
}

/// One `[[queues]]` element.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    pub name: String,
    pub capacity: Option<u64>,
    pub capacity_bytes: Option<Quantity>,
    pub overflow: Option<RawOverflow>,
    pub reconnect: Option<Quantity>,
    pub discipline: Option<RawDiscipline>,
    pub ttl: Option<Quantity>,
    pub dead_letter: Option<String>,
    pub link: Option<RawLink>,
    pub consumers: Option<RawConsumers>,
}

/// `link = { latency, bandwidth }` of a queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub latency: Option<Quantity>,
    pub bandwidth: Option<Quantity>,
}

/// `batch = { max, timeout }` of a consumer group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBatch {
    pub max: u32,
    pub timeout: Option<Quantity>,
}

/// `[queues.consumers]` (and `[topics.consumers]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsumers {
    pub count: Option<u32>,
    pub service: Option<DistSpec>,
    /// Seconds per byte of message.
    pub service_per_byte: Option<f64>,
    pub batch: Option<RawBatch>,
    pub failure: Option<f64>,
    pub retry: Option<RawRetry>,
    pub next: Option<RawNext>,
    pub concurrency: Option<u32>,
    pub prefetch: Option<u32>,
    pub ack: Option<RawAck>,
    pub dispatch: Option<DistSpec>,
    pub poll: Option<RawPoll>,
    pub crash: Option<RawCrash>,
}

/// `crash = { mtbf, restart }` of a consumer group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrash {
    pub mtbf: Quantity,
    pub restart: Option<DistSpec>,
}

/// `poll = { max_records, max_wait }` of pulling consumers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    pub max_records: Option<u32>,
    pub max_wait: Option<Quantity>,
}

/// `ack` of a consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawAck {
    AfterService,
    OnStart,
}

/// `backoff` of a retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawBackoff {
    Constant,
    Exponential,
    Levels,
    Rocketmq,
}

/// `retry = { ... }` of a consumer group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_attempts: Option<u32>,
    pub backoff: Option<RawBackoff>,
    pub initial: Option<Quantity>,
    pub factor: Option<f64>,
    pub max: Option<Quantity>,
    pub jitter: Option<f64>,
    /// The ladder of `backoff = "levels"`.
    pub delays: Option<Vec<Quantity>>,
}

/// `next`: one node name, or a list of weighted routes.
#[derive(Debug, Clone)]
pub enum RawNext {
    One(String),
    Routes(Vec<RawRoute>),
}

/// `partitioner` of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawPartitioner {
    Key,
    RoundRobin,
}

/// `assignment` of a topic's partitions to its consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawAssignment {
    Range,
    RoundRobin,
    Sticky,
    CooperativeSticky,
}

/// `mode` of a topic's consumer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawGroupMode {
    Clustering,
    Broadcast,
}

/// One `[[topics.groups]]` element: a consumer group reading every record
/// of the topic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub name: String,
    pub count: Option<u32>,
    pub assignment: Option<RawAssignment>,
    pub mode: Option<RawGroupMode>,
    pub service: Option<DistSpec>,
    /// Seconds per byte of message.
    pub service_per_byte: Option<f64>,
    pub next: Option<RawNext>,
    pub poll: Option<RawPoll>,
    pub failure: Option<f64>,
    pub retry: Option<RawRetry>,
    pub dead_letter: Option<String>,
    /// Planned with consumer crashes and autoscaling; refused until then.
    pub rebalance: Option<toml::Value>,
}

/// One `[[topics]]` element.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub name: String,
    pub partitions: Option<u32>,
    pub partitioner: Option<RawPartitioner>,
    pub assignment: Option<RawAssignment>,
    #[serde(default, deserialize_with = "one_group")]
    pub consumers: Option<RawConsumers>,
    pub groups: Option<Vec<RawGroup>>,
    pub replication: Option<RawReplication>,
}

/// `replication = { factor, min_insync, follower_fetch }` of a topic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplication {
    pub factor: u32,
    pub min_insync: Option<u32>,
    pub follower_fetch: Option<DistSpec>,
}

/// `[topics.consumers]`: one table; an array of them (a user writing
/// `[[topics.consumers]]` for several groups) is pointed to
/// `[[topics.groups]]`.
fn one_group<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<RawConsumers>, D::Error> {
    struct OneGroup;

    impl<'de> Visitor<'de> for OneGroup {
        type Value = RawConsumers;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("one `[topics.consumers]` table")
        }

        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawConsumers, A::Error> {
            RawConsumers::deserialize(de::value::MapAccessDeserializer::new(map))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<RawConsumers, A::Error> {
            Err(de::Error::custom(
                "is one consumer group; for several groups reading the topic, write one \
                 `[[topics.groups]]` table per group, each with a `name`",
            ))
        }
    }

    deserializer.deserialize_any(OneGroup).map(Some)
}

/// A hand-written visitor rather than `#[serde(untagged)]`, so that an
/// error inside a route (an unknown key, a wrong type) keeps its own
/// message and position instead of "did not match any variant".
impl<'de> Deserialize<'de> for RawNext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NextVisitor;

        impl<'de> Visitor<'de> for NextVisitor {
            type Value = RawNext;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a node name or a list of routes like [{ to = \"q\", weight = 1 }]")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNext, E> {
                Ok(RawNext::One(v.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNext, A::Error> {
                let mut routes = Vec::new();
                while let Some(route) = seq.next_element::<RawRoute>()? {
                    routes.push(route);
                }
                Ok(RawNext::Routes(routes))
            }
        }

        deserializer.deserialize_any(NextVisitor)
    }
}

/// `simulation.seed`: the whole u64 range, as an integer or, above TOML's
/// largest integer (2^63 - 1), as a string of digits (which `--seed` and
/// `--set` give too).
fn seed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct Seed;
    impl Visitor<'_> for Seed {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number from 0 to 18446744073709551615")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse()
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    deserializer.deserialize_any(Seed)
}
