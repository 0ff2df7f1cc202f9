//! One RabbitMQ queue as a `[[queues]]` table: its limits, overflow, TTL,
//! priority and dead letters from its arguments and policies, and its
//! consumers from the live figures.

use serde_json::Value;

use super::definitions::QueueDef;
use super::policies::{Effective, Setting, plain};
use super::stats::{ConsumerInfo, QueueStats, ServiceEstimate, estimate_service};
use crate::import::emit::{self, Table};
use crate::import::{ESTIMATED, PLACEHOLDER};

/// Arguments that change nothing a scenario models (storage, placement).
const WITHOUT_EFFECT: [&str; 8] = [
    "x-queue-mode",
    "x-queue-version",
    "x-queue-master-locator",
    "x-queue-leader-locator",
    "x-quorum-initial-group-size",
    "x-max-in-memory-length",
    "x-max-in-memory-bytes",
    "x-stream-max-segment-size-bytes",
];

/// Arguments read into the queue's table (or its consumers).
const READ: [&str; 10] = [
    "x-max-length",
    "x-max-length-bytes",
    "x-overflow",
    "x-message-ttl",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-priority",
    "x-queue-type",
    "x-single-active-consumer",
    "x-expires",
];

/// The dead-letter settings of a queue: exchange (`None` for the default
/// exchange) and routing key, each with its source.
#[derive(Debug, Clone, Default)]
pub struct DeadLetterSettings {
    /// The exchange and where it was set.
    pub exchange: Option<(Option<String>, String)>,
    /// The routing key and where it was set.
    pub routing_key: Option<(String, String)>,
}

/// The queue's dead-letter exchange and routing key.
pub fn dead_letter_settings(queue: &QueueDef, effective: &Effective<'_>) -> DeadLetterSettings {
    let text = |s: Setting| s.value.as_str().map(|v| (v.to_owned(), s.source));
    DeadLetterSettings {
        exchange: effective
            .setting(&queue.arguments, "dead-letter-exchange")
            .and_then(text)
            .map(|(v, s)| ((!v.is_empty()).then_some(v), s)),
        routing_key: effective
            .setting(&queue.arguments, "dead-letter-routing-key")
            .and_then(text),
    }
}

/// What the live figures say about a queue's consumers.
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// `/api/queues`, if given (and the queue is in it).
    pub stats: Option<&'a QueueStats>,
    /// Whether `/api/queues` was given at all.
    pub have_stats: bool,
    /// `/api/consumers` for this queue, if that file was given.
    pub consumers: Option<&'a [ConsumerInfo]>,
    /// Whether something dead-letters into this queue.
    pub dead_letter_target: bool,
}

/// Writes queue `queue` into `table`; `dead_letter` is the resolved
/// target with its comment. Returns notes for what was not imported.
pub fn write_queue(
    table: &mut Table,
    queue: &QueueDef,
    effective: &Effective<'_>,
    dead_letter: Option<(String, String)>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let who = format!("queue {:?}", queue.name);
    let queue_type = queue.queue_type();
    let name_comment = if queue_type == "classic" {
        String::new()
    } else {
        format!("x-queue-type {queue_type}")
    };
    table.entry("name", emit::string(&queue.name), &name_comment);
    if queue_type == "stream" {
        notes.push(format!(
            "{who} is a stream: imported as a queue, although stream consumers read without removing messages"
        ));
    }
    let whole = |s: &Setting| s.value.as_u64();
    let capacity = effective.setting(&queue.arguments, "max-length");
    if let Some(s) = &capacity {
        match whole(s) {
            Some(n) => {
                table.entry("capacity", n.to_string(), &s.source);
            }
            None => notes.push(format!(
                "{who}: max-length {} is not a whole number",
                plain(&s.value)
            )),
        }
    }
    let bytes = effective.setting(&queue.arguments, "max-length-bytes");
    if let Some(s) = &bytes {
        match whole(s).filter(|&n| n > 0) {
            Some(n) => {
                let comment = format!(
                    "{}; counts message sizes: give the producers a `size`",
                    s.source
                );
                table.entry("capacity_bytes", n.to_string(), &comment);
            }
            None => notes.push(format!(
                "{who}: max-length-bytes {} is not a whole number > 0",
                plain(&s.value)
            )),
        }
    }
    if capacity.is_some() || bytes.is_some() {
        write_overflow(table, queue, effective, &who, &mut notes);
    }
    if let Some(s) = effective.setting(&queue.arguments, "message-ttl") {
        match s.value.as_f64() {
            Some(ms) if ms > 0.0 => {
                let comment = format!("{} ms, {}", emit::number(ms), s.source);
                table.entry("ttl", emit::seconds(ms / 1e3), &comment);
            }
            _ => notes.push(format!(
                "{who}: message-ttl {} (messages expire unless delivered at once) cannot be expressed: a scenario's `ttl` must be > 0",
                plain(&s.value)
            )),
        }
    }
    if let Some((target, comment)) = dead_letter {
        table.entry("dead_letter", emit::string(&target), &comment);
    }
    if let Some(s) = effective.setting(&queue.arguments, "max-priority")
        && s.value.as_u64().is_some_and(|p| p > 0)
    {
        let comment = format!("max priority {}: {}", plain(&s.value), s.source);
        table.entry("discipline", emit::string("priority"), &comment);
    }
    for key in ["expires", "delivery-limit"] {
        if let Some(s) = effective.setting(&queue.arguments, key) {
            notes.push(format!(
                "{who}: {} = {} is not modelled ({})",
                key,
                plain(&s.value),
                if key == "expires" {
                    "queues are never deleted"
                } else {
                    "consumer failures are not in the export"
                }
            ));
        }
    }
    for key in queue.arguments.keys() {
        if !READ.contains(&key.as_str()) && !WITHOUT_EFFECT.contains(&key.as_str()) {
            notes.push(format!("{who}: argument {key} is not imported"));
        }
    }
    notes
}

