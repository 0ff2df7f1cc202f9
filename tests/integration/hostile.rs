//! No input breaks the scenario parser: arbitrary text and bytes, mutated
//! valid scenarios and values chosen to hurt give a clear error or a
//! correct model, never a panic, a hang or unbounded memory.
//!
//! The proptests run few cases in CI; for a long fuzzing session set
//! `PROPTEST_CASES` (e.g. `PROPTEST_CASES=2000000 cargo test --release
//! --test hostile fuzz`).

use std::path::Path;

use proptest::prelude::*;
use queuesim::engine;
use queuesim::results;
use queuesim::scenario;

use crate::util::{Agreement, mm1_text, try_inline as load};

fn parse(text: &str) {
    if let Ok(model) = scenario::from_str(text, Path::new("fuzz.toml"), &[]) {
        let _ = scenario::describe(&model);
    }
}

/// Bundled scenarios, the seeds of mutation.
fn seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    texts.sort();
    texts
}

/// Tokens that often break parsers and validators.
const NASTY: &[&str] = &[
    "1e300",
    "-1",
    "0",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "\"\"",
    "18446744073709551615",
    "9223372036854775808",
    "[[queues]]",
    "[[producers]]",
    "{",
    "}",
    "=",
    "\"0s\"",
    "\"1/0s\"",
    "\"-5ms\"",
    "\"1e308/s\"",
    "[]",
    "\n",
    "\"q\"",
    "{ dist = \"lognormal\", mean = 0, cv = 1e300 }",
];

fn mutate(text: &str, at: usize, cut: usize, token: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + cut).min(chars.len());
    let mut out: String = chars[..at].iter().collect();
    out.push_str(NASTY[token % NASTY.len()]);
    out.extend(&chars[end..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_arbitrary_text_never_panics(text in "\\PC{0,400}") {
        parse(&text);
    }

    #[test]
    fn fuzz_toml_shaped_text_never_panics(
        text in "(\\[\\[?(simulation|producers|queues|exchanges|topics)(\\.consumers)?\\]\\]?\n\
                 |[a-z_]{1,12} = (-?[0-9.e]{1,8}|\"[0-9a-z/ ]{0,8}\"|\\{ [a-z]{1,6} = [0-9\"a-z]{1,5} \\})\n){0,20}"
    ) {
        parse(&text);
    }

    #[test]
    fn fuzz_mutated_scenarios_never_panic(
        seed in 0usize..64, at in any::<usize>(), cut in 0usize..40, token in any::<usize>()
    ) {
        let texts = seeds();
        parse(&mutate(&texts[seed % texts.len()], at, cut, token));
    }

    #[test]
    fn fuzz_arbitrary_bytes_load_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bytes.toml");
        std::fs::write(&path, &bytes).unwrap();
        let _ = scenario::load(&path, &[]);
    }
}

/// [`mm1_text`] fed at 0.5/s.
fn mm1(simulation: &str, queue: &str, consumers: &str) -> String {
    mm1_text(simulation, "0.5", queue, consumers)
}

#[test]
fn non_utf8_bytes_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[simulation]\nname = \"caf\xe9\"\n").unwrap();
    let err = scenario::load(&path, &[]).unwrap_err().to_string();
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn a_missing_huge_trace_is_a_clear_error() {
    let text = "[[producers]]\nname = \"p\"\nto = \"q\"\ntrace = \"/nonexistent/trace-1GB.csv\"\n\
                [[queues]]\nname = \"q\"\n[queues.consumers]\n\
                service = { dist = \"exponential\", mean = 1.0 }\n";
    let err = load(text).unwrap_err();
    assert!(
        err.contains("producers.p.trace") && err.contains("trace-1GB.csv"),
        "{err}"
    );
}

#[test]
fn a_routing_cycle_without_exit_is_a_clear_error() {
    let text = "[[producers]]\nname = \"p\"\nto = \"a\"\nrate = 1\n\
                [[queues]]\nname = \"a\"\n[queues.consumers]\nservice = { dist = \"exponential\", mean = 0.1 }\nnext = \"b\"\n\
                [[queues]]\nname = \"b\"\n[queues.consumers]\nservice = { dist = \"exponential\", mean = 0.1 }\nnext = \"a\"\n";
    let err = load(text).unwrap_err();
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn a_tiny_duration_runs_and_conserves() {
    let model = load(&mm1("duration = 1e-300\nreplications = 2", "", "")).unwrap();
    let (_, result) = crate::util::simulate(&model);
    assert!(result.summary.produced.mean <= 1.0);
}

#[test]
fn capacity_two_to_the_63_and_u64_max_behave_as_unbounded() {
    for capacity in ["9223372036854775808", "18446744073709551615"] {
        let text = mm1(
            "duration = 200\nwarmup = 10\nreplications = 2",
            &format!("capacity = {capacity}"),
            "",
        );
        let (_, result) = crate::util::simulate(&load(&text).unwrap());
        assert_eq!(result.nodes[0].dropped.mean, 0.0);
    }
}

#[test]
fn a_million_consumers_run_in_bounded_memory() {
    let text = mm1(
        "duration = 100\nwarmup = 0\nreplications = 2",
        "",
        "count = 1000000",
    );
    let (reps, result) = crate::util::simulate(&load(&text).unwrap());
    assert!(reps.iter().all(|r| r.peak_messages < 1_000));
    assert_eq!(result.nodes[0].mean_wait.mean, 0.0);
}

#[test]
fn the_largest_scenario_passes_the_size_limit_and_one_more_node_does_not() {
    let queue = |i: u64| format!("[[queues]]\nname = \"x{i}\"\n");
    let base = mm1("duration = 1", "", "");
    let largest = scenario::MAX_NODES;
    assert_eq!(largest, 100_000);
    let ok: String = (1..largest).map(queue).collect();
    let limit = "a scenario may have";
    let accepted = load(&format!("{base}{ok}")).err().unwrap_or_default();
    assert!(!accepted.contains(limit), "{accepted}");
    let over = format!("{base}{ok}{}", queue(largest));
    let refused = load(&over).unwrap_err();
    assert!(
        refused.contains("100001 nodes") && refused.contains("the 100000 a scenario"),
        "{refused}"
    );
}

/// Simulated time past 10^9 s keeps its precision: an M/M/1 at ρ = 0.1
/// over 10^9 s (10^6 messages) still matches Wq = ρ / (μ − λ) and counts
/// every message.
#[test]
fn a_billion_second_run_keeps_its_precision() {
    let text = "[simulation]\nduration = 1e9\nwarmup = 1e6\nreplications = 4\nsample_every = 1e7\n\
                [[producers]]\nname = \"p\"\nto = \"q\"\nrate = 0.001\n\
                [[queues]]\nname = \"q\"\n[queues.consumers]\n\
                service = { dist = \"exponential\", mean = 100.0 }\n";
    let model = load(text).unwrap();
    let reps = engine::run(&model);
    assert!(reps.iter().all(|r| r.conserves()));
    let result = results::summarize(&model, &reps);
    let theory = queuesim::analytic::mm1(0.001, 0.01).unwrap();
    let mut checks = Agreement::new(&model);
    checks.mean(
        "mean wait over 1e9 s",
        result.nodes[0].mean_wait,
        theory.mean_wait_s,
    );
    checks.mean(
        "utilization over 1e9 s",
        result.nodes[0].utilization,
        theory.utilization,
    );
    checks.assert();
}
