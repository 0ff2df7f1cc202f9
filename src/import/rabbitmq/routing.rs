//! A vhost's exchanges as the scenario format routes, where messages go
//! through them, and the producers that explain the queues' measured
//! publish rates.
//!
//! Producers: every exchange that no other exchange routes to (a *root*)
//! gets one producer whose routing keys are the binding keys of the
//! exchanges it reaches, made concrete (`order.*.eu` becomes `order.x.eu`,
//! `#` the empty key). With measured publish rates, each key takes the
//! lowest rate still unexplained among the queues it reaches, keys that
//! reach more queues first (a key reaching `orders-eu` and `audit` at 20/s
//! and 35/s explains 20/s of each); the rate a queue is left with was
//! published through the default exchange, straight to the queue. Without
//! rates, or for a node nothing reaches, the rate is a placeholder.

use std::collections::{BTreeMap, BTreeSet};

use crate::scenario::topic_matches;

/// The least rate, per second, that counts as traffic.
pub const MIN_RATE: f64 = 1e-3;

/// How an exchange routes, in the scenario's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Binding key equals routing key.
    Direct,
    /// Binding keys with `*` and `#`.
    Topic,
    /// Every route gets a copy.
    Fanout,
    /// One route per message, by weight.
    Weighted,
}

impl Kind {
    /// The scenario's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Topic => "topic",
            Self::Fanout => "fanout",
            Self::Weighted => "weighted",
        }
    }

    /// Whether its routes carry binding keys.
    pub fn keyed(self) -> bool {
        matches!(self, Self::Direct | Self::Topic)
    }
}

/// One route of an exchange.
#[derive(Debug, Clone)]
pub struct Route {
    /// The node it leads to (a queue, or an exchange's node name).
    pub to: String,
    /// The binding key, for keyed exchanges.
    pub key: Option<String>,
    /// The weight, for weighted exchanges.
    pub weight: f64,
    /// Where it came from.
    pub comment: String,
}

/// An exchange, as it will be written.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Its name in the scenario.
    pub node: String,
    /// How it routes.
    pub kind: Kind,
    /// Its routes.
    pub routes: Vec<Route>,
    /// Its alternate exchange's node, if any.
    pub alternate: Option<String>,
    /// Comments for its `kind` line.
    pub comment: String,
}

/// The exchanges of a vhost, by node name, and its queues.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Exchanges by node name.
    pub exchanges: BTreeMap<String, Exchange>,
    /// Queue names.
    pub queues: BTreeSet<String>,
}

impl Graph {
    /// The queues a message with routing key `key` published to `node`
    /// reaches (a weighted exchange counts all its routes).
    pub fn reach(&self, node: &str, key: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.reach_into(node, key, &mut out, &mut BTreeSet::new());
        out
    }

    fn reach_into(
        &self,
        node: &str,
        key: &str,
        out: &mut BTreeSet<String>,
        seen: &mut BTreeSet<String>,
    ) {
        if !seen.insert(node.to_owned()) {
            return;
        }
        let Some(exchange) = self.exchanges.get(node) else {
            if self.queues.contains(node) {
                out.insert(node.to_owned());
            }
            return;
        };
        let matched: Vec<&Route> = exchange
            .routes
            .iter()
            .filter(|r| match (exchange.kind, &r.key) {
                (Kind::Direct, Some(k)) => k == key,
                (Kind::Topic, Some(k)) => topic_matches(k, key),
                _ => true,
            })
            .collect();
        if matched.is_empty()
            && let Some(alternate) = &exchange.alternate
        {
            self.reach_into(alternate, key, out, seen);
        }
        for route in matched {
            self.reach_into(&route.to, key, out, seen);
        }
    }

    /// Every queue `node` can route to, whatever the key.
    pub fn reach_any(&self, node: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![node.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            match self.exchanges.get(&n) {
                Some(x) => {
                    stack.extend(x.routes.iter().map(|r| r.to.clone()));
                    stack.extend(x.alternate.iter().cloned());
                }
                None if self.queues.contains(&n) => {
                    out.insert(n);
                }
                None => {}
            }
        }
        out
    }

    /// Exchanges no other exchange routes to (as a route or an alternate).
    pub fn roots(&self) -> Vec<String> {
        let targets: BTreeSet<&str> = self
            .exchanges
            .values()
            .flat_map(|x| {
                x.routes
                    .iter()
                    .map(|r| r.to.as_str())
                    .chain(x.alternate.as_deref())
            })
            .collect();
        self.exchanges
            .keys()
            .filter(|n| !targets.contains(n.as_str()))
            .cloned()
            .collect()
    }

