//! `queuesim import kafka`: a scenario from `kafka-topics.sh --describe`
//! and `kafka-consumer-groups.sh --describe`, with rates from a second
//! groups snapshot taken `--interval` later.
//!
//! - Topics: partition count; `ReplicationFactor` and `min.insync.replicas`
//!   (from `Configs:`) as `replication` (producers with `acks=all`).
//! - Groups: each group reading a topic, its consumers (distinct
//!   `CONSUMER-ID`s) and the assignor their partitions suggest
//!   (contiguous blocks: range; otherwise round-robin).
//! - With two snapshots: each partition's produce rate from its log-end
//!   offsets, each group's consume rate from its committed offsets. The
//!   partitions' shares of the produce rate become a Zipf key skew; a
//!   consumer whose lag grew was saturated, and its mean service time is
//!   one over its consume rate.
//! - The backlog (`LAG`) is written as a comment: `simulation.initial`
//!   names queues, not topic partitions.

pub mod describe;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use self::describe::{GroupRow, Topic};
use super::emit::{self, Document, Table};
use super::{ESTIMATED, ImportError, Imported, PLACEHOLDER, file_name, scenario_name};

/// The files and options of `queuesim import kafka`.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `kafka-topics.sh --describe` output.
    pub topics: &'a Path,
    /// `kafka-consumer-groups.sh --describe` output.
    pub groups: &'a Path,
    /// The same, `interval_s` later.
    pub groups_later: Option<&'a Path>,
    /// Seconds between the two groups snapshots.
    pub interval_s: Option<f64>,
}

