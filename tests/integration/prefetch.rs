//! RabbitMQ's consumer side against independent results: prefetch
//! windows (M/M/c at prefetch 1, separate E_c/M/1 queues when unlimited),
//! windows out of the queue's capacity and TTL, message TTL at the head,
//! dead-letter reasons, and the engine each takes.

use crate::util::{Agreement, inline, inline_at, queuesim, simulate, stderr_of};
use queuesim::analytic::scenario::{Applies, analyze};
use queuesim::analytic::{self, mmc};
use queuesim::engine::{Engine, engine_for, simulate_lindley, window_queue};

const SIMULATION: &str = r#"
[simulation]
duration = "400s"
warmup = "20s"
replications = 10
seed = 16
"#;

/// Four consumers, Exp(50 ms), Poisson 60/s, with `consumers` added.
fn four_consumers(consumers: &str) -> String {
    format!(
        r#"{SIMULATION}
        [[producers]]
        name = "web"
        to = "q"
        rate = "60/s"
        [[queues]]
        name = "q"
        [queues.consumers]
        count = 4
        service = {{ dist = "exponential", mean = "50ms" }}
        {consumers}
        "#
    )
}

#[test]
fn prefetch_one_is_the_plain_pool_and_runs_on_the_fast_path() {
    let plain = inline(&four_consumers(""), &[]);
    let windowed = inline(&four_consumers("prefetch = 1"), &[]);
    assert_eq!(engine_for(&windowed), Engine::Lindley);
    let (_, a) = simulate(&plain);
    let (_, b) = simulate(&windowed);
    assert_eq!(a.summary.mean_latency, b.summary.mean_latency);
    assert_eq!(a.nodes[0].mean_unacked, b.nodes[0].mean_unacked);
    let node = &b.nodes[0];
    assert_eq!(
        node.theory.as_ref().map(|t| t.model.as_str()),
        Some("M/M/c")
    );
}

#[test]
fn prefetch_one_through_the_window_engine_agrees_with_erlang_c() {
    // A dispatch time of a nanosecond sends every message through the
    // consumers' windows; with one place each they are M/M/4's servers.
    let model = inline(
        &four_consumers(
            r#"prefetch = 1
        dispatch = { dist = "constant", value = 1e-9 }"#,
        ),
        &[],
    );
    // Windows of one fill at once: every replication runs on the event engine.
    assert_eq!(engine_for(&model), Engine::Lindley);
    assert!(simulate_lindley(&model, 0).is_none());
    let (_, result) = simulate(&model);
    let theory = mmc(60.0, 20.0, 4).unwrap();
    let node = &result.nodes[0];
    let mut checks = Agreement::new(&model);
    checks.mean("M/M/4 wait", node.mean_wait, theory.mean_wait_s);
    checks.node(node, &theory);
    checks.mean(
        "latency",
        result.summary.mean_latency,
        theory.mean_sojourn_s,
    );
    checks.assert();
    assert!(node.max_unacked.mean <= 4.0, "one unacked per consumer");
}

#[test]
fn unlimited_prefetch_makes_separate_erlang_fed_queues_on_both_engines() {
    let model = inline(&four_consumers("prefetch = 0"), &[]);
    // An unlimited window never fills: the fast path runs every replication.
    assert_eq!(engine_for(&model), Engine::Lindley);
    assert_eq!(window_queue(&model), None);
    let analysis = analyze(&model);
    assert_eq!(analysis.nodes[0].applies, Applies::Exact);
    assert_eq!(analysis.nodes[0].model, "E4/M/1 x4");
    let theory = analytic::round_robin_em1(60.0, 20.0, 4).unwrap();
    let on_events = inline(
        &four_consumers("prefetch = 0"),
        &["simulation.engine=\"events\""],
    );
    for model in [model, on_events] {
        let (_, result) = simulate(&model);
        let node = &result.nodes[0];
        let mut checks = Agreement::new(&model);
        checks.mean("E4/M/1 wait", node.mean_wait, theory.mean_wait_s);
        checks.node(node, &theory);
        checks.mean(
            "latency",
            result.summary.mean_latency,
            theory.mean_sojourn_s,
        );
        checks.assert();
        assert_eq!(node.mean_in_queue.mean, 0.0, "nothing stays ready");
        // The windows make waits longer than M/M/4's by far more than the interval.
        let pooled = mmc(60.0, 20.0, 4).unwrap();
        assert!(node.mean_wait.mean > 3.0 * pooled.mean_wait_s);
    }
}

