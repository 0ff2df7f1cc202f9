//! Helpers shared by every module of the integration tests: the one
//! `queuesim` command builder, the paths of bundled scenarios and fixtures,
//! the scenario loaders, the simulation runner, and the comparisons of
//! simulated estimates against exact values.
//!
//! Every call into the library that the modules share goes through here,
//! so that a renamed library function is adapted in one place.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

use queuesim::analytic::QueueMetrics;
use queuesim::engine::{self, ReplicationResult};
use queuesim::model::Model;
use queuesim::results::{self, NodeRow, RunResult};
use queuesim::scenario;
use queuesim::stats::Estimate;

/// Relative slack allowed on top of a 95% confidence interval.
pub const SLACK: f64 = 0.02;

/// Path of the `queuesim` binary that Cargo built for these tests.
pub fn queuesim_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("queuesim")
}

/// The `queuesim` command, ready for arguments.
pub fn queuesim() -> Command {
    Command::new(queuesim_path())
}

/// The `queuesim` command, run in the folder `cwd`.
pub fn queuesim_in(cwd: &Path) -> Command {
    let mut command = queuesim();
    command.current_dir(cwd);
    command
}

/// Standard output of a finished command, as text.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error of a finished command, as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Path of a file under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The tiny fixed-seed scenario of the report and safety tests.
pub fn tiny_scenario() -> PathBuf {
    fixture("report_tiny.toml")
}

/// Text of an M/M/1 scenario (service mean 1 s) with the `[simulation]`
/// lines `simulation`, producer rate `rate`, and extra lines for the queue
/// table (`queue`) and its consumers (`consumers`).
pub fn mm1_text(simulation: &str, rate: &str, queue: &str, consumers: &str) -> String {
    format!(
        "[simulation]\n{simulation}\n[[producers]]\nname = \"p\"\nto = \"q\"\nrate = {rate}\n\
         [[queues]]\nname = \"q\"\n{queue}\n[queues.consumers]\n{consumers}\n\
         service = {{ dist = \"exponential\", mean = 1.0 }}\n"
    )
}

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
    inline_at(text, Path::new("inline.toml"), overrides)
}

/// [`inline`], as if the text were the file `path` (relative paths in the
/// scenario, such as traces, are read beside it).
pub fn inline_at(text: &str, path: &Path, overrides: &[&str]) -> Model {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::from_str(text, path, &overrides)
        .unwrap_or_else(|e| panic!("scenario rejected: {e}\n{text}"))
}

/// Builds a model from scenario text, or returns the error message.
pub fn try_inline(text: &str) -> Result<Model, String> {
    scenario::from_str(text, Path::new("inline.toml"), &[]).map_err(|e| e.to_string())
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
