//! Which engine runs a model, decided once per model: the Lindley fast
//! path when the model is a feed-forward network of FIFO queues whose
//! waiting messages nothing but service can change, else the event
//! calendar, with the first reason found. Two features run on the fast
//! path only while a replication does not use them: a drop-head queue
//! that fills, and a consumer's full prefetch window; such a replication
//! runs again on the event calendar.
//!
//! A queue feature the fast path cannot compute is one line of
//! [`queue_needs_events`] and one [`QueueFeature`] variant, whose text is
//! what `queuesim validate` prints after "event calendar, because queue
//! `NAME`".

use std::fmt;

use super::lindley::Layout;
use super::routing::landing_queues;
use crate::model::{Consumers, Discipline, EngineChoice, Model, Overflow, Queue, QueueId, Target};

/// The engine that runs a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// The Lindley / Kiefer–Wolfowitz fast path.
    Lindley,
    /// The event calendar, for the reason given.
    Events {
        /// What in the model needs the event engine.
        reason: EventsReason,
    },
}

/// Why a model runs on the event calendar; its `Display` completes
/// "event calendar, because …".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventsReason {
    /// `simulation.engine = "events"`.
    Requested,
    /// Producers publish with more than one priority.
    PriorityClasses,
    /// `simulation.initial` gives queues a backlog.
    InitialBacklog,
    /// A queue messages can reach has a feature the fast path cannot compute.
    Queue {
        /// The queue's name.
        queue: String,
        /// What it has.
        feature: QueueFeature,
    },
    /// A fanout exchange copies messages.
    FanoutExchange {
        /// The exchange's name.
        exchange: String,
    },
    /// A producer gives its messages a TTL of their own.
    MessageTtl {
        /// The producer's name.
        producer: String,
    },
    /// An exchange routes on binding keys (a message may be copied, sent
    /// to an alternate or lost as unroutable).
    KeyedExchange {
        /// The exchange's name.
        exchange: String,
    },
    /// A producer batches its records per partition.
    ProducerBatches {
        /// The producer's name.
        producer: String,
    },
    /// A topic's records wait for in-sync replicas before consumers see them.
    Replication {
        /// The topic's name.
        topic: String,
    },
    /// A producer's messages become visible only after a delay.
    DelayedDelivery {
        /// The producer's name.
        producer: String,
    },
    /// A producer waits for publisher confirms.
    PublisherConfirms {
        /// The producer's name.
        producer: String,
    },
    /// `[[events]]` change the model during the run.
    ScheduledEvents,
    /// A producer holds what its target refuses (`on_unavailable`).
    ClientBuffer {
        /// The producer's name.
        producer: String,
    },
    /// Messages can come back to a queue they left.
    RoutingCycle {
        /// A queue on the cycle.
        queue: String,
    },
}

/// A queue's feature that only the event calendar computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueFeature {
    NoConsumers,
    Lifo,
    Ttl,
    Link,
    Batches,
    ByteOrRedisLimit,
    Polls,
    FailingAttempts,
    Crashes,
    SharedConsumers,
}

impl fmt::Display for QueueFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoConsumers => "has no consumers",
            Self::Lifo => "serves LIFO",
            Self::Ttl => "has a TTL",
            Self::Link => "sits behind a network link",
            Self::Batches => "is consumed in batches",
            Self::ByteOrRedisLimit => {
                "has a byte limit or a Redis overflow (`capacity_bytes`, `trim`, `disconnect`)"
            }
            Self::Polls => "is read by polls of several records (`poll`)",
            Self::FailingAttempts => "has failing attempts (retries, dead letters)",
            Self::Crashes => "has consumers that crash (`crash`)",
            Self::SharedConsumers => "shares its consumers with other queues",
        })
    }
}

impl fmt::Display for EventsReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Requested => {
                f.write_str("the scenario asks for it (`simulation.engine = \"events\"`)")
            }
            Self::PriorityClasses => f.write_str("producers publish with several priorities"),
            Self::InitialBacklog => {
                f.write_str("queues start with a backlog (`simulation.initial`)")
            }
            Self::Queue { queue, feature } => write!(f, "queue `{queue}` {feature}"),
            Self::FanoutExchange { exchange } => {
                write!(f, "exchange `{exchange}` copies messages (fanout)")
            }
            Self::MessageTtl { producer } => {
                write!(f, "producer `{producer}` gives its messages a TTL (`ttl`)")
            }
            Self::KeyedExchange { exchange } => {
                write!(f, "exchange `{exchange}` routes on binding keys")
            }
            Self::ProducerBatches { producer } => {
                write!(f, "producer `{producer}` batches its records (`batching`)")
            }
            Self::Replication { topic } => {
                write!(
                    f,
                    "topic `{topic}` waits for in-sync replicas (`replication`)"
                )
            }
            Self::DelayedDelivery { producer } => {
                write!(f, "producer `{producer}` delays delivery (`delay`)")
            }
            Self::PublisherConfirms { producer } => {
                write!(f, "producer `{producer}` waits for publisher confirms")
            }
            Self::ScheduledEvents => {
                f.write_str("scheduled `[[events]]` change consumer counts or take queues down")
            }
            Self::ClientBuffer { producer } => {
                write!(
                    f,
                    "producer `{producer}` buffers refused publications (`on_unavailable`)"
                )
            }
            Self::RoutingCycle { queue } => {
                write!(
                    f,
                    "messages can come back to queue `{queue}` (a routing cycle)"
                )
            }
        }
    }
}

