//! Kafka-style topics, batched consumption, links and traffic patterns.

use crate::util::{assert_agrees, assert_node_agrees, inline_at, simulate};
use queuesim::analytic;
use queuesim::model::{Model, Target};
use queuesim::report;
use queuesim::stats::Estimate;

use crate::util::inline as model;

const TOPIC: &str = r#"
[simulation]
duration = "100s"
warmup = "2s"
replications = 10
seed = 9

[[producers]]
name = "clicks-api"
to = "clicks"
rate = "2000/s"
keys = { count = 1000, skew = 0.0 }

[[topics]]
name = "clicks"
partitions = 4
partitioner = "key"
[topics.consumers]
count = 4
service = { dist = "exponential", mean = "1ms" }
"#;

fn partition_shares(model: &Model) -> Vec<f64> {
    let keys = model.producers[0].keys.expect("the producer sets keys");
    keys.partition_shares(model.topics[0].partitions.len())
}

#[test]
fn keyed_topic_with_one_consumer_per_partition_is_mm1_per_partition() {
    let model = model(TOPIC, &[]);
    assert_eq!(model.producers[0].to, Target::Topic(0));
    let (_, result) = simulate(&model);
    let shares = partition_shares(&model);
    for (p, node) in result.nodes.iter().enumerate() {
        assert_eq!(node.node, format!("clicks/p{p}"));
        let theory = analytic::mm1(2000.0 * shares[p], 1000.0).unwrap();
        assert_node_agrees(node, &theory);
        let column = node
            .theory
            .as_ref()
            .expect("theory applies to each partition");
        assert!((column.mean_sojourn_s - theory.mean_sojourn_s).abs() < 1e-12);
    }
    assert!(queuesim::results::theory_disagreements(&result).is_empty());
}

#[test]
fn zipf_skew_loads_the_partition_holding_the_hot_keys() {
    let model = model(
        TOPIC,
        &[
            "producers.clicks-api.keys.skew=1.1",
            "producers.clicks-api.rate=1000",
        ],
    );
    let (reps, _) = simulate(&model);
    let shares = partition_shares(&model);
    let hottest = (0..shares.len())
        .max_by(|&a, &b| shares[a].total_cmp(&shares[b]))
        .unwrap();
    assert!(
        shares[hottest] > 0.3,
        "skew 1.1 concentrates load: {shares:?}"
    );
    let simulated = Estimate::from_replications(reps.iter().map(|r| {
        let total: u64 = r.nodes.iter().map(|n| n.arrivals).sum();
        r.nodes[hottest].arrivals as f64 / total as f64
    }));
    assert_agrees("hottest partition's share", simulated, shares[hottest]);
}

#[test]
fn more_consumers_than_partitions_leaves_the_extra_ones_idle() {
    let model = model(TOPIC, &["topics.clicks.consumers.count=6"]);
    assert_eq!(model.pools.len(), 4);
    assert!(
        model
            .warnings
            .iter()
            .any(|w| w.contains("2 of the 6 consumers")),
        "{:?}",
        model.warnings
    );
}

#[test]
fn a_consumer_owning_two_partitions_serves_them_in_order_one_at_a_time() {
    let model = model(
        TOPIC,
        &[
            "topics.clicks.consumers.count=2",
            "producers.clicks-api.rate=1000",
        ],
    );
    let (_, result) = simulate(&model);
    let busy: f64 = result.nodes.iter().map(|n| n.utilization.mean).sum();
    // Two single-server consumers carry the whole load of 1000/s x 1 ms.
    assert!((busy - 1.0).abs() < 0.02, "total busy servers {busy}");
    for node in &result.nodes {
        assert!(node.utilization.mean < 0.5 + 0.05);
    }
}

const QUEUE: &str = r#"
[simulation]
duration = "50s"
warmup = "1s"
replications = 4
seed = 5

[[producers]]
name = "p"
to = "q"
rate = "700/s"

[[queues]]
name = "q"
[queues.consumers]
count = 2
service = { dist = "gamma", mean = "2ms", cv = 0.7 }
"#;

