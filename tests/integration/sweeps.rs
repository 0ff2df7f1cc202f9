//! Issue 14's sweep leftovers: a sweep's points are built as they run and
//! its values are checked before anything is simulated.

use std::fs;
use std::time::{Duration, Instant};

use crate::util::{example, queuesim_in, stderr_of, tiny_scenario};

/// `[1,2,...,n]` with `last` at the end: a list range for `--set`.
fn list_ending_with(n: u32, last: &str) -> String {
    let values: Vec<String> = (1..=n).map(|v| v.to_string()).collect();
    format!("[{},{last}]", values.join(","))
}

/// Issue 14: every point of the grid was built before the first was
/// simulated, so a value the scenario refuses at the end of the first
/// (slowest) key of a 300 × 300 grid was found after 89,700 models
/// (about 15 s). Each value is now checked once, before any point.
#[test]
fn issue_14_a_bad_sweep_value_is_refused_before_any_point_is_built() {
    let root = tempfile::tempdir().unwrap();
    let scenario = example("quickstart.toml");
    let counts = format!(
        "queues.orders.consumers.count={}",
        list_ending_with(299, "-1")
    );
    let started = Instant::now();
    let output = queuesim_in(root.path())
        .args(["sweep", "-q", scenario.to_str().unwrap()])
        .args(["--set", &counts, "--set", "producers.web.rate=1..300"])
        .args(["--out", "out"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("at queues.orders.consumers.count=-1, producers.web.rate=1:")
            && stderr.contains("`queues.orders.consumers.count`"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(!root.path().join("out").exists());
}

/// Issue 14: a shard built the model of every point of the grid, its own
/// or not (90,000 models, about 15 s, for the one point shard 0 of 90,000
/// runs here); it now builds only the points it simulates.
#[test]
fn issue_14_a_shard_of_a_huge_grid_builds_only_its_own_points() {
    let root = tempfile::tempdir().unwrap();
    let scenario = tiny_scenario();
    let started = Instant::now();
    queuesim_in(root.path())
        .args(["sweep", "-q", scenario.to_str().unwrap()])
        .args(["--set", "producers.web.rate=1..300"])
        .args(["--set", "simulation.seed=1..300"])
        .args(["--replications", "1", "--shard", "0/90000", "--out", "s"])
        .assert()
        .success();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let records = fs::read_to_string(root.path().join("s/records.csv")).unwrap();
    assert_eq!(records.lines().count(), 2, "{records}");
    assert!(records.lines().nth(1).unwrap().starts_with("0,0,"));
}

/// A combination of values that is only invalid together (each value is
/// fine with the other key's first value) is found when its point is
/// built: exit 2 naming the point and the key, and nothing written.
#[test]
fn a_sweep_point_invalid_only_in_combination_stops_the_sweep_with_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let output = queuesim_in(root.path())
        .args(["sweep", "-q", tiny_scenario().to_str().unwrap()])
        .args(["--set", "simulation.duration=[10,100000]"])
        .args(["--set", "simulation.sample_every=[10,0.01]"])
        .args(["--set", "producers.web.rate=0.01", "--out", "out"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("at simulation.duration=100000, simulation.sample_every=0.01:")
            && stderr.contains("`simulation.sample_every`"),
        "{stderr}"
    );
    assert!(!root.path().join("out").exists());
}
