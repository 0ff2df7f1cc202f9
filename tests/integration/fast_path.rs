//! The Lindley fast path against the event engine: the same sample path
//! where both draw their streams in the same order, the same distribution
//! where they cannot, and the event engine wherever the fast path does not
//! apply.

use crate::util::{Agreement, assert_close, inline};
use queuesim::engine::{
    self, Engine, ReplicationResult, drop_head_queue, engine_for, simulate_events,
    simulate_lindley, window_queue,
};
use queuesim::model::Model;
use queuesim::results;

/// Relative difference allowed between two sums of the same n positive
/// numbers added in a different order: at most about n·2⁻⁵³, 1.1e-10 for
/// the n ≤ 10⁶ messages of these runs; 1e-9 leaves a factor 10.
const REORDERED_SUM: f64 = 1e-9;

#[track_caller]
fn assert_same_sum(what: &str, fast: f64, events: f64) {
    assert_close(
        &format!("{what} (fast path vs event engine)"),
        fast,
        events,
        REORDERED_SUM,
    );
}

/// Asserts that both engines observed the same sample path.
fn assert_same_path(model: &Model) {
    assert_eq!(engine_for(model), Engine::Lindley);
    for replication in 0..2 {
        let fast = simulate_lindley(model, replication).expect("the fast path applies");
        let events = simulate_events(model, replication);
        assert_same_replication(&fast, &events);
    }
}

fn assert_same_replication(fast: &ReplicationResult, events: &ReplicationResult) {
    let counts = |r: &ReplicationResult| (r.produced, r.delivered, r.on_time, r.lost, r.in_flight);
    assert_eq!(
        counts(fast),
        counts(events),
        "produced, delivered, on time, lost, in flight"
    );
    assert!(fast.conserves());
    assert_eq!(fast.events, events.events, "events");
    assert!(fast.delivered > 1000, "too few deliveries to compare");
    assert_same_sum("mean latency", fast.latency.mean(), events.latency.mean());
    for q in [0.5, 0.9, 0.99, 0.999] {
        assert_eq!(
            fast.latency_hist.quantile(q),
            events.latency_hist.quantile(q),
            "latency quantile {q}"
        );
    }
    let slices = |r: &ReplicationResult| r.latency_by_time.iter().map(|s| s.1).collect::<Vec<_>>();
    assert_eq!(slices(fast), slices(events), "deliveries by time");
    assert_eq!(fast.timeseries, events.timeseries, "queue-length samples");
    assert_eq!(fast.lag_ages_s, events.lag_ages_s, "partitions' lag ages");
    assert_eq!(fast.sinks.len(), events.sinks.len(), "sinks");
    for (s, (f, e)) in fast.sinks.iter().zip(&events.sinks).enumerate() {
        let counts = |k: &engine::SinkObservations| (k.delivered, k.on_time, k.lost);
        assert_eq!(counts(f), counts(e), "sink {s}: delivered, on time, lost");
        let (fl, el) = (f.latency.mean(), e.latency.mean());
        assert_same_sum(&format!("sink {s} latency"), fl, el);
        assert_eq!(f.latency_hist.quantile(0.99), e.latency_hist.quantile(0.99));
    }
    for (q, (f, e)) in fast.nodes.iter().zip(&events.nodes).enumerate() {
        let counts = |n: &engine::NodeObservations| (n.arrivals, n.served, n.succeeded, n.dropped);
        assert_eq!(
            counts(f),
            counts(e),
            "queue {q}: arrivals, served, succeeded, dropped"
        );
        assert_same_sum(&format!("queue {q} wait"), f.wait.mean(), e.wait.mean());
        assert_same_sum(
            &format!("queue {q} sojourn"),
            f.sojourn.mean(),
            e.sojourn.mean(),
        );
        assert_eq!(f.sojourn_hist.quantile(0.99), e.sojourn_hist.quantile(0.99));
        assert_eq!(f.wait_hist.quantile(0.99), e.wait_hist.quantile(0.99));
        let end_s = WARMUP_S + fast.measured_s;
        let (fq, eq) = (f.in_queue.mean(end_s), e.in_queue.mean(end_s));
        assert_same_sum(&format!("queue {q} mean in queue"), fq, eq);
        let (fs, es) = (f.in_service.mean(end_s), e.in_service.mean(end_s));
        assert_same_sum(&format!("queue {q} busy servers"), fs, es);
        assert_eq!(f.in_queue.max(), e.in_queue.max(), "queue {q} max in queue");
        assert_eq!(f.in_service.max(), e.in_service.max(), "queue {q} max busy");
        assert_eq!(f.unacked.is_some(), e.unacked.is_some(), "queue {q} window");
        if let (Some(fu), Some(eu)) = (&f.unacked, &e.unacked) {
            let (fm, em) = (fu.mean(end_s), eu.mean(end_s));
            assert_same_sum(&format!("queue {q} mean unacked"), fm, em);
            assert_eq!(fu.max(), eu.max(), "queue {q} max unacked");
        }
    }
}

