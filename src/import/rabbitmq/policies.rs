//! RabbitMQ policies and operator policies, applied to a queue as the
//! broker applies them.
//!
//! The rules modelled (RabbitMQ 3.x, `rabbit_policy` and the queue types'
//! argument lookups):
//!
//! - A policy applies to a queue when its `pattern` (a regular expression)
//!   matches the queue's name somewhere (unanchored, as Erlang's `re:run`)
//!   and its `apply-to` covers the queue (`all`, `queues`, or the queue's
//!   type: `classic_queues`, `quorum_queues`, `streams`).
//! - Of the policies that apply, only one takes effect: the one of highest
//!   `priority` (at equal priorities, the first listed; a note says so).
//!   Their definitions are never merged. The same holds for operator
//!   policies, separately.
//! - The policy's and the operator policy's definitions combine: for the
//!   numeric limits `max-length`, `max-length-bytes`, `message-ttl`,
//!   `expires` and `delivery-limit`, the lower value wins; any other key is
//!   the policy's.
//! - A queue argument and a policy value: for the same numeric limits the
//!   lowest of the argument, the policy and the operator policy applies;
//!   for the other keys (`dead-letter-exchange`, `dead-letter-routing-key`,
//!   `overflow`, `max-priority`, ...) the queue's argument wins over the
//!   policy.

use regex::Regex;
use serde_json::{Map, Value};

/// Keys whose lowest value applies wherever it is set.
const LOWEST_WINS: [&str; 5] = [
    "max-length",
    "max-length-bytes",
    "message-ttl",
    "expires",
    "delivery-limit",
];

/// What a policy's `apply-to` covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyTo {
    /// Queues and exchanges.
    All,
    /// Every queue.
    Queues,
    /// Exchanges only.
    Exchanges,
    /// Classic queues only.
    ClassicQueues,
    /// Quorum queues only.
    QuorumQueues,
    /// Streams only.
    Streams,
}

impl ApplyTo {
    /// Reads `apply-to`; `None` for a value this version does not know.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "all" => Self::All,
            "queues" => Self::Queues,
            "exchanges" => Self::Exchanges,
            "classic_queues" => Self::ClassicQueues,
            "quorum_queues" => Self::QuorumQueues,
            "streams" => Self::Streams,
            _ => return None,
        })
    }

    fn covers_queue(self, queue_type: &str) -> bool {
        match self {
            Self::All | Self::Queues => true,
            Self::Exchanges => false,
            Self::ClassicQueues => queue_type == "classic",
            Self::QuorumQueues => queue_type == "quorum",
            Self::Streams => queue_type == "stream",
        }
    }

    fn covers_exchanges(self) -> bool {
        matches!(self, Self::All | Self::Exchanges)
    }
}

/// One policy or operator policy of a vhost.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// The regular expression on names, as given.
    pub pattern: String,
    regex: Regex,
    /// What it applies to.
    pub apply_to: ApplyTo,
    /// Larger wins.
    pub priority: i64,
    /// Its keys and values.
    pub definition: Map<String, Value>,
}

impl Policy {
    /// A policy; `Err` with the regex error if `pattern` is not a regular
    /// expression this reader understands.
    pub fn new(
        name: &str,
        pattern: &str,
        apply_to: ApplyTo,
        priority: i64,
        definition: Map<String, Value>,
    ) -> Result<Self, regex::Error> {
        Ok(Self {
            name: name.to_owned(),
            pattern: pattern.to_owned(),
            regex: Regex::new(pattern)?,
            apply_to,
            priority,
            definition,
        })
    }
}

/// The policy that takes effect among `policies` for a name, given which
/// of them apply; with the names of others of the same priority that lost
/// the tie.
fn winner(policies: &[Policy], applies: impl Fn(&Policy) -> bool) -> Option<(&Policy, Vec<&str>)> {
    let matching: Vec<&Policy> = policies.iter().filter(|p| applies(p)).collect();
    let best = matching.iter().map(|p| p.priority).max()?;
    let mut tied = matching.into_iter().filter(|p| p.priority == best);
    let first = tied.next()?;
    Some((first, tied.map(|p| p.name.as_str()).collect()))
}

/// Where a queue setting came from, for the comment beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The value that applies.
    pub value: Value,
    /// `x-message-ttl from the queue's arguments`, `message-ttl from policy
    /// "ttl-orders"` and, where several were set, the values that lost.
    pub source: String,
}