#[test]
fn a_window_holds_messages_out_of_the_queues_capacity_and_ttl() {
    // One consumer, 40/s against 20/s of 50 ms services: overloaded.
    let text = |consumers: &str| {
        format!(
            r#"{SIMULATION}
            [[producers]]
            name = "web"
            to = "q"
            rate = "40/s"
            [[queues]]
            name = "q"
            capacity = 10
            overflow = "reject-publish"
            ttl = "200ms"
            [queues.consumers]
            service = {{ dist = "constant", value = "50ms" }}
            {consumers}
            "#
        )
    };
    let (_, pulled) = simulate(&inline(&text(""), &[]));
    let (_, pushed) = simulate(&inline(&text("prefetch = 20"), &[]));
    // Without a window nothing waits past the TTL before its 50 ms service.
    assert!(pulled.summary.p999_latency.mean <= 0.25 * (1.0 + 1.0 / 256.0));
    // With one, 19 messages wait in the consumer's buffer, out of the TTL's
    // reach: about 20 × 50 ms.
    assert!(pushed.summary.mean_latency.mean > 0.9);
    let node = &pushed.nodes[0];
    assert_eq!(node.max_unacked.mean, 20.0);
    assert!(node.mean_unacked.mean > 19.0);
    assert_eq!(
        node.max_in_queue.mean, 10.0,
        "capacity counts ready messages"
    );
    assert!(node.expired.mean > 0.0 && node.dropped.mean > 0.0);
}

#[test]
fn an_early_ack_lets_a_consumer_hold_one_more_than_its_window() {
    // One overloaded consumer, 50 ms services, 10 ready places: a message
    // accepted into the queue waits behind the ready ones and the
    // consumer's window, which holds 4 buffered and 1 in service with an
    // early ack but only 4 in all with a late one: one service longer.
    let text = |ack: &str| {
        format!(
            r#"{SIMULATION}
            [[producers]]
            name = "web"
            to = "q"
            rate = "40/s"
            [[queues]]
            name = "q"
            capacity = 10
            overflow = "reject-publish"
            [queues.consumers]
            service = {{ dist = "constant", value = "50ms" }}
            prefetch = 4
            ack = "{ack}"
            "#
        )
    };
    let (_, early) = simulate(&inline(&text("on-start"), &[]));
    let (_, late) = simulate(&inline(&text("after-service"), &[]));
    assert_eq!(early.nodes[0].max_unacked.mean, 4.0);
    assert_eq!(late.nodes[0].max_unacked.mean, 4.0);
    let extra_s = early.summary.mean_latency.mean - late.summary.mean_latency.mean;
    assert!((extra_s - 0.05).abs() < 0.005, "early ack adds {extra_s} s");
}

