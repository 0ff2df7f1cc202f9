//! RabbitMQ key routing and publisher confirms: topic and direct exchanges
//! with binding keys, alternates, unroutable messages, confirm windows;
//! and the errors and warnings of their keys.

use std::fs;

use crate::util::{
    Agreement, QUANTILE_RESOLUTION, ROUNDING, assert_close, inline, queuesim, simulate, stderr_of,
    stdout_of,
};
use queuesim::engine::{Engine, EventsReason, engine_for};
use queuesim::model::Model;
use queuesim::scenario;

const SIMULATION: &str = r#"
[simulation]
duration = "100s"
warmup = "2s"
replications = 10
seed = 11
"#;

/// A queue with one fast exponential consumer.
fn queue(name: &str) -> String {
    format!(
        "[[queues]]\nname = \"{name}\"\n[queues.consumers]\n\
         service = {{ dist = \"exponential\", mean = \"1ms\" }}\n"
    )
}

/// Messages a producer of `rate_per_s` publishes in the measured window of
/// `model`, times `share`: the exact mean arrivals of a queue receiving
/// that share of them.
fn expected_arrivals(model: &Model, rate_per_s: f64, share: f64) -> f64 {
    rate_per_s * share * model.simulation.duration_s
}

fn queue_index(model: &Model, name: &str) -> usize {
    (model.queues.iter())
        .position(|q| q.name == name)
        .unwrap_or_else(|| panic!("no queue {name}"))
}

#[test]
fn a_topic_exchange_gives_each_queue_the_share_of_the_keys_it_binds() {
    // `eu` binds `*.*.eu` and `order.created.#`: order.created.eu matches
    // both and must reach `eu` once.
    let text = format!(
        r##"{SIMULATION}
        [[producers]]
        name = "web"
        to = "events"
        rate = "200/s"
        routing_keys = [
            {{ key = "order.created.eu", weight = 5 }},
            {{ key = "order.cancelled.us", weight = 3 }},
            {{ key = "user.login.eu", weight = 2 }},
        ]
        [[exchanges]]
        name = "events"
        kind = "topic"
        routes = [
            {{ to = "eu", key = "*.*.eu" }},
            {{ to = "eu", key = "order.created.#" }},
            {{ to = "orders", key = "order.#" }},
            {{ to = "all", key = "#" }},
            {{ to = "none", key = "order.*" }},
        ]
        {}{}{}{}"##,
        queue("eu"),
        queue("orders"),
        queue("all"),
        queue("none")
    );
    let model = inline(&text, &[]);
    assert!(
        matches!(engine_for(&model), Engine::Events { reason: EventsReason::KeyedExchange { ref exchange } } if exchange == "events"),
        "{:?}",
        engine_for(&model)
    );
    let shares = [("eu", 0.7), ("orders", 0.8), ("all", 1.0), ("none", 0.0)];
    let traffic = scenario::traffic(&model).expect("the traffic equations solve");
    for (name, share) in shares {
        let q = queue_index(&model, name);
        assert_close(
            &format!("{name} arrival rate"),
            traffic.queues[q].arrival_rate,
            200.0 * share,
            ROUNDING,
        );
    }
    let (reps, result) = simulate(&model);
    let all = queue_index(&model, "all");
    for rep in &reps {
        assert_eq!(
            rep.nodes[all].arrivals, rep.produced,
            "`#` matches every key"
        );
        assert_eq!(rep.unroutable, 0);
    }
    let mut checks = Agreement::new(&model);
    for (name, share) in &shares[..2] {
        let q = queue_index(&model, name);
        let exact = expected_arrivals(&model, 200.0, *share);
        checks.mean(&format!("{name} arrivals"), result.nodes[q].arrivals, exact);
    }
    checks.assert();
    let none = queue_index(&model, "none");
    assert_eq!(result.nodes[none].arrivals.mean, 0.0);
    let analysis = queuesim::analytic::scenario::analyze(&model);
    assert_eq!(
        analysis.nodes[queue_index(&model, "eu")].applies,
        queuesim::analytic::scenario::Applies::Exact,
        "a split by independent keys keeps Poisson arrivals"
    );
}