fn write_overflow(
    table: &mut Table,
    queue: &QueueDef,
    effective: &Effective<'_>,
    who: &str,
    notes: &mut Vec<String>,
) {
    let Some(s) = effective.setting(&queue.arguments, "overflow") else {
        table.entry(
            "overflow",
            emit::string("drop-head"),
            "RabbitMQ's default overflow",
        );
        return;
    };
    match s.value.as_str() {
        Some("drop-head") => {
            table.entry("overflow", emit::string("drop-head"), &s.source);
        }
        Some("reject-publish") => {
            table.entry("overflow", emit::string("reject-publish"), &s.source);
        }
        Some("reject-publish-dlx") => {
            let comment = format!(
                "{} reject-publish-dlx: refused messages are not dead-lettered here",
                s.source
            );
            table.entry("overflow", emit::string("reject-publish"), &comment);
            notes.push(format!(
                "{who}: overflow reject-publish-dlx imported as reject-publish: queuesim does not dead-letter refused messages"
            ));
        }
        _ => notes.push(format!(
            "{who}: overflow {} is not imported",
            plain(&s.value)
        )),
    }
}

/// Writes the `[queues.consumers]` table of `queue`, or nothing for a
/// parking queue (with a comment in `queue_table`).
pub fn write_consumers(queue_table: &mut Table, queue: &QueueDef, live: Live<'_>) -> Option<Table> {
    let (count, count_source) = match (live.stats.and_then(|s| s.consumers), live.consumers) {
        (Some(n), _) => (Some(n), "consumers in queues.json"),
        (None, Some(list)) => (
            Some(list.len() as u64),
            "consumers listed in consumers.json",
        ),
        (None, None) if live.have_stats => (Some(0), "not in queues.json"),
        (None, None) => (None, ""),
    };
    match count {
        Some(0) => {
            queue_table.comment(&format!("no consumers ({count_source}): a parking queue"));
            return None;
        }
        None if live.dead_letter_target => {
            queue_table.comment("a dead-letter queue; no consumer figures given: a parking queue");
            return None;
        }
        _ => {}
    }
    let mut table = Table::new("[queues.consumers]");
    let sac = queue
        .arguments
        .get("x-single-active-consumer")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match count {
        Some(n) if sac && n > 1 => {
            let comment =
                format!("x-single-active-consumer: 1 of the {n} {count_source} receives messages");
            table.entry("count", "1", &comment);
        }
        Some(n) => {
            table.entry("count", n.to_string(), count_source);
        }
        None => {
            table.entry(
                "count",
                "1",
                &format!("{PLACEHOLDER}: no consumer figures (give --stats queues.json or --consumers consumers.json)"),
            );
        }
    }
    if let Some(list) = live.consumers.filter(|l| !l.is_empty()) {
        write_prefetch(&mut table, list);
    }
    let effective_count = if sac { 1 } else { count.unwrap_or(1) };
    let estimate = live.stats.map_or(ServiceEstimate::Unknown, |s| {
        estimate_service(s, effective_count)
    });
    match estimate {
        ServiceEstimate::Saturated { mean_s, how } => {
            table.entry(
                "service",
                emit::exponential(mean_s),
                &format!("{ESTIMATED}: {how}"),
            );
        }
        ServiceEstimate::AtMost { bound_s, how } => {
            let comment = format!(
                "{PLACEHOLDER}: half the bound written; {how}; measure it (`queuesim fit`)"
            );
            table.entry("service", emit::exponential(bound_s / 2.0), &comment);
        }
        ServiceEstimate::Unknown => {
            table.entry(
                "service",
                emit::exponential(0.01),
                &format!("{PLACEHOLDER}: no ack or delivery rate; measure the service time (`queuesim fit`)"),
            );
        }
    }
    Some(table)
}

/// `prefetch`, from the consumers' `prefetch_count` (the most common one).
fn write_prefetch(table: &mut Table, list: &[ConsumerInfo]) {
    if list.iter().all(|c| !c.ack_required) {
        table.comment("automatic acknowledgements (no prefetch window applies)");
        return;
    }
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for c in list.iter().filter(|c| c.ack_required) {
        match counts.iter_mut().find(|(p, _)| *p == c.prefetch) {
            Some((_, n)) => *n += 1,
            None => counts.push((c.prefetch, 1)),
        }
    }
    let (prefetch, n) = counts
        .iter()
        .copied()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or((0, 0));
    let mut comment = format!(
        "prefetch_count {prefetch}{} of {n} consumer{} in consumers.json",
        if prefetch == 0 { " (unlimited)" } else { "" },
        if n == 1 { "" } else { "s" }
    );
    if counts.len() > 1 {
        let others: Vec<String> = counts
            .iter()
            .filter(|c| c.0 != prefetch)
            .map(|(p, k)| format!("{p} for {k}"))
            .collect();
        comment.push_str(&format!(
            "; the most common ({ESTIMATED}: others {})",
            others.join(", ")
        ));
    }
    table.entry("prefetch", prefetch.to_string(), &comment);
}
