//! Consumers that crash and restart (`crash = { mtbf, restart }`): the
//! message a crashed consumer held is redelivered from the head of its
//! queue, its work lost.

use crate::util::{Agreement, inline as model, simulate, try_inline};
use queuesim::stats::Estimate;

/// M/M/1 whose one consumer fails at rate ν = 1/mtbf whether busy or
/// idle (a process crash does not wait for work) and is down for a
/// constant R. Redelivery repeats the service with a new draw, which for
/// an exponential service is the same in distribution as resuming it, so
/// a message holds the consumer for its completion time C = S + the
/// repairs during S (Avi-Itzhak and Naor, 1963): E[C] = E[S](1 + νE[R]),
/// E[C²] = E[S²](1 + νE[R])² + νE[S]E[R²]. The wait is that of an M/G/1
/// with service C, λE[C²] / (2(1 − λE[C])), plus what an arrival finding
/// the consumer down while idle waits, the residual repair weighted by the
/// share of idle time down: νE[R²] / (2(1 + νE[R])) (the decomposition of
/// Fuhrmann and Cooper, 1985). The consumer is up a share 1 / (1 + νE[R])
/// of the time: `consumer_seconds` over the window.
#[test]
fn a_crashing_consumer_is_an_mg1_with_breakdowns() {
    let text = r#"
[simulation]
duration = "20000s"
warmup = "200s"
replications = 10
seed = 3
[[producers]]
name = "app"
to = "q"
rate = "5/s"
[[queues]]
name = "q"
[queues.consumers]
service = { dist = "exponential", mean = "100ms" }
crash = { mtbf = "20s", restart = { dist = "constant", value = "2s" } }
"#;
    let (lambda, s, nu, r): (f64, f64, f64, f64) = (5.0, 0.1, 0.05, 2.0);
    let completion = s * (1.0 + nu * r);
    let completion2 = 2.0 * s * s * (1.0 + nu * r).powi(2) + nu * s * r * r;
    let wait_s = lambda * completion2 / (2.0 * (1.0 - lambda * completion))
        + nu * r * r / (2.0 * (1.0 + nu * r));
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let up = result.summary.consumer_seconds;
    let up_share = Estimate {
        mean: up.mean / 20000.0,
        ci95: up.ci95 / 20000.0,
    };
    let mut checks = Agreement::new(&m);
    checks.mean("latency", result.summary.mean_latency, wait_s + completion);
    checks.mean("availability", up_share, 1.0 / (1.0 + nu * r));
    checks.assert();
    assert!(
        result.summary.redelivered.mean > 100.0,
        "{:?}",
        result.summary.redelivered
    );
    let busy_only = lambda * completion2 / (2.0 * (1.0 - lambda * completion)) + completion;
    assert!(
        result.summary.mean_latency.mean > busy_only * 1.2,
        "idle crashes delay arrivals too"
    );
}

/// Four consumers, each up a share mtbf / (mtbf + mean restart) of the
/// time whatever the load; without crashes the fleet is up all the time.
#[test]
fn consumer_seconds_count_the_consumers_that_are_up() {
    let text = r#"
[simulation]
duration = "5000s"
warmup = "100s"
replications = 10
seed = 9
[[producers]]
name = "app"
to = "q"
rate = "30/s"
[[queues]]
name = "q"
[queues.consumers]
count = 4
service = { dist = "exponential", mean = "50ms" }
crash = { mtbf = "60s", restart = { dist = "lognormal", mean = "15s", cv = 1.0 } }
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let up = result.summary.consumer_seconds;
    let window = 4.0 * 5000.0;
    let mut checks = Agreement::new(&m);
    let share = Estimate {
        mean: up.mean / window,
        ci95: up.ci95 / window,
    };
    checks.mean("availability", share, 60.0 / (60.0 + 15.0));
    checks.assert();
    let steady = text.replace(
        "crash = { mtbf = \"60s\", restart = { dist = \"lognormal\", mean = \"15s\", cv = 1.0 } }\n",
        "",
    );
    let (_, steady) = simulate(&model(&steady, &[]));
    assert_eq!(steady.summary.consumer_seconds.mean, window);
    assert_eq!(steady.summary.redelivered.mean, 0.0);
}