/// The policies that take effect on one queue.
#[derive(Debug, Clone, Default)]
pub struct Effective<'a> {
    /// The policy, if one applies.
    pub policy: Option<&'a Policy>,
    /// The operator policy, if one applies.
    pub operator: Option<&'a Policy>,
    /// Policies that tied with the winner and lost (file order).
    pub ties: Vec<String>,
}

impl<'a> Effective<'a> {
    /// The policies of `policies` and `operator` that take effect on queue
    /// `name` of type `queue_type` (`classic`, `quorum`, `stream`).
    pub fn for_queue(
        policies: &'a [Policy],
        operator: &'a [Policy],
        name: &str,
        queue_type: &str,
    ) -> Self {
        let applies = |p: &Policy| p.apply_to.covers_queue(queue_type) && p.regex.is_match(name);
        Self::from_winners(winner(policies, applies), winner(operator, applies))
    }

    /// The policy of `policies` that takes effect on exchange `name`.
    pub fn for_exchange(policies: &'a [Policy], name: &str) -> Self {
        let applies = |p: &Policy| p.apply_to.covers_exchanges() && p.regex.is_match(name);
        Self::from_winners(winner(policies, applies), None)
    }

    fn from_winners(
        policy: Option<(&'a Policy, Vec<&'a str>)>,
        operator: Option<(&'a Policy, Vec<&'a str>)>,
    ) -> Self {
        let mut ties = Vec::new();
        for (winner, lost) in policy.iter().chain(operator.iter()) {
            ties.extend(
                lost.iter()
                    .map(|l| format!("{l:?} (tied with {:?})", winner.name)),
            );
        }
        Self {
            policy: policy.map(|(p, _)| p),
            operator: operator.map(|(p, _)| p),
            ties,
        }
    }

    /// The value of policy key `key` (`message-ttl`) for a queue whose
    /// arguments are `arguments` (where the key is `x-message-ttl`).
    pub fn setting(&self, arguments: &Map<String, Value>, key: &str) -> Option<Setting> {
        let argument = format!("x-{key}");
        let candidates: Vec<(Value, String)> = [
            arguments
                .get(&argument)
                .map(|v| (v.clone(), format!("{argument} from the queue's arguments"))),
            self.policy.and_then(|p| {
                p.definition
                    .get(key)
                    .map(|v| (v.clone(), format!("{key} from policy {:?}", p.name)))
            }),
            self.operator.and_then(|p| {
                p.definition.get(key).map(|v| {
                    (
                        v.clone(),
                        format!("{key} from operator policy {:?}", p.name),
                    )
                })
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        let chosen = if LOWEST_WINS.contains(&key) {
            candidates
                .iter()
                .min_by(|a, b| numeric(&a.0).total_cmp(&numeric(&b.0)))?
        } else {
            // The argument, else the policy; operator policies do not set these.
            candidates.first()?
        };
        let others: Vec<String> = candidates
            .iter()
            .filter(|c| c.1 != chosen.1)
            .map(|(v, s)| format!("{s}: {}", plain(v)))
            .collect();
        let source = if others.is_empty() {
            chosen.1.clone()
        } else if LOWEST_WINS.contains(&key) {
            format!("{} (lowest of; {})", chosen.1, others.join(", "))
        } else {
            format!(
                "{} (the argument wins over {})",
                chosen.1,
                others.join(", ")
            )
        };
        Some(Setting {
            value: chosen.0.clone(),
            source,
        })
    }

    /// The definition the broker reports as `effective_policy_definition`:
    /// the policy's keys, and the operator policy's where it is lower (or
    /// the policy lacks them).
    pub fn merged_definition(&self) -> Map<String, Value> {
        let mut merged = self
            .policy
            .map(|p| p.definition.clone())
            .unwrap_or_default();
        for (key, op_value) in self.operator.iter().flat_map(|p| p.definition.iter()) {
            let keep = merged.get(key).is_some_and(|v| {
                !LOWEST_WINS.contains(&key.as_str()) || numeric(v) <= numeric(op_value)
            });
            if !keep {
                merged.insert(key.clone(), op_value.clone());
            }
        }
        merged
    }
}

/// A JSON value as a number for comparisons (non-numbers sort last).
fn numeric(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::INFINITY)
}

/// A JSON value as it reads in a comment: strings unquoted.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(name: &str, pattern: &str, priority: i64, definition: Value) -> Policy {
        let Value::Object(map) = definition else {
            unreachable!()
        };
        Policy::new(name, pattern, ApplyTo::Queues, priority, map).unwrap()
    }

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_highest_priority_policy_alone_applies() {
        let policies = [
            policy("all", ".*", 0, json!({"max-length-bytes": 100})),
            policy("orders", "^orders-", 1, json!({"message-ttl": 2000})),
        ];
        let e = Effective::for_queue(&policies, &[], "orders-eu", "classic");
        assert_eq!(e.policy.unwrap().name, "orders");
        assert!(e.setting(&Map::new(), "max-length-bytes").is_none());
        let e = Effective::for_queue(&policies, &[], "audit", "classic");
        assert_eq!(e.policy.unwrap().name, "all");
    }