/// The warm-up of every scenario below: time averages end at it plus the
/// measured window.
const WARMUP_S: f64 = 5.0;

const MM1: &str = r#"
[simulation]
duration = "300s"
warmup = "5s"
replications = 2
seed = 11
sample_every = "7s"

[[producers]]
name = "source"
to = "q"
rate = "800/s"

[[queues]]
name = "q"
[queues.consumers]
service = { dist = "exponential", mean = "1ms" }
"#;

#[test]
fn single_queue_follows_the_event_engine_path() {
    assert_same_path(&inline(MM1, &[]));
}

#[test]
fn multi_server_queue_with_deadlines_and_sizes_follows_the_event_engine_path() {
    let model = inline(
        r#"
[simulation]
duration = "200s"
warmup = "5s"
seed = 5
sample_every = "3s"

[[producers]]
name = "source"
to = "q"
rate = "2500/s"
deadline = "6ms"
size = { dist = "uniform", min = "100B", max = "900B" }

[[queues]]
name = "q"
[queues.consumers]
count = 3
service = { dist = "lognormal", mean = "1ms", cv = 1.5 }
service_per_byte = 1e-7
"#,
        &[],
    );
    assert_same_path(&model);
}

/// M/M/1/K and M/M/3/K, both overloaded, rejecting publishes when full.
#[test]
fn bounded_queues_rejecting_publishes_follow_the_event_engine_path() {
    for (consumers, rate) in [("1", "\"1100/s\""), ("3", "\"3300/s\"")] {
        let model = inline(
            MM1,
            &[
                "queues.q.capacity=4",
                "queues.q.overflow=\"reject-publish\"",
                &format!("queues.q.consumers.count={consumers}"),
                &format!("producers.source.rate={rate}"),
            ],
        );
        assert_same_path(&model);
        let lost = simulate_lindley(&model, 0).expect("fast path").lost;
        assert!(lost > 1000, "the bounded queue should reject publishes");
    }
}

/// A split by an exchange, a multi-server stage, a weighted `next` and a
/// merge of two queues into a third.
const NETWORK: &str = r#"
[simulation]
duration = "200s"
warmup = "5s"
seed = 23
sample_every = "2s"

[[producers]]
name = "source"
to = "split"
rate = "900/s"

[[exchanges]]
name = "split"
kind = "weighted"
routes = [{ to = "a", weight = 2 }, { to = "b", weight = 1 }]

[[queues]]
name = "a"
[queues.consumers]
count = 2
service = { dist = "gamma", mean = "2ms", cv = 0.5 }
next = [{ to = "c", weight = 3 }, { to = "d", weight = 1 }]

[[queues]]
name = "b"
[queues.consumers]
service = { dist = "exponential", mean = "2ms" }
next = "c"

[[queues]]
name = "c"
[queues.consumers]
service = { dist = "exponential", mean = "1ms" }