#[test]
fn batches_of_one_give_the_same_results_as_no_batching() {
    // Both on the event engine: a batch of one must change nothing there.
    let plain = model(QUEUE, &["simulation.engine=\"events\""]);
    let batched = model(
        QUEUE,
        &["queues.q.consumers.batch={ max = 1, timeout = 0.01 }"],
    );
    let render = |m: &Model| {
        report::render_tables(&queuesim::results::summarize(m, &queuesim::engine::run(m)))
    };
    assert_eq!(render(&plain), render(&batched));
}

#[test]
fn batches_fill_up_to_max_or_leave_after_the_timeout() {
    let batched = model(
        QUEUE,
        &["queues.q.consumers.batch={ max = 10, timeout = \"5ms\" }"],
    );
    let (_, result) = simulate(&batched);
    let node = &result.nodes[0];
    // One service time per batch: the consumers are far less busy than
    // with single messages (utilization 0.7).
    assert!(node.utilization.mean < 0.35, "{:?}", node.utilization);
    // Nobody waits much longer than the timeout plus one batch service.
    assert!(node.p99_wait.mean < 0.005 + 0.02, "{:?}", node.p99_wait);
    assert_agrees("throughput", node.throughput, 700.0);
}

#[test]
fn a_link_caps_throughput_at_bandwidth_over_message_size() {
    let linked = model(
        QUEUE,
        &[
            "producers.p.rate=2000",
            "producers.p.size={ dist = \"constant\", value = \"1kB\" }",
            "queues.q.link={ latency = \"1ms\", bandwidth = \"8Mbit/s\" }",
            "queues.q.consumers.service={ dist = \"exponential\", mean = \"0.1ms\" }",
        ],
    );
    let (_, result) = simulate(&linked);
    // 8 Mbit/s = 1e6 bytes/s carries 1000 messages of 1000 bytes per second.
    let throughput = result.nodes[0].throughput;
    assert!((throughput.mean - 1000.0).abs() < 1.0, "{throughput:?}");
}

#[test]
fn link_latency_adds_to_end_to_end_latency() {
    let linked = model(QUEUE, &["queues.q.link={ latency = \"20ms\" }"]);
    let plain = model(QUEUE, &[]);
    let (_, with_link) = simulate(&linked);
    let (_, without) = simulate(&plain);
    // Same streams, so the same messages wait the same: only the cohort at
    // the window's edges differs, by a handful of messages.
    let added = with_link.summary.mean_latency.mean - without.summary.mean_latency.mean;
    assert!(
        (added - 0.020).abs() < 1e-5,
        "link latency adds 20 ms: {added}"
    );
}

fn with_arrivals(arrivals: &str) -> Model {
    model(
        &QUEUE.replace("rate = \"700/s\"", arrivals),
        &["simulation.replications=10"],
    )
}

#[test]
fn on_off_bursts_publish_at_the_phase_average_rate() {
    let bursty =
        with_arrivals(r#"pattern = { kind = "onoff", on = "1s", off = "3s", rate_on = 1200 }"#);
    let (reps, _) = simulate(&bursty);
    let rate = Estimate::from_replications(reps.iter().map(|r| r.produced as f64 / r.measured_s));
    assert_agrees("on/off mean rate", rate, 300.0);
}

#[test]
fn piecewise_rates_follow_their_schedule() {
    let ramp =
        with_arrivals(r#"pattern = { kind = "piecewise", times = [0, 26], rates = [100, 500] }"#);
    let (reps, _) = simulate(&ramp);
    // Measured window [1, 51]: 25 s at 100/s, then 25 s at 500/s.
    let produced = Estimate::from_replications(reps.iter().map(|r| r.produced as f64));
    assert_agrees("piecewise messages", produced, 25.0 * 100.0 + 25.0 * 500.0);
}

#[test]
fn a_trace_is_replayed_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let times: Vec<String> = (0..5000)
        .map(|i| format!("{}", f64::from(i) * 0.01))
        .collect();
    std::fs::write(
        dir.path().join("arrivals.csv"),
        format!("time\n{}\n", times.join("\n")),
    )
    .unwrap();
    let text = QUEUE.replace("rate = \"700/s\"", "trace = \"arrivals.csv\"");
    let model = inline_at(&text, &dir.path().join("trace.toml"), &[]);
    let (reps, _) = simulate(&model);
    // Times 1.00 to 49.99 fall in the measured window [1, 51].
    for r in &reps {
        assert_eq!(r.produced, 4900);
    }
}
