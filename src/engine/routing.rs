//! Where a message goes next, shared by both engines so that they make the
//! same choices from the same draws: a weighted choice among routes (an
//! exchange's, or a queue's `next`), a topic's choice of partition, and
//! the queues a target may lead to.

use rand::RngExt;

use super::rng::StreamRng;
use crate::model::{
    ExchangeId, ExchangeKind, Model, Partitioner, QueueId, Route, Target, Topic, TopicId,
    partition_of_key,
};

/// A weighted choice among a route set, one uniform draw of its own
/// stream per choice; a set of one route draws nothing.
pub(super) struct RouteChoice {
    rng: StreamRng,
    /// Cumulative weights, for one draw per choice.
    cumulative: Vec<f64>,
}

impl RouteChoice {
    pub(super) fn new(routes: &[Route], rng: StreamRng) -> Self {
        let cumulative = routes
            .iter()
            .scan(0.0, |sum, route| {
                *sum += route.weight;
                Some(*sum)
            })
            .collect();
        Self { rng, cumulative }
    }

    /// Index of the route the next message takes.
    #[inline]
    pub(super) fn choose(&mut self) -> usize {
        if self.cumulative.len() <= 1 {
            return 0;
        }
        let u: f64 = self.rng.random();
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = u * total;
        (self.cumulative.iter())
            .position(|&c| target < c)
            .unwrap_or(self.cumulative.len() - 1)
    }
}

/// The topics' partition choices: by key where the partitioner hashes keys
/// and the message has one, else round-robin, each topic its own turn.
pub(super) struct PartitionChoice {
    turns: Vec<usize>,
}

impl PartitionChoice {
    pub(super) fn new(topics: usize) -> Self {
        Self {
            turns: vec![0; topics],
        }
    }

    /// The partition (its index) of `topic`, number `t`, that a message
    /// with `key` (0: none) goes into.
    #[inline]
    pub(super) fn partition(&mut self, topic: &Topic, t: TopicId, key: u64) -> usize {
        let partitions = topic.partition_count;
        match topic.partitioner {
            Partitioner::Key if key != 0 => partition_of_key(key, partitions),
            _ => {
                let turn = self.turns[t];
                self.turns[t] = (turn + 1) % partitions;
                turn
            }
        }
    }
}

/// Appends the queues a message sent to `target` (or one of its copies,
/// one per group of a topic) may land in; stops at a fanout exchange,
/// which copies messages, or at an exchange that routes on binding keys,
/// and returns it.
pub(super) fn landing_queues(
    model: &Model,
    target: Target,
    out: &mut Vec<QueueId>,
) -> Result<(), ExchangeId> {
    match target {
        Target::Queue(q) => out.push(q),
        Target::Exchange(e) => {
            let exchange = &model.exchanges[e];
            if exchange.kind == ExchangeKind::Fanout || exchange.keyed.is_some() {
                return Err(e);
            }
            for route in &exchange.routes {
                landing_queues(model, route.to, out)?;
            }
        }
        Target::Topic(t) => out.extend(model.topics[t].partition_queues()),
    }
    Ok(())
}
