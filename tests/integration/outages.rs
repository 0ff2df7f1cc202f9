//! Outages (`down` in `[[events]]`), producers' client buffers
//! (`on_unavailable`) and `events.csv`: what is lost as unavailable, what
//! a buffer keeps, and how long the backlog takes to drain.

use crate::util::{Agreement, assert_close, inline as model, simulate, try_inline};
use queuesim::stats::Estimate;

/// One message a second (at 1, 2, ... s), a constant 100 ms each, on a
/// queue that is down from 100.5 s to 110.5 s.
const EVERY_SECOND: &str = r#"
[simulation]
duration = "200s"
warmup = "0s"
replications = 2
seed = 1
[[producers]]
name = "app"
to = "q"
interarrival = { dist = "constant", value = "1s" }
[[queues]]
name = "q"
[queues.consumers]
service = { dist = "constant", value = "100ms" }
[[events]]
at = "100.5s"
for = "10s"
down = ["q"]
"#;

/// Without a client buffer the ten messages of 101 ... 110 s are lost as
/// unavailable; everything else is delivered in 100 ms.
#[test]
fn a_queue_that_is_down_loses_what_is_published_to_it() {
    let (reps, result) = simulate(&model(EVERY_SECOND, &[]));
    for rep in &reps {
        assert_eq!((rep.lost, rep.unavailable), (10, 10));
        assert_eq!(rep.delivered + rep.in_flight, rep.produced - 10);
    }
    assert_close("latency", result.summary.mean_latency.mean, 0.1, 1e-9);
    let event = &result.scheduled[0];
    assert_eq!(
        (event.what.as_str(), event.start, event.end),
        ("down q", 100.5, 110.5)
    );
    assert_eq!(event.drain_time.mean, 0.0, "nothing waits after the outage");
    assert!(
        event.p99_latency.mean.is_nan(),
        "nothing published during it is delivered"
    );
}

/// With a buffer retried every 0.7 s, the first retry after the outage
/// is at 101 + 14 × 0.7 = 110.8 s: the ten held messages go then, the k-th
/// ending at 110.8 + 0.1k; the message of 111 s waits for them until
/// 111.8 s (900 ms in all); every other message takes 100 ms. A buffer of
/// four keeps the first four and loses six.
#[test]
fn a_client_buffer_holds_publications_until_the_queue_is_back() {
    let buffered = EVERY_SECOND.replace(
        "to = \"q\"\n",
        "to = \"q\"\non_unavailable = { buffer = 100, retry = \"0.7s\" }\n",
    );
    let (reps, result) = simulate(&model(&buffered, &[]));
    assert_eq!(reps[0].lost, 0);
    let held: f64 = (1..=10)
        .map(|k| 110.8 + 0.1 * f64::from(k) - (100.0 + f64::from(k)))
        .sum();
    let delivered = result.summary.delivered.mean;
    let mean_s = (held + 0.9 + (delivered - 11.0) * 0.1) / delivered;
    assert_close("latency", result.summary.mean_latency.mean, mean_s, 1e-9);
    let event = &result.scheduled[0];
    assert_eq!(
        event.peak_backlog.mean, 10.0,
        "101 ... 110 s held at 110.5 s"
    );
    assert_close("drain", event.drain_time.mean, 0.3 + 1.0, 1e-9);
    assert_eq!(event.drained.mean, 1.0);
    let small = buffered.replace("buffer = 100", "buffer = 4");
    let (reps, _) = simulate(&model(&small, &[]));
    assert_eq!((reps[0].lost, reps[0].unavailable), (6, 6));
}

