//! The shape of a fast-path model, worked out once per model: the order
//! queues are computed in, and for each queue whether it routes onwards,
//! whether other queues send to it, which producer alone feeds it, and
//! whether copies of a message reach it.

use crate::engine::routing::landing_queues;
use crate::model::{Arrivals, Model, QueueId, Target, Topic};

/// What the fast path knows of a model before any replication.
pub(in crate::engine) struct Layout {
    /// The queues messages can reach, upstream first.
    pub order: Vec<QueueId>,
    /// Per queue, whether its consumers send what they serve onwards.
    pub routes_onwards: Vec<bool>,
    /// Per queue, whether another queue's consumers may send to it.
    pub fed_by_queues: Vec<bool>,
    /// Per queue, the producer that alone sends straight to it, if any.
    pub sole_feeders: Vec<Option<usize>>,
    /// Per queue, whether it is a topic's partition (and so has a lag).
    pub partitions: Vec<bool>,
    /// Per queue, whether copies of a message reach it: it is a partition
    /// of a topic read by several groups, or downstream of one.
    pub receives_copies: Vec<bool>,
    /// Per queue, its position among the queues of its consumers' pool.
    pub pool_positions: Vec<u32>,
    /// Per queue, the sink its deliveries are recorded in, where the
    /// model has several (with one, its sink's deliveries are the run's).
    pub sinks: Vec<Option<u32>>,
    /// Per queue, the sink a message lost there counts against, likewise.
    pub sink_losses: Vec<Option<u32>>,
}

impl Layout {
    /// The layout of `model`, whose reachable queues are `order`, upstream first.
    pub fn new(model: &Model, order: Vec<QueueId>) -> Self {
        let mut routes_onwards = vec![false; model.queues.len()];
        for &q in &order {
            routes_onwards[q] =
                (model.queues[q].consumers.as_ref()).is_some_and(|c| !c.next.is_empty());
        }
        let sinks = model.sinks();
        Self {
            routes_onwards,
            fed_by_queues: fed_by_queues(model, &order),
            sole_feeders: sole_feeders(model, &order),
            partitions: model.partition_flags(),
            receives_copies: receives_copies(model, &order),
            pool_positions: pool_positions(model),
            sinks: match sinks.single_path() {
                true => vec![None; model.queues.len()],
                false => sinks.of_queue.clone(),
            },
            sink_losses: match sinks.single_path() {
                true => vec![None; model.queues.len()],
                false => sinks.lost_at,
            },
            order,
        }
    }
}

/// For each queue, the producer that is its only sender, sends straight
/// to it and publishes in order, if any (`order` upstream first).
fn sole_feeders(model: &Model, order: &[QueueId]) -> Vec<Option<usize>> {
    let mut senders = vec![0usize; model.queues.len()];
    let mut direct = vec![None; model.queues.len()];
    let mut reached = Vec::new();
    let targets = (model.producers.iter().map(|p| p.to)).chain(
        (order
            .iter()
            .filter_map(|&q| model.queues[q].consumers.as_ref()))
        .flat_map(|c| c.next.iter().map(|route| route.to)),
    );
    for target in targets {
        reached.clear();
        landing_queues(model, target, &mut reached).expect("the choice accepted every target");
        for &q in &reached {
            senders[q] += 1;
        }
    }
    for (p, producer) in model.producers.iter().enumerate() {
        if let Target::Queue(q) = producer.to
            && publishes_in_order(&producer.arrivals)
        {
            direct[q] = Some(p);
        }
    }
    (direct.into_iter().zip(senders))
        .map(|(producer, count)| producer.filter(|_| count == 1))
        .collect()
}

/// For each queue, whether copies of a message may reach it: the
/// partitions of the topics read by several groups, and the queues
/// downstream of them (`order` upstream first).
fn receives_copies(model: &Model, order: &[QueueId]) -> Vec<bool> {
    let mut copies = vec![false; model.queues.len()];
    (model.topics.iter().filter(|t| t.groups.len() > 1))
        .flat_map(Topic::partition_queues)
        .for_each(|q| copies[q] = true);
    let mut reached = Vec::new();
    for &q in order {
        if !copies[q] {
            continue;
        }
        for route in (model.queues[q].consumers.iter()).flat_map(|c| &c.next) {
            reached.clear();
            landing_queues(model, route.to, &mut reached)
                .expect("the choice accepted every target");
            reached.iter().for_each(|&r| copies[r] = true);
        }
    }
    copies
}

/// For each queue, its position among the queues of its pool (0 for a
/// queue without consumers).
fn pool_positions(model: &Model) -> Vec<u32> {
    let mut positions = vec![0; model.queues.len()];
    for pool in &model.pools {
        for (position, &q) in pool.queues.iter().enumerate() {
            positions[q] = position as u32;
        }
    }
    positions
}

/// For each queue, whether another queue's consumers may send to it
/// (`order` upstream first).
fn fed_by_queues(model: &Model, order: &[QueueId]) -> Vec<bool> {
    let mut fed = vec![false; model.queues.len()];
    let mut reached = Vec::new();
    for consumers in order
        .iter()
        .filter_map(|&q| model.queues[q].consumers.as_ref())
    {
        for route in &consumers.next {
            landing_queues(model, route.to, &mut reached)
                .expect("the choice accepted every target");
        }
    }
    reached.into_iter().for_each(|q| fed[q] = true);
    fed
}

/// Whether publication times never decrease in the order inboxes are
/// sorted by ([`f64::total_cmp`]): always, but for a trace file, which
/// could list `-0` after `0`.
fn publishes_in_order(arrivals: &Arrivals) -> bool {
    match arrivals {
        Arrivals::Trace { times_s } => times_s.is_sorted_by(|a, b| a.total_cmp(b).is_le()),
        _ => true,
    }
}