/// Imports the topics of `inputs` that some group reads.
///
/// # Errors
///
/// [`ImportError`] for a file that cannot be read or is malformed, or
/// `--groups-later` without a positive `--interval`.
pub fn import(inputs: &Inputs<'_>) -> Result<Imported, ImportError> {
    let topics = describe::read_topics(inputs.topics)?;
    let first = describe::read_groups(inputs.groups)?;
    let later = match (inputs.groups_later, inputs.interval_s) {
        (Some(file), Some(s)) if s > 0.0 && s.is_finite() => {
            Some((describe::read_groups(file)?, s))
        }
        (Some(_), _) => {
            return Err(ImportError::Inputs(
                "--groups-later needs --interval, the time between the two snapshots (> 0, e.g. 60s)".to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(ImportError::Inputs(
                "--interval needs --groups-later, the second snapshot".to_owned(),
            ));
        }
        (None, None) => None,
    };
    let mut notes = Vec::new();
    let described: BTreeSet<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    let unknown: BTreeSet<(&str, &str)> = first
        .iter()
        .filter(|r| !described.contains(r.topic.as_str()))
        .map(|r| (r.group.as_str(), r.topic.as_str()))
        .collect();
    for (group, topic) in unknown {
        notes.push(format!(
            "group {group:?} reads topic {topic:?}, which {} does not describe: left out",
            file_name(inputs.topics)
        ));
    }
    let mut doc = Document::default();
    header(&mut doc, inputs);
    let name = scenario_name("kafka", &file_stem(inputs.topics));
    let mut top = Table::top();
    top.entry("name", emit::string(&name), "");
    top.entry(
        "description",
        emit::string(&format!(
            "imported from {} and {}",
            file_name(inputs.topics),
            file_name(inputs.groups)
        )),
        "",
    );
    doc.push(top);
    let mut simulation = Table::new("[simulation]");
    simulation.entry(
        "duration",
        emit::string("10m"),
        "queuesim's choice, not from the cluster",
    );
    simulation.entry("replications", "10", "queuesim's choice");
    simulation.entry("seed", "1", "");
    doc.push(simulation);
    let mut topic_tables = Vec::new();
    for topic in &topics {
        let rows: Vec<&GroupRow> = first.iter().filter(|r| r.topic == topic.name).collect();
        if rows.is_empty() {
            notes.push(format!(
                "topic {:?}: no group reads it in {}: left out",
                topic.name,
                file_name(inputs.groups)
            ));
            continue;
        }
        let later_rows: Option<(Vec<&GroupRow>, f64)> = later
            .as_ref()
            .map(|(l, s)| (l.iter().filter(|r| r.topic == topic.name).collect(), *s));
        let snapshot = Snapshots::new(
            topic,
            &rows,
            later_rows.as_ref().map(|(r, s)| (r.as_slice(), *s)),
        );
        doc.push(producer_table(topic, &snapshot, inputs));
        topic_tables.push(topic_table(topic, &snapshot, inputs, &mut notes));
        for group in snapshot.group_names() {
            topic_tables.push(group_table(topic, &snapshot, &group, inputs, &mut notes));
        }
    }
    if topic_tables.is_empty() {
        return Err(ImportError::Inputs(format!(
            "{} and {} have no topic in common: nothing to simulate",
            file_name(inputs.topics),
            file_name(inputs.groups)
        )));
    }
    for table in topic_tables {
        doc.push(table);
    }
    Ok(Imported {
        name,
        toml: doc.render(),
        notes,
    })
}

/// One topic's rows in the first snapshot, and in the later one.
struct Snapshots<'a> {
    first: Vec<&'a GroupRow>,
    later: Option<(Vec<&'a GroupRow>, f64)>,
    partitions: u32,
}

impl<'a> Snapshots<'a> {
    fn new(topic: &Topic, first: &[&'a GroupRow], later: Option<(&[&'a GroupRow], f64)>) -> Self {
        Self {
            first: first.to_vec(),
            later: later.map(|(r, s)| (r.to_vec(), s)),
            partitions: topic.partitions,
        }
    }

    /// The last snapshot's rows.
    fn last(&self) -> &[&'a GroupRow] {
        self.later.as_ref().map_or(&self.first, |(r, _)| r)
    }

    fn group_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.first {
            if !names.contains(&r.group) {
                names.push(r.group.clone());
            }
        }
        names
    }

    /// Per partition, the log-end offsets' growth per second.
    fn produce_rates(&self) -> Option<Vec<f64>> {
        let (later, s) = self.later.as_ref()?;
        let end = |rows: &[&GroupRow], p: u32| {
            rows.iter()
                .filter(|r| r.partition == p)
                .filter_map(|r| r.log_end)
                .max()
        };
        Some(
            (0..self.partitions)
                .map(|p| match (end(&self.first, p), end(later, p)) {
                    (Some(a), Some(b)) => b.saturating_sub(a) as f64 / s,
                    _ => 0.0,
                })
                .collect(),
        )
    }

    /// Per partition, group `group`'s committed offsets' growth per second
    /// (`None` where one snapshot has no committed offset).
    fn consume_rates(&self, group: &str) -> Option<BTreeMap<u32, f64>> {
        let (later, s) = self.later.as_ref()?;
        let current = |rows: &[&GroupRow], p: u32| {
            rows.iter()
                .find(|r| r.group == group && r.partition == p)
                .and_then(|r| r.current)
        };
        Some(
            (0..self.partitions)
                .filter_map(|p| match (current(&self.first, p), current(later, p)) {
                    (Some(a), Some(b)) => Some((p, b.saturating_sub(a) as f64 / s)),
                    _ => None,
                })
                .collect(),
        )
    }

    /// Per partition, group `group`'s lag in the first and last snapshots.
    fn lags(&self, group: &str) -> BTreeMap<u32, (Option<u64>, Option<u64>)> {
        let lag = |rows: &[&GroupRow], p: u32| {
            rows.iter()
                .find(|r| r.group == group && r.partition == p)
                .and_then(|r| r.lag)
        };
        (0..self.partitions)
            .map(|p| (p, (lag(&self.first, p), lag(self.last(), p))))
            .collect()
    }

    /// Group `group`'s consumers in the last snapshot and their partitions.
    fn members(&self, group: &str) -> BTreeMap<String, Vec<u32>> {
        let mut members: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for r in self.last().iter().filter(|r| r.group == group) {
            if let Some(c) = &r.consumer {
                members.entry(c.clone()).or_default().push(r.partition);
            }
        }
        for parts in members.values_mut() {
            parts.sort_unstable();
        }
        members
    }
}