#[test]
fn a_message_ttl_expires_only_at_the_head() {
    // "long" (TTL 2 s) enters at 1.0 s, "short" (TTL 0.1 s) at 1.5 s
    // behind it; nothing consumes the queue. RabbitMQ drops "short" when
    // it reaches the head, at 3.0 s, not at 1.6 s.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("long.csv"), "time\n1.0\n").unwrap();
    std::fs::write(dir.path().join("short.csv"), "time\n1.5\n").unwrap();
    let model = inline_at(
        r#"
        [simulation]
        duration = "5s"
        warmup = "0s"
        replications = 2
        sample_every = "0.1s"
        [[producers]]
        name = "long"
        to = "q"
        trace = "long.csv"
        ttl = "2s"
        [[producers]]
        name = "short"
        to = "q"
        trace = "short.csv"
        ttl = "100ms"
        [[queues]]
        name = "q"
        dead_letter = "dlq"
        [[queues]]
        name = "dlq"
        "#,
        &dir.path().join("s.toml"),
        &[],
    );
    let (reps, result) = simulate(&model);
    let level_at = |t: f64| {
        (reps[0].timeseries.iter())
            .find(|s| s.queue == 0 && (s.time_s - t).abs() < 1e-9)
            .map(|s| s.in_queue)
            .expect("a sample")
    };
    assert_eq!(level_at(1.4), 1);
    assert_eq!(level_at(2.0), 2, "the short TTL waits behind the long one");
    assert_eq!(level_at(2.9), 2);
    assert_eq!(level_at(3.1), 0, "both expire as the head does");
    let q = &result.nodes[0];
    assert_eq!(q.expired.mean, 2.0);
    assert_eq!(q.dead_lettered_expired.mean, 2.0);
    assert_eq!(q.dead_lettered.mean, 2.0);
    assert_eq!(result.nodes[1].arrivals.mean, 2.0);
}

#[test]
fn dead_letter_reasons_add_up_and_conservation_holds_with_windows_and_ttls() {
    let model = inline(
        &format!(
            r#"{SIMULATION}
            [[producers]]
            name = "web"
            to = "q"
            rate = "100/s"
            ttl = "150ms"
            [[producers]]
            name = "batch"
            to = "q"
            rate = "20/s"
            [[queues]]
            name = "q"
            capacity = 15
            ttl = "400ms"
            dead_letter = "dlq"
            [queues.consumers]
            count = 3
            concurrency = 2
            prefetch = 3
            dispatch = {{ dist = "lognormal", mean = "2ms", cv = 1.0 }}
            service = {{ dist = "exponential", mean = "60ms" }}
            failure = 0.1
            retry = {{ max_attempts = 2, initial = "10ms" }}
            [[queues]]
            name = "dlq"
            "#
        ),
        &[],
    );
    let (reps, result) = simulate(&model);
    for r in &reps {
        let n = &r.nodes[0];
        assert!(n.dead_lettered_maxlen > 0 && n.dead_lettered_expired > 0);
        assert!(n.dead_lettered_rejected > 0);
        assert!(n.dead_lettered_maxlen <= n.dropped && n.dead_lettered_expired <= n.expired);
    }
    let q = &result.nodes[0];
    let sum =
        q.dead_lettered_maxlen.mean + q.dead_lettered_expired.mean + q.dead_lettered_rejected.mean;
    assert!((q.dead_lettered.mean - sum).abs() <= 1e-9 * sum);
    assert!(q.max_unacked.mean <= 9.0, "3 consumers × prefetch 3");
}

#[test]
fn window_keys_that_cannot_apply_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("concurrency = 0", "queues.q.consumers.concurrency"),
        (
            "prefetch = 2\n        batch = { max = 4 }",
            "queues.q.consumers.prefetch",
        ),
        ("ack = \"early\"", "ack"),
    ];
    for (extra, named) in cases {
        let path = dir.path().join("s.toml");
        std::fs::write(&path, four_consumers(extra)).unwrap();
        let output = queuesim().arg("validate").arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{extra}");
        assert!(
            stderr_of(&output).contains(named),
            "{extra}: {}",
            stderr_of(&output)
        );
    }
    std::fs::write(
        dir.path().join("t.toml"),
        r#"
        [[producers]]
        name = "p"
        to = "t"
        rate = 10
        [[topics]]
        name = "t"
        [topics.consumers]
        prefetch = 10
        service = { dist = "exponential", mean = "1ms" }
        "#,
    )
    .unwrap();
    let output = queuesim()
        .arg("validate")
        .arg(dir.path().join("t.toml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("topics.t.consumers.prefetch"));
}
