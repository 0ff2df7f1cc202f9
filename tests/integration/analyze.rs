//! `queuesim analyze` and `queuesim markov`: queueing theory for whole
//! scenarios against closed forms and simulation, the exact CTMC of finite
//! queues, the commands' table and JSON output, and theory beside the
//! simulated values in `nodes.csv`.

use std::path::{Path, PathBuf};

use crate::util::{
    Agreement, LINEAR_SOLVE, ROUNDING, assert_close, example, fixture, inline, load, queuesim,
    simulate,
};
use queuesim::analytic::scenario::{Applies, analyze};
use queuesim::analytic::{self, mm1, mm1k, system_capacity};
use queuesim::stats::Estimate;

#[test]
fn tandem_reproduces_the_jackson_network() {
    let analysis = analyze(&load(&example("tandem.toml"), &[]));
    assert!(analysis.stable);
    for (node, mu) in analysis.nodes.iter().zip([1000.0, 800.0, 700.0]) {
        assert_eq!(
            (node.applies, node.model.as_str()),
            (Applies::Exact, "M/M/1")
        );
        let metrics = node.metrics.as_ref().expect("an exact result");
        assert_close("", metrics.mean_sojourn_s, 1.0 / (mu - 500.0), ROUNDING);
    }
    let routing =
        nalgebra::DMatrix::from_row_slice(3, 3, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    let jackson = analytic::jackson(
        &[500.0, 0.0, 0.0],
        &routing,
        &[1000.0, 800.0, 700.0],
        &[1, 1, 1],
    )
    .unwrap();
    let e2e = &analysis.end_to_end;
    assert_eq!(e2e.applies, Applies::Exact);
    assert_close("", e2e.mean_latency_s, jackson.mean_sojourn_s, ROUNDING);
    assert_close(
        "",
        e2e.mean_latency_s,
        0.002 + 1.0 / 300.0 + 0.005,
        ROUNDING,
    );
    assert_eq!(e2e.bottleneck.as_deref(), Some("store"));
}

#[test]
fn an_unstable_scenario_names_the_saturated_node() {
    let analysis = analyze(&load(&fixture("unstable.toml"), &[]));
    assert!(!analysis.stable);
    let [saturated] = analysis.saturated.as_slice() else {
        panic!("{:?}", analysis.saturated)
    };
    assert_eq!(saturated.node, "db");
    assert_close("", saturated.utilization, 1.125, ROUNDING);
    assert_close("", saturated.excess_rate_per_s, 100.0, LINEAR_SOLVE);
    assert_eq!(analysis.nodes[0].applies, Applies::Exact);
    assert_eq!(analysis.nodes[1].applies, Applies::None);
    let out = queuesim()
        .arg("analyze")
        .arg(fixture("unstable.toml"))
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("unstable: UNSTABLE"), "{text}");
    assert!(
        text.contains("saturated: `db` has offered load ρ = 1.125 >= 1, 100.0/s more"),
        "{text}"
    );
}

#[test]
fn ctmc_of_mm1k_gives_the_closed_form_blocking() {
    let analysis = analyze(&load(&example("mm1k.toml"), &[]));
    let chain = analysis.ctmc.expect("a single finite queue gets its chain");
    let exact = mm1k(900.0, 1000.0, system_capacity(1, 9)).unwrap();
    assert_eq!(chain.states, 11);
    assert_close(
        "",
        chain.loss_probability,
        exact.loss_probability,
        LINEAR_SOLVE,
    );
    assert_close("", chain.mean_in_queue, exact.mean_in_queue, LINEAR_SOLVE);
    assert_close("", chain.queue_length.iter().sum(), 1.0, ROUNDING);
    assert_eq!(analysis.nodes[0].model, "M/M/1/K");
}

/// M/M/2/K with two non-preemptive priority classes, K = 6 + 2.
const MM2K_PRIORITY: &str = r#"
name = "mm2k_priority"
[simulation]
duration = 60.0
warmup = 1.0
replications = 10
seed = 11