[[queues]]
name = "d"
[queues.consumers]
service = { dist = "constant", value = "1ms" }
"#;

#[test]
fn feed_forward_network_follows_the_event_engine_path() {
    assert_same_path(&inline(NETWORK, &[]));
}

#[test]
fn keyed_topic_follows_the_event_engine_path() {
    let model = inline(
        r#"
[simulation]
duration = "100s"
warmup = "5s"
seed = 9
sample_every = "1s"

[[producers]]
name = "clicks-api"
to = "clicks"
rate = "2000/s"
keys = { count = 1000, skew = 1.1 }

[[topics]]
name = "clicks"
partitions = 4
partitioner = "key"
[topics.consumers]
count = 4
service = { dist = "exponential", mean = "1ms" }
"#,
        &[],
    );
    assert_same_path(&model);
}

/// A consumer that owns several partitions serves the oldest head first:
/// the fast path serves their merged arrivals in arrival order.
#[test]
fn consumers_owning_several_partitions_follow_the_event_engine_path() {
    let topic = |partitions: u32, consumers: u32, assignment: &str, partitioner: &str| {
        format!(
            r#"
[simulation]
duration = "60s"
warmup = "5s"
seed = 31
sample_every = "1s"

[[producers]]
name = "clicks-api"
to = "clicks"
rate = "1500/s"
keys = {{ count = 500, skew = 1.1 }}

[[topics]]
name = "clicks"
partitions = {partitions}
partitioner = "{partitioner}"
assignment = "{assignment}"
[topics.consumers]
count = {consumers}
service = {{ dist = "exponential", mean = "1ms" }}
next = "sink"

[[queues]]
name = "sink"
[queues.consumers]
count = 2
service = {{ dist = "exponential", mean = "0.5ms" }}
"#
        )
    };
    for (partitions, consumers, assignment, partitioner) in [
        (12, 5, "range", "key"),
        (7, 3, "round-robin", "key"),
        (6, 2, "range", "round-robin"),
    ] {
        let model = inline(&topic(partitions, consumers, assignment, partitioner), &[]);
        assert_same_path(&model);
    }
}

/// Two clustering groups on a keyed topic: `analytics` has 3 consumers
/// over 8 partitions (range: 3, 3, 2 each), `billing` 2 (round-robin: 4
/// each) and sends every record on to `ledger`, which rejects publishes
/// when 2 wait. A record is delivered when both its copies are (the
/// later one's latency, against its deadline), lost when `ledger` rejects
/// its copy, in flight when a copy is at the end.
const TWO_GROUPS: &str = r#"
[simulation]
duration = "60s"
warmup = "5s"
seed = 37
sample_every = "0.5s"

[[producers]]
name = "orders-api"
to = "orders"
rate = "1200/s"
keys = { count = 800, skew = 1.0 }
deadline = "6ms"
size = { dist = "uniform", min = "200B", max = "1200B" }

[[topics]]
name = "orders"
partitions = 8
partitioner = "key"
assignment = "range"

[[topics.groups]]
name = "analytics"
count = 3
service = { dist = "exponential", mean = "0.5ms" }

[[topics.groups]]
name = "billing"
count = 2
assignment = "round-robin"
service = { dist = "gamma", mean = "0.8ms", cv = 0.7 }
service_per_byte = 2e-7
next = "ledger"

[[queues]]
name = "ledger"
capacity = 2
overflow = "reject-publish"
[queues.consumers]
count = 2
service = { dist = "exponential", mean = "0.7ms" }
"#;

/// A clustering group of one consumer per partition beside a broadcast
/// group of two, each of whose consumers owns every partition.
const BROADCAST_BESIDE_CLUSTERING: &str = r#"
[simulation]
duration = "60s"
warmup = "5s"
seed = 43
sample_every = "0.25s"

[[producers]]
name = "clicks-api"
to = "clicks"
rate = "1000/s"
keys = { count = 300, skew = 1.2 }

[[topics]]
name = "clicks"
partitions = 4
partitioner = "key"

