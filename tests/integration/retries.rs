//! Retries on topics and ladders: a Kafka consumer retries a failed
//! record in place, blocking its partitions during the backoff; RocketMQ
//! re-queues it on its ladder of delay levels and dead-letters it after
//! 16 reconsumes; `backoff = "levels"` is any ladder, on queues too.

use crate::util::{Agreement, assert_close, inline as model, simulate, try_inline};
use queuesim::model::ROCKETMQ_LEVELS_S;

/// The time one record holds its consumer when failed attempts are
/// retried in place: T = S₁ + … + S_N + (N − 1)·b, with N the attempts
/// (geometric, truncated at `m`: P(N = n) = pⁿ⁻¹(1 − p) for n < m,
/// P(N = m) = pᵐ⁻¹), S exponential of mean `s` and a constant backoff b.
/// Given N = n, ΣS is Gamma(n, s): E = n·s, E[·²] = n(n + 1)·s². Returns
/// E[T], E[T²] and E[T | the record succeeds] (attempt n succeeds with
/// probability pⁿ⁻¹(1 − p), n ≤ m).
fn in_place_moments(s: f64, p: f64, m: u32, b: f64) -> (f64, f64, f64) {
    let (mut mean, mut second, mut success, mut succeeded) = (0.0, 0.0, 0.0, 0.0);
    for n in 1..=m {
        let nf = f64::from(n);
        let reach = p.powi(n as i32 - 1);
        let weight = if n < m { reach * (1.0 - p) } else { reach };
        let backoff = (nf - 1.0) * b;
        let t = nf * s + backoff;
        mean += weight * t;
        second += weight * (nf * (nf + 1.0) * s * s + 2.0 * nf * s * backoff + backoff * backoff);
        let ok = reach * (1.0 - p);
        success += ok * t;
        succeeded += ok;
    }
    (mean, second, success / succeeded)
}

/// One partition, one consumer, Poisson records: retrying in place makes
/// the partition an M/G/1 queue whose service time is T above, so a
/// delivered record's mean latency is the Pollaczek–Khinchine wait
/// λE[T²] / (2(1 − λE[T])) plus E[T | success] (Kleinrock, Queueing
/// Systems vol. 1, eq. 5.105), and a fraction pᵐ is dead-lettered. The
/// partition's sojourn (until the consumer lets the record go) is that
/// wait plus E[T], which `analyze` gives too.
#[test]
fn in_place_retries_make_the_partition_an_mg1_with_the_retries_in_its_service() {
    let text = r#"
[simulation]
duration = "2000s"
warmup = "20s"
replications = 10
seed = 12
[[producers]]
name = "app"
to = "t"
rate = "50/s"
[[queues]]
name = "t.dlt"
[[topics]]
name = "t"
[[topics.groups]]
name = "g"
service = { dist = "exponential", mean = "5ms" }
failure = 0.3
retry = { max_attempts = 3, backoff = "constant", initial = "20ms" }
dead_letter = "t.dlt"
"#;
    let (lambda, s, p, m, b) = (50.0, 0.005, 0.3, 3, 0.020);
    let (mean_t, second_t, success_t) = in_place_moments(s, p, m, b);
    let wait_s = lambda * second_t / (2.0 * (1.0 - lambda * mean_t));
    let m_model = model(text, &[]);
    let (_, result) = simulate(&m_model);
    let mut checks = Agreement::new(&m_model);
    checks.mean("latency", result.summary.mean_latency, wait_s + success_t);
    let partition = result.nodes.iter().find(|n| n.node == "t/p0@g").unwrap();
    checks.mean(
        "delivered share",
        result.summary.success_ratio,
        1.0 - p.powi(m as i32),
    );
    checks.mean("utilization", partition.utilization, lambda * mean_t);
    checks.mean("sojourn", partition.mean_sojourn, wait_s + mean_t);
    let theory = partition.theory.as_ref().expect("an exact result");
    assert_eq!(theory.model, "M/G/1");
    assert_close("theory", theory.mean_sojourn_s, wait_s + mean_t, 1e-9);
    let dlt = result.nodes.iter().find(|n| n.node == "t.dlt").unwrap();
    assert!(
        dlt.arrivals.mean > 0.0,
        "the dead-letter queue receives the failed records"
    );
    checks.assert();
    let requeued = text.replace(
        "backoff = \"constant\", initial = \"20ms\"",
        "backoff = \"levels\", delays = [\"20ms\"]",
    );
    let (_, requeued) = simulate(&model(&requeued, &[]));
    assert!(
        requeued.summary.mean_latency.mean < result.summary.mean_latency.mean,
        "a re-queued record lets the partition go on: {} vs {}",
        requeued.summary.mean_latency.mean,
        result.summary.mean_latency.mean
    );
}