fn header(doc: &mut Document, inputs: &Inputs<'_>) {
    let mut sources = vec![file_name(inputs.topics), file_name(inputs.groups)];
    sources.extend(inputs.groups_later.map(file_name));
    doc.header(&format!(
        "Imported by `queuesim import kafka` from {}.",
        sources.join(", ")
    ));
    if let Some(s) = inputs.interval_s {
        doc.header(&format!(
            "The two groups snapshots are {} s apart.",
            emit::number(s)
        ));
    }
    doc.header(super::LEGEND);
}

fn producer_table(topic: &Topic, snapshots: &Snapshots<'_>, inputs: &Inputs<'_>) -> Table {
    let mut table = Table::new("[[producers]]");
    table.entry("name", emit::string(&format!("to-{}", topic.name)), "");
    table.entry("to", emit::string(&topic.name), "");
    let rates = snapshots.produce_rates();
    let total: f64 = rates.iter().flatten().sum();
    match &rates {
        Some(_) if total > 0.0 => {
            let comment = format!(
                "log-end offsets of its {} partitions, {} -> {}, over {} s",
                topic.partitions,
                file_name(inputs.groups),
                inputs.groups_later.map(file_name).unwrap_or_default(),
                emit::number(inputs.interval_s.unwrap_or(0.0))
            );
            table.entry("rate", emit::rate(total), &comment);
        }
        Some(_) => {
            table.entry(
                "rate",
                emit::rate(1.0),
                &format!("{PLACEHOLDER}: the log-end offsets did not move between the snapshots"),
            );
        }
        None => {
            table.entry(
                "rate",
                emit::rate(1.0),
                &format!("{PLACEHOLDER}: no produce rate (give --groups-later and --interval)"),
            );
        }
    }
    if let Some(rates) = rates.filter(|_| total > 0.0)
        && let Some((skew, how)) = key_skew(&rates)
    {
        let value = format!(
            "{{ count = {}, skew = {} }}",
            topic.partitions,
            emit::number(skew)
        );
        table.entry("keys", value, &format!("{ESTIMATED}: {how}"));
    }
    table
}

/// A Zipf skew whose sorted key probabilities follow the partitions'
/// sorted shares of `rates` (least squares of log share on log rank), or
/// `None` when the shares are even (within 10% of the mean).
fn key_skew(rates: &[f64]) -> Option<(f64, String)> {
    let total: f64 = rates.iter().sum();
    let mean = total / rates.len() as f64;
    let mut shares: Vec<f64> = rates.iter().map(|r| r / total).collect();
    shares.sort_by(|a, b| b.total_cmp(a));
    if rates.iter().all(|r| (r - mean).abs() <= 0.1 * mean) {
        return None;
    }
    let points: Vec<(f64, f64)> = shares
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > 0.0)
        .map(|(i, s)| (((i + 1) as f64).ln(), s.ln()))
        .collect();
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let skew = if sxx > 0.0 {
        (-sxy / sxx).max(0.0)
    } else {
        0.0
    };
    let top: Vec<String> = shares
        .iter()
        .take(3)
        .map(|s| format!("{}%", emit::number(100.0 * s)))
        .collect();
    Some((
        skew,
        format!(
            "Zipf skew fitted to the partitions' shares of the produce rate (largest {}); which key lands on which partition follows queuesim's hash",
            top.join(", ")
        ),
    ))
}