/// After an outage of T = 120 s at λ = 90/s on c = 10 consumers of rate
/// μ = 10/s whose producer buffers everything, the backlog of about λT
/// drains at cμ − λ: the fluid drain time λT / (cμ − λ) = 1080 s. Once
/// every consumer is busy the queue is a random walk with that drift, so
/// the first passage back takes exactly (backlog − level) / (cμ − λ) on
/// average; the retry instant after the end (within 1 s) and the level
/// before the event move it by under 1%, well inside the interval.
#[test]
fn an_outage_drains_in_the_fluid_time() {
    let text = r#"
[simulation]
duration = "1h"
warmup = "0s"
replications = 12
seed = 4
[[producers]]
name = "web"
to = "orders"
rate = "90/s"
on_unavailable = { buffer = 1000000, retry = "1s" }
[[queues]]
name = "orders"
[queues.consumers]
count = 10
service = { dist = "exponential", mean = "100ms" }
[[events]]
at = "10m"
for = "2m"
down = ["orders"]
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let (lambda, outage_s, capacity) = (90.0, 120.0, 100.0);
    let event = &result.scheduled[0];
    let mut checks = Agreement::new(&m);
    checks.mean(
        "drain time",
        event.drain_time,
        lambda * outage_s / (capacity - lambda),
    );
    checks.mean("peak backlog", event.peak_backlog, lambda * outage_s);
    checks.assert();
    assert_eq!(event.drained.mean, 1.0);
    assert_eq!(result.summary.lost.mean, 0.0);
}

/// Without a buffer the outage loses the Poisson count of its window,
/// λT = 10,800 on average, all as unavailable; the loss counts in the
/// summary and the queue's theory is withdrawn (no steady state).
#[test]
fn an_outage_without_a_buffer_loses_its_window() {
    let text = r#"
[simulation]
duration = "30m"
warmup = "0s"
replications = 10
seed = 8
[[producers]]
name = "web"
to = "orders"
rate = "90/s"
[[queues]]
name = "orders"
[queues.consumers]
count = 10
service = { dist = "exponential", mean = "100ms" }
[[events]]
at = "10m"
for = "2m"
down = ["orders"]
"#;
    let m = model(text, &[]);
    let (reps, result) = simulate(&m);
    for rep in &reps {
        assert_eq!(rep.lost, rep.unavailable);
    }
    let mut checks = Agreement::new(&m);
    checks.mean("unavailable", result.summary.unavailable, 90.0 * 120.0);
    checks.assert();
    assert!(result.nodes[0].theory.is_none());
}

/// A topic that is down refuses its producer's records and delivers
/// nothing from any group's partitions; a name that is neither a queue
/// nor a topic is refused naming the key.
#[test]
fn a_topic_goes_down_in_every_group() {
    let text = r#"
[simulation]
duration = "100s"
warmup = "0s"
replications = 2
seed = 3
[[producers]]
name = "app"
to = "clicks"
interarrival = { dist = "constant", value = "1s" }
[[topics]]
name = "clicks"
partitions = 2
[[topics.groups]]
name = "a"
service = { dist = "constant", value = "10ms" }
[[topics.groups]]
name = "b"
service = { dist = "constant", value = "10ms" }
[[events]]
at = "10.5s"
for = "5s"
down = ["clicks"]
"#;
    let (reps, result) = simulate(&model(text, &[]));
    assert_eq!((reps[0].lost, reps[0].unavailable), (5, 5));
    assert_eq!(result.scheduled[0].what, "down clicks");
    let bad = text.replace("down = [\"clicks\"]", "down = [\"nowhere\"]");
    let err = try_inline(&bad).unwrap_err();
    assert!(
        err.contains("events[0].down[0]") && err.contains("`clicks`"),
        "{err}"
    );
}

/// An outage that lasts no time changes nothing.
#[test]
fn an_outage_of_no_time_changes_nothing() {
    let text = (EVERY_SECOND.replace("for = \"10s\"", "for = \"0s\""))
        .replace("seed = 1\n", "seed = 1\nengine = \"events\"\n");
    let (_, instant) = simulate(&model(&text, &[]));
    let plain = text.split("[[events]]").next().unwrap();
    let (_, plain) = simulate(&model(plain, &[]));
    assert_eq!(
        format!("{:?}", plain.summary),
        format!("{:?}", instant.summary)
    );
    assert_eq!(format!("{:?}", plain.nodes), format!("{:?}", instant.nodes));
    let unused = Estimate::from_replications([f64::NAN]);
    assert_eq!(
        format!("{:?}", instant.scheduled[0].p99_latency),
        format!("{unused:?}")
    );
}