#[test]
fn an_alternate_queue_receives_exactly_the_unmatched_share() {
    let text = format!(
        r#"{SIMULATION}
        [[producers]]
        name = "web"
        to = "orders"
        rate = "150/s"
        routing_keys = [ {{ key = "paid", weight = 0.6 }}, {{ key = "refund", weight = 0.4 }} ]
        [[exchanges]]
        name = "orders"
        kind = "direct"
        routes = [ {{ to = "billing", key = "paid" }}, {{ to = "billing", key = "paid.*" }} ]
        alternate = "unrouted"
        {}{}"#,
        queue("billing"),
        queue("unrouted")
    );
    let model = inline(&text, &[]);
    let (reps, result) = simulate(&model);
    let (billing, unrouted) = (
        queue_index(&model, "billing"),
        queue_index(&model, "unrouted"),
    );
    for rep in &reps {
        let arrivals = rep.nodes[billing].arrivals + rep.nodes[unrouted].arrivals;
        assert_eq!(arrivals, rep.produced, "one copy of each message");
        assert_eq!((rep.lost, rep.unroutable), (0, 0));
    }
    let mut checks = Agreement::new(&model);
    checks.mean(
        "alternate arrivals",
        result.nodes[unrouted].arrivals,
        expected_arrivals(&model, 150.0, 0.4),
    );
    checks.assert();
}

/// Keys travel through a queue's `next` to a direct exchange, whose
/// alternate is a topic exchange that matches them again; what that one
/// cannot route is lost as unroutable.
fn chained_alternates() -> Model {
    let text = format!(
        r#"{SIMULATION}
        [[producers]]
        name = "p"
        to = "in"
        rate = "100/s"
        routing_keys = [
            {{ key = "x", weight = 0.5 }},
            {{ key = "y.a", weight = 0.3 }},
            {{ key = "z.b", weight = 0.2 }},
        ]
        [[queues]]
        name = "in"
        [queues.consumers]
        service = {{ dist = "exponential", mean = "1ms" }}
        next = "main"
        [[exchanges]]
        name = "main"
        kind = "direct"
        routes = [ {{ to = "qx", key = "x" }} ]
        alternate = "ae"
        [[exchanges]]
        name = "ae"
        kind = "topic"
        routes = [ {{ to = "qz", key = "z.#" }} ]
        {}{}"#,
        queue("qx"),
        queue("qz")
    );
    inline(&text, &[])
}

#[test]
fn a_routing_key_travels_through_next_and_alternate_exchanges() {
    let model = chained_alternates();
    assert!(
        !model.warnings.iter().any(|w| w.contains("routing_keys")),
        "the keys matter downstream: {:?}",
        model.warnings
    );
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    for (name, share) in [("qx", 0.5), ("qz", 0.2)] {
        let q = queue_index(&model, name);
        let exact = expected_arrivals(&model, 100.0, share);
        checks.mean(&format!("{name} arrivals"), result.nodes[q].arrivals, exact);
    }
    checks.assert();
}

#[test]
fn unroutable_messages_are_the_lost_ones_without_an_alternate() {
    let model = chained_alternates();
    let (reps, result) = simulate(&model);
    for rep in &reps {
        assert!(rep.unroutable > 0);
        assert_eq!(rep.unroutable, rep.lost, "replication {}", rep.replication);
    }
    let mut checks = Agreement::new(&model);
    checks.mean(
        "unroutable",
        result.summary.unroutable,
        expected_arrivals(&model, 100.0, 0.3),
    );
    checks.assert();
    assert_eq!(result.summary.unroutable, result.summary.lost);
}

/// One producer due every second (at 1, 2, 3, ... s), waiting for each
/// confirm, which takes `latency`; a 0.1 s constant service.
fn blocked_producer(latency: &str, in_flight: u32) -> Model {
    let text = format!(
        r#"
        [simulation]
        duration = "9.5s"
        warmup = 0
        replications = 2
        [[producers]]
        name = "p"
        to = "q"
        interarrival = {{ dist = "constant", value = 1 }}
        confirm = {{ latency = {{ dist = "constant", value = "{latency}" }}, in_flight = {in_flight} }}
        [[queues]]
        name = "q"
        [queues.consumers]
        service = {{ dist = "constant", value = "100ms" }}
        "#
    );
    inline(&text, &[])
}

#[test]
fn a_full_confirm_window_delays_publications_and_their_latency_counts_it() {
    // Due at 1..9 s; with one place and 3 s confirms they go out at 1, 4
    // and 7 s, so the three delivered waited 0, 2 and 4 s before 0.1 s of
    // service: latencies 0.1, 2.1, 4.1. The six due at 4..9 s still wait.
    let model = blocked_producer("3s", 1);
    let (reps, result) = simulate(&model);
    for rep in &reps {
        assert_eq!(
            (rep.produced, rep.delivered, rep.lost, rep.in_flight),
            (9, 3, 0, 6)
        );
    }
    assert_close(
        "mean latency",
        result.summary.mean_latency.mean,
        2.1,
        ROUNDING,
    );
    let p99 = result.summary.p99_latency.mean;
    assert!((p99 - 4.1).abs() <= 4.1 * QUANTILE_RESOLUTION, "p99 {p99}");
    assert!(
        model.warnings.iter().any(|w| w.contains("confirm window")),
        "{:?}",
        model.warnings
    );
    // Two places: due at 1, 2 go out at once, then each confirm (3 s
    // later) lets the oldest waiting one out: out at 1, 2, 4, 5, 7, 8.
    let model = blocked_producer("3s", 2);
    let (reps, result) = simulate(&model);
    assert_eq!((reps[0].delivered, reps[0].in_flight), (6, 3));
    let latencies = [0.1, 0.1, 1.1, 1.1, 2.1, 2.1];
    assert_close(
        "mean latency, two places",
        result.summary.mean_latency.mean,
        latencies.iter().sum::<f64>() / 6.0,
        ROUNDING,
    );
}

