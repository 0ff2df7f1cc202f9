//! Several consumer groups on one topic, and broadcast groups: every group
//! receives every record, a record is delivered when its slowest group has
//! processed it, and each group's partitions are queues of their own.

use crate::util::{Agreement, ROUNDING, assert_close, inline as model, simulate, try_inline};
use queuesim::analytic;

/// Two clustering groups and a broadcast group of two on one topic.
const GROUPS: &str = r#"
[simulation]
duration = "100s"
warmup = "2s"
replications = 10
seed = 17

[[producers]]
name = "app"
to = "clicks"
rate = "1000/s"
keys = { count = 1000, skew = 0.0 }

[[topics]]
name = "clicks"
partitions = 4
partitioner = "key"

[[topics.groups]]
name = "analytics"
count = 4
service = { dist = "exponential", mean = "1ms" }

[[topics.groups]]
name = "archive"
count = 4
service = { dist = "exponential", mean = "2ms" }

[[topics.groups]]
name = "cache"
mode = "broadcast"
count = 2
service = { dist = "exponential", mean = "0.2ms" }
"#;

#[test]
fn every_group_and_every_broadcast_consumer_receives_every_record() {
    let model = model(GROUPS, &[]);
    let topic = &model.topics[0];
    let names: Vec<&str> = topic.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["analytics", "archive", "cache.c0", "cache.c1"]);
    let (reps, _) = simulate(&model);
    for rep in &reps {
        for group in &topic.groups {
            let received: u64 = (group.partitions.iter())
                .map(|&q| rep.nodes[q].arrivals)
                .sum();
            assert_eq!(
                received, rep.produced,
                "group `{}` in replication {}",
                group.name, rep.replication
            );
        }
    }
}

#[test]
fn each_group_serves_its_own_copy_of_each_partition_as_mm1() {
    let model = model(GROUPS, &[]);
    let keys = model.producers[0].keys.expect("the producer sets keys");
    let shares = keys.partition_shares(model.topics[0].partition_count);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    for (group, mean_service_s) in [("analytics", 1e-3), ("archive", 2e-3)] {
        for (p, share) in shares.iter().enumerate() {
            let name = format!("clicks/p{p}@{group}");
            let node = (result.nodes.iter())
                .find(|n| n.node == name)
                .unwrap_or_else(|| panic!("a row for {name}"));
            let theory = analytic::mm1(1000.0 * share, 1.0 / mean_service_s).unwrap();
            checks.node(node, &theory);
        }
    }
    checks.assert();
}

/// A record every second; each group's consumer takes a constant time,
/// far below the gap, so no record ever waits.
const SLOWEST: &str = r#"
[simulation]
duration = "200s"
warmup = "10s"
replications = 2
seed = 5

[[producers]]
name = "app"
to = "orders"
interarrival = { dist = "constant", value = "1s" }

[[topics]]
name = "orders"
partitions = 2
partitioner = "round-robin"

[[topics.groups]]
name = "fast"
service = { dist = "constant", value = "10ms" }

[[topics.groups]]
name = "slow"
service = { dist = "constant", value = "300ms" }
"#;

#[test]
fn a_record_is_delivered_when_its_slowest_group_has_processed_it() {
    let (_, both) = simulate(&model(SLOWEST, &[]));
    assert_close("latency", both.summary.mean_latency.mean, 0.3, ROUNDING);
    assert_close("p99", both.summary.p99_latency.mean, 0.3, 1.0 / 2048.0);
    let fast_only = SLOWEST.replace(
        "[[topics.groups]]\nname = \"slow\"\nservice = { dist = \"constant\", value = \"300ms\" }\n",
        "",
    );
    let (_, fast) = simulate(&model(&fast_only, &[]));
    assert_close("one group", fast.summary.mean_latency.mean, 0.01, ROUNDING);
}

#[test]
fn one_named_group_gives_the_shorthands_results_under_its_own_names() {
    let shorthand = r#"
[simulation]
duration = "50s"
replications = 3
seed = 2
[[producers]]
name = "app"
to = "t"
rate = "300/s"
[[topics]]
name = "t"
partitions = 3
[topics.consumers]
count = 2
service = { dist = "exponential", mean = "2ms" }
"#;
    let named = shorthand.replace("[topics.consumers]", "[[topics.groups]]\nname = \"g\"");
    let (_, a) = simulate(&model(shorthand, &[]));
    let (_, b) = simulate(&model(&named, &[]));
    assert_eq!(a.summary.mean_latency.mean, b.summary.mean_latency.mean);
    assert_eq!(a.nodes.len(), b.nodes.len());
    for (x, y) in a.nodes.iter().zip(&b.nodes) {
        assert_eq!(format!("{}@g", x.node), y.node);
        assert_eq!(x.mean_sojourn.mean, y.mean_sojourn.mean);
        assert_eq!(x.served.mean, y.served.mean);
    }
}

/// A topic with `groups`, with `extra` added to its first group.
fn with_group(extra: &str) -> String {
    format!(
        "[[producers]]\nname = \"app\"\nto = \"t\"\nrate = 10\n[[topics]]\nname = \"t\"\n\
         [[topics.groups]]\nname = \"g\"\nservice = {{ dist = \"exponential\", mean = 0.01 }}\n{extra}"
    )
}

