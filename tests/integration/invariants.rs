//! Invariants that every run must keep, checked on random valid scenarios
//! (proptest): small networks of queues with random capacities, overflow
//! policies (Redis's trim and disconnect included), disciplines, failures
//! and retries, TTLs, dead-letter queues, pulling consumers, an exchange
//! and a partitioned topic, which may have two groups (a broadcast one,
//! in-place or ladder retries, polls), batching or delaying producers and
//! replication.
//!
//! For each generated scenario: conservation holds exactly in every
//! replication; every time is finite and non-negative; utilization is at
//! most 1; percentiles are monotone; and the CSV tables are byte-identical
//! whether the replications run on 1 or 2 threads; FIFO queues (and FIFO
//! within each class of a priority queue) start messages in arrival order,
//! and single-consumer ones, Kafka partitions among them, finish them in
//! arrival order (the engine counts every message overtaken).

use std::fmt::Write;

use proptest::prelude::*;
use queuesim::engine::{self, ReplicationResult};
use queuesim::model::Model;
use queuesim::report;
use queuesim::results::{self, RunResult};

use crate::util::{ROUNDING, inline};

/// One queue of a generated chain.
#[derive(Debug, Clone)]
struct QueueSpec {
    capacity: Option<u64>,
    overflow: &'static str,
    poll: Option<u32>,
    discipline: &'static str,
    ttl_s: Option<f64>,
    consumers: u32,
    service_s: f64,
    failure: f64,
    max_attempts: Option<u32>,
    backoff_s: f64,
    dead_letter: bool,
}

/// A generated scenario: producers into a chain of queues `q0 -> q1 -> ...`,
/// optionally through an exchange, plus an optional topic.
#[derive(Debug, Clone)]
struct ScenarioSpec {
    seed: u64,
    rates_per_s: Vec<(f64, i64)>,
    exchange: Option<bool>,
    queues: Vec<QueueSpec>,
    topic: Option<(u32, u32, bool)>,
    /// Kafka-style extras of the topic, when it has groups.
    groups: Option<GroupsSpec>,
}

/// A second consumer group on the generated topic, and producer and
/// consumer features of topics.
#[derive(Debug, Clone)]
struct GroupsSpec {
    broadcast: bool,
    failure: f64,
    ladder: bool,
    poll: Option<u32>,
    linger_s: Option<f64>,
    delay_s: Option<f64>,
    replicated: bool,
}

fn groups_spec() -> impl Strategy<Value = GroupsSpec> {
    (
        any::<bool>(),
        0.0f64..0.4,
        any::<bool>(),
        proptest::option::of(1u32..6),
        proptest::option::of(0.01f64..0.5),
        proptest::option::of(0.1f64..3.0),
        any::<bool>(),
    )
        .prop_map(
            |(broadcast, failure, ladder, poll, linger_s, delay_s, replicated)| GroupsSpec {
                broadcast,
                failure,
                ladder,
                poll,
                linger_s,
                delay_s,
                replicated,
            },
        )
}

fn queue_spec() -> impl Strategy<Value = QueueSpec> {
    (
        (
            proptest::option::of(0u64..8),
            prop_oneof![
                Just("drop-head"),
                Just("reject-publish"),
                Just("trim"),
                Just("disconnect")
            ],
            proptest::option::of(1u32..5),
        ),
        prop_oneof![Just("fifo"), Just("lifo"), Just("priority")],
        proptest::option::of(0.2f64..5.0),
        (1u32..4, 0.05f64..1.0),
        (0.0f64..0.4, proptest::option::of(1u32..4), 0.0f64..0.5),
        any::<bool>(),
    )
        .prop_map(
            |(
                (capacity, overflow, poll),
                discipline,
                ttl_s,
                (consumers, service_s),
                retry,
                dead_letter,
            )| {
                QueueSpec {
                    capacity,
                    overflow,
                    poll,
                    discipline,
                    ttl_s,
                    consumers,
                    service_s,
                    failure: retry.0,
                    max_attempts: retry.1,
                    backoff_s: retry.2,
                    dead_letter,
                }
            },
        )
}

fn scenario_spec() -> impl Strategy<Value = ScenarioSpec> {
    (
        any::<u64>(),
        proptest::collection::vec((0.2f64..4.0, 0i64..3), 1..3),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(queue_spec(), 1..4),
        proptest::option::of((1u32..4, 1u32..3, any::<bool>())),
        proptest::option::of(groups_spec()),
    )
        .prop_map(
            |(seed, rates_per_s, exchange, queues, topic, groups)| ScenarioSpec {
                seed,
                rates_per_s,
                exchange,
                queues,
                groups: topic.and(groups),
                topic,
            },
        )
}

