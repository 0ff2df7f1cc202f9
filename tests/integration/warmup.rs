//! Automatic warm-up (MSER-5): it removes the initial-transient bias that a
//! fixed warm-up of 0 leaves, and stays out of the way when the scenario
//! sets its own warm-up.

use crate::util::{Agreement, inline};
use queuesim::engine;
use queuesim::results;

/// M/M/1 at ρ = 0.8 (λ = 0.8/s, μ = 1/s) that starts with 100 messages
/// waiting: the backlog takes about 100 / (μ − λ) = 500 s to drain.
fn backlog_scenario(warmup: &str) -> String {
    format!(
        "[simulation]\nduration = 10000\n{warmup}replications = 20\nseed = 11\n\
         initial = {{ q = 100 }}\n\n[[producers]]\nname = \"p\"\nto = \"q\"\nrate = 0.8\n\n\
         [[queues]]\nname = \"q\"\n[queues.consumers]\n\
         service = {{ dist = \"exponential\", mean = 1.0 }}\n"
    )
}

/// Mean wait in steady state: ρ / (μ − λ).
const MEAN_WAIT_S: f64 = 4.0;

#[test]
fn a_fixed_warmup_of_zero_is_biased_by_the_backlog() {
    let model = inline(&backlog_scenario("warmup = 0\n"), &[]);
    assert!(!model.simulation.warmup_auto);
    let (_, result) = crate::util::simulate(&model);
    let wait = result.nodes[0].mean_wait;
    assert!(
        wait.mean - wait.ci95 > MEAN_WAIT_S,
        "expected an upward bias: the whole 95% interval above {MEAN_WAIT_S}, got {wait:?}"
    );
}

#[test]
fn mser_warmup_removes_the_backlog_bias() {
    let model = inline(&backlog_scenario(""), &[]);
    assert!(model.simulation.warmup_auto);
    let (warmup_s, reps) = engine::run_with_auto_warmup(&model);
    assert!(
        (500.0..5_000.0).contains(&warmup_s),
        "the warm-up should cover the drain of the backlog: {warmup_s} s"
    );
    assert!(reps.iter().all(|r| r.conserves()));
    let mut chosen = model.clone();
    chosen.simulation.warmup_s = warmup_s;
    let result = results::summarize(&chosen, &reps);
    let mut checks = Agreement::new(&chosen);
    checks.mean(
        "mean wait after MSER warm-up",
        result.nodes[0].mean_wait,
        MEAN_WAIT_S,
    );
    checks.assert();
}

#[test]
fn the_choice_is_reproducible_and_reported() {
    let model = inline(&backlog_scenario(""), &[]);
    let (chosen, choice) = engine::auto_warmup(&model).expect("warm-up left out");
    assert!(choice.detected && !choice.at_limit, "{choice:?}");
    assert_eq!(choice.pilots, engine::PILOT_REPLICATIONS);
    assert_eq!(chosen.simulation.warmup_s, choice.warmup_s);
    assert!(!chosen.simulation.warmup_auto);
    assert_eq!(engine::choose_warmup(&model), choice);
}

#[test]
fn a_warmup_set_in_the_scenario_is_kept() {
    let model = inline(&backlog_scenario("warmup = 123\n"), &[]);
    assert!(engine::auto_warmup(&model).is_none());
    assert_eq!(engine::run_with_auto_warmup(&model).0, 123.0);
}

#[test]
fn too_few_deliveries_fall_back_to_ten_percent() {
    let text = "[simulation]\nduration = 100\nreplications = 2\n\n[[producers]]\nname = \"p\"\n\
                to = \"q\"\nrate = 0.01\n\n[[queues]]\nname = \"q\"\n[queues.consumers]\n\
                service = { dist = \"exponential\", mean = 1.0 }\n";
    let choice = engine::choose_warmup(&inline(text, &[]));
    assert!(!choice.detected);
    assert_eq!(choice.warmup_s, 10.0);
}

#[test]
fn the_run_command_prints_the_chosen_warmup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backlog.toml");
    std::fs::write(&path, backlog_scenario("")).unwrap();
    let output = crate::util::queuesim()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warm-up: ") && stderr.contains("MSER-5"),
        "{stderr}"
    );
}
