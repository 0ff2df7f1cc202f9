//! The histograms of a run pooled over its replications: the source of
//! every reported quantile, and their compact form in shard files
//! ([`codec`]).
//!
//! A reported quantile is the quantile of every replication's observations
//! together (see [`crate::stats::Estimate::sectioned`]), so a run keeps, besides
//! one value per replication and metric, one histogram per measured time:
//! end-to-end latency, and per queue its waiting and sojourn times and,
//! when the run has several priority classes, each class's waiting time.
//! Histogram addition is exact integer addition, so the pooled histograms do
//! not depend on the order in which replications finish, nor on how a run
//! was split into shards.

use std::collections::HashMap;

use crate::engine::ReplicationResult;
use crate::model::Model;
use crate::stats::LatencyHistogram;

pub mod codec;

/// What a pooled histogram measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// End-to-end latency of delivered messages.
    Latency,
    /// Waiting time at a queue.
    Wait,
    /// Sojourn (wait plus service) time at a queue.
    Sojourn,
    /// Waiting time of one priority class at a queue.
    ClassWait,
    /// Latency of the copies a sink delivered (the key's node is the sink).
    SinkLatency,
}

impl Measure {
    const ALL: [Measure; 5] = [
        Measure::Latency,
        Measure::Wait,
        Measure::Sojourn,
        Measure::ClassWait,
        Measure::SinkLatency,
    ];

    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Latency => "latency",
            Measure::Wait => "wait",
            Measure::Sojourn => "sojourn",
            Measure::ClassWait => "class_wait",
            Measure::SinkLatency => "sink_latency",
        }
    }
}

/// Which histogram: a measure, at a queue (empty for latency), of a
/// priority class (0 unless the measure is [`Measure::ClassWait`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistogramKey {
    /// What is measured.
    pub measure: Measure,
    /// Queue name; empty for end-to-end latency.
    pub node: String,
    /// Priority class value.
    pub priority: i64,
}

impl HistogramKey {
    /// End-to-end latency.
    pub fn latency() -> Self {
        Self::at(Measure::Latency, "", 0)
    }

    /// `measure` at queue `node`, class `priority`.
    pub fn at(measure: Measure, node: &str, priority: i64) -> Self {
        Self {
            measure,
            node: node.to_owned(),
            priority,
        }
    }
}

/// Histograms pooled over replications, by [`HistogramKey`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PooledHistograms {
    keys: Vec<HistogramKey>,
    index: HashMap<HistogramKey, usize>,
    histograms: Vec<LatencyHistogram>,
}

impl PooledHistograms {
    /// Empty histograms for every time `model` measures: latency, then per
    /// queue its wait and sojourn and, with several priority classes, each
    /// class's wait (a single class's wait is the queue's).
    pub fn for_model(model: &Model) -> Self {
        let classes = model.run_classes();
        let mut pooled = Self::default();
        pooled.insert(HistogramKey::latency());
        for queue in &model.queues {
            pooled.insert(HistogramKey::at(Measure::Wait, &queue.name, 0));
            pooled.insert(HistogramKey::at(Measure::Sojourn, &queue.name, 0));
            if classes.len() > 1 {
                for &priority in &classes {
                    pooled.insert(HistogramKey::at(Measure::ClassWait, &queue.name, priority));
                }
            }
        }
        for sink in model.sinks().names {
            pooled.insert(HistogramKey::at(Measure::SinkLatency, &sink, 0));
        }
        pooled
    }

    /// The histogram of `key`, created empty if new.
    fn insert(&mut self, key: HistogramKey) -> &mut LatencyHistogram {
        let next = self.keys.len();
        let slot = *self.index.entry(key.clone()).or_insert(next);
        if slot == next {
            self.keys.push(key);
            self.histograms.push(LatencyHistogram::new());
        }
        &mut self.histograms[slot]
    }

    /// Adds the observations of one replication of the model these
    /// histograms were made for (see [`Self::for_model`]).
    pub fn add_replication(&mut self, rep: &ReplicationResult) {
        let theirs = std::iter::once(&rep.latency_hist).chain(rep.nodes.iter().flat_map(|n| {
            [&n.wait_hist, &n.sojourn_hist]
                .into_iter()
                .chain(n.classes.iter().map(|c| &c.wait_hist))
        }));
        let theirs = theirs.chain(rep.sinks.iter().map(|s| &s.latency_hist));
        let mut added = 0;
        for (mine, theirs) in self.histograms.iter_mut().zip(theirs) {
            mine.add(theirs);
            added += 1;
        }
        assert_eq!(
            added,
            self.histograms.len(),
            "a replication of another model"
        );
    }

    /// The value at level `level` of histogram `key`, seconds: NaN for an
    /// empty or unknown histogram. A class's wait in a run with a single
    /// class is the queue's wait.
    pub fn quantile(&self, key: &HistogramKey, level: f64) -> f64 {
        self.quantiles(key, &[level])[0]
    }

    /// [`Self::quantile`] at each of `levels` (in increasing order), in one
    /// pass over the histogram's buckets.
    pub fn quantiles(&self, key: &HistogramKey, levels: &[f64]) -> Vec<f64> {
        let found = self.index.get(key).or_else(|| match key.measure {
            Measure::ClassWait => self
                .index
                .get(&HistogramKey::at(Measure::Wait, &key.node, 0)),
            _ => None,
        });
        found.map_or_else(
            || vec![f64::NAN; levels.len()],
            |&slot| self.histograms[slot].quantiles(levels),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled() -> PooledHistograms {
        let mut pooled = PooledHistograms::default();
        pooled.insert(HistogramKey::latency()).record(0.5);
        let wait = pooled.insert(HistogramKey::at(Measure::Wait, "q", 0));
        wait.record(0.0);
        wait.record_n(2.0, 3);
        pooled.insert(HistogramKey::at(Measure::ClassWait, "q", 7));
        pooled
    }

    #[test]
    fn an_empty_class_has_no_quantile_and_a_single_class_is_the_queue() {
        let pooled = pooled();
        assert!(
            pooled
                .quantile(&HistogramKey::at(Measure::ClassWait, "q", 7), 0.5)
                .is_nan()
        );
        let wait = pooled.quantile(&HistogramKey::at(Measure::Wait, "q", 0), 0.99);
        assert!((wait - 2.0).abs() < 2e-3, "{wait}");
        let single = HistogramKey::at(Measure::ClassWait, "q", 0);
        assert_eq!(pooled.quantile(&single, 0.99), wait);
        assert!(
            pooled
                .quantile(&HistogramKey::at(Measure::Sojourn, "q", 0), 0.5)
                .is_nan()
        );
    }
}