/// The TOML text of a generated scenario.
fn render_scenario(spec: &ScenarioSpec) -> String {
    let mut t = format!(
        "[simulation]\nduration = 40\nwarmup = 5\nreplications = 3\nseed = {}\n\n",
        spec.seed
    );
    let entry = if spec.exchange.is_some() { "x" } else { "q0" };
    for (i, (rate, priority)) in spec.rates_per_s.iter().enumerate() {
        writeln!(
            t,
            "[[producers]]\nname = \"p{i}\"\nto = \"{entry}\"\nrate = {rate}\npriority = {priority}\ndeadline = 3\n"
        )
        .unwrap();
    }
    if let Some(fanout) = spec.exchange {
        let kind = if fanout { "fanout" } else { "weighted" };
        let last = spec.queues.len() - 1;
        let routes = if last == 0 {
            "{ to = \"q0\" }".to_string()
        } else {
            format!("{{ to = \"q0\", weight = 2 }}, {{ to = \"q{last}\" }}")
        };
        writeln!(
            t,
            "[[exchanges]]\nname = \"x\"\nkind = \"{kind}\"\nroutes = [{routes}]\n"
        )
        .unwrap();
    }
    for (i, q) in spec.queues.iter().enumerate() {
        render_queue(&mut t, i, q, i + 1 < spec.queues.len());
    }
    if spec.queues.iter().any(|q| q.dead_letter) {
        t.push_str("[[queues]]\nname = \"dlq\"\n\n");
    }
    if let Some((partitions, consumers, keyed)) = spec.topic {
        let (partitioner, keys) = if keyed {
            ("key", "keys = { count = 20, skew = 1.0 }\n")
        } else {
            ("round-robin", "")
        };
        let Some(g) = &spec.groups else {
            writeln!(
                t,
                "[[producers]]\nname = \"tp\"\nto = \"t\"\nrate = 3\n{keys}\n[[topics]]\nname = \"t\"\npartitions = {partitions}\npartitioner = \"{partitioner}\"\n[topics.consumers]\ncount = {consumers}\nservice = {{ dist = \"exponential\", mean = 0.2 }}\n"
            )
            .unwrap();
            return t;
        };
        render_groups(&mut t, (partitions, consumers), partitioner, keys, g);
    }
    t
}

/// A topic read by two groups, the second one failing and retrying.
fn render_groups(
    t: &mut String,
    (partitions, consumers): (u32, u32),
    partitioner: &str,
    keys: &str,
    g: &GroupsSpec,
) {
    writeln!(
        t,
        "[[producers]]\nname = \"tp\"\nto = \"t\"\nrate = 3\n{keys}"
    )
    .unwrap();
    if let Some(linger) = g.linger_s {
        writeln!(t, "batching = {{ linger = {linger} }}").unwrap();
    }
    if let (Some(delay), None) = (g.delay_s, g.linger_s) {
        writeln!(t, "delay = {delay}").unwrap();
    }
    writeln!(
        t,
        "\n[[queues]]\nname = \"t.dlq\"\n\n[[topics]]\nname = \"t\"\npartitions = {partitions}\npartitioner = \"{partitioner}\""
    )
    .unwrap();
    if g.replicated {
        t.push_str("replication = { factor = 3, min_insync = 2, follower_fetch = { dist = \"exponential\", mean = 0.05 } }\n");
    }
    writeln!(
        t,
        "[[topics.groups]]\nname = \"g1\"\ncount = {consumers}\nservice = {{ dist = \"exponential\", mean = 0.2 }}"
    )
    .unwrap();
    if let Some(records) = g.poll {
        writeln!(t, "poll = {{ max_records = {records} }}").unwrap();
    }
    let mode = if g.broadcast {
        "broadcast"
    } else {
        "clustering"
    };
    let backoff = if g.ladder {
        "backoff = \"levels\", delays = [0.2, 1.0]"
    } else {
        "max_attempts = 3, backoff = \"constant\", initial = 0.3"
    };
    writeln!(
        t,
        "[[topics.groups]]\nname = \"g2\"\nmode = \"{mode}\"\ncount = 2\nservice = {{ dist = \"exponential\", mean = 0.1 }}\nfailure = {}\nretry = {{ {backoff} }}\ndead_letter = \"t.dlq\"\n",
        g.failure
    )
    .unwrap();
}

