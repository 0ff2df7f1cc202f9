//! Structural checks of the routing graph of a [`Model`].
//!
//! Nodes are the queues (a topic's partitions included), the exchanges and
//! the topics. The checks, in order:
//!
//! 1. something produces messages (a producer or an initial backlog);
//! 2. every node is reachable from a producer or a backlog through routes,
//!    `alternate`, `next` and `dead_letter` references;
//! 3. no loop is made of exchanges only (messages would circulate in zero
//!    time, and a fanout in such a loop would copy them without end);
//! 4. every node has an exit: from it, messages can reach an *end*, a queue
//!    whose consumers deliver (no `next`, `failure < 1`) or a parking queue
//!    (no consumers). Only edges that can carry messages count: `next` when
//!    an attempt can succeed, `dead_letter` when something can be
//!    dead-lettered (a `ttl`, or `failure > 0` with a finite `max_attempts`).

use std::collections::VecDeque;

use super::error::{ErrorKind, ScenarioError};
use super::locate::Source;
use crate::model::{Model, Target};

/// Runs every check; the first failure is returned.
pub fn check(model: &Model, src: &Source) -> Result<(), ScenarioError> {
    let graph = Graph::new(model);
    let has_backlog = model.simulation.initial.iter().any(|&(_, n)| n > 0);
    if model.producers.is_empty() && !has_backlog {
        return Err(src.error("", ErrorKind::NoSource));
    }
    let sources = (model.producers.iter().map(|p| graph.index(p.to)))
        .chain(model.simulation.initial.iter().map(|&(q, _)| q));
    let reached = graph.reach(sources, &graph.declared);
    if let Some(n) = (0..graph.len()).find(|&n| !reached[n]) {
        return Err(src.error(&graph.key(model, n), ErrorKind::Unreachable));
    }
    if let Some(cycle) = graph.exchange_cycle() {
        let nodes: Vec<String> = cycle.iter().map(|&n| graph.name(model, n)).collect();
        return Err(src.error(
            &graph.key(model, cycle[0]),
            ErrorKind::ExchangeLoop { nodes },
        ));
    }
    let reverse = graph.reversed(&graph.carrying);
    let exits = graph.reach((0..graph.len()).filter(|&n| graph.is_end[n]), &reverse);
    let stuck: Vec<usize> = (0..graph.len()).filter(|&n| !exits[n]).collect();
    if let Some(&first) = stuck.first() {
        let nodes = stuck.iter().map(|&n| graph.name(model, n)).collect();
        return Err(src.error(&graph.key(model, first), ErrorKind::NoExit { nodes }));
    }
    Ok(())
}

/// Adjacency lists over queues `0..Q`, exchanges `Q..Q+E`, then topics.
struct Graph {
    queues: usize,
    exchanges: usize,
    /// Every reference: routes, `next`, `dead_letter`.
    declared: Vec<Vec<usize>>,
    /// Only the edges that can carry messages.
    carrying: Vec<Vec<usize>>,
    is_end: Vec<bool>,
}

