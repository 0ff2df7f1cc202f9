//! Kafka-style topics, batched consumption, links and traffic patterns.

use crate::util::{
    Agreement, QUANTILE_RESOLUTION, ROUNDING, assert_close, inline_at, measured_s, simulate,
};
use queuesim::analytic;
use queuesim::model::{Model, Target};
use queuesim::report;
use queuesim::stats::Estimate;
use statrs::distribution::{ContinuousCDF, Discrete, DiscreteCDF, Gamma, Poisson};

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
    keys.partition_shares(model.topics[0].partition_count)
}

#[test]
fn keyed_topic_with_one_consumer_per_partition_is_mm1_per_partition() {
    let model = model(TOPIC, &[]);
    assert_eq!(model.producers[0].to, Target::Topic(0));
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let shares = partition_shares(&model);
    for (p, node) in result.nodes.iter().enumerate() {
        assert_eq!(node.node, format!("clicks/p{p}"));
        let theory = analytic::mm1(2000.0 * shares[p], 1000.0).unwrap();
        checks.node(node, &theory);
        let column = node
            .theory
            .as_ref()
            .expect("theory applies to each partition");
        assert_close(
            "theory column",
            column.mean_sojourn_s,
            theory.mean_sojourn_s,
            ROUNDING,
        );
    }
    assert!(queuesim::results::theory_disagreements(&result).is_empty());
    checks.assert();
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
    let mut checks = Agreement::new(&model);
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
    checks.mean("hottest partition's share", simulated, shares[hottest]);
    checks.assert();
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
    let mut checks = Agreement::new(&model);
    // Each partition keeps its consumer busy for its share of the load of
    // 1000/s x 1 ms, and the two consumers together for the whole load.
    for (node, share) in result.nodes.iter().zip(partition_shares(&model)) {
        checks.mean(&format!("{} busy", node.node), node.utilization, share);
    }
    let busy: Vec<Estimate> = result.nodes.iter().map(|n| n.utilization).collect();
    checks.sum("busy consumers", &busy, 1.0);
    checks.assert();
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
    let mut checks = Agreement::new(&batched);
    let node = &result.nodes[0];
    // A batch opens with its first message and leaves 5 ms later, or
    // with its 10th message if sooner: it holds 1 + min(N, 9) messages,
    // N ~ Poisson(700/s x 5 ms), and takes one service time (2 ms) of one
    // of the 2 consumers.
    let (rate, timeout_s, max, service_s, consumers) = (700.0, 0.005, 10, 0.002, 2.0);
    let arrivals = Poisson::new(rate * timeout_s).unwrap();
    let per_batch = 1.0
        + (0..max)
            .map(|n| (n.min(max - 1) as f64) * arrivals.pmf(n))
            .sum::<f64>()
        + (max - 1) as f64 * arrivals.sf(max - 1);
    let utilization = rate / per_batch * service_s / consumers;
    checks.mean("utilization with batches", node.utilization, utilization);
    checks.mean("throughput", node.throughput, 700.0);
    checks.assert();
    // A message waits at most the timeout, then for a consumer only if
    // both are busy, for less than a whole service (the gamma of shape
    // 1/0.7² > 1 wears out: its residual life is shorter than a new one):
    // the p99 wait is at most the timeout plus the p99 of a service.
    let shape = 1.0 / (0.7f64 * 0.7);
    let service = Gamma::new(shape, shape / service_s).unwrap();
    let bound = (timeout_s + service.inverse_cdf(0.99)) * (1.0 + QUANTILE_RESOLUTION);
    assert!(
        node.p99_wait.mean <= bound,
        "{:?} vs {bound}",
        node.p99_wait
    );
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
    // The saturated link sends one message every 1 ms exactly, so a
    // window of T seconds counts 1000 T of them give or take one: the
    // throughput of every replication is within 1/T of 1000/s.
    let throughput = result.nodes[0].throughput;
    let within = 1.0 / measured_s(&linked);
    assert!(
        (throughput.mean - 1000.0).abs() <= within,
        "{throughput:?}, allowed ± {within}"
    );
}

#[test]
fn link_latency_adds_to_end_to_end_latency() {
    let linked = model(QUEUE, &["queues.q.link={ latency = \"20ms\" }"]);
    let plain = model(QUEUE, &[]);
    let (with_link, _) = simulate(&linked);
    let (without, _) = simulate(&plain);
    // Same streams, so the same messages wait the same: only the cohort at
    // the window's edges differs, by a handful of messages. Replication by
    // replication, the difference is a paired estimate with its own interval.
    let added = Estimate::from_replications(
        with_link
            .iter()
            .zip(&without)
            .map(|(l, p)| l.latency.mean() - p.latency.mean()),
    );
    let mut checks = Agreement::new(&linked);
    checks.mean("latency added by a 20 ms link", added, 0.020);
    checks.assert();
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
    let mut checks = Agreement::new(&bursty);
    let rate = Estimate::from_replications(reps.iter().map(|r| r.produced as f64 / r.measured_s));
    checks.mean("on/off mean rate", rate, 300.0);
    checks.assert();
}

#[test]
fn piecewise_rates_follow_their_schedule() {
    let ramp =
        with_arrivals(r#"pattern = { kind = "piecewise", times = [0, 26], rates = [100, 500] }"#);
    let (reps, _) = simulate(&ramp);
    let mut checks = Agreement::new(&ramp);
    // Measured window [1, 51]: 25 s at 100/s, then 25 s at 500/s.
    let produced = Estimate::from_replications(reps.iter().map(|r| r.produced as f64));
    checks.mean("piecewise messages", produced, 25.0 * 100.0 + 25.0 * 500.0);
    checks.assert();
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
