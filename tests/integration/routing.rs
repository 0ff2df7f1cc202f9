//! RabbitMQ key routing: topic and direct exchanges with binding keys,
//! alternates, unroutable messages; and the errors and warnings of their
//! keys.

use std::fs;

use crate::util::{
    Agreement, ROUNDING, assert_close, inline, queuesim, simulate, stderr_of, stdout_of,
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
    ];
    for (text, expected) in cases {
        let (code, _, stderr) = validate(&text);
        assert_eq!(code, 2, "{text}\n{stderr}");
        assert!(stderr.contains(expected), "`{expected}` missing:\n{stderr}");
    }
}

#[test]
fn validate_describes_bindings_alternates_and_keys() {
    let text = format!(
        r##"
        [[producers]]
        name = "p"
        to = "e"
        rate = 10
        routing_keys = [ {{ key = "a.b", weight = 3 }}, {{ key = "c", weight = 1 }} ]
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
        "engine: event calendar, because exchange `e` routes on binding keys",
        "    routing keys: \"a.b\" (0.75), \"c\" (0.25)",
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
fn the_unroutable_column_comes_after_every_older_summary_column() {
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
        &header[header.len() - 5..],
        [
            "throughput",
            "throughput_ci95",
            "replications",
            "unroutable",
            "unroutable_ci95"
        ]
    );
}