#[test]
fn ill_formed_crashes_are_refused_naming_the_key() {
    let queue = "[[producers]]\nname = \"app\"\nto = \"q\"\nrate = 10\n[[queues]]\nname = \"q\"\n\
                 [queues.consumers]\nservice = { dist = \"exponential\", mean = 0.01 }\n";
    let cases = [
        (
            "crash = { mtbf = \"0s\", restart = { dist = \"constant\", value = 1 } }\n",
            "`queues.q.consumers.crash.mtbf`",
            "",
        ),
        (
            "crash = { mtbf = \"1h\" }\n",
            "`queues.q.consumers.crash`",
            "restart",
        ),
        (
            "crash = { mtbf = \"1h\", restart = { dist = \"constant\", value = 1 } }\nprefetch = 10\n",
            "`queues.q.consumers.crash`",
            "prefetch",
        ),
    ];
    for (extra, key, why) in cases {
        let text = format!("{queue}{extra}");
        let err = try_inline(&text).expect_err(&text);
        assert!(err.contains(key) && err.contains(why), "{text}\n-> {err}");
    }
    let topic = "[[producers]]\nname = \"app\"\nto = \"t\"\nrate = 10\n[[topics]]\nname = \"t\"\n\
                 [topics.consumers]\nservice = { dist = \"exponential\", mean = 0.01 }\n\
                 crash = { mtbf = \"1h\", restart = { dist = \"constant\", value = 1 } }\n";
    let err = try_inline(topic).expect_err("topic crashes need rebalances");
    assert!(
        err.contains("topics.t.consumers.crash") && err.contains("not supported"),
        "{err}"
    );
}

/// A scheduled event that lasts no time leaves the run as it was; one at
/// time 0 that never ends is the scenario with that count.
#[test]
fn scheduled_counts_change_nothing_else() {
    let text = r#"
[simulation]
duration = "200s"
warmup = "10s"
replications = 3
seed = 12
engine = "events"
[[producers]]
name = "app"
to = "q"
rate = "50/s"
[[queues]]
name = "q"
[queues.consumers]
count = 4
service = { dist = "exponential", mean = "30ms" }
"#;
    let same = |a: &queuesim::results::RunResult, b: &queuesim::results::RunResult| {
        assert_eq!(format!("{:?}", a.summary), format!("{:?}", b.summary));
        assert_eq!(format!("{:?}", a.nodes), format!("{:?}", b.nodes));
    };
    let (_, plain) = simulate(&model(text, &[]));
    let instant =
        format!("{text}[[events]]\nat = \"50s\"\nfor = \"0s\"\nconsumers = {{ q = 1 }}\n");
    let (_, instant) = simulate(&model(&instant, &[]));
    same(&plain, &instant);
    let two = text.replace("count = 4", "count = 2");
    let (_, two) = simulate(&model(&two, &[]));
    let from_start = format!("{text}[[events]]\nat = \"0s\"\nconsumers = {{ q = 2 }}\n");
    let (_, from_start) = simulate(&model(&from_start, &[]));
    assert_eq!(
        format!("{:?}", two.nodes[0].mean_sojourn),
        format!("{:?}", from_start.nodes[0].mean_sojourn)
    );
    assert_eq!(two.summary.mean_latency, from_start.summary.mean_latency);
    assert_eq!(
        two.summary.consumer_seconds,
        from_start.summary.consumer_seconds
    );
}

/// One message a second (at 1, 2, ... s), a constant 100 ms each, one
/// consumer taken away from 100.5 s to 110.5 s: the ten messages of
/// 101 ... 110 s wait, then go one after the other from 110.5 s, the
/// k-th (k = 1..10) ending at 110.5 + 0.1k after its publication at
/// 100 + k; the message of 111 s waits for the last of them until
/// 111.5 s (600 ms in all); every other message takes 100 ms.
#[test]
fn a_consumer_taken_away_leaves_a_backlog_that_drains() {
    let text = r#"
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
consumers = { q = 0 }
"#;
    let (_, result) = simulate(&model(text, &[]));
    let delayed: f64 = (1..=10)
        .map(|k| 110.5 + 0.1 * f64::from(k) - (100.0 + f64::from(k)))
        .sum();
    let delivered = result.summary.delivered.mean;
    let mean_s = (delayed + 0.6 + (delivered - 11.0) * 0.1) / delivered;
    crate::util::assert_close("latency", result.summary.mean_latency.mean, mean_s, 1e-9);
    crate::util::assert_close("cost", result.summary.consumer_seconds.mean, 190.0, 1e-12);
    assert_eq!(
        result.summary.peak_backlog.mean, 10.0,
        "101 ... 110 s wait at 110.4 s"
    );
    for row in &result.timeseries {
        let away = row.time > 100.5 && row.time < 110.5;
        let expected = if away { 0.0 } else { 1.0 };
        assert_eq!(row.consumers, expected, "consumers at {} s", row.time);
    }
    let bad = format!("{text}[[events]]\nat = \"1s\"\nconsumers = {{ nowhere = 1 }}\n");
    let err = try_inline(&bad).unwrap_err();
    assert!(err.contains("events[1].consumers.nowhere"), "{err}");
}
