//! Routing keys against binding keys, resolved once at validation.
//!
//! A direct exchange sends a message to every route whose binding key
//! equals its routing key; a topic exchange to every route whose binding
//! pattern matches it, as RabbitMQ's topic exchange does: keys are words
//! separated by `.`, `*` in a pattern stands for exactly one word and `#`
//! for zero or more; the empty key has no words. Every other word (`a*`
//! included) matches itself only.
//!
//! Validation of the keys lives here too: producers' `routing_key(s)` and
//! `confirm`, exchanges whose routes have binding keys.
//!
//! [`resolve`] fills each keyed exchange's [`KeyRouting`] with the
//! destinations of every routing key of the model: the distinct targets
//! of the matching routes in route order (a message matching two
//! bindings to one queue gets one copy there), else the alternate, else
//! none (the message is unroutable). The engine then routes by index.

use std::collections::HashMap;

use super::error::{ErrorKind, ScenarioError};
use super::locate::Source;
use super::raw::{RawConfirm, RawExchange, RawExchangeKind, RawProducer};
use super::validate::Validator;
use crate::model::{
    Confirm, Exchange, ExchangeKind, KeyRouting, Model, NO_ROUTING_KEY, Route, RoutingKeyId, Target,
};
use crate::units::QuantityKind;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Most (keyed exchange, routing key) pairs a scenario may resolve: each
/// keeps its destinations in memory, and validation matches every pair.
pub const MAX_KEY_PAIRS: usize = 10_000_000;

/// The words of a routing or binding key; the empty key has none.
fn words(key: &str) -> Vec<&str> {
    if key.is_empty() {
        Vec::new()
    } else {
        key.split('.').collect()
    }
}

/// Whether topic binding `pattern` matches routing key `key`.
///
/// Dynamic programming over (pattern words, key words): time and memory
/// `O(|pattern| · |key|)` whatever the number of `#`.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    let p = words(pattern);
    let k = words(key);
    // matches[j]: the pattern words seen so far match the first j key words.
    let mut matches = vec![false; k.len() + 1];
    matches[0] = true;
    for word in &p {
        let mut next = vec![false; k.len() + 1];
        match *word {
            "#" => {
                // Zero words, or one more word after a match.
                for j in 0..=k.len() {
                    next[j] = matches[j] || (j > 0 && next[j - 1]);
                }
            }
            "*" => next[1..].copy_from_slice(&matches[..k.len()]),
            literal => {
                for j in 1..=k.len() {
                    next[j] = matches[j - 1] && k[j - 1] == literal;
                }
            }
        }
        matches = next;
    }
    matches[k.len()]
}

/// The routing keys of the producers, numbered as they first appear;
/// number 0 is the empty key.
pub(super) struct RoutingKeys {
    pub(super) names: Vec<String>,
    ids: HashMap<String, RoutingKeyId>,
}

impl Default for RoutingKeys {
    fn default() -> Self {
        Self {
            names: vec![String::new()],
            ids: HashMap::from([(String::new(), NO_ROUTING_KEY)]),
        }
    }
}

impl RoutingKeys {
    pub(super) fn id(&mut self, key: &str) -> RoutingKeyId {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let id = self.names.len() as RoutingKeyId;
        self.names.push(key.to_owned());
        self.ids.insert(key.to_owned(), id);
        id
    }
}

