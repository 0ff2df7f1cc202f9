//! Reading the text of Kafka 3.x's `kafka-topics.sh --describe` and
//! `kafka-consumer-groups.sh --describe` (one group, several, or
//! `--all-groups`).
//!
//! `kafka-topics.sh --describe` writes, per topic, a line of tab-separated
//! `Key: value` fields (`Topic`, `TopicId`, `PartitionCount`,
//! `ReplicationFactor`, `Configs`), then one indented line per partition
//! (`Topic`, `Partition`, `Leader`, `Replicas`, `Isr`, and from 3.7
//! `Elr`, `LastKnownElr`). Older versions wrote `Key:value` without the
//! space; both are read.
//!
//! `kafka-consumer-groups.sh --describe` writes a header row (`GROUP
//! TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
//! CLIENT-ID`) and one row per partition, columns separated by spaces,
//! `-` where there is no value (no committed offset, no consumer), and
//! lines such as `Consumer group 'g' has no active members.` between
//! groups.

use std::path::Path;

use crate::import::ImportError;

/// One topic of `kafka-topics.sh --describe`.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// Its name.
    pub name: String,
    /// `PartitionCount`.
    pub partitions: u32,
    /// `ReplicationFactor`.
    pub replication_factor: u32,
    /// `min.insync.replicas` from `Configs`, if set there.
    pub min_insync: Option<u32>,
    /// The line of its header, for comments.
    pub line: usize,
    /// Partition lines seen.
    pub partition_lines: u32,
}

/// Reads `kafka-topics.sh --describe` output.
pub fn read_topics(file: &Path) -> Result<Vec<Topic>, ImportError> {
    let text = crate::import::read_text(file)?;
    let mut topics: Vec<Topic> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let fields = fields(trimmed);
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let bad = |problem: String| ImportError::malformed(file, format!("line {line}"), problem);
        if get("Topic").is_none() {
            return Err(bad(format!(
                "expected a line of `kafka-topics.sh --describe` (`Topic: NAME\tPartitionCount: N ...` or an indented partition line), found {trimmed:?}"
            )));
        }
        let number = |key: &str| -> Result<u32, ImportError> {
            let value = get(key).ok_or_else(|| bad(format!("missing `{key}:`")))?;
            value
                .parse()
                .map_err(|_| bad(format!("`{key}` must be a whole number, found {value:?}")))
        };
        if get("PartitionCount").is_some() {
            let min_insync = get("Configs")
                .unwrap_or("")
                .split(',')
                .filter_map(|c| c.split_once('='))
                .find(|(k, _)| k.trim() == "min.insync.replicas")
                .map(|(_, v)| {
                    v.trim().parse::<u32>().map_err(|_| {
                        bad(format!(
                            "`min.insync.replicas` must be a whole number, found {v:?}"
                        ))
                    })
                })
                .transpose()?;
            topics.push(Topic {
                name: get("Topic").unwrap_or_default().to_owned(),
                partitions: number("PartitionCount")?,
                replication_factor: number("ReplicationFactor")?,
                min_insync,
                line,
                partition_lines: 0,
            });
        } else if get("Partition").is_some() {
            number("Partition")?;
            let name = get("Topic").unwrap_or_default();
            match topics.iter_mut().rev().find(|t| t.name == name) {
                Some(t) => t.partition_lines += 1,
                None => {
                    return Err(bad(format!(
                        "partition line of topic {name:?} before its `Topic: {name}\tPartitionCount: ...` line"
                    )));
                }
            }
        } else {
            return Err(bad(
                "expected `PartitionCount:` (a topic line) or `Partition:` (a partition line)"
                    .to_owned(),
            ));
        }
    }
    if topics.is_empty() {
        return Err(ImportError::malformed(
            file,
            "line 1".to_owned(),
            "no topic: expected the output of `kafka-topics.sh --describe`",
        ));
    }
    Ok(topics)
}