fn render_queue(t: &mut String, i: usize, q: &QueueSpec, has_next: bool) {
    writeln!(
        t,
        "[[queues]]\nname = \"q{i}\"\ndiscipline = \"{}\"",
        q.discipline
    )
    .unwrap();
    if let Some(capacity) = q.capacity {
        writeln!(t, "capacity = {capacity}\noverflow = \"{}\"", q.overflow).unwrap();
        if q.overflow == "disconnect" {
            t.push_str("reconnect = 0.5\n");
        }
    }
    if let Some(ttl) = q.ttl_s {
        writeln!(t, "ttl = {ttl}").unwrap();
    }
    if q.dead_letter {
        t.push_str("dead_letter = \"dlq\"\n");
    }
    writeln!(
        t,
        "[queues.consumers]\ncount = {}\nservice = {{ dist = \"exponential\", mean = {} }}\nfailure = {}",
        q.consumers, q.service_s, q.failure
    )
    .unwrap();
    let attempts = q
        .max_attempts
        .map_or(String::new(), |n| format!("max_attempts = {n}, "));
    writeln!(
        t,
        "retry = {{ {attempts}backoff = \"constant\", initial = {} }}",
        q.backoff_s
    )
    .unwrap();
    if let Some(records) = q.poll {
        writeln!(t, "poll = {{ max_records = {records} }}").unwrap();
    }
    if has_next {
        writeln!(t, "next = \"q{}\"", i + 1).unwrap();
    }
    t.push('\n');
}

/// Runs the replications of `model` on a pool of `threads` threads.
fn run_on(model: &Model, threads: usize) -> Vec<ReplicationResult> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| engine::run(model))
}

fn non_negative_time(what: &str, value: f64) -> Result<(), TestCaseError> {
    prop_assert!(
        value.is_nan() || (value.is_finite() && value >= 0.0),
        "{what} = {value}"
    );
    Ok(())
}

/// Conservation and sane times in one replication.
fn check_replication(r: &ReplicationResult) -> Result<(), TestCaseError> {
    prop_assert!(r.conserves(), "conservation broken: {r:?}");
    prop_assert!(r.on_time <= r.delivered);
    non_negative_time("latency mean", r.latency.mean())?;
    non_negative_time("latency max", r.latency.max())?;
    for (q, node) in r.nodes.iter().enumerate() {
        prop_assert_eq!(node.out_of_order, 0, "queue {} served out of order", q);
        non_negative_time("wait mean", node.wait.mean())?;
        non_negative_time("sojourn mean", node.sojourn.mean())?;
    }
    for &(sum, _) in &r.latency_by_time {
        non_negative_time("latency by time", sum)?;
    }
    Ok(())
}

/// Utilization, monotone percentiles and sane times in the summary.
fn check_summary(result: &RunResult) -> Result<(), TestCaseError> {
    prop_assert!(result.conservation_failures.is_empty());
    let s = &result.summary;
    let percentiles = [
        s.p50_latency.mean,
        s.p95_latency.mean,
        s.p99_latency.mean,
        s.p999_latency.mean,
    ];
    for p in percentiles {
        non_negative_time("latency percentile", p)?;
    }
    prop_assert!(
        percentiles
            .windows(2)
            .all(|w| w[0].is_nan() || w[0] <= w[1]),
        "{percentiles:?}"
    );
    let quantiles: Vec<f64> = result.quantiles.iter().map(|q| q.latency.mean).collect();
    prop_assert!(
        quantiles.windows(2).all(|w| w[0].is_nan() || w[0] <= w[1]),
        "{quantiles:?}"
    );
    for node in &result.nodes {
        let u = node.utilization.mean;
        prop_assert!(
            u.is_nan() || (0.0..=1.0 + ROUNDING).contains(&u),
            "{}: utilization {u}",
            node.node
        );
        non_negative_time("mean wait", node.mean_wait.mean)?;
        non_negative_time("p99 wait", node.p99_wait.mean)?;
        non_negative_time("mean sojourn", node.mean_sojourn.mean)?;
        non_negative_time("p99 sojourn", node.p99_sojourn.mean)?;
    }
    Ok(())
}

proptest! {
    // The cases of `invariants.proptest-regressions`, beside this file,
    // run first; a new failure is added to it.
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_scenarios_keep_every_invariant(spec in scenario_spec()) {
        let text = render_scenario(&spec);
        let model = inline(&text, &[]);
        let one = run_on(&model, 1);
        for r in &one {
            check_replication(r)?;
        }
        let result = results::summarize(&model, &one);
        check_summary(&result)?;
        let two = results::summarize(&model, &run_on(&model, 2));
        prop_assert_eq!(report::render_tables(&result), report::render_tables(&two), "{}", text);
    }
}
