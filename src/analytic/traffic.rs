//! The traffic equations of a scenario: mean message rates through every
//! node, solved once on a sparse graph for both `queuesim validate` (loads
//! and warnings, [`crate::scenario::traffic`]) and `queuesim analyze`.
//!
//! # Formula
//!
//! Nodes are the queues (a topic's partitions included), the exchanges and
//! the topics. With `x` the rate of messages entering each node, `γ` the
//! producers' mean rates (`1 / E[interarrival]`) and `M[i][j]` the mean
//! number of messages node `i` sends to node `j` per message it receives:
//!
//! ```text
//! x = γ + Mᵀ x
//! ```
//!
//! A weighted or direct exchange sends `weight` of a message down each
//! route, a fanout exchange one copy down every route, a topic an even
//! share to each partition. An exchange with binding keys sends one copy
//! to each destination of the message's routing key (none when it is
//! unroutable); a routing key travels with its message through the whole
//! network, so the equations are solved once per *key class* (routing
//! keys with the same destinations at every such exchange), each class
//! fed by its share of every producer's keys, and the classes summed. A queue with consumers whose attempts fail
//! with probability `p`, with at most `k` attempts, makes
//! `T = (1 − pᵏ) / (1 − p)` attempts per message (`1 / (1 − p)` when
//! retries are unlimited), forwards `(1 − pᵏ) · weight` along each `next`
//! route and `pᵏ` to its dead-letter queue. A producer's own messages
//! reach a key-partitioned topic spread by its Zipf key law hashed to the
//! partitions (its keys are known there; further down they are not).
//! Expiry (TTL) and overflow losses are not subtracted, and a producer
//! that waits for publisher confirms counts at its arrival rate, so rates
//! are upper bounds. Attempts at a queue are `T · x`.
//!
//! The equations are solved by [`FlowGraph`] (strongly connected
//! components in topological order: exact in one pass on an acyclic
//! network, LU or Gauss–Seidel on each loop), in time and memory linear in
//! nodes and routes for acyclic networks.

mod sparse;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

pub use sparse::{DENSE_LIMIT, FlowError, FlowGraph, MAX_SWEEPS, REL_TOL};

use crate::model::{
    AttemptShares, ExchangeKind, Model, NO_ROUTING_KEY, Partitioner, Producer, RoutingKeyId, Target,
};

/// The routing graph of a model, ready to solve for any set of producers.
///
/// Node indices: queues `0..Q`, exchanges `Q..Q+E`, topics after them
/// ([`ModelFlows::index`]).
#[derive(Debug, Clone)]
pub struct ModelFlows {
    /// The graph of each key class; one graph without key routing.
    graphs: Vec<FlowGraph>,
    /// Key class of each routing key; empty without key routing (every
    /// key is then of class 0).
    class_of_key: Vec<usize>,
    /// A routing key of each class.
    class_keys: Vec<RoutingKeyId>,
    queues: usize,
    exchanges: usize,
    /// Attempts per first arrival `T` of each queue.
    tries: Vec<f64>,
    /// Topological rank of each exchange and topic among exchanges and
    /// topics (index `node − Q`), so that a producer's messages are pushed
    /// through them in one pass.
    rank: Vec<usize>,
}

impl ModelFlows {
    /// Builds the graph of `model` (see the [module docs](self)).
    pub fn new(model: &Model) -> Self {
        let queues = model.queues.len();
        let exchanges = model.exchanges.len();
        let n = queues + exchanges + model.topics.len();
        let index = |t: Target| node_index(queues, exchanges, t);
        let mut edges = Vec::new();
        let mut tries = vec![1.0; queues];
        for (q, queue) in model.queues.iter().enumerate() {
            let Some(c) = &queue.consumers else { continue };
            let AttemptShares {
                tries: t,
                success,
                dead,
            } = c.attempt_shares();
            tries[q] = t;
            edges.extend(c.next.iter().map(|r| (q, index(r.to), success * r.weight)));
            if let Some(dl) = queue.dead_letter {
                edges.push((q, dl, dead));
            }
        }
        for (e, exchange) in model.exchanges.iter().enumerate() {
            if exchange.keyed.is_some() {
                continue;
            }
            let fanout = exchange.kind == ExchangeKind::Fanout;
            edges.extend(exchange.routes.iter().map(|r| {
                let m = if fanout { 1.0 } else { r.weight };
                (queues + e, index(r.to), m)
            }));
        }
        for (t, topic) in model.topics.iter().enumerate() {
            let share = 1.0 / topic.partition_count as f64;
            let from = queues + exchanges + t;
            edges.extend(topic.partition_queues().map(|p| (from, p, share)));
        }
        let (class_of_key, class_keys) = key_classes(model);
        let (graphs, rank) = if class_of_key.is_empty() {
            let graph = FlowGraph::new(n, edges);
            let rank = routing_ranks(&graph, queues);
            (vec![graph], rank)
        } else {
            let keyed_edges = |key: Option<RoutingKeyId>| {
                let mut all = edges.clone();
                for (e, exchange) in model.exchanges.iter().enumerate() {
                    let Some(keyed) = &exchange.keyed else {
                        continue;
                    };
                    let targets: Vec<Target> = match key {
                        Some(key) => keyed.destinations(key).to_vec(),
                        None => (exchange.routes.iter().map(|r| r.to))
                            .chain(keyed.alternate)
                            .collect(),
                    };
                    all.extend(targets.into_iter().map(|to| (queues + e, index(to), 1.0)));
                }
                all
            };
            let rank = routing_ranks(&FlowGraph::new(n, keyed_edges(None)), queues);
            let graphs = (class_keys.iter())
                .map(|&key| FlowGraph::new(n, keyed_edges(Some(key))))
                .collect();
            (graphs, rank)
        };
        Self {
            graphs,
            class_of_key,
            class_keys,
            queues,
            exchanges,
            tries,
            rank,
        }
    }

