//! Theory that tells `plan` where to start searching.
//!
//! Where a scenario is a single M/M/c queue (one Poisson producer straight
//! into one unbounded FIFO queue with exponential service, no TTL, link,
//! batching, failures, deadline, onward routes or initial backlog), the
//! summary and node metrics have closed forms ([`crate::analytic::mmc`]
//! and [`crate::analytic::mmc_sojourn_quantile`]). Elsewhere there is no
//! prediction and `plan` searches by simulation alone.

use crate::analytic::{mmc, mmc_sojourn_quantile};
use crate::model::{Discipline, Model, Target};
use crate::results::{NodeMetric, SummaryMetric};

/// A single M/M/c queue recognised in a model.
#[derive(Debug, Clone, PartialEq)]
pub struct MmcTheory {
    /// Queue name (the prefix of its node metrics).
    pub queue: String,
    /// Arrival rate, per second.
    pub lambda: f64,
    /// Service rate of one consumer, per second.
    pub mu: f64,
    /// Consumers.
    pub c: u32,
}

/// The M/M/c queue `model` is, if it is one.
pub fn recognise(model: &Model) -> Option<MmcTheory> {
    let ([producer], [queue]) = (model.producers.as_slice(), model.queues.as_slice()) else {
        return None;
    };
    let consumers = queue.consumers.as_ref()?;
    let plain = model.exchanges.is_empty()
        && model.topics.is_empty()
        && model.simulation.initial.is_empty()
        && producer.to == Target::Queue(0)
        && producer.publishes_poisson()
        && producer.deadline_s.is_none()
        && queue.capacity.is_none()
        && queue.ttl_s.is_none()
        && queue.link.is_none()
        && queue.discipline != Discipline::Lifo
        && consumers.service.is_exponential()
        && consumers.service_per_byte_s == 0.0
        && consumers.batch.is_none()
        && consumers.failure == 0.0
        && consumers.window().is_none()
        && consumers.next.is_empty();
    plain.then(|| MmcTheory {
        queue: queue.name.clone(),
        lambda: producer
            .arrivals
            .mean_rate_per_s(model.simulation.duration_s),
        mu: 1.0 / consumers.service.mean(),
        c: consumers.slots(),
    })
}

impl MmcTheory {
    /// The steady-state value of `metric`, where theory gives one. An
    /// unstable queue has infinite waits and latencies.
    pub fn value(&self, metric: &str) -> Option<f64> {
        let node = metric
            .strip_prefix(&self.queue)
            .and_then(|rest| rest.strip_prefix('.'));
        let quantile = |q: f64| {
            Some(mmc_sojourn_quantile(self.lambda, self.mu, self.c, q).unwrap_or(f64::INFINITY))
        };
        let steady = mmc(self.lambda, self.mu, self.c).ok();
        let or_infinite = |f: fn(&crate::analytic::QueueMetrics) -> f64| {
            Some(steady.as_ref().map_or(f64::INFINITY, f))
        };
        let summary = SummaryMetric::parse(metric);
        match (summary, node.and_then(NodeMetric::parse)) {
            (Some(SummaryMetric::MeanLatency), _) | (_, Some(NodeMetric::MeanSojourn)) => {
                or_infinite(|m| m.mean_sojourn_s)
            }
            (_, Some(NodeMetric::P99Sojourn)) => quantile(NodeMetric::LEVEL),
            (Some(SummaryMetric::SuccessRatio), _) => Some(1.0),
            (Some(percentile), _) if percentile.level().is_some() => quantile(percentile.level()?),
            (_, Some(NodeMetric::MeanWait)) => or_infinite(|m| m.mean_wait_s),
            (_, Some(NodeMetric::MeanInQueue)) => or_infinite(|m| m.mean_in_queue),
            (_, Some(NodeMetric::Utilization)) => {
                Some((self.lambda / (f64::from(self.c) * self.mu)).min(1.0))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn model(extra: &str) -> Model {
        let text = format!(
            "[[producers]]\nname = \"p\"\nto = \"q\"\nrate = 9\n\
             [[queues]]\nname = \"q\"\n{extra}\n[queues.consumers]\ncount = 10\n\
             service = {{ dist = \"exponential\", mean = 1 }}\n"
        );
        crate::scenario::from_str(&text, Path::new("m.toml"), &[]).unwrap()
    }

    #[test]
    fn predicts_the_p99_of_an_mmc_queue() {
        let theory = recognise(&model("")).unwrap();
        assert_eq!((theory.lambda, theory.mu, theory.c), (9.0, 1.0, 10));
        let p99 = theory.value("p99_latency").unwrap();
        assert!((p99 - 6.25).abs() < 0.01, "{p99}");
        assert_eq!(theory.value("q.p99_sojourn"), Some(p99));
        assert_eq!(theory.value("throughput"), None);
        let unstable = MmcTheory { c: 9, ..theory };
        assert_eq!(unstable.value("p99_latency"), Some(f64::INFINITY));
    }

    #[test]
    fn bounded_queues_are_not_mmc() {
        assert!(recognise(&model("capacity = 5")).is_none());
    }
}
