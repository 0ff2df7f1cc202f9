//! Kafka-style topics, links and batches: the parts of a scenario that
//! become more than one node, or change how a node takes its messages.
//!
//! A topic with P partitions read by G consumer groups becomes G × P
//! queues, each group's own copy of every partition: `topic/p0` ... for
//! the `[topics.consumers]` shorthand (or a topic nobody reads),
//! `topic/p0@group` ... for a `[[topics.groups]]` group. A group's
//! consumers become one single-server pool per consumer over the
//! partitions assigned to it (range or round-robin assignment, as Kafka's
//! assignors; sticky assignors start from round-robin's balanced layout).
//! Consumers beyond the number of partitions get none and stay idle. A
//! broadcast group (RocketMQ) is one group per consumer, each owning every
//! partition: `topic/p0@group.c0` ...

use super::error::ErrorKind;
use super::raw::{
    RawAssignment, RawBatch, RawConsumers, RawGroup, RawGroupMode, RawLink, RawPartitioner,
    RawReplication, RawTopic,
};
use super::validate::Validator;
use crate::model::{
    Backoff, Batch, Consumers, Discipline, Link, Overflow, Partitioner, Pool, Queue, QueueId,
    Replication, Target, Topic, TopicGroup,
};
use crate::units::QuantityKind;

type Result<T> = std::result::Result<T, super::ScenarioError>;

/// Partitions owned by each of `consumers` consumers.
fn assign(partitions: usize, consumers: usize, assignment: RawAssignment) -> Vec<Vec<usize>> {
    let mut owned = vec![Vec::new(); consumers];
    match assignment {
        RawAssignment::Range => {
            let base = partitions / consumers;
            let extra = partitions % consumers;
            let mut next = 0;
            for (c, list) in owned.iter_mut().enumerate() {
                let take = base + usize::from(c < extra);
                list.extend(next..next + take);
                next += take;
            }
        }
        RawAssignment::RoundRobin | RawAssignment::Sticky | RawAssignment::CooperativeSticky => {
            for p in 0..partitions {
                owned[p % consumers].push(p);
            }
        }
    }
    owned
}

/// One group as the model builds it: its name, its consumers (none for a
/// topic nobody reads) and how partitions are spread over them.
struct GroupPlan {
    name: String,
    consumers: Option<Consumers>,
    assignment: RawAssignment,
    /// Where the group's finally failed records go.
    dead_letter: Option<QueueId>,
}

/// The queue of partition `p` of `topic` as group `group` sees it.
fn partition_name(topic: &str, p: u32, group: &str) -> String {
    if group.is_empty() {
        format!("{topic}/p{p}")
    } else {
        format!("{topic}/p{p}@{group}")
    }
}

/// Queues of the groups of a raw topic, counted before anything is built:
/// a broadcast group counts once per consumer.
pub(super) fn group_copies(t: &RawTopic) -> u64 {
    match &t.groups {
        None => 1,
        Some(groups) => (groups.iter())
            .map(|g| match g.mode {
                Some(RawGroupMode::Broadcast) => u64::from(g.count.unwrap_or(1)),
                _ => 1,
            })
            .sum::<u64>()
            .max(1),
    }
}