    #[test]
    fn patterns_are_unanchored_and_apply_to_is_honoured() {
        let mut p = policy("q", "ord", 0, json!({}));
        assert!(
            Effective::for_queue(std::slice::from_ref(&p), &[], "my-orders", "classic")
                .policy
                .is_some()
        );
        p.apply_to = ApplyTo::QuorumQueues;
        assert!(
            Effective::for_queue(std::slice::from_ref(&p), &[], "my-orders", "classic")
                .policy
                .is_none()
        );
        assert!(
            Effective::for_queue(std::slice::from_ref(&p), &[], "my-orders", "quorum")
                .policy
                .is_some()
        );
    }

    #[test]
    fn limits_take_the_lowest_value_and_name_the_others() {
        let policies = [policy(
            "p",
            ".*",
            0,
            json!({"max-length": 500, "message-ttl": 2000}),
        )];
        let operator = [policy(
            "op",
            ".*",
            0,
            json!({"max-length": 1000, "message-ttl": 60000}),
        )];
        let e = Effective::for_queue(&policies, &operator, "orders-eu", "classic");
        let arguments = args(json!({"x-max-length": 200}));
        let s = e.setting(&arguments, "max-length").unwrap();
        assert_eq!(s.value, json!(200));
        assert_eq!(
            s.source,
            "x-max-length from the queue's arguments (lowest of; max-length from policy \"p\": 500, max-length from operator policy \"op\": 1000)"
        );
        let ttl = e.setting(&arguments, "message-ttl").unwrap();
        assert_eq!(ttl.value, json!(2000));
        assert!(
            ttl.source.starts_with("message-ttl from policy \"p\""),
            "{}",
            ttl.source
        );
    }

    #[test]
    fn the_argument_wins_for_other_keys() {
        let policies = [policy(
            "p",
            ".*",
            0,
            json!({"dead-letter-exchange": "dlx", "overflow": "drop-head"}),
        )];
        let e = Effective::for_queue(&policies, &[], "q", "classic");
        let arguments = args(json!({"x-dead-letter-exchange": "mine"}));
        let dlx = e.setting(&arguments, "dead-letter-exchange").unwrap();
        assert_eq!(dlx.value, json!("mine"));
        let overflow = e.setting(&arguments, "overflow").unwrap();
        assert_eq!(overflow.source, "overflow from policy \"p\"");
    }

    #[test]
    fn merged_definitions_keep_the_lower_operator_limits() {
        let policies = [policy(
            "p",
            ".*",
            0,
            json!({"max-length": 500, "dead-letter-exchange": "d"}),
        )];
        let operator = [policy(
            "op",
            ".*",
            0,
            json!({"max-length": 1000, "message-ttl": 60000}),
        )];
        let e = Effective::for_queue(&policies, &operator, "q", "classic");
        assert_eq!(
            Value::Object(e.merged_definition()),
            json!({"max-length": 500, "dead-letter-exchange": "d", "message-ttl": 60000})
        );
    }

    #[test]
    fn ties_are_reported() {
        let policies = [
            policy("a", ".*", 3, json!({})),
            policy("b", "q", 3, json!({})),
        ];
        let e = Effective::for_queue(&policies, &[], "q", "classic");
        assert_eq!(e.policy.unwrap().name, "a");
        assert_eq!(e.ties, vec!["\"b\" (tied with \"a\")".to_owned()]);
    }
}
