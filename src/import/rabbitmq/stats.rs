//! Reading the management API's live figures: `GET /api/queues` (rates,
//! consumer counts, backlogs) and `GET /api/consumers` (prefetch counts),
//! and estimating a queue's mean service time from them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::import::ImportError;
use crate::import::json::{self, Node};

/// What `/api/queues` says about one queue. Rates are the API's moving
/// averages, per second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    /// Consumers attached.
    pub consumers: Option<u64>,
    /// `consumer_utilisation`: the fraction of time the queue could hand a
    /// message to a consumer at once.
    pub utilisation: Option<f64>,
    /// Ready messages.
    pub ready: u64,
    /// Delivered, not yet acknowledged.
    pub unacked: u64,
    /// `message_stats.publish_details.rate`.
    pub publish_per_s: Option<f64>,
    /// `message_stats.ack_details.rate`.
    pub ack_per_s: Option<f64>,
    /// `message_stats.deliver_get_details.rate` (deliveries with or without acks).
    pub deliver_per_s: Option<f64>,
    /// The broker's `effective_policy_definition`.
    pub effective_policy: Option<Map<String, Value>>,
}

/// Queues' figures by (vhost, name).
pub type Stats = BTreeMap<(String, String), QueueStats>;

/// Reads `/api/queues` output.
pub fn read_queues(file: &Path) -> Result<Stats, ImportError> {
    let text = crate::import::read_text(file)?;
    let value = json::parse(file, &text)?;
    let root = Node::root(file, &value);
    let mut stats = Stats::new();
    for q in root.items()? {
        let key = (
            q.opt_str("vhost")?.unwrap_or("/").to_owned(),
            q.req("name")?.str()?.to_owned(),
        );
        let rate = |name: &str| -> Result<Option<f64>, ImportError> {
            match q.get("message_stats").and_then(|m| m.get(name)) {
                Some(details) => details.opt_f64("rate"),
                None => Ok(None),
            }
        };
        let effective_policy = q
            .get("effective_policy_definition")
            .map(|n| match n.value {
                // Older brokers write an empty list for no definition.
                Value::Array(a) if a.is_empty() => Ok(Map::new()),
                _ => n.object().cloned(),
            })
            .transpose()?;
        stats.insert(
            key,
            QueueStats {
                consumers: q.opt_u64("consumers")?,
                utilisation: q.opt_f64("consumer_utilisation")?,
                ready: q.opt_u64("messages_ready")?.unwrap_or(0),
                unacked: q.opt_u64("messages_unacknowledged")?.unwrap_or(0),
                publish_per_s: rate("publish_details")?,
                ack_per_s: rate("ack_details")?,
                deliver_per_s: rate("deliver_get_details")?,
                effective_policy,
            },
        );
    }
    Ok(stats)
}

/// One consumer of `/api/consumers`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerInfo {
    /// `prefetch_count` (0: unlimited).
    pub prefetch: u64,
    /// Whether it acknowledges (manual acks).
    pub ack_required: bool,
}

/// Consumers by (vhost, queue name), in file order.
pub type Consumers = BTreeMap<(String, String), Vec<ConsumerInfo>>;

/// Reads `/api/consumers` output.
pub fn read_consumers(file: &Path) -> Result<Consumers, ImportError> {
    let text = crate::import::read_text(file)?;
    let value = json::parse(file, &text)?;
    let root = Node::root(file, &value);
    let mut consumers = Consumers::new();
    for c in root.items()? {
        let queue = c.req("queue")?;
        let key = (
            queue.opt_str("vhost")?.unwrap_or("/").to_owned(),
            queue.req("name")?.str()?.to_owned(),
        );
        let ack_required = match c.get("ack_required") {
            None => true,
            Some(n) => n
                .value
                .as_bool()
                .ok_or_else(|| n.expected("true or false"))?,
        };
        consumers.entry(key).or_default().push(ConsumerInfo {
            prefetch: c.opt_u64("prefetch_count")?.unwrap_or(0),
            ack_required,
        });
    }
    Ok(consumers)
}

/// Consumer utilisation below which a queue's consumers count as
/// saturated (busy all the time).
pub const SATURATED_BELOW: f64 = 0.9;

/// A queue's mean service time, inferred from its ack rate.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceEstimate {
    /// The consumers were saturated: each busy all the time, so the mean
    /// service time is `consumers / ack rate`.
    Saturated {
        /// Seconds.
        mean_s: f64,
        /// The comment.
        how: String,
    },
    /// The consumers kept up: the ack rate bounds the mean service time
    /// from above only (`consumers / ack rate`).
    AtMost {
        /// Seconds.
        bound_s: f64,
        /// The comment.
        how: String,
    },
    /// Nothing was acknowledged or delivered.
    Unknown,
}

/// Estimates the mean service time of `consumers` consumers from `stats`.
///
/// RabbitMQ's consumer utilisation is the fraction of time the queue could
/// deliver to a consumer at once. Below [`SATURATED_BELOW`] the consumers'
/// windows were full most of the time, that is every consumer was busy,
/// and `consumers / ack rate` is the mean service time (exact when they
/// never idle). Otherwise they kept up and the same ratio is only an upper
/// bound.
pub fn estimate_service(stats: &QueueStats, consumers: u64) -> ServiceEstimate {
    let (rate, what) = match (stats.ack_per_s, stats.deliver_per_s) {
        (Some(a), _) if a > 0.0 => (a, "ack rate"),
        (_, Some(d)) if d > 0.0 => (d, "delivery rate"),
        _ => return ServiceEstimate::Unknown,
    };
    let n = consumers.max(1) as f64;
    let mean_s = n / rate;
    let figures = format!(
        "{} {what} {}/s and {consumers} consumer{}",
        crate::import::emit::number(mean_s * 1e3) + " ms from",
        crate::import::emit::number(rate),
        if consumers == 1 { "" } else { "s" },
    );
    match stats.utilisation {
        Some(u) if u < SATURATED_BELOW => ServiceEstimate::Saturated {
            mean_s,
            how: format!(
                "{figures}: consumer utilisation {} < {SATURATED_BELOW} (saturated: each consumer busy all the time, mean = consumers / {what}); exponential assumed",
                crate::import::emit::number(u)
            ),
        },
        u => ServiceEstimate::AtMost {
            bound_s: mean_s,
            how: format!(
                "at most {figures}: consumer utilisation {} (the consumers kept up, so {what} only bounds the mean from above)",
                u.map_or("not reported".to_owned(), crate::import::emit::number)
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturated_consumers_give_the_mean_service_time() {
        let stats = QueueStats {
            utilisation: Some(0.0007),
            ack_per_s: Some(13.2),
            ..QueueStats::default()
        };
        let ServiceEstimate::Saturated { mean_s, how } = estimate_service(&stats, 2) else {
            panic!("not saturated")
        };
        assert!((mean_s - 2.0 / 13.2).abs() < 1e-12);
        assert!(
            how.starts_with("151.5 ms from ack rate 13.2/s and 2 consumers"),
            "{how}"
        );
    }

    #[test]
    fn consumers_that_keep_up_give_a_bound_only() {
        let stats = QueueStats {
            utilisation: Some(1.0),
            ack_per_s: Some(20.0),
            ..QueueStats::default()
        };
        assert!(matches!(
            estimate_service(&stats, 3),
            ServiceEstimate::AtMost { bound_s, .. } if (bound_s - 0.15).abs() < 1e-12
        ));
        assert_eq!(
            estimate_service(&QueueStats::default(), 1),
            ServiceEstimate::Unknown
        );
    }
}