    /// Concrete routing keys for the binding keys of the keyed exchanges
    /// `node` leads to, itself included, in order of first appearance.
    pub fn candidate_keys(&self, node: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut stack = vec![node.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            let Some(x) = self.exchanges.get(&n) else {
                continue;
            };
            for route in &x.routes {
                if let (true, Some(k)) = (x.kind.keyed(), &route.key) {
                    let key = concrete_key(k, x.kind == Kind::Topic);
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            stack.extend(x.routes.iter().rev().map(|r| r.to.clone()));
            stack.extend(x.alternate.iter().cloned());
        }
        keys
    }
}

/// A routing key that a binding key matches: a topic binding's `*` becomes
/// the word `x` and its `#` no word at all.
pub fn concrete_key(binding_key: &str, topic: bool) -> String {
    if !topic {
        return binding_key.to_owned();
    }
    binding_key
        .split('.')
        .filter(|w| *w != "#")
        .map(|w| if w == "*" { "x" } else { w })
        .collect::<Vec<_>>()
        .join(".")
}

/// A producer to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Producer {
    /// Its node.
    pub to: String,
    /// Its rate, or `None` for a placeholder.
    pub rate_per_s: Option<f64>,
    /// Routing keys and their weights (rates per second, or 1 for
    /// placeholders), with the queues each reaches.
    pub keys: Vec<(String, f64, BTreeSet<String>)>,
    /// Rates explained before this producer, for the comment: none for an
    /// exchange's producer; for a queue's, what exchanges explained.
    pub explained_per_s: f64,
}

/// Where messages enter besides producers: dead-letter targets (queue to
/// queue), queues with a backlog, and the dead-letter exchanges (which
/// need no producer: their routes are written as `dead_letter`).
#[derive(Debug, Clone, Default)]
pub struct Entries {
    /// Each queue's dead-letter queue.
    pub dead_letters: BTreeMap<String, String>,
    /// Queues with a backlog.
    pub backlog: BTreeSet<String>,
    /// Exchanges that serve as dead-letter exchanges.
    pub dead_letter_exchanges: BTreeSet<String>,
}

/// The producers that explain `rates` (publish rate per queue), or
/// placeholders where `rates` is `None`. A queue that nothing reaches
/// gets a placeholder producer; a root exchange only without `rates`
/// (with rates, an exchange they do not explain saw no traffic) and only
/// if it is not a dead-letter exchange.
pub fn producers(
    graph: &Graph,
    queue_order: &[String],
    rates: Option<&BTreeMap<String, f64>>,
    entries: &Entries,
) -> Vec<Producer> {
    let mut remaining = rates.cloned().unwrap_or_default();
    let mut out = Vec::new();
    for root in graph.roots() {
        let producer = root_producer(graph, &root, rates.is_some(), &mut remaining);
        out.extend(producer);
    }
    if let Some(rates) = rates {
        for queue in queue_order {
            let left = remaining.get(queue).copied().unwrap_or(0.0);
            if left > MIN_RATE {
                out.push(Producer {
                    to: queue.clone(),
                    rate_per_s: Some(left),
                    keys: Vec::new(),
                    explained_per_s: rates.get(queue).copied().unwrap_or(0.0) - left,
                });
            }
        }
    }
    let seen = reached(graph, &out, entries);
    for root in graph.roots() {
        let wanted = rates.is_none() && !entries.dead_letter_exchanges.contains(&root);
        if wanted && !seen.contains(&root) {
            let keys = graph
                .candidate_keys(&root)
                .into_iter()
                .map(|k| {
                    let reach = graph.reach(&root, &k);
                    (k, 1.0, reach)
                })
                .collect();
            out.push(placeholder(&root, keys));
        }
    }
    let seen = reached(graph, &out, entries);
    for queue in queue_order {
        if !seen.contains(queue) {
            out.push(placeholder(queue, Vec::new()));
        }
    }
    out
}

fn placeholder(to: &str, keys: Vec<(String, f64, BTreeSet<String>)>) -> Producer {
    Producer {
        to: to.to_owned(),
        rate_per_s: None,
        keys,
        explained_per_s: 0.0,
    }
}

/// The producer of root exchange `root`: with rates, the part of
/// `remaining` it explains (taken out of it), or `None` if it explains
/// nothing; without, a placeholder.
fn root_producer(
    graph: &Graph,
    root: &str,
    measured: bool,
    remaining: &mut BTreeMap<String, f64>,
) -> Option<Producer> {
    let exchange = &graph.exchanges[root];
    if !measured {
        let keys = graph
            .candidate_keys(root)
            .into_iter()
            .map(|k| {
                let reach = graph.reach(root, &k);
                (k, 1.0, reach)
            })
            .collect();
        return Some(placeholder(root, keys));
    }
    let lowest = |reach: &BTreeSet<String>, remaining: &BTreeMap<String, f64>| {
        reach
            .iter()
            .map(|q| remaining.get(q).copied().unwrap_or(0.0))
            .fold(f64::INFINITY, f64::min)
    };
    let take = |reach: &BTreeSet<String>, rate: f64, remaining: &mut BTreeMap<String, f64>| {
        for q in reach {
            if let Some(r) = remaining.get_mut(q) {
                *r = (*r - rate).max(0.0);
            }
        }
    };
    match exchange.kind {
        Kind::Direct | Kind::Topic => {
            let mut candidates: Vec<(String, BTreeSet<String>)> = graph
                .candidate_keys(root)
                .into_iter()
                .map(|k| {
                    let reach = graph.reach(root, &k);
                    (k, reach)
                })
                .filter(|(_, reach)| !reach.is_empty())
                .collect();
            candidates.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
            let mut keys = Vec::new();
            for (key, reach) in candidates {
                let rate = lowest(&reach, remaining);
                if rate.is_finite() && rate > MIN_RATE {
                    take(&reach, rate, remaining);
                    keys.push((key, rate, reach));
                }
            }
            let total: f64 = keys.iter().map(|k| k.1).sum();
            (total > MIN_RATE).then(|| Producer {
                to: root.to_owned(),
                rate_per_s: Some(total),
                keys,
                explained_per_s: 0.0,
            })
        }
        Kind::Fanout => {
            let reach = graph.reach(root, "");
            let rate = lowest(&reach, remaining);
            (rate.is_finite() && rate > MIN_RATE).then(|| {
                take(&reach, rate, remaining);
                Producer {
                    to: root.to_owned(),
                    rate_per_s: Some(rate),
                    keys: Vec::new(),
                    explained_per_s: 0.0,
                }
            })
        }
        Kind::Weighted => {
            let total_weight: f64 = exchange.routes.iter().map(|r| r.weight).sum();
            let per_route: Vec<(BTreeSet<String>, f64)> = exchange
                .routes
                .iter()
                .map(|r| (graph.reach(&r.to, ""), r.weight / total_weight))
                .collect();
            let rate = per_route
                .iter()
                .map(|(reach, share)| lowest(reach, remaining) / share)
                .fold(f64::INFINITY, f64::min);
            (rate.is_finite() && rate > MIN_RATE).then(|| {
                for (reach, share) in &per_route {
                    take(reach, rate * share, remaining);
                }
                Producer {
                    to: root.to_owned(),
                    rate_per_s: Some(rate),
                    keys: Vec::new(),
                    explained_per_s: 0.0,
                }
            })
        }
    }
}

/// Every node reached from `producers`, the backlogs and the dead letters.
pub fn reached(graph: &Graph, producers: &[Producer], entries: &Entries) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = producers
        .iter()
        .map(|p| p.to.clone())
        .chain(entries.backlog.iter().cloned())
        .collect();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(x) = graph.exchanges.get(&n) {
            stack.extend(x.routes.iter().map(|r| r.to.clone()));
            stack.extend(x.alternate.iter().cloned());
        }
        stack.extend(entries.dead_letters.get(&n).cloned());
    }
    seen
}