[[producers]]
name = "urgent"
to = "q"
rate = 800.0
priority = 2

[[producers]]
name = "bulk"
to = "q"
rate = 900.0
priority = 1

[[queues]]
name = "q"
capacity = 6
overflow = "reject-publish"
discipline = "priority"
[queues.consumers]
count = 2
service = { dist = "exponential", mean = 0.001 }
"#;

#[test]
fn ctmc_of_mm2k_with_priority_classes_agrees_with_simulation() {
    let model = inline(MM2K_PRIORITY, &[]);
    let analysis = analyze(&model);
    let chain = analysis.ctmc.as_ref().expect("chain built");
    assert_eq!(chain.classes.len(), 2);
    let (reps, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let node = &result.nodes[0];
    checks.mean("M/M/2/K loss", node.loss_ratio, chain.loss_probability);
    checks.mean("M/M/2/K mean wait", node.mean_wait, chain.mean_wait_s);
    checks.mean("M/M/2/K utilization", node.utilization, chain.utilization);
    for (c, class) in chain.classes.iter().enumerate() {
        let row = &result.classes[c];
        assert_eq!(Some(row.priority), class.priority);
        checks.mean(
            &format!("class {} mean wait", row.priority),
            row.mean_wait,
            class.mean_wait_s,
        );
        let loss = Estimate::from_replications(reps.iter().map(|r| {
            let k = &r.nodes[0].classes[c];
            1.0 - k.served as f64 / k.arrivals as f64
        }));
        checks.mean(
            &format!("class {} loss", row.priority),
            loss,
            class.loss_probability,
        );
    }
    checks.assert();
    assert!(chain.classes[0].mean_wait_s < chain.classes[1].mean_wait_s);
}

fn chain_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const THREE_STATES: &str = "0.5,0.3,0.2\n0.4,0.5,0.1\n0.3,0.4,0.3\n";

#[test]
fn markov_prints_the_stationary_distribution_as_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = chain_file(dir.path(), "p.csv", THREE_STATES);
    let out = queuesim().arg("markov").arg(&path).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let probabilities: Vec<f64> = text
        .lines()
        .filter_map(|l| {
            let mut cells = l.split_whitespace();
            let state = cells.next()?;
            state.parse::<u32>().ok()?;
            cells.next()?.parse().ok()
        })
        .collect();
    assert_eq!(probabilities.len(), 3, "{text}");
    for (got, want) in probabilities.iter().zip([31.0, 29.0, 13.0]) {
        assert_close("", *got, want / 73.0, ROUNDING);
    }
    assert!(
        text.contains("aperiodic") && text.contains("dense LU"),
        "{text}"
    );
}

/// Periodicity is a property of discrete-time chains only.
#[test]
fn markov_does_not_call_a_ctmc_aperiodic() {
    let dir = tempfile::tempdir().unwrap();
    let path = chain_file(dir.path(), "q.csv", "-2,2\n3,-3\n");
    let out = queuesim().arg("markov").arg(&path).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("CTMC"), "{text}");
    assert!(!text.contains("periodic"), "{text}");
}

#[test]
fn markov_json_names_states_and_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let text = "states = [\"idle\", \"busy\", \"down\"]\n\
                P = [[0.5, 0.3, 0.2], [0.4, 0.5, 0.1], [0.3, 0.4, 0.3]]\n";
    let path = chain_file(dir.path(), "p.toml", text);
    let out = queuesim()
        .arg("markov")
        .arg(&path)
        .arg("--json")
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["kind"], "dtmc");
    assert_eq!(json["period"], serde_json::Value::Null);
    let states = json["states"].as_array().unwrap();
    for (entry, (name, want)) in states
        .iter()
        .zip([("idle", 31.0), ("busy", 29.0), ("down", 13.0)])
    {
        assert_eq!(entry["state"], name);
        assert_close(
            "",
            entry["probability"].as_f64().unwrap(),
            want / 73.0,
            ROUNDING,
        );
    }
}

