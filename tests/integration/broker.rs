//! Broker semantics against independent results: retries as a Jackson
//! feedback queue, dead-lettering after the last attempt, TTL expiry,
//! deadlines, weighted and fanout exchanges.

use crate::util::{Agreement, QUANTILE_RESOLUTION, ROUNDING, assert_close, inline, simulate};
use queuesim::analytic;
use queuesim::stats::Estimate;

const SIMULATION: &str = r#"
[simulation]
duration = "100s"
warmup = "2s"
replications = 10
seed = 42
"#;

#[test]
fn unlimited_retries_without_backoff_are_a_jackson_feedback_queue() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "q"
        rate = "300/s"
        [[queues]]
        name = "q"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        failure = 0.5
        retry = {{ backoff = "constant", initial = 0 }}
        "#
        ),
        &[],
    );
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let theory = analytic::mm1_feedback(300.0, 1000.0, 0.5).unwrap();
    let expected_latency_s = (1.0 / 0.5) / (1000.0 - 300.0 / 0.5);
    assert_close(
        "M/M/1 feedback sojourn",
        theory.mean_sojourn_s,
        expected_latency_s,
        ROUNDING,
    );
    checks.mean(
        "feedback end-to-end latency",
        result.summary.mean_latency,
        expected_latency_s,
    );
    checks.mean("feedback utilization", result.nodes[0].utilization, 0.6);
    assert_eq!(
        result.summary.lost.mean, 0.0,
        "unlimited retries lose nothing"
    );
    assert!(result.nodes[0].retries.mean > 0.0);
    checks.assert();
}

#[test]
fn dead_lettered_fraction_is_failure_probability_to_the_max_attempts() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "work"
        rate = "200/s"
        [[queues]]
        name = "work"
        dead_letter = "dlq"
        [queues.consumers]
        count = 2
        service = {{ dist = "exponential", mean = "1ms" }}
        failure = 0.3
        retry = {{ max_attempts = 3, backoff = "exponential", initial = "1ms", factor = 2.0, max = "1s" }}
        [[queues]]
        name = "dlq"
        "#
        ),
        &[],
    );
    let (reps, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let fraction = Estimate::from_replications(
        reps.iter()
            .map(|r| r.lost as f64 / (r.delivered + r.lost) as f64),
    );
    checks.mean("dead-lettered fraction", fraction, 0.3f64.powi(3));
    let work = &result.nodes[0];
    let dlq = &result.nodes[1];
    assert_eq!(
        work.dead_lettered.mean, dlq.arrivals.mean,
        "every dead letter parks in the DLQ"
    );
    // Retries are the failures that were not final: each service fails
    // with probability 0.3, so retries + dead letters - 0.3 served has
    // mean 0. Taken per replication, it has its own interval.
    let not_final = Estimate::from_replications(reps.iter().map(|r| {
        let work = &r.nodes[0];
        work.retries as f64 + work.dead_lettered_rejected as f64 - 0.3 * work.served as f64
    }));
    checks.mean("retries + dead letters - 0.3 served", not_final, 0.0);
    assert!(
        dlq.utilization.mean.is_nan(),
        "a parking queue has no consumers"
    );
    checks.assert();
}

#[test]
fn ttl_expiry_matches_mm1_with_deterministic_patience() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "q"
        rate = "800/s"
        [[queues]]
        name = "q"
        ttl = "2ms"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        "#
        ),
        &[],
    );
    let (reps, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let theory = analytic::mm1_ttl_expired_fraction(800.0, 1000.0, 0.002).unwrap();
    let expired = Estimate::from_replications(
        reps.iter()
            .map(|r| r.nodes[0].expired as f64 / r.nodes[0].arrivals as f64),
    );
    checks.mean("M/M/1+D expired fraction", expired, theory);
    assert!(
        result.nodes[0].p99_wait.mean <= 0.002 * (1.0 + QUANTILE_RESOLUTION),
        "nobody waits past the TTL (a quantile is read to {QUANTILE_RESOLUTION} of itself)"
    );
    checks.assert();
}

#[test]
fn deadline_success_ratio_is_the_sojourn_distribution() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "q"
        rate = "800/s"
        deadline = "5ms"
        [[queues]]
        name = "q"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        "#
        ),
        &[],
    );
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let on_time = 1.0 - (-(1000.0f64 - 800.0) * 0.005).exp();
    checks.mean(
        "P(latency <= deadline)",
        result.summary.success_ratio,
        on_time,
    );
    checks.assert();
}

#[test]
fn weighted_exchange_splits_poisson_traffic_into_independent_mm1_queues() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "split"
        rate = "1000/s"
        [[exchanges]]
        name = "split"
        kind = "weighted"
        routes = [{{ to = "a", weight = 3 }}, {{ to = "b", weight = 7 }}]
        [[queues]]
        name = "a"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        [[queues]]
        name = "b"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        "#
        ),
        &[],
    );
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    for (node, lambda) in result.nodes.iter().zip([300.0, 700.0]) {
        let theory = analytic::mm1(lambda, 1000.0).unwrap();
        checks.node(node, &theory);
    }
    checks.assert();
}

#[test]
fn fanout_exchange_copies_to_every_queue_and_delivers_when_all_copies_are() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "events"
        rate = "500/s"
        [[exchanges]]
        name = "events"
        kind = "fanout"
        routes = [{{ to = "audit" }}, {{ to = "billing" }}]
        [[queues]]
        name = "audit"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        [[queues]]
        name = "billing"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1.25ms" }}
        "#
        ),
        &[],
    );
    let (reps, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let audit = analytic::mm1(500.0, 1000.0).unwrap();
    let billing = analytic::mm1(500.0, 800.0).unwrap();
    checks.mean(
        "audit sojourn",
        result.nodes[0].mean_sojourn,
        audit.mean_sojourn_s,
    );
    checks.mean(
        "billing sojourn",
        result.nodes[1].mean_sojourn,
        billing.mean_sojourn_s,
    );
    checks.assert();
    for r in &reps {
        for queue in &r.nodes {
            assert_eq!(queue.arrivals, r.produced, "each queue sees every message");
        }
    }
    let s = &result.summary;
    // The original is delivered with its last copy: its latency is the
    // larger of the two sojourns, so it exceeds each queue's own mean.
    assert!(s.mean_latency.mean > billing.mean_sojourn_s);
    assert!(s.mean_latency.mean < audit.mean_sojourn_s + billing.mean_sojourn_s);
}