#[test]
fn ill_formed_groups_are_refused_naming_the_key() {
    let cases = [
        (
            with_group("[topics.consumers]\nservice = { dist = \"exponential\", mean = 0.01 }\n"),
            "`topics.t.consumers`",
            "not both",
        ),
        (
            with_group(
                "[[topics.groups]]\nname = \"g\"\nservice = { dist = \"constant\", value = 1 }\n",
            ),
            "`topics.t.groups.g.name`",
            "names two groups",
        ),
        (
            with_group(
                "[[topics.groups]]\nname = \"a/b\"\nservice = { dist = \"constant\", value = 1 }\n",
            ),
            "`topics.t.groups.a/b.name`",
            "not a group name",
        ),
        (
            with_group("rebalance = { pause = \"3s\" }\n"),
            "`topics.t.groups.g.rebalance`",
            "not supported",
        ),
        (with_group("mode = \"everyone\"\n"), "mode", "broadcast"),
    ];
    for (text, key, why) in cases {
        let err = try_inline(&text).expect_err(&text);
        assert!(err.contains(key) && err.contains(why), "{text}\n-> {err}");
    }
    let array = "[[producers]]\nname = \"app\"\nto = \"t\"\nrate = 10\n[[topics]]\nname = \"t\"\n\
                 [[topics.consumers]]\nservice = { dist = \"constant\", value = 1 }\n";
    let err = try_inline(array).expect_err("an array of consumer groups");
    assert!(err.contains("[[topics.groups]]"), "{err}");
}

/// A record every second, delayed 5 s, then processed in a constant
/// 10 ms by each of two groups.
#[test]
fn a_delayed_record_is_visible_only_after_its_delay() {
    let delayed = SLOWEST.replace(
        "interarrival = { dist = \"constant\", value = \"1s\" }",
        "interarrival = { dist = \"constant\", value = \"1s\" }\ndelay = \"5s\"",
    );
    let (reps, result) = simulate(&model(&delayed, &[]));
    assert_close("latency", result.summary.mean_latency.mean, 5.3, ROUNDING);
    for rep in &reps {
        assert!(
            rep.in_flight >= 5,
            "the last 5 s of records are still delayed"
        );
    }
    let err = try_inline(&delayed.replace("delay = \"5s\"", "delay = \"-1s\"")).unwrap_err();
    assert!(err.contains("producers.app.delay"), "{err}");
}

/// A record every second into a topic with 3 replicas; its consumer takes
/// a constant 10 ms. Follower fetches are Exp(mean 4 ms): a record is
/// committed after the faster of 2 followers with `min_insync = 2`
/// (Exp(mean 2 ms)), after the slower with `min_insync = 3`
/// (mean 4 · (1 + 1/2) = 6 ms, the maximum of two exponentials). Records
/// a second apart never wait for an earlier one's commit (P < e^-250).
#[test]
fn acks_all_waits_for_the_order_statistic_of_the_follower_fetches() {
    let text = r#"
[simulation]
duration = "400s"
warmup = "1s"
replications = 10
seed = 8
[[producers]]
name = "app"
to = "t"
interarrival = { dist = "constant", value = "1s" }
[[topics]]
name = "t"
replication = { factor = 3, min_insync = 2, follower_fetch = { dist = "exponential", mean = "4ms" } }
[topics.consumers]
service = { dist = "constant", value = "10ms" }
"#;
    let mut checks = Agreement::over(10);
    for (min_insync, mean_commit_s) in [(2, 0.002), (3, 0.006)] {
        let set = format!("topics.t.replication.min_insync={min_insync}");
        let (_, result) = simulate(&model(text, &[&set]));
        let what = format!("latency with min_insync = {min_insync}");
        checks.mean(&what, result.summary.mean_latency, 0.010 + mean_commit_s);
    }
    checks.assert();
    let (_, leader_only) = simulate(&model(text, &["topics.t.replication.min_insync=1"]));
    assert_close(
        "leader only",
        leader_only.summary.mean_latency.mean,
        0.010,
        ROUNDING,
    );
    let err = try_inline(&text.replace("min_insync = 2", "min_insync = 4")).unwrap_err();
    assert!(err.contains("topics.t.replication.min_insync"), "{err}");
}

/// Poisson records at λ = 100/s into one partition, batched with a linger
/// L = 10 ms and no size limit: a batch's first record waits L, the λL
/// records (on average) that join it wait L/2 each, so a record waits
/// L(1 + λL/2)/(1 + λL) on average. The consumer takes 1 µs per record.
#[test]
fn producer_batches_add_the_linger_delay_of_a_poisson_stream() {
    let text = r#"
[simulation]
duration = "200s"
warmup = "1s"
replications = 10
seed = 4
[[producers]]
name = "app"
to = "t"
rate = "100/s"
batching = { linger = "10ms" }
[[topics]]
name = "t"
[topics.consumers]
service = { dist = "constant", value = "1us" }
"#;
    let (lambda, linger) = (100.0, 0.010);
    let wait_s = linger * (1.0 + lambda * linger / 2.0) / (1.0 + lambda * linger);
    let (_, result) = simulate(&model(text, &[]));
    let mut checks = Agreement::over(10);
    checks.mean("latency", result.summary.mean_latency, wait_s + 1e-6);
    checks.assert();
    let capped = text.replace(
        "batching = { linger = \"10ms\" }",
        "batching = { linger = \"10ms\", max_bytes = 1 }\nsize = { dist = \"constant\", value = 2 }",
    );
    let full = model(&capped, &[]);
    let (_, unbatched) = simulate(&full);
    // Every record goes at once; one in 10^4 waits (< 1 µs) behind another.
    assert_close(
        "size-capped",
        unbatched.summary.mean_latency.mean,
        1e-6,
        1e-4,
    );
    let to_queue = format!(
        "{}\n[[queues]]\nname = \"q\"\n",
        text.replace("to = \"t\"", "to = \"q\"")
    );
    let err = try_inline(&to_queue).unwrap_err();
    assert!(err.contains("producers.app.batching"), "{err}");
}