[[topics.groups]]
name = "sessions"
count = 4
service = { dist = "lognormal", mean = "1.5ms", cv = 1.0 }

[[topics.groups]]
name = "cache"
mode = "broadcast"
count = 2
service = { dist = "exponential", mean = "0.15ms" }
"#;

/// Every group's copy of a record follows the event engine's path, and
/// the record's outcome is its copies': delivered with its last copy,
/// lost with its first lost one.
#[test]
fn consumer_groups_follow_the_event_engine_path() {
    let two_groups = inline(TWO_GROUPS, &[]);
    assert_same_path(&two_groups);
    let one = simulate_lindley(&two_groups, 0).expect("the fast path applies");
    assert!(
        one.lost > 20,
        "the ledger rejects copies: {} lost",
        one.lost
    );
    assert!(
        one.on_time < one.delivered,
        "some records miss the deadline"
    );
    assert_eq!(one.sinks.len(), 2, "orders@analytics and ledger");
    assert!(
        one.sinks[1].delivered > one.delivered,
        "the analytics copies of records the ledger lost are delivered"
    );
    let broadcast = inline(BROADCAST_BESIDE_CLUSTERING, &[]);
    assert_same_path(&broadcast);
    assert_eq!(simulate_lindley(&broadcast, 0).unwrap().sinks.len(), 3);
}

/// Two producers share an exchange: the engines interleave its route draws
/// differently, so only the distributions agree.
#[test]
fn shared_exchange_agrees_in_distribution_with_the_event_engine() {
    let model = inline(
        NETWORK,
        &[
            "simulation.replications=20",
            "producers.source.rate=\"500/s\"",
        ],
    );
    let mut model = model;
    let mut second = model.producers[0].clone();
    second.name = "second".into();
    model.producers.push(second);
    assert_eq!(engine_for(&model), Engine::Lindley);
    let fast: Vec<_> = (0..20)
        .map(|r| simulate_lindley(&model, r).unwrap())
        .collect();
    let events: Vec<_> = (0..20).map(|r| simulate_events(&model, r)).collect();
    let (fast, events) = (
        results::summarize(&model, &fast),
        results::summarize(&model, &events),
    );
    // Nine comparisons of two independent estimates, at a 5% family-wise
    // error (Bonferroni).
    let mut checks = Agreement::new(&model);
    checks.same(
        "mean latency",
        fast.summary.mean_latency,
        events.summary.mean_latency,
    );
    for (f, e) in fast.nodes.iter().zip(&events.nodes) {
        checks.same(
            &format!("{} sojourn", f.node),
            f.mean_sojourn,
            e.mean_sojourn,
        );
        checks.same(
            &format!("{} utilization", f.node),
            f.utilization,
            e.utilization,
        );
    }
    checks.assert();
}

/// A queue that drops its oldest message when full runs on the fast path
/// while it never fills, and a replication in which it fills runs on the
/// event engine: `simulate` gives exactly what the event engine gives.
#[test]
fn drop_head_queues_run_on_the_fast_path_until_they_fill() {
    let roomy = inline(MM1, &["queues.q.capacity=1000"]);
    assert_eq!(engine_for(&roomy), Engine::Lindley);
    assert_eq!(drop_head_queue(&roomy), Some("q"));
    assert_same_path(&roomy);

    let tight = inline(MM1, &["queues.q.capacity=3"]);
    assert_eq!(engine_for(&tight), Engine::Lindley);
    assert!(simulate_lindley(&tight, 0).is_none(), "the queue fills");
    let (chosen, events) = (engine::simulate(&tight, 0), simulate_events(&tight, 0));
    assert!(events.lost > 100, "the tight queue drops messages");
    let outcome = |r: &ReplicationResult| (r.produced, r.delivered, r.lost, r.events);
    assert_eq!(outcome(&chosen), outcome(&events));
    assert_eq!(chosen.latency, events.latency);
    assert_eq!(chosen.nodes[0].dropped, events.nodes[0].dropped);

    assert_eq!(drop_head_queue(&inline(MM1, &[])), None);
    let rejecting = [
        "queues.q.capacity=3",
        "queues.q.overflow=\"reject-publish\"",
    ];
    assert_eq!(drop_head_queue(&inline(MM1, &rejecting)), None);
}