impl Validator<'_> {
    /// `routing_key` or `routing_keys` of producer `key`, numbered, with
    /// normalised weights.
    pub(super) fn producer_routing_keys(
        &mut self,
        key: &str,
        p: &RawProducer,
    ) -> Result<Vec<(RoutingKeyId, f64)>> {
        let weighted: Vec<(&str, f64)> = match (&p.routing_key, &p.routing_keys) {
            (None, None) => return Ok(Vec::new()),
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &format!("{key}.routing_keys"),
                    "give either `routing_key` (one key for every message) or `routing_keys` \
                     (keys drawn by weight), not both",
                ));
            }
            (Some(one), None) => vec![(one.as_str(), 1.0)],
            (None, Some(list)) => {
                if list.is_empty() {
                    return Err(self.invalid(
                        &format!("{key}.routing_keys"),
                        "the list is empty; give at least one `{ key = \"...\", weight = 1 }`, \
                         or use `routing_key`",
                    ));
                }
                let mut weighted = Vec::with_capacity(list.len());
                for (i, k) in list.iter().enumerate() {
                    let at = format!("{key}.routing_keys[{i}]");
                    if weighted.iter().any(|&(seen, _)| seen == k.key) {
                        return Err(self.invalid(
                            &format!("{at}.key"),
                            format!("`{}` is listed twice; keep one entry per key", k.key),
                        ));
                    }
                    let weight =
                        self.number(&format!("{at}.weight"), k.weight.unwrap_or(1.0), true)?;
                    weighted.push((k.key.as_str(), weight));
                }
                weighted
            }
        };
        let total: f64 = weighted.iter().map(|&(_, w)| w).sum();
        if !total.is_finite() {
            return Err(self.invalid(
                &format!("{key}.routing_keys"),
                "the weights add up to infinity; use smaller weights",
            ));
        }
        Ok(weighted
            .into_iter()
            .map(|(k, w)| (self.routing_keys.id(k), w / total))
            .collect())
    }

    /// `confirm = { latency, in_flight }` of a producer.
    pub(super) fn confirm(&self, key: &str, c: &RawConfirm) -> Result<Confirm> {
        let latency = self.dist(
            &format!("{key}.latency"),
            &c.latency,
            QuantityKind::Duration,
        )?;
        let in_flight = c.in_flight.unwrap_or(1);
        if in_flight == 0 {
            return Err(self.invalid(
                &format!("{key}.in_flight"),
                "must be at least 1: it is the most publications awaiting their confirm at once",
            ));
        }
        Ok(Confirm { latency, in_flight })
    }

    /// A direct or topic exchange whose routes all have binding keys; the
    /// destinations of each routing key are filled in later
    /// ([`super::bindings::resolve`]). Several routes may lead to one node.
    pub(super) fn keyed_exchange(&mut self, key: &str, e: &RawExchange) -> Result<Exchange> {
        let kind = match e.kind {
            RawExchangeKind::Direct => ExchangeKind::Direct,
            RawExchangeKind::Topic => ExchangeKind::Topic,
            other => {
                let (name, why) = match other {
                    RawExchangeKind::Fanout => ("fanout", "copies every message to every route"),
                    _ => ("weighted", "sends each message down one route by weight"),
                };
                let (i, r) = (e.routes.iter().enumerate())
                    .find(|(_, r)| r.key.is_some())
                    .expect("a keyed exchange has a keyed route");
                return Err(self.src.error_at(
                    &format!("{key}.routes.{}.key", r.to),
                    &format!("{key}.routes[{i}]"),
                    ErrorKind::InvalidValue(format!(
                        "a {name} exchange {why} and has no binding keys; remove `key`, or \
                         set `kind = \"direct\"` (keys equal) or `kind = \"topic\"` (patterns)"
                    )),
                ));
            }
        };
        let mut routes = Vec::with_capacity(e.routes.len());
        let mut bindings = Vec::with_capacity(e.routes.len());
        for (i, r) in e.routes.iter().enumerate() {
            let route_key = format!("{key}.routes.{}", r.to);
            let lookup = format!("{key}.routes[{i}]");
            let Some(binding) = &r.key else {
                return Err(self.src.error_at(
                    &route_key,
                    &lookup,
                    ErrorKind::InvalidValue(
                        "has no `key` while other routes of this exchange have one: give every \
                         route a binding key (key routing) or none (weight routing)"
                            .into(),
                    ),
                ));
            };
            let to = self.target(&format!("{route_key}.to"), &r.to, false)?;
            if r.weight.is_some() {
                self.warnings.push(format!(
                    "`{route_key}.weight` is ignored: a route with a binding key gets a copy of \
                     every message whose routing key matches it"
                ));
            }
            routes.push(Route { to, weight: 0.0 });
            bindings.push(binding.clone());
        }
        let n = routes.len() as f64;
        routes.iter_mut().for_each(|r| r.weight = 1.0 / n);
        let alternate = match &e.alternate {
            None => None,
            Some(name) if *name == e.name => {
                return Err(self.invalid(
                    &format!("{key}.alternate"),
                    "an exchange cannot be its own alternate; name another node",
                ));
            }
            Some(name) => Some(self.target(&format!("{key}.alternate"), name, false)?),
        };
        Ok(Exchange {
            name: e.name.clone(),
            kind,
            routes,
            keyed: Some(KeyRouting {
                bindings,
                alternate,
                offsets: Vec::new(),
                targets: Vec::new(),
                matched: Vec::new(),
            }),
        })
    }
}