/// The engine chosen for a model, and what the fast path needs to run it.
pub struct Choice<'m> {
    pub(super) model: &'m Model,
    pub(super) fast_path: Result<Layout, EventsReason>,
}

impl<'m> Choice<'m> {
    /// Decides how `model`'s replications run.
    pub fn for_model(model: &'m Model) -> Self {
        let fast_path = routing_order(model).map(|order| Layout::new(model, order));
        Self { model, fast_path }
    }

    /// The engine replications run on (but see [`Self::drop_head_queue`]
    /// and [`Self::window_queue`]).
    pub fn engine(&self) -> Engine {
        match &self.fast_path {
            Ok(_) => Engine::Lindley,
            Err(reason) => Engine::Events {
                reason: reason.clone(),
            },
        }
    }

    /// A queue of a fast-path model that drops its oldest waiting message
    /// when full, if any. Dropping a message that was to start later moves
    /// every later start earlier, which the recursion cannot undo, so the
    /// fast path runs such a queue only while it never fills: a
    /// replication in which it fills is run again on the event engine,
    /// which gives it the same sample path up to the drop.
    pub fn drop_head_queue(&self) -> Option<&'m str> {
        let layout = self.fast_path.as_ref().ok()?;
        let model = self.model;
        (layout.order.iter().map(|&q| &model.queues[q]))
            .find(|queue| {
                let pushes = (queue.consumers.as_ref()).is_some_and(|c| c.window().is_some());
                queue.capacity.is_some() && queue.overflow == Overflow::DropHead && !pushes
            })
            .map(|queue| queue.name.as_str())
    }

    /// A queue of a fast-path model whose consumers have a prefetch window
    /// that can fill, if any, with that window's size. While every
    /// message finds the consumer the round-robin comes to with room in
    /// its window, the queue is `count` FIFO queues fed in turn, which
    /// the fast path computes; a message that finds that consumer's
    /// window full would go to another consumer or wait in the queue, and
    /// a replication in which that happens is run again on the event
    /// engine, which gives it the same sample path up to then on a single
    /// consumer and the same distribution on several. An unlimited window
    /// (`prefetch = 0`) never fills. (The queue never holds a ready
    /// message before that, so its capacity never acts: it is not a
    /// [`Self::drop_head_queue`].)
    pub fn window_queue(&self) -> Option<(&'m str, u32)> {
        let layout = self.fast_path.as_ref().ok()?;
        let model = self.model;
        (layout.order.iter().map(|&q| &model.queues[q])).find_map(|queue| {
            let window = queue.consumers.as_ref()?.window()?;
            (window.limit != u32::MAX).then_some((queue.name.as_str(), window.limit))
        })
    }
}

/// The queues messages can reach, upstream first, or why the fast path
/// cannot run the model.
fn routing_order(model: &Model) -> Result<Vec<QueueId>, EventsReason> {
    if model.simulation.engine == EngineChoice::Events {
        return Err(EventsReason::Requested);
    }
    if !model.events.is_empty() {
        return Err(EventsReason::ScheduledEvents);
    }
    if let Some(p) = model.producers.iter().find(|p| p.on_unavailable.is_some()) {
        return Err(EventsReason::ClientBuffer {
            producer: p.name.clone(),
        });
    }
    if model.run_classes().len() > 1 {
        return Err(EventsReason::PriorityClasses);
    }
    if !model.simulation.initial.is_empty() {
        return Err(EventsReason::InitialBacklog);
    }
    if let Some(p) = model.producers.iter().find(|p| p.ttl_s.is_some()) {
        return Err(EventsReason::MessageTtl {
            producer: p.name.clone(),
        });
    }
    if let Some(producer) = model.producers.iter().find(|p| p.batching.is_some()) {
        return Err(EventsReason::ProducerBatches {
            producer: producer.name.clone(),
        });
    }
    if let Some(topic) = model.topics.iter().find(|t| t.replication.is_some()) {
        return Err(EventsReason::Replication {
            topic: topic.name.clone(),
        });
    }
    if let Some(producer) = model.producers.iter().find(|p| p.delay_s.is_some()) {
        return Err(EventsReason::DelayedDelivery {
            producer: producer.name.clone(),
        });
    }
    if let Some(producer) = model.producers.iter().find(|p| p.confirm.is_some()) {
        return Err(EventsReason::PublisherConfirms {
            producer: producer.name.clone(),
        });
    }
    let mut successors = vec![Vec::new(); model.queues.len()];
    let mut reached = vec![false; model.queues.len()];
    let mut frontier = Vec::new();
    for producer in &model.producers {
        queues_of(model, producer.to, &mut frontier)?;
    }
    while let Some(q) = frontier.pop() {
        if std::mem::replace(&mut reached[q], true) {
            continue;
        }
        let consumers = fast_path_consumers(model, q)?;
        for route in &consumers.next {
            queues_of(model, route.to, &mut successors[q])?;
        }
        frontier.extend(&successors[q]);
    }
    topological_order(model, &successors, &reached)
}