/// One consumer with a prefetch window, several slots and a dispatch
/// time, lightly loaded (utilization 0.25): no window ever fills, and
/// the queue's capacity never acts, since a pushed message is not ready.
const WINDOWED: &str = r#"
[simulation]
duration = "200s"
warmup = "5s"
seed = 41
sample_every = "0.5s"

[[producers]]
name = "source"
to = "q"
rate = "500/s"

[[queues]]
name = "q"
capacity = 1
overflow = "reject-publish"
[queues.consumers]
concurrency = 16
prefetch = 40
dispatch = { dist = "lognormal", mean = "0.7ms", cv = 1.0 }
service = { dist = "lognormal", mean = "4ms", cv = 1.0 }
"#;

/// A single consumer starts its pushed messages in the order they
/// arrive, so both engines draw its service times in the same order.
#[test]
fn one_windowed_consumer_follows_the_event_engine_path() {
    for ack in ["after-service", "on-start"] {
        let model = inline(WINDOWED, &[&format!("queues.q.consumers.ack=\"{ack}\"")]);
        assert_eq!(window_queue(&model), Some(("q", 40)));
        assert_eq!(drop_head_queue(&model), None);
        assert_same_path(&model);
        let busy = simulate_lindley(&model, 0).unwrap().nodes[0]
            .in_service
            .max();
        assert!(
            (2.0..16.0).contains(&busy),
            "{ack}: the busiest moment ({busy} slots) is found among the slots"
        );
    }
}

/// Several consumers start their messages out of arrival order, and the
/// event engine draws service times in start order: the engines agree in
/// distribution.
#[test]
fn round_robin_windows_agree_in_distribution_with_the_event_engine() {
    let model = inline(
        WINDOWED,
        &[
            "simulation.replications=20",
            "queues.q.consumers.count=4",
            "queues.q.consumers.concurrency=2",
            "queues.q.consumers.ack=\"on-start\"",
            "producers.source.rate=\"1500/s\"",
        ],
    );
    assert_eq!(engine_for(&model), Engine::Lindley);
    let fast: Vec<_> = (0..20)
        .map(|r| simulate_lindley(&model, r).expect("no window fills"))
        .collect();
    let events: Vec<_> = (0..20).map(|r| simulate_events(&model, r)).collect();
    assert!(fast.iter().all(ReplicationResult::conserves));
    let (fast, events) = (
        results::summarize(&model, &fast),
        results::summarize(&model, &events),
    );
    let (f, e) = (&fast.nodes[0], &events.nodes[0]);
    let mut checks = Agreement::new(&model);
    checks
        .same(
            "mean latency",
            fast.summary.mean_latency,
            events.summary.mean_latency,
        )
        .same(
            "p99 latency",
            fast.summary.p99_latency,
            events.summary.p99_latency,
        )
        .same("wait", f.mean_wait, e.mean_wait)
        .same("p99 wait", f.p99_wait, e.p99_wait)
        .same("utilization", f.utilization, e.utilization)
        .same("mean unacked", f.mean_unacked, e.mean_unacked)
        .same("max unacked", f.max_unacked, e.max_unacked);
    checks.assert();
    assert_eq!(f.mean_in_queue.mean, 0.0, "nothing stays ready");
    assert_eq!(f.dropped.mean, 0.0, "the capacity counts ready messages");
}

