//! Issue 14's sweep and shard leftovers: a sweep's points are built as they
//! run, its values are checked before anything is simulated, and a shard
//! carries compact histograms, not many times the CSV it contributes to.

use std::fs;
use std::path::Path;
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

/// Bytes of every file under `dir`.
fn folder_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Issue 14: a shard's histograms took about 4 text bytes per non-empty
/// bucket, so a shard of this sweep was 54 times its `sweep.csv` (and 90
/// times for 10-minute runs; 5 MB per shard of the README's sweep). They
/// are binary and compressed now: 0.45 bytes per bucket, and the merge is
/// still byte-identical to the unsharded sweep.
#[test]
fn issue_14_a_sweep_shard_is_a_few_times_the_csv_it_contributes_to() {
    let root = tempfile::tempdir().unwrap();
    let scenario = example("quickstart.toml");
    let sweep = |extra: &[&str], out: &str| {
        queuesim_in(root.path())
            .args(["sweep", "-q", scenario.to_str().unwrap()])
            .args(["--set", "queues.orders.consumers.count=[8,12]"])
            .args(["--set", "producers.web.rate=[300,450]"])
            .args(["--set", "simulation.duration=60", "--replications", "4"])
            .args(extra)
            .args(["--out", out])
            .assert()
            .success();
    };
    sweep(&[], "whole");
    sweep(&["--shard", "0/2"], "s0");
    sweep(&["--shard", "1/2"], "s1");
    queuesim_in(root.path())
        .args(["merge", "-q", "s0", "s1", "--out", "merged"])
        .assert()
        .success();
    let csv = fs::read(root.path().join("whole/sweep.csv")).unwrap();
    assert_eq!(fs::read(root.path().join("merged/sweep.csv")).unwrap(), csv);
    for shard in ["s0", "s1"] {
        let bytes = folder_bytes(&root.path().join(shard));
        assert!(
            bytes < 10 * csv.len() as u64,
            "{shard}: {bytes} bytes for a {}-byte sweep.csv",
            csv.len()
        );
    }
}