#[test]
fn a_window_that_never_fills_changes_nothing() {
    // Both on the event engine: the confirms draw from a stream of their
    // own, so every other draw, and the sample path, stays the same.
    let text = |confirm: &str| {
        format!(
            r#"
            [simulation]
            duration = "100s"
            warmup = "2s"
            replications = 4
            seed = 11
            engine = "events"
            [[producers]]
            name = "p"
            to = "q"
            rate = "200/s"
            {confirm}
            {}"#,
            queue("q")
        )
    };
    let plain = inline(&text(""), &[]);
    let never_full = "confirm = { latency = { dist = \"exponential\", mean = \"1us\" }, \
                      in_flight = 100000 }";
    let confirmed = inline(&text(never_full), &[]);
    let (_, a) = simulate(&plain);
    let (_, b) = simulate(&confirmed);
    assert_eq!(a.summary.produced, b.summary.produced);
    assert_eq!(a.summary.mean_latency, b.summary.mean_latency);
    assert_eq!(a.summary.p99_latency, b.summary.p99_latency);
    assert_eq!(a.nodes[0].mean_wait, b.nodes[0].mean_wait);
}

#[test]
fn confirms_with_refusals_and_a_warm_up_conserve_messages() {
    let text = r#"
        [simulation]
        duration = "60s"
        warmup = "5s"
        replications = 6
        seed = 4
        [[producers]]
        name = "p"
        to = "q"
        rate = "100/s"
        confirm = { latency = { dist = "lognormal", mean = "8ms", cv = 1.0 }, in_flight = 1 }
        [[queues]]
        name = "q"
        capacity = 1
        overflow = "reject-publish"
        [queues.consumers]
        service = { dist = "exponential", mean = "9ms" }
    "#;
    let model = inline(text, &[]);
    // `simulate` asserts produced = delivered + lost + in flight in each.
    let (reps, result) = simulate(&model);
    assert!(reps.iter().all(|r| r.lost > 0), "some are refused");
    assert!(
        reps.iter().any(|r| r.in_flight > 0),
        "some still wait or travel at the end"
    );
    let unconfirmed = inline(&text.replace("confirm =", "# confirm ="), &[]);
    let (_, plain) = simulate(&unconfirmed);
    assert!(
        result.summary.mean_latency.mean > plain.summary.mean_latency.mean,
        "waiting for a place adds latency"
    );
}

/// `queuesim validate` on `text`: (exit code, stdout, stderr).
fn validate(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    fs::write(&path, text).unwrap();
    let output = queuesim().arg("validate").arg(&path).output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    (code, stdout_of(&output), stderr_of(&output))
}

const PRODUCER: &str = r#"
[[producers]]
name = "p"
to = "e"
rate = 10
"#;

fn exchange(kind: &str, routes: &str) -> String {
    format!("[[exchanges]]\nname = \"e\"\nkind = \"{kind}\"\nroutes = {routes}\n")
}