/// The consumers of queue `q`, when the fast path can compute the queue.
fn fast_path_consumers(model: &Model, q: QueueId) -> Result<&Consumers, EventsReason> {
    let queue = &model.queues[q];
    let needs = |feature| EventsReason::Queue {
        queue: queue.name.clone(),
        feature,
    };
    let Some(consumers) = &queue.consumers else {
        return Err(needs(QueueFeature::NoConsumers));
    };
    match queue_needs_events(model, queue, consumers) {
        Some(feature) => Err(needs(feature)),
        None => Ok(consumers),
    }
}

/// The first feature of `queue` that only the event calendar computes.
fn queue_needs_events(model: &Model, queue: &Queue, consumers: &Consumers) -> Option<QueueFeature> {
    let pool = &model.pools[consumers.pool];
    let shared = pool.queues.len() > 1
        && !(pool.servers == 1 && partitions_of_one_topic(model, &pool.queues));
    let redis_overflow = matches!(queue.overflow, Overflow::Trim | Overflow::Disconnect);
    let features = [
        (queue.discipline == Discipline::Lifo, QueueFeature::Lifo),
        (
            queue.capacity_bytes.is_some() || redis_overflow,
            QueueFeature::ByteOrRedisLimit,
        ),
        (queue.ttl_s.is_some(), QueueFeature::Ttl),
        (queue.link.is_some(), QueueFeature::Link),
        (consumers.batch.is_some(), QueueFeature::Batches),
        (
            consumers.poll.is_some_and(|p| p.max_records > 1),
            QueueFeature::Polls,
        ),
        (consumers.failure > 0.0, QueueFeature::FailingAttempts),
        (consumers.crash.is_some(), QueueFeature::Crashes),
        (shared, QueueFeature::SharedConsumers),
    ];
    (features.into_iter()).find_map(|(present, feature)| present.then_some(feature))
}

/// Whether `queues` are all partitions of one topic: they then have the
/// same senders, so their arrivals of a window are all known at once.
fn partitions_of_one_topic(model: &Model, queues: &[QueueId]) -> bool {
    (model.topics.iter())
        .any(|t| (t.groups.iter()).any(|g| queues.iter().all(|q| g.partitions.contains(q))))
}

/// Appends the queues a message sent to `target` may land in, or why the
/// fast path cannot follow it (a fanout exchange copies it, an exchange
/// with binding keys routes on its routing key).
fn queues_of(model: &Model, target: Target, out: &mut Vec<QueueId>) -> Result<(), EventsReason> {
    landing_queues(model, target, out).map_err(|e| {
        let exchange = model.exchanges[e].name.clone();
        match model.exchanges[e].keyed {
            Some(_) => EventsReason::KeyedExchange { exchange },
            None => EventsReason::FanoutExchange { exchange },
        }
    })
}

/// Kahn's order of the reached queues, or the cycle that prevents one.
fn topological_order(
    model: &Model,
    successors: &[Vec<QueueId>],
    reached: &[bool],
) -> Result<Vec<QueueId>, EventsReason> {
    let mut indegree = vec![0usize; successors.len()];
    for &s in successors.iter().flatten() {
        indegree[s] += 1;
    }
    let mut ready: Vec<QueueId> = (0..successors.len())
        .filter(|&q| reached[q] && indegree[q] == 0)
        .collect();
    let mut order = Vec::new();
    while let Some(q) = ready.pop() {
        order.push(q);
        for &s in &successors[q] {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.push(s);
            }
        }
    }
    match (0..successors.len()).find(|&q| reached[q] && indegree[q] > 0) {
        Some(q) => Err(EventsReason::RoutingCycle {
            queue: model.queues[q].name.clone(),
        }),
        None => Ok(order),
    }
}