/// Whether binding key `binding` of an exchange of `kind` matches `key`.
fn binding_matches(kind: ExchangeKind, binding: &str, key: &str) -> bool {
    match kind {
        ExchangeKind::Topic => topic_matches(binding, key),
        _ => binding == key,
    }
}

/// Fills the destinations of every keyed exchange for every routing key
/// in `keys` (indexed by routing key id).
///
/// # Errors
///
/// More than [`MAX_KEY_PAIRS`] pairs of keyed exchanges and routing keys.
pub(super) fn resolve(exchanges: &mut [Exchange], keys: &[String], src: &Source) -> Result<()> {
    let keyed = exchanges.iter().filter(|e| e.keyed.is_some()).count();
    if let Some(first) = exchanges.iter().find(|e| e.keyed.is_some())
        && keyed.saturating_mul(keys.len()) > MAX_KEY_PAIRS
    {
        return Err(src.error(
            &format!("exchanges.{}", first.name),
            ErrorKind::InvalidValue(format!(
                "{keyed} exchanges with binding keys and {} routing keys make {} pairs to \
                 resolve, more than the {MAX_KEY_PAIRS} a scenario may have: use fewer \
                 distinct routing keys",
                keys.len(),
                keyed * keys.len()
            )),
        ));
    }
    for exchange in exchanges.iter_mut() {
        let kind = exchange.kind;
        let routes: Vec<Target> = exchange.routes.iter().map(|r| r.to).collect();
        let Some(routing) = &mut exchange.keyed else {
            continue;
        };
        routing.offsets = Vec::with_capacity(keys.len() + 1);
        routing.targets.clear();
        routing.matched = Vec::with_capacity(keys.len());
        routing.offsets.push(0);
        for key in keys {
            let start = routing.targets.len();
            for (binding, &to) in routing.bindings.iter().zip(&routes) {
                if binding_matches(kind, binding, key) && !routing.targets[start..].contains(&to) {
                    routing.targets.push(to);
                }
            }
            let matched = routing.targets.len() > start;
            if let (false, Some(alternate)) = (matched, routing.alternate) {
                routing.targets.push(alternate);
            }
            routing.matched.push(matched);
            routing.offsets.push(routing.targets.len() as u32);
        }
    }
    Ok(())
}