/// A replication in which a message finds the next consumer's window
/// full runs on the event engine: `simulate` gives exactly what the event
/// engine gives.
#[test]
fn a_replication_whose_window_fills_runs_on_the_event_engine() {
    let full = inline(
        WINDOWED,
        &[
            "queues.q.consumers.count=2",
            "queues.q.consumers.concurrency=1",
            "queues.q.consumers.prefetch=3",
            "producers.source.rate=\"300/s\"",
        ],
    );
    assert_eq!(engine_for(&full), Engine::Lindley);
    assert_eq!(window_queue(&full), Some(("q", 3)));
    assert!(simulate_lindley(&full, 0).is_none(), "a window fills");
    let (chosen, events) = (engine::simulate(&full, 0), simulate_events(&full, 0));
    assert!(
        events.nodes[0].dropped > 100,
        "the queue holds ready messages"
    );
    assert_eq!(format!("{chosen:?}"), format!("{events:?}"));
    // Unlimited windows never fill.
    let unlimited = inline(&WINDOWED.replace("prefetch = 40", "prefetch = 0"), &[]);
    assert_eq!(window_queue(&unlimited), None);
    assert!(simulate_lindley(&unlimited, 0).is_some());
}

#[test]
fn run_chooses_the_fast_path_and_replications_match_simulate() {
    let model = inline(MM1, &[]);
    let runs = engine::run(&model);
    let direct = simulate_lindley(&model, 1).unwrap();
    assert_eq!(runs[1].delivered, direct.delivered);
    assert_eq!(runs[1].latency.mean(), direct.latency.mean());
}

#[track_caller]
fn assert_needs_events(model: &Model, reason_part: &str) {
    match engine_for(model) {
        Engine::Events { reason } => assert!(
            reason.to_string().contains(reason_part),
            "reason `{reason}` should mention `{reason_part}`"
        ),
        Engine::Lindley => panic!("the fast path cannot run this model ({reason_part})"),
    }
    assert!(simulate_lindley(model, 0).is_none());
}

#[test]
fn models_outside_the_fast_path_run_on_the_event_engine() {
    assert_needs_events(
        &inline(MM1, &["simulation.engine=\"events\""]),
        "asks for it",
    );
    assert_needs_events(&inline(MM1, &["queues.q.ttl=\"1s\""]), "TTL");
    assert_needs_events(&inline(MM1, &["queues.q.discipline=\"lifo\""]), "LIFO");
    assert_needs_events(&inline(MM1, &["queues.q.consumers.failure=0.1"]), "failing");
    assert_needs_events(&inline(MM1, &["simulation.initial.q=10"]), "backlog");
    let fanout = NETWORK.replace("kind = \"weighted\"", "kind = \"fanout\"");
    assert_needs_events(&inline(&fanout, &[]), "fanout");
    let cycle = NETWORK.replace(
        "service = { dist = \"constant\", value = \"1ms\" }",
        "service = { dist = \"constant\", value = \"1ms\" }\nnext = [{ to = \"a\", weight = 1 }, { to = \"c\", weight = 9 }]",
    );
    assert_needs_events(&inline(&cycle, &[]), "cycle");
    let groups = |set: &[&str]| inline(TWO_GROUPS, set);
    assert_needs_events(
        &groups(&["topics.orders.groups.billing.poll={ max_records = 10, max_wait = \"5ms\" }"]),
        "polls",
    );
    assert_needs_events(
        &groups(&["topics.orders.groups.analytics.failure=0.01"]),
        "failing",
    );
    assert_needs_events(
        &groups(&[
            "topics.orders.replication={ factor = 2, follower_fetch = { dist = \"constant\", value = \"1ms\" } }",
        ]),
        "in-sync replicas",
    );
    assert_needs_events(&groups(&["producers.orders-api.delay=\"1ms\""]), "delay");
    assert_needs_events(
        &groups(&["producers.orders-api.batching={ linger = \"1ms\" }"]),
        "batches",
    );
}

#[test]
fn models_outside_the_fast_path_still_simulate() {
    let model = inline(MM1, &["queues.q.ttl=\"5ms\""]);
    let result = engine::simulate(&model, 0);
    assert!(result.conserves());
    assert!(result.nodes[0].expired > 0);
}