    /// Index of `target` among the graph's nodes.
    pub fn index(&self, target: Target) -> usize {
        node_index(self.queues, self.exchanges, target)
    }

    /// The graph of the first key class (the only one without key routing).
    pub fn graph(&self) -> &FlowGraph {
        &self.graphs[0]
    }

    /// Number of key classes (1 without key routing).
    pub fn key_classes(&self) -> usize {
        self.graphs.len()
    }

    /// A routing key of key class `class`.
    pub fn class_key(&self, class: usize) -> RoutingKeyId {
        self.class_keys[class]
    }

    /// The key class of routing key `key`.
    fn class_of(&self, key: RoutingKeyId) -> usize {
        self.class_of_key.get(key as usize).copied().unwrap_or(0)
    }

    /// Each key class's share of the messages of `producer`.
    pub fn producer_classes(&self, producer: &Producer) -> Vec<f64> {
        let mut shares = vec![0.0; self.graphs.len()];
        if producer.routing_keys.is_empty() {
            shares[self.class_of(NO_ROUTING_KEY)] = 1.0;
        }
        for &(key, weight) in &producer.routing_keys {
            shares[self.class_of(key)] += weight;
        }
        shares
    }

    /// Attempts per first arrival `T` of each queue.
    pub fn tries(&self) -> &[f64] {
        &self.tries
    }

    /// Rate of messages entering every node (first attempts at queues),
    /// counting only the producers that `include` selects.
    ///
    /// # Errors
    ///
    /// [`FlowError`] when a routing loop that receives their traffic has
    /// no finite solution (fanout copies multiplying without bound).
    pub fn rates(
        &self,
        model: &Model,
        include: impl Fn(&Producer) -> bool,
    ) -> Result<Vec<f64>, FlowError> {
        let mut classes = self.class_rates(model, include)?.into_iter();
        let mut x = classes.next().expect("a model has at least one key class");
        for class in classes {
            x.iter_mut().zip(class).for_each(|(v, c)| *v += c);
        }
        Ok(x)
    }

    /// [`Self::rates`] of the messages of each key class apart.
    ///
    /// # Errors
    ///
    /// As [`Self::rates`].
    pub fn class_rates(
        &self,
        model: &Model,
        include: impl Fn(&Producer) -> bool,
    ) -> Result<Vec<Vec<f64>>, FlowError> {
        let horizon_s = model.simulation.warmup_s + model.simulation.duration_s;
        let included: Vec<&Producer> = model.producers.iter().filter(|p| include(p)).collect();
        let shares: Vec<Vec<f64>> = if self.graphs.len() == 1 {
            vec![vec![1.0]; included.len()]
        } else {
            included.iter().map(|p| self.producer_classes(p)).collect()
        };
        (0..self.graphs.len())
            .map(|class| {
                let graph = &self.graphs[class];
                let n = graph.len();
                let mut gamma = vec![0.0; n];
                let mut passed = vec![0.0; n];
                for (producer, shares) in included.iter().zip(&shares) {
                    let rate = producer.arrivals.mean_rate_per_s(horizon_s);
                    if self.graphs.len() == 1 {
                        self.inject(model, producer, rate, class, &mut gamma, &mut passed);
                    } else if shares[class] > 0.0 {
                        let rate = rate * shares[class];
                        self.inject(model, producer, rate, class, &mut gamma, &mut passed);
                    }
                }
                let mut x = graph.solve(&gamma)?;
                x.iter_mut().zip(passed).for_each(|(v, p)| *v += p);
                Ok(x)
            })
            .collect()
    }

