//! `sinks.csv`: what each final consumer delivered. With copies (fanout
//! exchanges, several topic groups) every path shows its own latency,
//! where `summary.csv` has the slowest copy's; without, the sinks split
//! the run's deliveries.

use crate::util::{Agreement, ROUNDING, assert_close, inline as model, simulate};
use queuesim::analytic;

#[test]
fn one_path_has_one_sink_with_the_runs_numbers() {
    let text = r#"
[simulation]
duration = "100s"
replications = 3
seed = 4
[[producers]]
name = "app"
to = "q"
rate = "80/s"
deadline = "30ms"
[[queues]]
name = "q"
capacity = 5
overflow = "reject-publish"
[queues.consumers]
service = { dist = "exponential", mean = "10ms" }
"#;
    let (_, result) = simulate(&model(text, &[]));
    let [sink] = result.sinks.as_slice() else {
        panic!("one sink: {:?}", result.sinks);
    };
    let s = &result.summary;
    assert_eq!(sink.sink, "q");
    for (what, a, b) in [
        ("delivered", sink.delivered, s.delivered),
        ("success", sink.success_ratio, s.success_ratio),
        ("mean", sink.mean_latency, s.mean_latency),
        ("p99", sink.p99_latency, s.p99_latency),
    ] {
        assert_eq!(a, b, "{what}");
    }
    assert!(s.success_ratio.mean < 0.95, "rejects and deadlines count");
}

/// A fanout to two M/M/1 queues: each sink's latency is its own queue's
/// sojourn, and each receives every message; the summary's latency is
/// the slower copy's, above both.
#[test]
fn each_copy_of_a_fanout_has_its_own_latency() {
    let text = r#"
[simulation]
duration = "300s"
warmup = "5s"
replications = 10
seed = 8
[[producers]]
name = "app"
to = "x"
rate = "50/s"
[[exchanges]]
name = "x"
kind = "fanout"
routes = [{ to = "fast" }, { to = "slow" }]
[[queues]]
name = "fast"
[queues.consumers]
service = { dist = "exponential", mean = "2ms" }
[[queues]]
name = "slow"
[queues.consumers]
service = { dist = "exponential", mean = "15ms" }
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let sink = |name: &str| result.sinks.iter().find(|s| s.sink == name).unwrap();
    let mut checks = Agreement::new(&m);
    for (name, mean_s) in [("fast", 0.002), ("slow", 0.015)] {
        let theory = analytic::mm1(50.0, 1.0 / mean_s).unwrap();
        checks.mean(
            &format!("{name} latency"),
            sink(name).mean_latency,
            theory.mean_sojourn_s,
        );
        checks.mean(&format!("{name} success"), sink(name).success_ratio, 1.0);
    }
    checks.assert();
    let slowest = result.summary.mean_latency.mean;
    assert!(slowest > sink("slow").mean_latency.mean, "{slowest}");
    let produced = result.summary.produced.mean;
    assert_close("copies", sink("fast").delivered.mean, produced, 1e-3);
}

/// Two groups on a topic: constant 10 ms and 300 ms per record, one
/// record a second. Each group's sink shows its own latency exactly;
/// a sink per broadcast consumer.
#[test]
fn each_topic_group_is_a_sink() {
    let text = r#"
[simulation]
duration = "200s"
warmup = "1s"
replications = 2
seed = 3
[[producers]]
name = "app"
to = "t"
interarrival = { dist = "constant", value = "1s" }
[[topics]]
name = "t"
partitions = 2
[[topics.groups]]
name = "fast"
service = { dist = "constant", value = "10ms" }
[[topics.groups]]
name = "slow"
service = { dist = "constant", value = "300ms" }
[[topics.groups]]
name = "cache"
mode = "broadcast"
count = 2
service = { dist = "constant", value = "1ms" }
"#;
    let (_, result) = simulate(&model(text, &[]));
    let names: Vec<&str> = result.sinks.iter().map(|s| s.sink.as_str()).collect();
    assert_eq!(names, ["t@fast", "t@slow", "t@cache.c0", "t@cache.c1"]);
    for (sink, latency_s) in result.sinks.iter().zip([0.01, 0.3, 0.001, 0.001]) {
        assert_close(&sink.sink, sink.mean_latency.mean, latency_s, 1e-9);
        assert_close(&sink.sink, sink.p99_latency.mean, latency_s, 1.0 / 512.0);
    }
    assert_close("summary", result.summary.mean_latency.mean, 0.3, ROUNDING);
}

/// A 60/40 split to two sinks, one bounded: each sink delivers its share;
/// the bounded one's success ratio is M/M/1/K's acceptance, since its
/// losses happen on its own path.
#[test]
fn split_paths_are_counted_where_they_end() {
    let text = r#"
[simulation]
duration = "400s"
warmup = "5s"
replications = 10
seed = 5
[[producers]]
name = "app"
to = "x"
rate = "100/s"
[[exchanges]]
name = "x"
kind = "weighted"
routes = [{ to = "a", weight = 3 }, { to = "b", weight = 2 }]
[[queues]]
name = "a"
[queues.consumers]
service = { dist = "exponential", mean = "5ms" }
[[queues]]
name = "b"
capacity = 3
overflow = "reject-publish"
[queues.consumers]
service = { dist = "exponential", mean = "20ms" }
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let sink = |name: &str| result.sinks.iter().find(|s| s.sink == name).unwrap();
    let accepted = 1.0 - analytic::mm1k(40.0, 50.0, 4).unwrap().loss_probability;
    let mut checks = Agreement::new(&m);
    checks.mean("a success", sink("a").success_ratio, 1.0);
    checks.mean("b success", sink("b").success_ratio, accepted);
    checks.assert();
    let produced = result.summary.produced.mean;
    assert_close("a share", sink("a").delivered.mean / produced, 0.6, 0.01);
    let delivered: f64 = result.sinks.iter().map(|s| s.delivered.mean).sum();
    assert_close(
        "sinks split the deliveries",
        delivered,
        result.summary.delivered.mean,
        1e-12,
    );
}
