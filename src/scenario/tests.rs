//! Tests of the public entry points: one per kind of bad input, each
//! checking that the message names the line, the key and what is valid,
//! and good-path tests of defaults, units, overrides and loads.

use std::path::Path;

use super::{describe, from_str, load, traffic};
use crate::model::{Backoff, Discipline, Model, Overflow, Target};

/// A valid two-queue pipeline that tests break one key at a time.
const BASE: &str = r#"
[[producers]]
name = "web"
to = "orders"
rate = 100

[[queues]]
name = "orders"
[queues.consumers]
count = 2
service = { dist = "exponential", mean = 0.005 }
next = "billing"

[[queues]]
name = "billing"
[queues.consumers]
service = { dist = "exponential", mean = 0.002 }
"#;

fn ok(text: &str) -> Model {
    ok_with(text, &[])
}

fn ok_with(text: &str, sets: &[&str]) -> Model {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    from_str(text, Path::new("scenarios/s.toml"), &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    err_with(text, &[])
}

fn err_with(text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    match from_str(text, Path::new("scenarios/s.toml"), &sets) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `message` contains every one of `parts`.
fn has(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

#[test]
fn unknown_key_names_line_and_closest_key() {
    let text = BASE.replace("count = 2", "cout = 2");
    has(
        &err(&text),
        &[
            "scenarios/s.toml:10: `queues.orders.consumers.cout`: unknown key; did you mean `count`?",
            "valid: count, service,",
        ],
    );
    let text = BASE.replace("rate = 100", "rat = 100");
    has(
        &err(&text),
        &["s.toml:5: `producers.web.rat`", "did you mean `rate`?"],
    );
}

#[test]
fn unknown_choice_lists_valid_values() {
    let text = format!(
        "{BASE}\n[[exchanges]]\nname = \"e\"\nkind = \"fan\"\nroutes = [{{ to = \"billing\" }}]\n"
    );
    has(
        &err(&text),
        &[
            "`exchanges.e.kind`",
            "unknown value `fan`; did you mean `fanout`?",
            "valid: fanout, weighted, direct",
        ],
    );
}

#[test]
fn bad_unit_string_names_the_key() {
    let text = format!("[simulation]\nduration = \"10 parsecs\"\n{BASE}");
    has(&err(&text), &["s.toml:2: `simulation.duration`", "parsecs"]);
}

#[test]
fn wrong_type_names_the_key() {
    let text = BASE.replace("count = 2", "count = \"two\"");
    has(
        &err(&text),
        &["s.toml:10: `queues.orders.consumers.count`: wrong type"],
    );
}

#[test]
fn route_to_unknown_node_lists_known_nodes() {
    let text = BASE.replace("to = \"orders\"", "to = \"ordrs\"");
    has(
        &err(&text),
        &[
            "s.toml:4: `producers.web.to`: unknown queue, exchange or topic `ordrs`; did you mean `orders`?",
            "known: orders, billing",
        ],
    );
    let text = BASE.replace("next = \"billing\"", "next = [{ to = \"biling\" }]");
    has(
        &err(&text),
        &[
            "s.toml:12: `queues.orders.consumers.next.biling.to`",
            "did you mean `billing`?",
        ],
    );
    let text = format!("[simulation]\ninitial = {{ nope = 5 }}\n{BASE}");
    has(
        &err(&text),
        &["s.toml:2: `simulation.initial.nope`: unknown queue `nope`"],
    );
}

#[test]
fn duplicate_name_points_at_the_second() {
    let text = format!(
        "{BASE}\n[[exchanges]]\nname = \"orders\"\nkind = \"fanout\"\nroutes = [{{ to = \"billing\" }}]\n"
    );
    has(
        &err(&text),
        &[
            "s.toml:19: `exchanges.orders`: duplicate name `orders`: already used by `queues.orders`",
        ],
    );
}

#[test]
fn negative_rate_is_refused() {
    let text = BASE.replace("rate = 100", "rate = -100");
    has(
        &err(&text),
        &["s.toml:5: `producers.web.rate`: must be greater than 0"],
    );
    let text = format!("[simulation]\nwarmup = \"-5s\"\n{BASE}");
    has(
        &err(&text),
        &["s.toml:2: `simulation.warmup`: must not be negative"],
    );
}

#[test]
fn nan_and_infinity_are_refused() {
    let text = BASE.replace("rate = 100", "rate = nan");
    has(&err(&text), &["s.toml:5: `producers.web.rate`", "finite"]);
    let text = BASE.replace(
        "next = \"billing\"",
        "next = [{ to = \"billing\", weight = inf }]",
    );
    has(
        &err(&text),
        &[
            "s.toml:12: `queues.orders.consumers.next.billing.weight`",
            "finite",
        ],
    );
}

#[test]
fn probability_above_one_is_refused() {
    let text = BASE.replace("count = 2", "count = 2\nfailure = 1.5");
    has(
        &err(&text),
        &["s.toml:11: `queues.orders.consumers.failure`", "[0, 1]"],
    );
}

#[test]
fn empty_route_list_is_refused() {
    let text = BASE.replace("next = \"billing\"", "next = []");
    has(
        &err(&text),
        &["s.toml:12: `queues.orders.consumers.next`: the route list is empty"],
    );
}

#[test]
fn zero_weight_is_refused() {
    let text = BASE.replace(
        "next = \"billing\"",
        "next = [{ to = \"billing\", weight = 0 }]",
    );
    has(
        &err(&text),
        &["s.toml:12: `queues.orders.consumers.next.billing.weight`: must be greater than 0"],
    );
}

#[test]
fn cycle_with_no_exit_is_refused() {
    let text = BASE.replace(
        "service = { dist = \"exponential\", mean = 0.002 }",
        "service = { dist = \"exponential\", mean = 0.002 }\nnext = \"orders\"",
    );
    has(
        &err(&text),
        &["s.toml:7: `queues.orders`: routing cycle with no exit through `orders` and `billing`"],
    );
}

#[test]
fn loop_of_exchanges_is_refused() {
    let text = BASE.replace("next = \"billing\"", "next = \"a\"")
        + "[[exchanges]]\nname = \"a\"\nkind = \"weighted\"\nroutes = [{ to = \"b\" }, { to = \"billing\" }]\n\
           [[exchanges]]\nname = \"b\"\nkind = \"fanout\"\nroutes = [{ to = \"a\" }]\n";
    has(
        &err(&text),
        &["`exchanges.a`: routing loop through exchanges only (a -> b -> a)"],
    );
}

#[test]
fn unreachable_node_is_refused() {
    let text = format!("{BASE}\n[[queues]]\nname = \"orphan\"\n");
    has(&err(&text), &["s.toml:19: `queues.orphan`: unreachable"]);
}

#[test]
fn missing_source_is_refused() {
    let text = BASE.replace(
        "[[producers]]\nname = \"web\"\nto = \"orders\"\nrate = 100\n",
        "",
    );
    has(&err(&text), &["s.toml: no message source"]);
}

#[test]
fn missing_required_key_is_named() {
    let text = BASE.replace("service = { dist = \"exponential\", mean = 0.005 }", "");
    has(
        &err(&text),
        &["s.toml:9: `queues.orders.consumers`: missing required key `service`"],
    );
    let text = BASE.replace("name = \"web\"\n", "");
    has(
        &err(&text),
        &["s.toml:2: `producers[0]`: missing required key `name`"],
    );
    let text = BASE.replace("rate = 100", "");
    has(
        &err(&text),
        &[
            "s.toml:2: `producers.web`: missing required key `rate`",
            "interarrival",
        ],
    );
}

#[test]
fn unsupported_key_is_refused_not_ignored() {
    let text = format!(
        "{BASE}\n[[topics]]\nname = \"clicks\"\npartitions = 4\n[topics.consumers]\n\
         service = {{ dist = \"exponential\", mean = 0.001 }}\nbatch = {{ max = 10 }}\n"
    );
    has(
        &err(&text),
        &[
            "s.toml:24: `topics.clicks.consumers.batch`: not supported by this version of queuesim yet",
        ],
    );
}

#[test]
fn bad_set_key_is_refused() {
    has(
        &err_with(BASE, &["simulation.duration"]),
        &["bad --set `simulation.duration`: expected KEY=VALUE"],
    );
    has(
        &err_with(BASE, &["producers.web.rate.x=1"]),
        &["`producers.web.rate` is a value, not a table"],
    );
}

#[test]
fn bad_set_element_name_lists_valid_names() {
    has(
        &err_with(BASE, &["queues.ordrs.consumers.count=3"]),
        &[
            "s.toml: bad --set `queues.ordrs.consumers.count=3`",
            "did you mean `orders`?",
            "known: orders, billing",
        ],
    );
}

#[test]
fn set_value_that_fails_validation_names_the_argument() {
    has(
        &err_with(BASE, &["queues.orders.consumers.count=0"]),
        &[
            "s.toml:10 (with --set queues.orders.consumers.count=0): `queues.orders.consumers.count`: must be at least 1",
        ],
    );
    has(
        &err_with(BASE, &["queues.orders.consumers.cont=3"]),
        &[
            "(with --set queues.orders.consumers.cont=3): `queues.orders.consumers.cont`: unknown key; did you mean `count`?",
        ],
    );
}

#[test]
fn non_utf8_file_is_reported_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"name = \"caf\xe9\"\n").unwrap();
    let message = load(&path, &[]).unwrap_err().to_string();
    has(&message, &["latin1.toml:1: not valid UTF-8 text (byte 11)"]);
    let missing = load(&dir.path().join("missing.toml"), &[])
        .unwrap_err()
        .to_string();
    has(&missing, &["missing.toml: cannot read the file"]);
}

#[test]
fn invalid_toml_names_the_line() {
    has(
        &err(&format!("{BASE}\nthis is not toml\n")),
        &["s.toml:19: invalid TOML"],
    );
    has(
        &err_with("x = [", &["simulation.seed=2"]),
        &["s.toml:1: invalid TOML"],
    );
}

#[test]
fn defaults_are_applied() {
    let m = ok(BASE);
    assert_eq!(m.name, "s");
    let s = &m.simulation;
    assert_eq!(
        (s.duration_s, s.warmup_s, s.sample_every_s),
        (1000.0, 100.0, 1.0)
    );
    assert_eq!((s.replications, s.seed), (10, 1));
    let billing = &m.queues[1];
    assert_eq!(billing.capacity, None);
    assert_eq!(billing.overflow, Overflow::DropHead);
    assert_eq!(billing.discipline, Discipline::Fifo);
    let c = billing.consumers.as_ref().unwrap();
    assert_eq!((c.count, c.failure, c.retry.max_attempts), (1, 0.0, None));
    assert_eq!(c.retry.backoff, Backoff::Constant { delay_s: 0.0 });
    assert!(c.next.is_empty());
    assert_eq!(m.producers[0].priority, 0);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn unit_strings_are_converted() {
    let text = format!(
        "[simulation]\nduration = \"1.5m\"\nsample_every = \"250ms\"\n{}",
        BASE.replace("rate = 100", "rate = \"5400/min\"\ndeadline = \"500ms\"")
            .replace("name = \"billing\"", "name = \"billing\"\nttl = \"2s\"")
    );
    let m = ok(&text);
    assert_eq!(m.simulation.duration_s, 90.0);
    assert_eq!(m.simulation.sample_every_s, 0.25);
    assert!(((1.0 / m.producers[0].arrivals.mean_rate_per_s(1.0)) - 1.0 / 90.0).abs() < 1e-12);
    assert_eq!(m.producers[0].deadline_s, Some(0.5));
    assert_eq!(m.queues[1].ttl_s, Some(2.0));
}

#[test]
fn overrides_change_create_and_keep_lines() {
    let m = ok_with(
        BASE,
        &[
            "queues.orders.consumers.count=12",
            "simulation.duration=600",
            "queues.billing.ttl=30s",
            "queues.orders.consumers.service.mean=0.02",
            "producers.web.rate=\"50/s\"",
        ],
    );
    let orders = m.queues[0].consumers.as_ref().unwrap();
    assert_eq!(orders.count, 12);
    assert!((orders.service.mean() - 0.02).abs() < 1e-12);
    assert_eq!(m.simulation.duration_s, 600.0);
    assert_eq!(m.queues[1].ttl_s, Some(30.0));
    assert!(((1.0 / m.producers[0].arrivals.mean_rate_per_s(1.0)) - 0.02).abs() < 1e-12);
    // `simulation` was created at the top; errors further down keep their line.
    let text = BASE.replace("mean = 0.002", "mean = -1");
    has(
        &err_with(
            &text,
            &["simulation.duration=600", "queues.orders.capacity=5"],
        ),
        &["s.toml:17: `queues.billing.consumers.service`"],
    );
}

#[test]
fn weights_are_normalised() {
    let text = BASE.replace(
        "next = \"billing\"",
        "next = [{ to = \"billing\", weight = 3 }, { to = \"side\" }]",
    ) + "[[queues]]\nname = \"side\"\n";
    let m = ok(&text);
    let next = &m.queues[0].consumers.as_ref().unwrap().next;
    assert_eq!(next[0].to, Target::Queue(1));
    assert_eq!((next[0].weight, next[1].weight), (0.75, 0.25));
}

#[test]
fn unstable_queue_is_a_warning() {
    let m = ok(&BASE.replace("rate = 100", "rate = 500"));
    assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
    has(
        &m.warnings[0],
        &["queue `orders` is unstable: offered load ρ = 1.25"],
    );
    has(
        &m.warnings[1],
        &["queue `billing` is unstable: offered load ρ = 1 "],
    );
    let bounded = ok(&BASE
        .replace("rate = 100", "rate = 500")
        .replace("name = \"orders\"\n", "name = \"orders\"\ncapacity = 0\n"));
    assert_eq!(bounded.warnings.len(), 1, "{:?}", bounded.warnings);
}

#[test]
fn a_queue_ttl_bounds_an_overloaded_queue_which_is_saturated_not_unstable() {
    let m = ok(&BASE
        .replace("rate = 100", "rate = 500")
        .replace("name = \"orders\"\n", "name = \"orders\"\nttl = 2\n"));
    has(
        &m.warnings[0],
        &[
            "queue `orders` is saturated: offered load ρ = 1.25 >= 1",
            "its TTL of 2 s bounds the backlog, so at least 1 − 1/ρ = 20% of its messages expire",
        ],
    );
    assert!(!m.warnings[0].contains("unstable"), "{:?}", m.warnings);
}

#[test]
fn traffic_counts_fanout_copies_and_retries() {
    let text = BASE.replace("to = \"orders\"", "to = \"fan\"").replace(
        "next = \"billing\"",
        "failure = 0.5\nretry = { max_attempts = 2 }\ndead_letter = \"dlq\"",
    ) + "[[exchanges]]\nname = \"fan\"\nkind = \"fanout\"\nroutes = [{ to = \"orders\" }, { to = \"billing\" }]\n\
         [[queues]]\nname = \"dlq\"\n";
    let text = text
        .replace(
            "failure = 0.5\nretry = { max_attempts = 2 }\ndead_letter = \"dlq\"",
            "failure = 0.5\nretry = { max_attempts = 2 }",
        )
        .replace(
            "name = \"orders\"\n",
            "name = \"orders\"\ndead_letter = \"dlq\"\n",
        );
    let m = ok(&text);
    let t = traffic(&m).unwrap();
    assert_eq!(t.exchanges, [100.0]);
    assert_eq!(t.queues[0].arrival_rate, 100.0);
    assert!((t.queues[0].attempt_rate - 150.0).abs() < 1e-9);
    assert_eq!(t.queues[1].arrival_rate, 100.0);
    assert!(
        (t.queues[2].arrival_rate - 25.0).abs() < 1e-9,
        "p^k of orders is dead-lettered"
    );
    let text = describe(&m);
    has(
        &text,
        &[
            "fan (fanout): 100/s in",
            "-> orders (a copy of every message)",
            "arrivals 100/s (150/s with retries), offered load ρ = 0.375",
        ],
    );
}

#[test]
fn describe_lists_every_node_and_warning() {
    let m = ok(&BASE.replace("rate = 100", "rate = 500"));
    let text = describe(&m);
    has(
        &text,
        &[
            "scenario `s`",
            "web -> orders",
            "orders: unbounded, fifo",
            "2 consumers",
            "-> billing (weight 1)",
            "warnings:",
            "ρ = 1.25",
        ],
    );
}

#[test]
fn every_bad_fixture_is_refused_with_file_and_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        seen += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let message = match load(&path, &[]) {
            Ok(_) => panic!("{name} was accepted"),
            Err(e) => e.to_string(),
        };
        let after_name = message
            .split_once(&format!("{name}:"))
            .map(|(_, rest)| rest);
        let line = after_name.and_then(|rest| rest.split(':').next()?.parse::<usize>().ok());
        assert!(after_name.is_some(), "no file name: {message}");
        assert!(
            name == "no_source.toml" || line.is_some(),
            "no line: {message}"
        );
    }
    assert!(seen >= 16, "only {seen} fixtures");
}
