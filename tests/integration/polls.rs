//! Pulling consumers (`poll`): Kafka's `max.poll.records`, Redis's
//! `XREADGROUP COUNT`. A consumer takes up to `max_records` waiting
//! records at once and works through them in order while records arriving
//! meanwhile wait for its next poll.

use crate::util::{Agreement, ROUNDING, assert_close, inline as model, simulate, try_inline};
use queuesim::analytic;

/// A topic of 6 partitions read by 2 consumers (3 partitions each), and a
/// queue read by 3 consumers, on the event engine.
const TOPIC_AND_QUEUE: &str = r#"
[simulation]
duration = "60s"
warmup = "1s"
replications = 4
seed = 23
engine = "events"

[[producers]]
name = "clicks"
to = "t"
rate = "800/s"
keys = { count = 100 }

[[producers]]
name = "jobs"
to = "stream"
rate = "500/s"

[[topics]]
name = "t"
partitions = 6
[topics.consumers]
count = 2
service = { dist = "exponential", mean = "2ms" }

[[queues]]
name = "stream"
[queues.consumers]
count = 3
service = { dist = "exponential", mean = "5ms" }
"#;

#[test]
fn a_poll_of_one_record_is_a_consumer_taking_one_at_a_time() {
    let polled = TOPIC_AND_QUEUE.replace(
        "service = { dist = \"exponential\", mean",
        "poll = { max_records = 1, max_wait = \"2s\" }\nservice = { dist = \"exponential\", mean",
    );
    let (_, one) = simulate(&model(TOPIC_AND_QUEUE, &[]));
    let (_, polls) = simulate(&model(&polled, &[]));
    assert_eq!(one.summary.mean_latency, polls.summary.mean_latency);
    assert_eq!(one.summary.p99_latency, polls.summary.p99_latency);
    for (a, b) in one.nodes.iter().zip(&polls.nodes) {
        assert_eq!(a.node, b.node);
        for (what, x, y) in [
            ("sojourn", a.mean_sojourn, b.mean_sojourn),
            ("in queue", a.mean_in_queue, b.mean_in_queue),
            ("served", a.served, b.served),
        ] {
            assert_eq!(x, y, "{what} of {}", a.node);
        }
    }
}

/// Ten records wait at time 0 for two consumers that take a constant 1 s
/// each. The first two go to the two blocked consumers. Without polls the
/// others start in pairs (ends at 1, 1, 2, 2, ..., 5, 5 s: mean 3 s). With
/// `max_records = 10` the first consumer to poll again (at 1 s) takes all
/// eight and the other finds nothing: ends at 1, 1, 2, ..., 9 s, mean
/// 4.6 s. With 3: polls of 3, 3 and 2 (ends 1, 1, 2, 3, 4, 2, 3, 4, 5,
/// 6 s), mean 3.1 s. Fetched records are unacknowledged: with 10, 2 until
/// 1 s, then 9 − t until 9 s, 1.9 on average over 20 s.
#[test]
fn a_consumer_works_through_its_whole_poll_while_others_idle() {
    let text = r#"
[simulation]
duration = "20s"
warmup = "0s"
replications = 2
initial = { stream = 10 }
[[producers]]
name = "none"
to = "stream"
interarrival = { dist = "constant", value = "1000s" }
[[queues]]
name = "stream"
[queues.consumers]
count = 2
service = { dist = "constant", value = "1s" }
"#;
    let poll = |n: u32| {
        let set = format!(
            "service = {{ dist = \"constant\", value = \"1s\" }}\npoll = {{ max_records = {n} }}"
        );
        text.replace("service = { dist = \"constant\", value = \"1s\" }", &set)
    };
    for (text, mean_s) in [(text.to_owned(), 3.0), (poll(10), 4.6), (poll(3), 3.1)] {
        let (_, result) = simulate(&model(&text, &[]));
        assert_close(
            "latency",
            result.summary.mean_latency.mean,
            mean_s,
            ROUNDING,
        );
    }
    let (_, result) = simulate(&model(&poll(10), &[]));
    assert_close("unacked", result.nodes[0].mean_unacked.mean, 1.9, ROUNDING);
}