fn topic_table(
    topic: &Topic,
    snapshots: &Snapshots<'_>,
    inputs: &Inputs<'_>,
    notes: &mut Vec<String>,
) -> Table {
    let mut table = Table::new("[[topics]]");
    let source = format!("{} line {}", file_name(inputs.topics), topic.line);
    table.entry("name", emit::string(&topic.name), "");
    table.entry(
        "partitions",
        topic.partitions.to_string(),
        &format!("PartitionCount, {source}"),
    );
    if topic.partition_lines != topic.partitions {
        notes.push(format!(
            "topic {:?}: PartitionCount {} but {} partition lines",
            topic.name, topic.partitions, topic.partition_lines
        ));
    }
    let even = snapshots
        .produce_rates()
        .is_some_and(|r| key_skew(&r).is_none());
    if even {
        table.entry(
            "partitioner",
            emit::string("round-robin"),
            &format!("{ESTIMATED}: the partitions' produce rates are even"),
        );
    } else {
        table.entry(
            "partitioner",
            emit::string("key"),
            &format!("{ESTIMATED}: keyed records (Kafka's default partitioner)"),
        );
    }
    let factor = topic.replication_factor;
    let min_insync = topic.min_insync.unwrap_or(1);
    if factor > 1 && min_insync > 1 {
        let clamped = min_insync.min(factor);
        let value = format!(
            "{{ factor = {factor}, min_insync = {clamped}, follower_fetch = {} }}",
            emit::exponential(0.001)
        );
        let comment = format!(
            "ReplicationFactor {factor} and min.insync.replicas={min_insync} from Configs ({source}), producers with acks=all; {PLACEHOLDER}: follower_fetch, the followers' fetch time, is not in the describe output"
        );
        table.entry("replication", value, &comment);
    } else if factor > 1 {
        table.comment(&format!(
            "ReplicationFactor {factor} with min.insync.replicas {min_insync} ({source}): the leader alone commits, no `replication` needed"
        ));
    }
    table
}

fn group_table(
    topic: &Topic,
    snapshots: &Snapshots<'_>,
    group: &str,
    inputs: &Inputs<'_>,
    notes: &mut Vec<String>,
) -> Table {
    let mut table = Table::new("[[topics.groups]]");
    let name = group_name(group);
    let who = format!("group {group:?} of topic {:?}", topic.name);
    if name != group {
        notes.push(format!(
            "{who}: written as {name:?} (group names take letters, digits, `-`, `_` and `.`)"
        ));
    }
    table.entry("name", emit::string(&name), "");
    let members = snapshots.members(group);
    let last = inputs.groups_later.unwrap_or(inputs.groups);
    if members.is_empty() {
        table.entry(
            "count",
            "1",
            &format!(
                "{PLACEHOLDER}: no active member in {} (CONSUMER-ID `-`)",
                file_name(last)
            ),
        );
    } else {
        table.entry(
            "count",
            members.len().to_string(),
            &format!("distinct CONSUMER-IDs in {}", file_name(last)),
        );
        let (assignment, how) = assignor(&members);
        table.entry(
            "assignment",
            emit::string(assignment),
            &format!("{ESTIMATED}: {how}"),
        );
    }
    let owned: BTreeSet<u32> = members.values().flatten().copied().collect();
    let orphans: Vec<String> = (0..topic.partitions)
        .filter(|p| !owned.contains(p))
        .map(|p| p.to_string())
        .collect();
    if !members.is_empty() && !orphans.is_empty() {
        notes.push(format!(
            "{who}: partitions {} have no consumer (`-`); the scenario assigns every partition",
            orphans.join(", ")
        ));
    }
    write_service(&mut table, snapshots, group, &members);
    let backlog: Vec<String> = snapshots
        .lags(group)
        .iter()
        .filter_map(|(p, (_, last))| last.filter(|l| *l > 0).map(|l| format!("p{p} {l}")))
        .collect();
    if !backlog.is_empty() {
        table.comment(&format!(
            "backlog (LAG in {}): {}; not written as `simulation.initial`, which names queues, not partitions",
            file_name(last),
            backlog.join(", ")
        ));
    }
    table
}