impl Graph {
    fn new(model: &Model) -> Self {
        let queues = model.queues.len();
        let exchanges = model.exchanges.len();
        let n = queues + exchanges + model.topics.len();
        let index = |t: Target| match t {
            Target::Queue(q) => q,
            Target::Exchange(e) => queues + e,
            Target::Topic(t) => queues + exchanges + t,
        };
        let mut declared = vec![Vec::new(); n];
        let mut carrying = vec![Vec::new(); n];
        let mut is_end = vec![false; n];
        for (q, queue) in model.queues.iter().enumerate() {
            if let Some(dl) = queue.dead_letter {
                declared[q].push(dl);
                let limited = (queue.consumers.as_ref())
                    .is_some_and(|c| c.failure > 0.0 && c.retry.max_attempts.is_some());
                if queue.ttl_s.is_some() || limited {
                    carrying[q].push(dl);
                }
            }
            let Some(c) = &queue.consumers else {
                is_end[q] = true;
                continue;
            };
            let can_succeed = c.failure < 1.0;
            is_end[q] = c.next.is_empty() && can_succeed;
            for r in &c.next {
                declared[q].push(index(r.to));
                if can_succeed {
                    carrying[q].push(index(r.to));
                }
            }
        }
        for (e, exchange) in model.exchanges.iter().enumerate() {
            let alternate = exchange.keyed.as_ref().and_then(|k| k.alternate);
            let targets: Vec<usize> = (exchange.routes.iter().map(|r| r.to))
                .chain(alternate)
                .map(index)
                .collect();
            declared[queues + e] = targets.clone();
            carrying[queues + e] = targets;
        }
        for (t, topic) in model.topics.iter().enumerate() {
            let partitions: Vec<usize> = topic.partition_queues().collect();
            declared[queues + exchanges + t] = partitions.clone();
            carrying[queues + exchanges + t] = partitions;
        }
        Graph {
            queues,
            exchanges,
            declared,
            carrying,
            is_end,
        }
    }

    fn len(&self) -> usize {
        self.declared.len()
    }

    fn index(&self, t: Target) -> usize {
        match t {
            Target::Queue(q) => q,
            Target::Exchange(e) => self.queues + e,
            Target::Topic(t) => self.queues + self.exchanges + t,
        }
    }

    fn name(&self, model: &Model, n: usize) -> String {
        if n < self.queues {
            model.queues[n].name.clone()
        } else if n < self.queues + self.exchanges {
            model.exchanges[n - self.queues].name.clone()
        } else {
            model.topics[n - self.queues - self.exchanges].name.clone()
        }
    }

    fn key(&self, model: &Model, n: usize) -> String {
        let list = if n < self.queues {
            "queues"
        } else if n < self.queues + self.exchanges {
            "exchanges"
        } else {
            "topics"
        };
        format!("{list}.{}", self.name(model, n))
    }

    /// Nodes reachable from `from` (included) along `edges`.
    fn reach(&self, from: impl IntoIterator<Item = usize>, edges: &[Vec<usize>]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut todo: VecDeque<usize> = from.into_iter().collect();
        while let Some(n) = todo.pop_front() {
            if !std::mem::replace(&mut seen[n], true) {
                todo.extend(edges[n].iter().copied());
            }
        }
        seen
    }

    fn reversed(&self, edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let mut reverse = vec![Vec::new(); self.len()];
        for (from, targets) in edges.iter().enumerate() {
            for &to in targets {
                reverse[to].push(from);
            }
        }
        reverse
    }

    /// A cycle among exchanges alone, first node repeated at the end
    /// (iterative depth-first search, so long chains cannot overflow the stack).
    fn exchange_cycle(&self) -> Option<Vec<usize>> {
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; self.len()];
        let successors = |n: usize| -> Vec<usize> {
            self.declared[n]
                .iter()
                .copied()
                .filter(|&m| m >= self.queues)
                .collect()
        };
        for start in self.queues..self.len() {
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            // The current path: (node, its exchange successors, next one to try).
            let mut path = vec![(start, successors(start), 0)];
            while let Some((n, next, i)) = path.last_mut() {
                let Some(&m) = next.get(*i) else {
                    state[*n] = 2;
                    path.pop();
                    continue;
                };
                *i += 1;
                match state[m] {
                    0 => {
                        state[m] = 1;
                        path.push((m, successors(m), 0));
                    }
                    1 => {
                        let from = path.iter().position(|(p, _, _)| *p == m).unwrap_or(0);
                        let mut cycle: Vec<usize> =
                            path[from..].iter().map(|(p, _, _)| *p).collect();
                        cycle.push(m);
                        return Some(cycle);
                    }
                    _ => {}
                }
            }
        }
        None
    }
}
