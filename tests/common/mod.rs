//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use queuesim::analytic::QueueMetrics;
use queuesim::engine::{self, ReplicationResult};
use queuesim::model::Model;
use queuesim::results::{self, NodeRow, RunResult};
use queuesim::scenario;
use queuesim::stats::Estimate;

/// Relative slack allowed on top of a 95% confidence interval.
pub const SLACK: f64 = 0.02;

/// Path of a bundled example scenario.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Loads a scenario with overrides, or fails the test with the error.
pub fn load(path: &Path, overrides: &[&str]) -> Model {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load(path, &overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// Builds a model from scenario text written in a test, with `--set` overrides.
pub fn inline(text: &str, overrides: &[&str]) -> Model {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::from_str(text, Path::new("inline.toml"), &overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// Simulates a model, checks conservation in every replication and
/// returns the replications and their summary.
pub fn simulate(model: &Model) -> (Vec<ReplicationResult>, RunResult) {
    let reps = engine::run(model);
    for r in &reps {
        assert!(
            r.conserves(),
            "conservation broken in replication {}: produced {} != delivered {} + lost {} + in flight {}",
            r.replication,
            r.produced,
            r.delivered,
            r.lost,
            r.in_flight
        );
    }
    let result = results::summarize(model, &reps);
    (reps, result)
}

/// Asserts that theory lies inside the simulated 95% CI widened by [`SLACK`].
#[track_caller]
pub fn assert_agrees(what: &str, simulated: Estimate, theory: f64) {
    assert!(
        simulated.ci95.is_finite(),
        "{what}: no confidence interval ({simulated:?})"
    );
    let allowed = simulated.ci95 + SLACK * theory.abs();
    let error = (simulated.mean - theory).abs();
    assert!(
        error <= allowed,
        "{what}: simulated {} ± {} vs theory {theory}: off by {error}, allowed {allowed}",
        simulated.mean,
        simulated.ci95
    );
}

/// Asserts that a queue's simulated sojourn and utilization agree with a
/// closed form (see [`assert_agrees`]).
#[track_caller]
pub fn assert_node_agrees(node: &NodeRow, theory: &QueueMetrics) {
    assert_agrees(
        &format!("{} sojourn", node.node),
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    assert_agrees(
        &format!("{} utilization", node.node),
        node.utilization,
        theory.utilization,
    );
}