/// The mean service time of a group's consumers: from those whose lag grew
/// (saturated), else a placeholder.
fn write_service(
    table: &mut Table,
    snapshots: &Snapshots<'_>,
    group: &str,
    members: &BTreeMap<String, Vec<u32>>,
) {
    let Some(consumed) = snapshots.consume_rates(group) else {
        table.entry(
            "service",
            emit::exponential(0.001),
            &format!("{PLACEHOLDER}: no consume rate (give --groups-later and --interval); measure it (`queuesim fit`)"),
        );
        return;
    };
    let lags = snapshots.lags(group);
    let mut saturated = Vec::new();
    let mut bounds = Vec::new();
    for parts in members.values() {
        let rate: f64 = parts.iter().filter_map(|p| consumed.get(p)).sum();
        if rate <= 0.0 {
            continue;
        }
        let grew = parts.iter().any(|p| match lags.get(p) {
            Some((Some(a), Some(b))) => b > a,
            _ => false,
        });
        if grew {
            saturated.push(1.0 / rate);
        } else {
            bounds.push(1.0 / rate);
        }
    }
    if !saturated.is_empty() {
        let mean_s = saturated.iter().sum::<f64>() / saturated.len() as f64;
        let comment = format!(
            "{ESTIMATED}: {} ms, one over the consume rate (committed offsets) of the {} consumer{} whose lag grew (saturated); exponential assumed",
            emit::number(mean_s * 1e3),
            saturated.len(),
            if saturated.len() == 1 { "" } else { "s" }
        );
        table.entry("service", emit::exponential(mean_s), &comment);
    } else if let Some(bound) = bounds.iter().copied().reduce(f64::min) {
        let comment = format!(
            "{PLACEHOLDER}: the consumers kept up (no lag grew), so their consume rates bound the mean only from above (at most {} ms); half that bound written; measure it",
            emit::number(bound * 1e3)
        );
        table.entry("service", emit::exponential(bound / 2.0), &comment);
    } else {
        table.entry(
            "service",
            emit::exponential(0.001),
            &format!("{PLACEHOLDER}: the committed offsets did not move; measure the service time"),
        );
    }
}

/// Range when every consumer's partitions are contiguous, else round-robin.
fn assignor(members: &BTreeMap<String, Vec<u32>>) -> (&'static str, &'static str) {
    let contiguous = members
        .values()
        .all(|p| p.windows(2).all(|w| w[1] == w[0] + 1));
    if contiguous {
        ("range", "each consumer owns contiguous partitions")
    } else {
        ("round-robin", "the consumers' partitions interleave")
    }
}

/// A group name the scenario accepts: letters, digits, `-`, `_`, `.`.
fn group_name(group: &str) -> String {
    group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_rates_have_no_skew_and_zipf_rates_give_theirs_back() {
        assert!(key_skew(&[10.0, 10.5, 9.8]).is_none());
        let zipf: Vec<f64> = (1..=12).map(|k| 100.0 * f64::from(k).powf(-1.2)).collect();
        let (skew, _) = key_skew(&zipf).unwrap();
        assert!((skew - 1.2).abs() < 1e-9, "{skew}");
    }

    #[test]
    fn contiguous_partitions_suggest_the_range_assignor() {
        let range = BTreeMap::from([("a".to_owned(), vec![0, 1]), ("b".to_owned(), vec![2, 3])]);
        assert_eq!(assignor(&range).0, "range");
        let rr = BTreeMap::from([("a".to_owned(), vec![0, 2]), ("b".to_owned(), vec![1, 3])]);
        assert_eq!(assignor(&rr).0, "round-robin");
    }
}
