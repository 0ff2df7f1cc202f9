//! The raw scenario: serde structs that mirror the TOML file key for key.
//!
//! Nothing here is validated beyond what serde checks (known keys, types).
//! Every struct denies unknown fields, so a typo is an error that
//! [`super::locate`] turns into a message with the line and the closest
//! valid key. Keys that the engine does not simulate yet (`[[topics]]`,
//! `link`, `batch`, ...) are declared here too, so that they are spelled
//! correctly in suggestions; [`super::validate`] then refuses them.

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
}

/// `[simulation]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub duration: Option<Quantity>,
    pub warmup: Option<Quantity>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub sample_every: Option<Quantity>,
    pub initial: Option<BTreeMap<String, u64>>,
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
    /// Not simulated yet.
    pub keys: Option<toml::Value>,
    /// Not simulated yet.
    pub pattern: Option<toml::Value>,
    /// Not simulated yet.
    pub trace: Option<toml::Value>,
}

/// `kind` of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawExchangeKind {
    Fanout,
    Weighted,
    Direct,
}

/// One `[[exchanges]]` element.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExchange {
    pub name: String,
    pub kind: RawExchangeKind,
    pub routes: Vec<RawRoute>,
}

/// One `{ to, weight }` route of an exchange or of a consumer's `next`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub to: String,
    pub weight: Option<f64>,
}

/// `overflow` of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawOverflow {
    DropHead,
    RejectPublish,
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
    pub overflow: Option<RawOverflow>,
    pub discipline: Option<RawDiscipline>,
    pub ttl: Option<Quantity>,
    pub dead_letter: Option<String>,
    /// Not simulated yet.
    pub link: Option<toml::Value>,
    pub consumers: Option<RawConsumers>,
}

/// `[queues.consumers]` (and `[topics.consumers]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsumers {
    pub count: Option<u32>,
    pub service: Option<DistSpec>,
    /// Not simulated yet.
    pub service_per_byte: Option<toml::Value>,
    /// Not simulated yet.
    pub batch: Option<toml::Value>,
    pub failure: Option<f64>,
    pub retry: Option<RawRetry>,
    pub next: Option<RawNext>,
}

/// `backoff` of a retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawBackoff {
    Constant,
    Exponential,
}

/// `retry = { ... }` of a consumer group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_attempts: Option<u32>,
    pub backoff: Option<RawBackoff>,
    pub initial: Option<Quantity>,
    pub factor: Option<f64>,
    pub max: Option<Quantity>,
    /// Not simulated yet.
    pub jitter: Option<toml::Value>,
}

/// `next`: one node name, or a list of weighted routes.
#[derive(Debug)]
pub enum RawNext {
    One(String),
    Routes(Vec<RawRoute>),
}

/// One `[[topics]]` element (not simulated yet; parsed for its key names).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "topics are refused in validation; only `name` is read"
)]
pub struct RawTopic {
    pub name: String,
    pub partitions: Option<u32>,
    pub partitioner: Option<String>,
    pub consumers: Option<RawConsumers>,
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