#[test]
fn a_bad_chain_file_is_bad_input_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = chain_file(dir.path(), "bad.csv", "0.5,0.5\n0.3,0.6\n");
    let out = queuesim().arg("markov").arg(&path).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("bad.csv, line 2: row 1 sums to 0.8999"),
        "{stderr}"
    );
}

#[test]
fn analyze_json_reports_every_node() {
    let out = queuesim()
        .args(["analyze", "--json", "--set", "producers.source.rate=900/s"])
        .arg(example("mm1.toml"))
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["stable"], true);
    let node = &json["nodes"][0];
    assert_eq!(
        (node["node"].as_str(), node["applies"].as_str()),
        (Some("q"), Some("exact"))
    );
    let exact = mm1(900.0, 1000.0).unwrap();
    assert_close(
        "",
        node["metrics"]["mean_wait_s"].as_f64().unwrap(),
        exact.mean_wait_s,
        ROUNDING,
    );
    assert_close(
        "",
        json["end_to_end"]["mean_latency_s"].as_f64().unwrap(),
        exact.mean_sojourn_s,
        ROUNDING,
    );
}

#[test]
fn run_writes_theory_beside_the_simulation_in_nodes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = queuesim()
        .args([
            "run",
            "--replications",
            "5",
            "--set",
            "simulation.duration=50",
        ])
        .arg(example("mm1.toml"))
        .arg("--out")
        .arg(dir.path())
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("theory: exact results for 1 queue(s) lie within"),
        "{stdout}"
    );
    let mut reader = csv::Reader::from_path(dir.path().join("nodes.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| {
        let i = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"));
        row[i].to_owned()
    };
    let exact = mm1(800.0, 1000.0).unwrap();
    assert_eq!(cell("theory_model"), "M/M/1");
    let number = |name: &str| cell(name).parse::<f64>().unwrap();
    assert_close("", number("theory_mean_wait"), exact.mean_wait_s, ROUNDING);
    assert_close(
        "",
        number("theory_mean_sojourn"),
        exact.mean_sojourn_s,
        ROUNDING,
    );
    assert_close(
        "",
        number("theory_utilization"),
        exact.utilization,
        ROUNDING,
    );
    assert_eq!(number("theory_loss"), 0.0);
}

/// Retries limited by `max_attempts`, with exponential backoff, feeding an
/// M/M/3 queue: product form keeps both queues' means exact.
const RETRIES: &str = r#"
name = "retries"
[simulation]
duration = 60.0
warmup = 2.0
replications = 10
seed = 5

[[producers]]
name = "p"
to = "a"
rate = 400.0

[[queues]]
name = "a"
dead_letter = "dlq"
[queues.consumers]
service = { dist = "exponential", mean = 0.001 }
failure = 0.3
retry = { max_attempts = 3, backoff = "exponential", initial = "5ms", factor = 2.0, max = "1s" }
next = "b"

[[queues]]
name = "b"
[queues.consumers]
count = 3
service = { dist = "exponential", mean = 0.005 }

[[queues]]
name = "dlq"
"#;

#[test]
fn limited_retries_with_backoff_keep_queue_means_exact() {
    let model = inline(RETRIES, &[]);
    let analysis = analyze(&model);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    for (q, name) in [(0, "a"), (1, "b")] {
        let node = &analysis.nodes[q];
        assert_eq!(node.applies, Applies::Exact, "{}", node.reason);
        let theory = node.metrics.as_ref().unwrap();
        let row = &result.nodes[q];
        checks.mean(
            &format!("{name} mean wait"),
            row.mean_wait,
            theory.mean_wait_s,
        );
        checks.mean(
            &format!("{name} mean sojourn"),
            row.mean_sojourn,
            theory.mean_sojourn_s,
        );
        checks.mean(
            &format!("{name} utilization"),
            row.utilization,
            theory.utilization,
        );
    }
    checks.mean(
        "a dead-lettered share of attempts",
        result.nodes[0].loss_ratio,
        analysis.nodes[0].dead_letter_share,
    );
    assert_eq!(analysis.end_to_end.applies, Applies::None);
    checks.assert();
}
