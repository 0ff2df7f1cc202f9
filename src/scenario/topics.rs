//! Kafka-style topics, links and batches: the parts of a scenario that
//! become more than one node, or change how a node takes its messages.
//!
//! A topic with P partitions becomes P queues named `topic/p0` ... in the
//! model, and its consumer group becomes one single-server pool per
//! consumer over the partitions assigned to it (range or round-robin
//! assignment, as Kafka's assignors). Consumers beyond the number of
//! partitions get none and stay idle.

use super::error::ErrorKind;
use super::raw::{RawAssignment, RawBatch, RawLink, RawPartitioner, RawTopic};
use super::validate::Validator;
use crate::model::{Batch, Discipline, Link, Overflow, Partitioner, Pool, Queue, QueueId, Topic};
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
        RawAssignment::RoundRobin => {
            for p in 0..partitions {
                owned[p % consumers].push(p);
            }
        }
    }
    owned
}

impl Validator<'_> {
    /// Builds a topic: its partitions are appended to `queues`, its
    /// consumers to `pools`.
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
        let consumers = (t.consumers.as_ref())
            .map(|c| self.topic_consumers(&format!("{key}.consumers"), c))
            .transpose()?;
        let first: QueueId = queues.len();
        for p in 0..partitions {
            queues.push(Queue {
                name: format!("{}/p{p}", t.name),
                capacity: None,
                overflow: Overflow::DropHead,
                discipline: Discipline::Fifo,
                ttl_s: None,
                dead_letter: None,
                link: None,
                consumers: None,
            });
        }
        if let Some(group) = consumers {
            let assignment = t.assignment.unwrap_or(RawAssignment::Range);
            let owned = assign(partitions as usize, group.count as usize, assignment);
            let idle = owned.iter().filter(|o| o.is_empty()).count();
            if idle > 0 {
                self.warnings.push(format!(
                    "{idle} of the {} consumers of topic `{}` own no partition and stay idle \
                     ({partitions} partitions)",
                    group.count, t.name
                ));
            }
            for list in owned.into_iter().filter(|o| !o.is_empty()) {
                let pool = pools.len();
                let members: Vec<QueueId> = list.iter().map(|p| first + p).collect();
                for &q in &members {
                    queues[q].consumers = Some(crate::model::Consumers {
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
        Ok(Topic {
            name: t.name.clone(),
            partitions: (first..first + partitions as usize).collect(),
            partitioner: match t.partitioner.unwrap_or(RawPartitioner::Key) {
                RawPartitioner::Key => Partitioner::Key,
                RawPartitioner::RoundRobin => Partitioner::RoundRobin,
            },
        })
    }

    /// A topic's consumer group: one consumer per partition at a time,
    /// strictly in order. Retries (which Kafka consumers do in place) and
    /// batched polling are not simulated for topics yet.
    fn topic_consumers(
        &mut self,
        key: &str,
        c: &super::raw::RawConsumers,
    ) -> Result<crate::model::Consumers> {
        let refused = [
            ("failure", c.failure.is_some()),
            ("retry", c.retry.is_some()),
            ("batch", c.batch.is_some()),
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
        self.consumers(key, c)
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
