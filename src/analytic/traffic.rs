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
//! share to each partition. A queue with consumers whose attempts fail
//! with probability `p`, with at most `k` attempts, makes
//! `T = (1 − pᵏ) / (1 − p)` attempts per message (`1 / (1 − p)` when
//! retries are unlimited), forwards `(1 − pᵏ) · weight` along each `next`
//! route and `pᵏ` to its dead-letter queue. A producer's own messages
//! reach a key-partitioned topic spread by its Zipf key law hashed to the
//! partitions (its keys are known there; further down they are not).
//! Expiry (TTL) and overflow losses are not subtracted, so rates are upper
//! bounds. Attempts at a queue are `T · x`.
//!
//! The equations are solved by [`FlowGraph`] (strongly connected
//! components in topological order: exact in one pass on an acyclic
//! network, LU or Gauss–Seidel on each loop), in time and memory linear in
//! nodes and routes for acyclic networks.

mod sparse;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

pub use sparse::{DENSE_LIMIT, FlowError, FlowGraph, MAX_SWEEPS, REL_TOL};

use crate::model::{AttemptShares, ExchangeKind, Model, Partitioner, Producer, Target};

/// The routing graph of a model, ready to solve for any set of producers.
///
/// Node indices: queues `0..Q`, exchanges `Q..Q+E`, topics after them
/// ([`ModelFlows::index`]).
#[derive(Debug, Clone)]
pub struct ModelFlows {
    graph: FlowGraph,
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
            let fanout = exchange.kind == ExchangeKind::Fanout;
            edges.extend(exchange.routes.iter().map(|r| {
                let m = if fanout { 1.0 } else { r.weight };
                (queues + e, index(r.to), m)
            }));
        }
        for (t, topic) in model.topics.iter().enumerate() {
            let share = 1.0 / topic.partitions.len() as f64;
            let from = queues + exchanges + t;
            edges.extend(topic.partitions.iter().map(|&p| (from, p, share)));
        }
        let graph = FlowGraph::new(n, edges);
        let rank = routing_ranks(&graph, queues);
        Self {
            graph,
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

    /// The solved graph.
    pub fn graph(&self) -> &FlowGraph {
        &self.graph
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
        let n = self.graph.len();
        let mut gamma = vec![0.0; n];
        let mut passed = vec![0.0; n];
        let horizon_s = model.simulation.warmup_s + model.simulation.duration_s;
        for producer in model.producers.iter().filter(|p| include(p)) {
            let rate = producer.arrivals.mean_rate_per_s(horizon_s);
            self.inject(model, producer, rate, &mut gamma, &mut passed);
        }
        let mut x = self.graph.solve(&gamma)?;
        x.iter_mut().zip(passed).for_each(|(v, p)| *v += p);
        Ok(x)
    }

    /// Pushes one producer's `rate` through the exchanges and topics it
    /// meets first, down to queues (`gamma`), recording what passes
    /// through each exchange and topic (`passed`). Its keys choose the
    /// partitions of a key-partitioned topic on the way.
    fn inject(
        &self,
        model: &Model,
        producer: &Producer,
        rate: f64,
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
                    let shares = keys.partition_shares(topic.partitions.len());
                    topic
                        .partitions
                        .iter()
                        .zip(shares)
                        .for_each(|(&p, s)| send(p, s));
                }
                _ => self
                    .graph
                    .successors(node)
                    .iter()
                    .for_each(|&(p, s)| send(p, s)),
            }
        }
    }
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