#[test]
fn bad_key_routing_input_names_the_key_and_exits_2() {
    let q = queue("q") + &queue("r");
    let cases = [
        (
            format!(
                "{PRODUCER}{}{q}",
                exchange("topic", r#"[{ to = "q", kee = "a" }]"#)
            ),
            "`exchanges.e.routes.q.kee`: unknown key; did you mean `key`?",
        ),
        (
            format!(
                "{PRODUCER}{}{q}",
                exchange("topic", r#"[{ to = "nope", key = "a" }]"#)
            ),
            "`exchanges.e.routes.nope.to`: unknown queue, exchange or topic `nope`",
        ),
        (
            format!(
                "{PRODUCER}{}{q}",
                exchange("fanout", r#"[{ to = "q", key = "a" }]"#)
            ),
            "`exchanges.e.routes.q.key`: a fanout exchange copies every message",
        ),
        (
            format!(
                "{PRODUCER}{}{q}",
                exchange("weighted", r#"[{ to = "q", key = "a" }]"#)
            ),
            "`exchanges.e.routes.q.key`: a weighted exchange",
        ),
        (
            format!(
                "{PRODUCER}{}{q}",
                exchange("direct", r#"[{ to = "q", key = "a" }, { to = "r" }]"#)
            ),
            "`exchanges.e.routes.r`: has no `key` while other routes",
        ),
        (
            format!("{PRODUCER}{}{q}", exchange("topic", r#"[{ to = "q" }]"#)),
            "`exchanges.e.routes`: a topic exchange routes on binding keys",
        ),
        (
            format!(
                "{PRODUCER}{}alternate = \"r\"\n{q}",
                exchange("weighted", r#"[{ to = "q" }]"#)
            ),
            "`exchanges.e.alternate`: applies only to an exchange whose routes have binding keys",
        ),
        (
            format!(
                "{PRODUCER}routing_keys = [{{ key = \"a\" }}, {{ key = \"b\", weight = 0 }}]\n{}{q}",
                exchange("direct", r#"[{ to = "q", key = "a" }]"#)
            ),
            "`producers.p.routing_keys[1].weight`: must be greater than 0 (got 0)",
        ),
        (
            format!(
                "{PRODUCER}routing_keys = [{{ key = \"a\", weight = -1 }}]\n{}{q}",
                exchange("direct", r#"[{ to = "q", key = "a" }]"#)
            ),
            "`producers.p.routing_keys[0].weight`: must be greater than 0 (got -1)",
        ),
        (
            format!(
                "{PRODUCER}routing_key = \"a\"\nrouting_keys = [{{ key = \"a\" }}]\n{}{q}",
                exchange("direct", r#"[{ to = "q", key = "a" }]"#)
            ),
            "`producers.p.routing_keys`: give either `routing_key`",
        ),
        (
            format!(
                "{PRODUCER}confirm = {{ latency = {{ dist = \"constant\", value = \"1ms\" }}, in_flight = 0 }}\n{}{q}",
                exchange("direct", r#"[{ to = "q", key = "a" }]"#)
            ),
            "`producers.p.confirm.in_flight`: must be at least 1",
        ),
    ];
    for (text, expected) in cases {
        let (code, _, stderr) = validate(&text);
        assert_eq!(code, 2, "{text}\n{stderr}");
        assert!(stderr.contains(expected), "`{expected}` missing:\n{stderr}");
    }
}

#[test]
fn validate_describes_bindings_alternates_keys_and_confirms() {
    let text = format!(
        r##"
        [[producers]]
        name = "p"
        to = "e"
        rate = 10
        routing_keys = [ {{ key = "a.b", weight = 3 }}, {{ key = "c", weight = 1 }} ]
        confirm = {{ latency = {{ dist = "constant", value = "2ms" }}, in_flight = 4 }}
        [[producers]]
        name = "direct"
        to = "q"
        rate = 1
        routing_key = "ignored"
        [[exchanges]]
        name = "e"
        kind = "topic"
        routes = [ {{ to = "q", key = "a.*", weight = 2 }}, {{ to = "r", key = "#" }} ]
        alternate = "q"
        {}{}"##,
        queue("q"),
        queue("r")
    );
    let (code, stdout, stderr) = validate(&text);
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "engine: event calendar, because producer `p` waits for publisher confirms",
        "    routing keys: \"a.b\" (0.75), \"c\" (0.25)",
        "    publisher confirms: at most 4 unconfirmed at once",
        "  e (topic): 10/s in",
        "    -> q (binding key \"a.*\")",
        "    -> r (binding key \"#\")",
        "    matching no binding -> q (alternate)",
        "      \"a.b\" -> q, r",
        "      \"c\" -> r",
        "`exchanges.e.routes.q.weight` is ignored",
        "`producers.direct.routing_key` has no effect: no exchange with binding keys can be reached from `q`",
    ] {
        assert!(stdout.contains(line), "`{line}` missing:\n{stdout}");
    }
}

#[test]
fn the_newer_summary_columns_come_after_every_older_one() {
    let dir = tempfile::tempdir().unwrap();
    queuesim()
        .args(["run", crate::util::example("mm1.toml").to_str().unwrap()])
        .args(["--quiet", "--set", "simulation.duration=20", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let text = fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(
        &header[header.len() - 13..],
        [
            "throughput",
            "throughput_ci95",
            "replications",
            "unroutable",
            "unroutable_ci95",
            "consumer_seconds",
            "consumer_seconds_ci95",
            "redelivered",
            "redelivered_ci95",
            "peak_backlog",
            "peak_backlog_ci95",
            "unavailable",
            "unavailable_ci95"
        ]
    );
}