    /// Pushes one producer's `rate` (of key class `class`) through the
    /// exchanges and topics it meets first, down to queues (`gamma`),
    /// recording what passes through each exchange and topic (`passed`).
    /// Its keys choose the partitions of a key-partitioned topic on the way.
    fn inject(
        &self,
        model: &Model,
        producer: &Producer,
        rate: f64,
        class: usize,
        gamma: &mut [f64],
        passed: &mut [f64],
    ) {
        let start = self.index(producer.to);
        if start < self.queues {
            gamma[start] += rate;
            return;
        }
        let mut amounts = HashMap::from([(start, rate)]);
        let mut todo = BinaryHeap::from([Reverse((self.rank[start - self.queues], start))]);
        while let Some(Reverse((_, node))) = todo.pop() {
            let Some(amount) = amounts.remove(&node) else {
                continue;
            };
            passed[node] += amount;
            let mut send = |to: usize, share: f64| {
                if to < self.queues {
                    gamma[to] += amount * share;
                } else {
                    *amounts.entry(to).or_insert_with(|| {
                        todo.push(Reverse((self.rank[to - self.queues], to)));
                        0.0
                    }) += amount * share;
                }
            };
            let t = node - self.queues;
            if t < self.exchanges {
                let exchange = &model.exchanges[t];
                if let Some(keyed) = &exchange.keyed {
                    for &to in keyed.destinations(self.class_keys[class]) {
                        send(self.index(to), 1.0);
                    }
                    continue;
                }
                let fanout = exchange.kind == ExchangeKind::Fanout;
                for r in &exchange.routes {
                    send(self.index(r.to), if fanout { 1.0 } else { r.weight });
                }
                continue;
            }
            let topic = &model.topics[t - self.exchanges];
            let keyed = topic.partitioner == Partitioner::Key;
            match producer.keys {
                Some(keys) if keyed => {
                    let shares = keys.partition_shares(topic.partition_count);
                    for group in &topic.groups {
                        (group.partitions.iter())
                            .zip(&shares)
                            .for_each(|(&p, &s)| send(p, s));
                    }
                }
                _ => self.graphs[class]
                    .successors(node)
                    .iter()
                    .for_each(|&(p, s)| send(p, s)),
            }
        }
    }
}

/// The key classes of `model`'s routing keys: the class of each key, and
/// a key of each class; both empty and `[NO_ROUTING_KEY]` when no exchange
/// routes on keys. Two keys share a class when every exchange with binding
/// keys sends them to the same destinations.
fn key_classes(model: &Model) -> (Vec<usize>, Vec<RoutingKeyId>) {
    let keyed: Vec<_> = (model.exchanges.iter())
        .filter_map(|e| e.keyed.as_ref())
        .collect();
    if keyed.is_empty() {
        return (Vec::new(), vec![NO_ROUTING_KEY]);
    }
    let mut classes: HashMap<Vec<&[Target]>, usize> = HashMap::new();
    let mut class_keys = Vec::new();
    let class_of_key = (0..model.routing_keys.len() as RoutingKeyId)
        .map(|key| {
            let signature: Vec<&[Target]> = keyed.iter().map(|k| k.destinations(key)).collect();
            *classes.entry(signature).or_insert_with(|| {
                class_keys.push(key);
                class_keys.len() - 1
            })
        })
        .collect();
    (class_of_key, class_keys)
}

fn node_index(queues: usize, exchanges: usize, target: Target) -> usize {
    match target {
        Target::Queue(q) => q,
        Target::Exchange(e) => queues + e,
        Target::Topic(t) => queues + exchanges + t,
    }
}

/// Topological ranks of the nodes from `queues` on (exchanges and topics)
/// along the edges among them (Kahn's algorithm). Validation refuses
/// loops of exchanges; a node on one would keep rank `usize::MAX`.
fn routing_ranks(graph: &FlowGraph, queues: usize) -> Vec<usize> {
    let n = graph.len() - queues;
    let inner = |i: usize| {
        graph
            .successors(queues + i)
            .iter()
            .filter_map(move |&(j, _)| j.checked_sub(queues))
    };
    let mut indegree = vec![0usize; n];
    (0..n).flat_map(inner).for_each(|j| indegree[j] += 1);
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut rank = vec![usize::MAX; n];
    let mut next = 0;
    while let Some(i) = ready.pop() {
        rank[i] = next;
        next += 1;
        for j in inner(i) {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(j);
            }
        }
    }
    rank
}

#[cfg(test)]
mod tests;