/// Where dead letters of `queue` go: exchange node `dlx` (`None`: the
/// default exchange) with routing key `dlrk`. `Err` says why no single
/// queue can be named.
pub fn dead_letter_queue(
    graph: &Graph,
    queue: &str,
    dlx: Option<&str>,
    dlrk: Option<&str>,
) -> Result<String, String> {
    let targets = match (dlx, dlrk) {
        (None, Some(key)) if graph.queues.contains(key) => BTreeSet::from([key.to_owned()]),
        (None, Some(key)) => return Err(format!("the default exchange has no queue {key:?}")),
        (None, None) => {
            return Err(
                "the default exchange without a dead-letter routing key returns dead letters by their original routing key"
                    .to_owned(),
            );
        }
        (Some(x), _) if !graph.exchanges.contains_key(x) => {
            return Err(format!("exchange {x:?} is not imported"));
        }
        (Some(x), Some(key)) => graph.reach(x, key),
        (Some(x), None) => graph.reach_any(x),
    };
    let targets: Vec<String> = targets.into_iter().filter(|q| q != queue).collect();
    match targets.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("it routes them to no other queue".to_owned()),
        many => Err(format!(
            "it routes them to {} queues ({}) and `dead_letter` takes one",
            many.len(),
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(to: &str, key: Option<&str>) -> Route {
        Route {
            to: to.to_owned(),
            key: key.map(str::to_owned),
            weight: 1.0,
            comment: String::new(),
        }
    }

    /// events (topic) -> orders-eu "order.*.eu", audit "#", billing
    /// (direct) "billing.#"; billing -> invoices "billing.invoice".
    fn graph() -> Graph {
        let mut g = Graph::default();
        for q in ["orders-eu", "audit", "invoices"] {
            g.queues.insert(q.to_owned());
        }
        g.exchanges.insert(
            "events".to_owned(),
            Exchange {
                node: "events".to_owned(),
                kind: Kind::Topic,
                routes: vec![
                    route("orders-eu", Some("order.*.eu")),
                    route("audit", Some("#")),
                    route("billing", Some("billing.#")),
                ],
                alternate: None,
                comment: String::new(),
            },
        );
        g.exchanges.insert(
            "billing".to_owned(),
            Exchange {
                node: "billing".to_owned(),
                kind: Kind::Direct,
                routes: vec![route("invoices", Some("billing.invoice"))],
                alternate: None,
                comment: String::new(),
            },
        );
        g
    }

    #[test]
    fn concrete_keys_match_their_bindings() {
        for (binding, key) in [
            ("order.*.eu", "order.x.eu"),
            ("#", ""),
            ("a.#.b", "a.b"),
            ("billing.#", "billing"),
        ] {
            assert_eq!(concrete_key(binding, true), key);
            assert!(topic_matches(binding, key));
        }
    }

    #[test]
    fn keys_reaching_most_queues_explain_their_rates_first() {
        let g = graph();
        let rates = BTreeMap::from([
            ("orders-eu".to_owned(), 20.0),
            ("audit".to_owned(), 35.0),
            ("invoices".to_owned(), 5.0),
        ]);
        let order: Vec<String> = ["audit", "invoices", "orders-eu"]
            .map(str::to_owned)
            .to_vec();
        let found = producers(&g, &order, Some(&rates), &Entries::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let p = &found[0];
        assert_eq!(p.to, "events");
        assert!((p.rate_per_s.unwrap() - 35.0).abs() < 1e-9);
        let keys: Vec<(&str, f64)> = p.keys.iter().map(|k| (k.0.as_str(), k.1)).collect();
        assert_eq!(
            keys,
            vec![("billing.invoice", 5.0), ("order.x.eu", 20.0), ("", 10.0)]
        );
    }

    #[test]
    fn unexplained_rates_go_straight_to_their_queue_and_missing_ones_are_placeholders() {
        let mut g = graph();
        g.queues.insert("tasks".to_owned());
        g.queues.insert("idle".to_owned());
        let rates = BTreeMap::from([("tasks".to_owned(), 15.0)]);
        let order: Vec<String> = ["tasks", "idle"].map(str::to_owned).to_vec();
        let found = producers(&g, &order, Some(&rates), &Entries::default());
        let summary: Vec<(&str, Option<f64>)> = found
            .iter()
            .map(|p| (p.to.as_str(), p.rate_per_s))
            .collect();
        assert_eq!(
            summary,
            vec![("tasks", Some(15.0)), ("idle", None)],
            "measured: no exchange placeholder"
        );
        let found = producers(&g, &order, None, &Entries::default());
        let summary: Vec<(&str, Option<f64>)> = found
            .iter()
            .map(|p| (p.to.as_str(), p.rate_per_s))
            .collect();
        assert_eq!(
            summary,
            vec![("events", None), ("tasks", None), ("idle", None)]
        );
    }

    #[test]
    fn dead_letters_need_exactly_one_queue() {
        let g = graph();
        assert_eq!(
            dead_letter_queue(&g, "audit", None, Some("invoices")),
            Ok("invoices".to_owned())
        );
        assert_eq!(
            dead_letter_queue(&g, "audit", Some("billing"), None),
            Ok("invoices".to_owned())
        );
        assert_eq!(
            dead_letter_queue(&g, "x", Some("events"), Some("order.a.eu")).unwrap_err(),
            "it routes them to 2 queues (audit, orders-eu) and `dead_letter` takes one"
        );
        assert!(dead_letter_queue(&g, "audit", None, None).is_err());
    }
}