/// RocketMQ's ladder: a record that fails every attempt with probability
/// p is reconsumed after 10 s, 30 s, 1 min, ..., 2 h (16 reconsumes) and
/// then dead-lettered: a fraction p¹⁷. A delivered record that failed k
/// times waited the first k rungs (service 1 ms per attempt), so its
/// latency is the ladder's cumulative delays weighted by pᵏ(1 − p). The
/// producer stops after 20,000 s, so every record is decided within the
/// 40,000 s run (the ladder sums to 17,140 s).
#[test]
fn the_rocketmq_ladder_dead_letters_p_to_the_17th_after_its_delays() {
    let text = r#"
[simulation]
duration = "40000s"
warmup = "0s"
replications = 8
seed = 3
[[producers]]
name = "app"
to = "orders"
pattern = { kind = "piecewise", times = ["0s", "20000s"], rates = ["1/s", "0/s"] }
[[queues]]
name = "dlq"
[[topics]]
name = "orders"
partitions = 2
[[topics.groups]]
name = "shipping"
count = 2
service = { dist = "constant", value = "1ms" }
failure = 0.8
retry = { backoff = "rocketmq" }
dead_letter = "dlq"
"#;
    let p: f64 = 0.8;
    let (mut latency, mut delivered, mut waited) = (0.0, 0.0, 0.0);
    for k in 0..=16 {
        let weight = p.powi(k) * (1.0 - p);
        latency += weight * (waited + f64::from(k as u32 + 1) * 0.001);
        delivered += weight;
        if let Some(rung) = ROCKETMQ_LEVELS_S.get(k as usize) {
            waited += rung;
        }
    }
    let m = model(text, &[]);
    assert_eq!(
        m.queues[1].consumers.as_ref().unwrap().retry.max_attempts,
        Some(17)
    );
    let (reps, result) = simulate(&m);
    for rep in &reps {
        assert_eq!(rep.in_flight, 0, "every record is decided");
    }
    let mut checks = Agreement::new(&m);
    checks.mean("latency", result.summary.mean_latency, latency / delivered);
    checks.mean("delivered", result.summary.success_ratio, 1.0 - p.powi(17));
    checks.assert();
    // The latency's distribution is the ladder's: a delivered record
    // failed k times with probability pᵏ(1 − p) / (1 − p¹⁷), so its
    // q-quantile is the cumulative delay of the first k rungs with k the
    // smallest such that 1 − pᵏ⁺¹ >= q (1 − p¹⁷).
    for (q, quantile) in [
        (0.5, result.summary.p50_latency.mean),
        (0.95, result.summary.p95_latency.mean),
    ] {
        let k = (0..17)
            .find(|&k| 1.0 - p.powi(k + 1) >= q * (1.0 - p.powi(17)))
            .unwrap();
        let waited: f64 = ROCKETMQ_LEVELS_S[..k as usize].iter().sum();
        assert_close(&format!("p{q}"), quantile, waited, 1.0 / 256.0);
    }
}

/// A `levels` ladder on a queue: with failure p and the default attempts
/// (the ladder's length + 1), a fraction p³ of the records is
/// dead-lettered, and a delivered record waited the rungs it climbed.
#[test]
fn a_levels_ladder_on_a_queue_retries_after_its_rungs() {
    let text = r#"
[simulation]
duration = "3000s"
warmup = "0s"
replications = 8
seed = 6
[[producers]]
name = "app"
to = "jobs"
pattern = { kind = "piecewise", times = ["0s", "2900s"], rates = ["10/s", "0/s"] }
[[queues]]
name = "dlq"
[[queues]]
name = "jobs"
dead_letter = "dlq"
[queues.consumers]
count = 50
service = { dist = "constant", value = "1ms" }
failure = 0.5
retry = { backoff = "levels", delays = ["2s", "5s"] }
"#;
    let p: f64 = 0.5;
    let delivered = 1.0 - p.powi(3);
    let latency =
        ((1.0 - p) * 0.001 + p * (1.0 - p) * 2.002 + p * p * (1.0 - p) * 7.003) / delivered;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let mut checks = Agreement::new(&m);
    checks.mean("latency", result.summary.mean_latency, latency);
    checks.mean("delivered", result.summary.success_ratio, 1.0 - p.powi(3));
    checks.assert();
}

#[test]
fn ill_formed_ladders_are_refused_naming_the_key() {
    let queue = "[[producers]]\nname = \"app\"\nto = \"q\"\nrate = 10\n[[queues]]\nname = \"q\"\n\
                 [queues.consumers]\nservice = { dist = \"exponential\", mean = 0.01 }\nfailure = 0.1\n";
    let cases = [
        (
            "retry = { backoff = \"levels\" }\n",
            "`queues.q.consumers.retry.delays`",
            "ladder",
        ),
        (
            "retry = { backoff = \"levels\", delays = [\"1s\", \"-2s\"] }\n",
            "`queues.q.consumers.retry.delays[1]`",
            "",
        ),
        (
            "retry = { backoff = \"rocketmq\", initial = \"1s\" }\n",
            "`queues.q.consumers.retry.initial`",
            "ladder",
        ),
        (
            "retry = { backoff = \"constant\", delays = [\"1s\"] }\n",
            "`queues.q.consumers.retry.delays`",
            "levels",
        ),
        (
            "retry = { backoff = \"fibonacci\" }\n",
            "backoff",
            "rocketmq",
        ),
    ];
    for (extra, key, why) in cases {
        let text = format!("{queue}{extra}");
        let err = try_inline(&text).expect_err(&text);
        assert!(err.contains(key) && err.contains(why), "{text}\n-> {err}");
    }
}