/// Which producers set routing keys that no exchange with binding keys
/// can see: none is reachable from the producer's first node along
/// routes, alternates, partitions, `next` and dead letters (a message
/// keeps its routing key all the way).
pub(super) fn idle_routing_keys(model: &Model) -> Vec<bool> {
    let (nq, ne) = (model.queues.len(), model.exchanges.len());
    let index = |t: Target| match t {
        Target::Queue(q) => q,
        Target::Exchange(e) => nq + e,
        Target::Topic(t) => nq + ne + t,
    };
    let n = nq + ne + model.topics.len();
    // Edges reversed, to walk back from the keyed exchanges.
    let mut senders: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (q, queue) in model.queues.iter().enumerate() {
        let next = queue
            .consumers
            .iter()
            .flat_map(|c| c.next.iter().map(|r| r.to));
        for to in next.chain(queue.dead_letter.map(Target::Queue)) {
            senders[index(to)].push(q);
        }
    }
    for (e, exchange) in model.exchanges.iter().enumerate() {
        let alternate = exchange.keyed.as_ref().and_then(|k| k.alternate);
        for to in exchange.routes.iter().map(|r| r.to).chain(alternate) {
            senders[index(to)].push(nq + e);
        }
    }
    for (t, topic) in model.topics.iter().enumerate() {
        for p in topic.partition_queues() {
            senders[p].push(nq + ne + t);
        }
    }
    let mut sees_keys = vec![false; n];
    let mut todo: Vec<usize> = (model.exchanges.iter().enumerate())
        .filter(|(_, e)| e.keyed.is_some())
        .map(|(e, _)| nq + e)
        .collect();
    while let Some(node) = todo.pop() {
        if !std::mem::replace(&mut sees_keys[node], true) {
            todo.extend(&senders[node]);
        }
    }
    (model.producers.iter())
        .map(|p| !p.routing_keys.is_empty() && !sees_keys[index(p.to)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn a_star_is_exactly_one_word() {
        assert!(topic_matches("order.*.eu", "order.created.eu"));
        assert!(!topic_matches("order.*.eu", "order.eu"));
        assert!(!topic_matches("order.*.eu", "order.created.big.eu"));
        assert!(topic_matches("*", "order"));
        assert!(!topic_matches("*", ""));
        assert!(!topic_matches("*", "order.created"));
        assert!(topic_matches("*.*", "order.created"));
    }

    #[test]
    fn a_hash_is_zero_or_more_words() {
        assert!(topic_matches("#", ""));
        assert!(topic_matches("#", "order"));
        assert!(topic_matches("#", "order.created.eu"));
        assert!(topic_matches("order.#", "order"));
        assert!(topic_matches("order.#", "order.created.eu"));
        assert!(!topic_matches("order.#", "audit.order"));
        assert!(topic_matches("#.eu", "eu"));
        assert!(topic_matches("#.eu", "order.created.eu"));
        assert!(topic_matches("#.#", ""));
        assert!(topic_matches("#.*", "order"));
        assert!(!topic_matches("#.*", ""));
    }

    #[test]
    fn a_hash_between_words_may_match_none() {
        assert!(topic_matches("a.#.b", "a.b"));
        assert!(topic_matches("a.#.b", "a.x.b"));
        assert!(topic_matches("a.#.b", "a.x.y.b"));
        assert!(!topic_matches("a.#.b", "a.x"));
        assert!(!topic_matches("a.#.b", "a"));
        assert!(!topic_matches("a.#.b", "b.a.b.c"));
        assert!(topic_matches("a.#.b.#.c", "a.b.c"));
        assert!(topic_matches("a.#.b.#.c", "a.x.b.y.z.c"));
    }

    #[test]
    fn empty_words_are_words() {
        // "a..b" has three words, the middle one empty.
        assert!(topic_matches("a.*.b", "a..b"));
        assert!(topic_matches("a..b", "a..b"));
        assert!(!topic_matches("a.b", "a..b"));
        // "." is two empty words; "" is none.
        assert!(topic_matches("*.*", "."));
        assert!(!topic_matches("*", "."));
        assert!(topic_matches("", ""));
        assert!(!topic_matches("", "a"));
        assert!(topic_matches("a.*", "a."));
    }

    #[test]
    fn other_words_match_only_themselves() {
        assert!(topic_matches("order.created", "order.created"));
        assert!(!topic_matches("order.created", "order.cancelled"));
        assert!(!topic_matches("ord*", "order"));
        assert!(topic_matches("ord*", "ord*"));
        assert!(!topic_matches("order", "Order"));
    }
}
