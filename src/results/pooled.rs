//! The histograms of a run pooled over its replications: the source of
//! every reported quantile, and their CSV form in shard files.
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
use crate::table::Table;

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

    /// Its name in a histograms file.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Latency => "latency",
            Measure::Wait => "wait",
            Measure::Sojourn => "sojourn",
            Measure::ClassWait => "class_wait",
            Measure::SinkLatency => "sink_latency",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == text)
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

/// Header of a histograms file (after the optional `point` column): one
/// row per histogram, its total count and its non-empty buckets (see
/// [`encode_buckets`]).
const HEADER: [&str; 5] = ["histogram", "node", "priority", "count", "buckets"];

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

    /// The CSV rows of these histograms, each led by `lead` (for example a
    /// sweep's point): one per histogram, empty ones included, so that
    /// reading the rows back gives the same histograms.
    fn rows(&self, lead: &[String]) -> Vec<Vec<String>> {
        (self.keys.iter().zip(&self.histograms))
            .map(|(key, histogram)| {
                let mut row = lead.to_vec();
                row.extend([
                    key.measure.name().to_owned(),
                    key.node.clone(),
                    key.priority.to_string(),
                    histogram.count().to_string(),
                    encode_buckets(histogram),
                ]);
                row
            })
            .collect()
    }

    /// Adds one row of a histograms file (without leading columns).
    ///
    /// # Errors
    ///
    /// What is wrong with the row.
    fn add_row(&mut self, cells: &[String]) -> Result<(), String> {
        let [measure, node, priority, count, buckets] = cells else {
            return Err(format!("expected {} cells", HEADER.len()));
        };
        let measure = Measure::parse(measure).ok_or_else(|| format!("unknown `{measure}`"))?;
        let priority = priority
            .parse()
            .map_err(|_| format!("`{priority}` is not a priority"))?;
        let count: u64 = count
            .parse()
            .map_err(|_| format!("`{count}` is not a count"))?;
        let mut decoded = LatencyHistogram::new();
        decode_buckets(buckets, &mut decoded)?;
        if decoded.count() != count {
            return Err(format!(
                "the buckets of {} at {node} hold {} values, the row says {count}",
                measure.name(),
                decoded.count()
            ));
        }
        self.insert(HistogramKey::at(measure, node, priority))
            .add(&decoded);
        Ok(())
    }
}

/// The non-empty buckets of `histogram` as text: space-separated
/// `step` or `step:count` items, `step` the bucket number's increase over
/// the previous item's (the first item's is the number itself) and
/// `count` omitted when it is 1. Consecutive buckets cost a few bytes.
fn encode_buckets(histogram: &LatencyHistogram) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let mut previous = 0;
    for (index, count) in histogram.bucket_counts() {
        if !text.is_empty() {
            text.push(' ');
        }
        let step = index - previous;
        previous = index;
        let _ = if count == 1 {
            write!(text, "{step}")
        } else {
            write!(text, "{step}:{count}")
        };
    }
    text
}

/// Records the buckets of `text` ([`encode_buckets`]) into `histogram`.
fn decode_buckets(text: &str, histogram: &mut LatencyHistogram) -> Result<(), String> {
    let mut index = 0usize;
    for item in text.split_ascii_whitespace() {
        let (step, count) = item.split_once(':').unwrap_or((item, "1"));
        let bad = || format!("`{item}` is not a bucket (step or step:count)");
        let step: usize = step.parse().map_err(|_| bad())?;
        let count: u64 = count.parse().map_err(|_| bad())?;
        index = index.checked_add(step).ok_or_else(bad)?;
        histogram.record_bucket(index, count)?;
    }
    Ok(())
}

/// The histograms file of a run shard: the shard's pooled histograms.
pub fn to_table(pooled: &PooledHistograms) -> Table {
    Table {
        header: HEADER.map(String::from).to_vec(),
        rows: pooled.rows(&[]),
    }
}

/// The histograms file of a sweep shard: each point's pooled histograms,
/// rows led by the point's index.
pub fn points_to_table(points: &[PooledHistograms]) -> Table {
    let mut header = vec!["point".to_owned()];
    header.extend(HEADER.map(String::from));
    let rows = (points.iter().enumerate())
        .flat_map(|(point, pooled)| pooled.rows(&[point.to_string()]))
        .collect();
    Table { header, rows }
}

/// Adds the rows of a run shard's histograms file to `pooled`.
///
/// # Errors
///
/// What is wrong with the first malformed row.
pub fn add_table(pooled: &mut PooledHistograms, table: &Table) -> Result<(), String> {
    table.rows.iter().try_for_each(|row| pooled.add_row(row))
}

/// Adds the rows of a sweep shard's histograms file to `points` (one
/// pooled set per point of the sweep).
///
/// # Errors
///
/// What is wrong with the first malformed row.
pub fn add_points_table(points: &mut [PooledHistograms], table: &Table) -> Result<(), String> {
    for row in &table.rows {
        let (point, cells) = row.split_first().ok_or("an empty row")?;
        let pooled = point
            .parse::<usize>()
            .ok()
            .and_then(|p| points.get_mut(p))
            .ok_or_else(|| format!("`{point}` is not a point of the sweep"))?;
        pooled.add_row(cells)?;
    }
    Ok(())
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
    fn the_csv_form_rebuilds_every_histogram_empty_ones_included() {
        let original = pooled();
        let mut read = PooledHistograms::default();
        add_table(&mut read, &to_table(&original)).unwrap();
        assert_eq!(read, original);
        let mut points = vec![PooledHistograms::default(); 2];
        add_points_table(
            &mut points,
            &points_to_table(&[original.clone(), original.clone()]),
        )
        .unwrap();
        assert_eq!(points, [original.clone(), original]);
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

    /// Issue 14: shards wrote one CSV row of about 35 bytes per bucket
    /// (46 MB per shard of the sweep in docs/distributed.md); a run of adjacent buckets
    /// now costs a few bytes each, and reads back exactly.
    #[test]
    fn adjacent_buckets_cost_a_few_bytes_each() {
        let mut histogram = LatencyHistogram::new();
        for i in 0..10_000u32 {
            histogram.record_n(0.01 * (1.0 + f64::from(i) * 1e-3), 1 + u64::from(i % 3));
        }
        let buckets = histogram.bucket_counts().count();
        let text = encode_buckets(&histogram);
        assert!(
            text.len() < 5 * buckets,
            "{} bytes for {buckets} buckets",
            text.len()
        );
        let mut read = LatencyHistogram::new();
        decode_buckets(&text, &mut read).unwrap();
        assert_eq!(read, histogram);
    }

    #[test]
    fn malformed_rows_are_named() {
        let mut pooled = PooledHistograms::default();
        let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let err = pooled
            .add_row(&row(&["speed", "q", "0", "1", "1"]))
            .unwrap_err();
        assert!(err.contains("speed"), "{err}");
        let err = pooled
            .add_row(&row(&["wait", "q", "0", "1", "x"]))
            .unwrap_err();
        assert!(err.contains("`x`"), "{err}");
        let err = pooled
            .add_row(&row(&["wait", "q", "0", "5", "3000:2"]))
            .unwrap_err();
        assert!(err.contains("hold 2 values, the row says 5"), "{err}");
        let mut points = vec![PooledHistograms::default()];
        let table = Table {
            header: Vec::new(),
            rows: vec![row(&["3", "wait", "q", "0", "1", "1"])],
        };
        assert!(add_points_table(&mut points, &table).is_err());
    }
}