/// The `Key: value` fields of a tab-separated line.
fn fields(line: &str) -> Vec<(&str, &str)> {
    line.split('\t')
        .filter_map(|f| f.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

/// One row of `kafka-consumer-groups.sh --describe`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    /// `GROUP`.
    pub group: String,
    /// `TOPIC`.
    pub topic: String,
    /// `PARTITION`.
    pub partition: u32,
    /// `CURRENT-OFFSET` (committed), `None` for `-`.
    pub current: Option<u64>,
    /// `LOG-END-OFFSET`, `None` for `-`.
    pub log_end: Option<u64>,
    /// `LAG`, `None` for `-`.
    pub lag: Option<u64>,
    /// `CONSUMER-ID`, `None` for `-` (no consumer owns the partition).
    pub consumer: Option<String>,
    /// Its line, for comments.
    pub line: usize,
}

const COLUMNS: [&str; 7] = [
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "CONSUMER-ID",
];

/// Reads `kafka-consumer-groups.sh --describe` output.
pub fn read_groups(file: &Path) -> Result<Vec<GroupRow>, ImportError> {
    let text = crate::import::read_text(file)?;
    let mut header: Option<Vec<&str>> = None;
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        let bad = |problem: String| ImportError::malformed(file, format!("line {line}"), problem);
        if trimmed.is_empty()
            || trimmed.starts_with("Consumer group '")
            || trimmed.starts_with("Warning:")
        {
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        if words.first() == Some(&"GROUP") || words.first() == Some(&"TOPIC") {
            if let Some(missing) = COLUMNS.iter().find(|c| !words.contains(c)) {
                return Err(bad(format!(
                    "header row without the {missing} column: expected `{}` (Kafka 3.x)",
                    COLUMNS.join(" ")
                )));
            }
            header = Some(words);
            continue;
        }
        let Some(columns) = &header else {
            return Err(bad(format!(
                "expected the header row `{} HOST CLIENT-ID` of `kafka-consumer-groups.sh --describe`, found {trimmed:?}",
                COLUMNS.join(" ")
            )));
        };
        if words.len() < COLUMNS.len() {
            return Err(bad(format!(
                "expected {} columns ({}), found {}",
                columns.len(),
                columns.join(" "),
                words.len()
            )));
        }
        let cell = |name: &str| {
            let at = columns.iter().position(|c| *c == name).unwrap_or(0);
            words.get(at).copied().unwrap_or("-")
        };
        let offset = |name: &str| -> Result<Option<u64>, ImportError> {
            match cell(name) {
                "-" => Ok(None),
                v => v
                    .parse()
                    .map(Some)
                    .map_err(|_| bad(format!("{name} must be a whole number or `-`, found {v:?}"))),
            }
        };
        let partition = cell("PARTITION");
        rows.push(GroupRow {
            group: cell("GROUP").to_owned(),
            topic: cell("TOPIC").to_owned(),
            partition: partition.parse().map_err(|_| {
                bad(format!(
                    "PARTITION must be a whole number, found {partition:?}"
                ))
            })?,
            current: offset("CURRENT-OFFSET")?,
            log_end: offset("LOG-END-OFFSET")?,
            lag: offset("LAG")?,
            consumer: Some(cell("CONSUMER-ID"))
                .filter(|c| *c != "-")
                .map(str::to_owned),
            line,
        });
    }
    if rows.is_empty() {
        return Err(ImportError::malformed(
            file,
            "line 1".to_owned(),
            "no partition row: expected the output of `kafka-consumer-groups.sh --describe`",
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn topics_are_read_with_their_configs() {
        let f = file(
            "Topic: clicks\tTopicId: AbC\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: min.insync.replicas=2,segment.bytes=1073741824\n\
             \tTopic: clicks\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\n\
             \tTopic: clicks\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3,1\n",
        );
        let topics = read_topics(f.path()).unwrap();
        assert_eq!(topics.len(), 1);
        assert_eq!(
            (
                topics[0].partitions,
                topics[0].replication_factor,
                topics[0].min_insync
            ),
            (2, 3, Some(2))
        );
        assert_eq!(topics[0].partition_lines, 2);
    }

    #[test]
    fn bad_topic_lines_name_the_line() {
        let f = file("Topic: a\tPartitionCount: x\tReplicationFactor: 1\tConfigs: \n");
        let e = read_topics(f.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("line 1: `PartitionCount` must be a whole number, found \"x\""),
            "{e}"
        );
    }

    #[test]
    fn group_rows_read_dashes_as_absent() {
        let f = file(
            "\nConsumer group 'g' has no active members.\n\n\
             GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n\
             g     t     0         -              10             -   -           -    -\n\
             g     t     1         5              10             5   c-1         /1.2.3.4 c\n",
        );
        let rows = read_groups(f.path()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (
                rows[0].current,
                rows[0].log_end,
                rows[0].lag,
                rows[0].consumer.clone()
            ),
            (None, Some(10), None, None)
        );
        assert_eq!(rows[1].consumer.as_deref(), Some("c-1"));
        let bad = file(
            "GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\ng t 0 x 1 1 - - -\n",
        );
        let e = read_groups(bad.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("line 2: CURRENT-OFFSET must be a whole number or `-`, found \"x\""),
            "{e}"
        );
    }
}