impl Validator<'_> {
    /// Builds a topic: its groups' partitions are appended to `queues`,
    /// their consumers to `pools`.
    pub(super) fn topic(
        &mut self,
        t: &RawTopic,
        queues: &mut Vec<Queue>,
        pools: &mut Vec<Pool>,
    ) -> Result<Topic> {
        let key = format!("topics.{}", t.name);
        let partitions = t.partitions.unwrap_or(1);
        if partitions == 0 || partitions > 100_000 {
            return Err(self.invalid(
                &format!("{key}.partitions"),
                format!("must be between 1 and 100000 (got {partitions})"),
            ));
        }
        let plans = self.group_plans(&key, t)?;
        let groups = (plans.into_iter())
            .map(|plan| self.topic_group(t, partitions, plan, queues, pools))
            .collect();
        let replication = (t.replication.as_ref())
            .map(|r| self.replication(&format!("{key}.replication"), r))
            .transpose()?
            .flatten();
        Ok(Topic {
            name: t.name.clone(),
            partition_count: partitions as usize,
            replication,
            groups,
            partitioner: match t.partitioner.unwrap_or(RawPartitioner::Key) {
                RawPartitioner::Key => Partitioner::Key,
                RawPartitioner::RoundRobin => Partitioner::RoundRobin,
            },
        })
    }

    /// The groups of a topic: the `[topics.consumers]` shorthand (or no
    /// consumers at all) is one unnamed group; `[[topics.groups]]` gives
    /// one per table, and one per consumer for a broadcast group.
    fn group_plans(&mut self, key: &str, t: &RawTopic) -> Result<Vec<GroupPlan>> {
        let topic_assignment = t.assignment.unwrap_or(RawAssignment::Range);
        let Some(groups) = &t.groups else {
            let consumers = (t.consumers.as_ref())
                .map(|c| self.topic_consumers(&format!("{key}.consumers"), c))
                .transpose()?;
            return Ok(vec![GroupPlan {
                name: String::new(),
                consumers,
                assignment: topic_assignment,
                dead_letter: None,
            }]);
        };
        if t.consumers.is_some() {
            return Err(self.invalid(
                &format!("{key}.consumers"),
                "a topic takes either `[topics.consumers]` (one group) or `[[topics.groups]]`, \
                 not both; move the consumers into a `[[topics.groups]]` table with a `name`",
            ));
        }
        if groups.is_empty() {
            return Err(self.invalid(
                &format!("{key}.groups"),
                "is empty; give at least one `[[topics.groups]]` table, or leave the key out",
            ));
        }
        let mut plans = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let group_key = format!("{key}.groups.{}", g.name);
            self.check_group_name(&group_key, g, &groups[..i])?;
            if g.rebalance.is_some() {
                let name_key = format!("{group_key}.rebalance");
                return Err(self.src.error(&name_key, ErrorKind::Unsupported));
            }
            let consumers = self.topic_consumers(&group_key, &group_consumers(g))?;
            let assignment = g.assignment.unwrap_or(topic_assignment);
            let dead_letter = match &g.dead_letter {
                None => None,
                Some(name) => match self.target(&format!("{group_key}.dead_letter"), name, true)? {
                    Target::Queue(id) => Some(id),
                    Target::Exchange(_) | Target::Topic(_) => None,
                },
            };
            match g.mode.unwrap_or(RawGroupMode::Clustering) {
                RawGroupMode::Clustering => plans.push(GroupPlan {
                    name: g.name.clone(),
                    consumers: Some(consumers),
                    assignment,
                    dead_letter,
                }),
                RawGroupMode::Broadcast => {
                    plans.extend((0..consumers.count).map(|c| GroupPlan {
                        name: format!("{}.c{c}", g.name),
                        consumers: Some(Consumers {
                            count: 1,
                            ..consumers.clone()
                        }),
                        assignment,
                        dead_letter,
                    }));
                }
            }
        }
        Ok(plans)
    }

    /// A topic's replication; `None` where the leader alone acknowledges
    /// (`min_insync = 1`, or `factor = 1`).
    fn replication(&self, key: &str, r: &RawReplication) -> Result<Option<Replication>> {
        if r.factor == 0 || r.factor > 100 {
            return Err(self.invalid(
                &format!("{key}.factor"),
                format!("must be between 1 and 100 replicas (got {})", r.factor),
            ));
        }
        let min_insync = r.min_insync.unwrap_or(r.factor.min(2));
        if min_insync == 0 || min_insync > r.factor {
            return Err(self.invalid(
                &format!("{key}.min_insync"),
                format!(
                    "must be between 1 and `factor` ({}) (got {min_insync})",
                    r.factor
                ),
            ));
        }
        if min_insync == 1 {
            return Ok(None);
        }
        let Some(spec) = &r.follower_fetch else {
            return Err(self.src.error(
                key,
                ErrorKind::MissingKey {
                    key: "follower_fetch".into(),
                    hint: "; add for example `follower_fetch = { dist = \"exponential\", mean = \"3ms\" }`".into(),
                },
            ));
        };
        let follower_fetch = self.dist(
            &format!("{key}.follower_fetch"),
            spec,
            QuantityKind::Duration,
        )?;
        Ok(Some(Replication {
            followers: r.factor - 1,
            acks_needed: min_insync - 1,
            follower_fetch,
        }))
    }

    /// Refuses an empty, ill-formed or repeated group name.
    fn check_group_name(&self, key: &str, g: &RawGroup, earlier: &[RawGroup]) -> Result<()> {
        let ill_formed = g.name.is_empty()
            || g.name.contains(['/', '@'])
            || g.name.chars().any(|c| c.is_control() || c.is_whitespace());
        if ill_formed {
            return Err(self.invalid(
                &format!("{key}.name"),
                format!(
                    "`{}` is not a group name: use letters, digits, `-`, `_` or `.`, \
                     without `/`, `@` or spaces",
                    g.name
                ),
            ));
        }
        if earlier.iter().any(|e| e.name == g.name) {
            return Err(self.invalid(
                &format!("{key}.name"),
                format!(
                    "`{}` names two groups of this topic; give each its own",
                    g.name
                ),
            ));
        }
        Ok(())
    }

    /// Appends one group's copy of the topic's partitions to `queues`,
    /// and its consumers, one single-server pool each, to `pools`.
    fn topic_group(
        &mut self,
        t: &RawTopic,
        partitions: u32,
        plan: GroupPlan,
        queues: &mut Vec<Queue>,
        pools: &mut Vec<Pool>,
    ) -> TopicGroup {
        let first: QueueId = queues.len();
        for p in 0..partitions {
            queues.push(Queue {
                name: partition_name(&t.name, p, &plan.name),
                capacity: None,
                capacity_bytes: None,
                reconnect_s: 0.0,
                overflow: Overflow::DropHead,
                discipline: Discipline::Fifo,
                ttl_s: None,
                dead_letter: plan.dead_letter,
                link: None,
                consumers: None,
            });
        }
        if let Some(group) = plan.consumers {
            let owned = assign(partitions as usize, group.count as usize, plan.assignment);
            let idle = owned.iter().filter(|o| o.is_empty()).count();
            if idle > 0 {
                let of_group = match plan.name.as_str() {
                    "" => String::new(),
                    name => format!(" (group `{name}`)"),
                };
                self.warnings.push(format!(
                    "{idle} of the {} consumers of topic `{}`{of_group} own no partition and \
                     stay idle ({partitions} partitions)",
                    group.count, t.name
                ));
            }
            for list in owned.into_iter().filter(|o| !o.is_empty()) {
                let pool = pools.len();
                let members: Vec<QueueId> = list.iter().map(|p| first + p).collect();
                for &q in &members {
                    queues[q].consumers = Some(Consumers {
                        count: 1,
                        pool,
                        ..group.clone()
                    });
                }
                pools.push(Pool {
                    servers: 1,
                    queues: members,
                });
            }
        }
        TopicGroup {
            name: plan.name,
            partitions: (first..first + partitions as usize).collect(),
        }
    }

    /// A topic's consumer group: one consumer per partition at a time,
    /// strictly in order. A Kafka consumer retries a failed record in
    /// place (it waits out the backoff holding it); a ladder
    /// (`"rocketmq"`, `"levels"`) re-queues it, as RocketMQ's retry topic.
    fn topic_consumers(&mut self, key: &str, c: &RawConsumers) -> Result<Consumers> {
        let refused = [
            ("batch", c.batch.is_some()),
            ("crash", c.crash.is_some()),
            ("concurrency", c.concurrency.is_some()),
            ("prefetch", c.prefetch.is_some()),
            ("ack", c.ack.is_some()),
            ("dispatch", c.dispatch.is_some()),
        ];
        if let Some((name, _)) = refused.iter().find(|(_, set)| *set) {
            return Err(self
                .src
                .error(&format!("{key}.{name}"), ErrorKind::Unsupported));
        }
        let mut consumers = self.consumers(key, c)?;
        consumers.retry.in_place = !matches!(consumers.retry.backoff, Backoff::Levels { .. });
        Ok(consumers)
    }

    pub(super) fn link(&self, key: &str, l: &RawLink) -> Result<Link> {
        let latency_s = (l.latency.as_ref())
            .map(|q| self.quantity(&format!("{key}.latency"), q, QuantityKind::Duration, false))
            .transpose()?
            .unwrap_or(0.0);
        let bandwidth_bytes_per_s = (l.bandwidth.as_ref())
            .map(|q| {
                let bandwidth_key = format!("{key}.bandwidth");
                q.to_bandwidth_bytes_per_s()
                    .map_err(|e| self.invalid(&bandwidth_key, e.to_string()))
                    .and_then(|b| self.number(&bandwidth_key, b, true))
            })
            .transpose()?;
        Ok(Link {
            latency_s,
            bandwidth_bytes_per_s,
        })
    }

    pub(super) fn batch(&self, key: &str, b: &RawBatch) -> Result<Batch> {
        if b.max == 0 {
            return Err(self.invalid(&format!("{key}.max"), "must be at least 1"));
        }
        let timeout_s = (b.timeout.as_ref())
            .map(|q| self.quantity(&format!("{key}.timeout"), q, QuantityKind::Duration, false))
            .transpose()?
            .unwrap_or(0.0);
        Ok(Batch {
            max: b.max,
            timeout_s,
        })
    }
}

/// A group's consumer keys, as `[topics.consumers]` would give them; the
/// keys a group has and consumers have not (or not yet) are checked here.
fn group_consumers(g: &RawGroup) -> RawConsumers {
    RawConsumers {
        count: g.count,
        service: g.service.clone(),
        service_per_byte: g.service_per_byte,
        batch: None,
        failure: g.failure,
        retry: g.retry.clone(),
        next: g.next.clone(),
        concurrency: None,
        prefetch: None,
        ack: None,
        dispatch: None,
        poll: g.poll.clone(),
        crash: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_assignment_gives_contiguous_blocks_extra_first() {
        assert_eq!(
            assign(5, 2, RawAssignment::Range),
            vec![vec![0, 1, 2], vec![3, 4]]
        );
        assert_eq!(
            assign(2, 3, RawAssignment::Range),
            vec![vec![0], vec![1], vec![]]
        );
    }

    #[test]
    fn round_robin_assignment_deals_partitions_in_turn() {
        assert_eq!(
            assign(5, 2, RawAssignment::RoundRobin),
            vec![vec![0, 2, 4], vec![1, 3]]
        );
    }
}