/// One consumer reads two partitions by polls of up to 500 records, which
/// come grouped by partition: a record may wait behind younger records of
/// the other partition. The consumer never idles while records wait and
/// the order does not depend on service times, so by Kleinrock's
/// conservation law (Kleinrock, Queueing Systems vol. 2, §3.4) the mean
/// sojourn is M/M/1's; and the records fetched and waiting are in the
/// lag, whose time average is λ times the mean sojourn (Little).
#[test]
fn polls_keep_the_mean_latency_of_a_work_conserving_consumer() {
    let text = r#"
[simulation]
duration = "300s"
warmup = "5s"
replications = 10
seed = 5
[[producers]]
name = "app"
to = "t"
rate = "400/s"
[[topics]]
name = "t"
partitions = 2
partitioner = "round-robin"
[topics.consumers]
poll = { max_records = 500 }
service = { dist = "exponential", mean = "2ms" }
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let theory = analytic::mm1(400.0, 500.0).unwrap();
    let mut checks = Agreement::new(&m);
    checks.mean(
        "latency",
        result.summary.mean_latency,
        theory.mean_sojourn_s,
    );
    let lags: Vec<_> = result.nodes.iter().map(|n| n.mean_lag).collect();
    checks.sum("lag", &lags, theory.mean_in_system);
    checks.assert();
    let unpolled = text.replace("poll = { max_records = 500 }\n", "");
    let (_, unpolled) = simulate(&model(&unpolled, &[]));
    assert!(
        result.summary.p99_latency.mean > unpolled.summary.p99_latency.mean,
        "grouping by partition spreads the latencies: p99 {} vs {}",
        result.summary.p99_latency.mean,
        unpolled.summary.p99_latency.mean
    );
}

/// A Redis stream read by 4 consumers with `COUNT 10`: a consumer holds
/// records that an idle one could have taken, so latency is above M/M/4's;
/// Little's law holds for the records waiting or fetched.
#[test]
fn stream_consumers_pulling_batches_wait_longer_than_mmc() {
    let text = r#"
[simulation]
duration = "300s"
warmup = "5s"
replications = 10
seed = 9
[[producers]]
name = "app"
to = "stream"
rate = "60/s"
[[queues]]
name = "stream"
[queues.consumers]
count = 4
poll = { max_records = 10, max_wait = "2s" }
service = { dist = "exponential", mean = "50ms" }
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let mmc = analytic::mmc(60.0, 20.0, 4).unwrap();
    let node = &result.nodes[0];
    let mut checks = Agreement::new(&m);
    let in_system = [node.mean_in_queue, node.mean_unacked];
    checks.sum("Little", &in_system, 60.0 * node.mean_sojourn.mean);
    checks.mean("utilization", node.utilization, mmc.utilization);
    checks.assert();
    let latency = result.summary.mean_latency;
    assert!(
        latency.mean - latency.ci95 > 1.1 * mmc.mean_sojourn_s,
        "{latency:?} vs M/M/4 {}",
        mmc.mean_sojourn_s
    );
}

#[test]
fn ill_formed_polls_are_refused_naming_the_key() {
    let queue = "[[producers]]\nname = \"app\"\nto = \"q\"\nrate = 10\n[[queues]]\nname = \"q\"\n\
                 [queues.consumers]\nservice = { dist = \"exponential\", mean = 0.01 }\n";
    let cases = [
        (
            "poll = { max_records = 0 }\n",
            "`queues.q.consumers.poll.max_records`",
            "between 1",
        ),
        (
            "poll = { max_wait = \"-1s\" }\n",
            "`queues.q.consumers.poll.max_wait`",
            "",
        ),
        ("poll = { count = 3 }\n", "count", "max_records"),
        (
            "poll = {}\nprefetch = 10\n",
            "`queues.q.consumers.prefetch`",
            "pulling",
        ),
    ];
    for (extra, key, why) in cases {
        let text = format!("{queue}{extra}");
        let err = try_inline(&text).expect_err(&text);
        assert!(err.contains(key) && err.contains(why), "{text}\n-> {err}");
    }
}
