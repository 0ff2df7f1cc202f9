//! The `queuesim` command as a user runs it.

use std::fs;
use std::path::Path;

use crate::util::{example, queuesim};

fn header_of(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect()
}

fn assert_has_columns(path: &Path, columns: &[&str]) {
    let header = header_of(path);
    for column in columns {
        assert!(
            header.iter().any(|h| h == column),
            "{} lacks column `{column}`; header: {header:?}",
            path.display()
        );
    }
}

#[test]
fn run_quickstart_writes_every_report_with_the_spec_columns() {
    let out = tempfile::tempdir().unwrap();
    let assert = queuesim()
        .args(["run", example("quickstart.toml").to_str().unwrap()])
        .args(["--set", "simulation.duration=60", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("p99_latency"), "summary table: {stdout}");
    assert!(stdout.contains("orders"), "node table: {stdout}");
    let dir = out.path();
    assert_has_columns(
        &dir.join("summary.csv"),
        &[
            "scenario",
            "produced",
            "delivered",
            "lost",
            "in_flight",
            "success_ratio",
            "mean_latency",
            "p50_latency",
            "p95_latency",
            "p99_latency",
            "p999_latency",
            "throughput",
            "mean_latency_ci95",
            "p99_latency_ci95",
            "success_ratio_ci95",
        ],
    );
    assert_has_columns(
        &dir.join("nodes.csv"),
        &[
            "node",
            "arrivals",
            "served",
            "dropped",
            "expired",
            "dead_lettered",
            "retries",
            "mean_wait",
            "p99_wait",
            "mean_sojourn",
            "p99_sojourn",
            "mean_in_queue",
            "max_in_queue",
            "utilization",
            "throughput",
            "mean_wait_ci95",
            "utilization_ci95",
        ],
    );
    assert_has_columns(
        &dir.join("classes.csv"),
        &[
            "node",
            "priority",
            "arrivals",
            "served",
            "mean_wait",
            "p99_wait",
            "mean_sojourn",
        ],
    );
    assert_has_columns(&dir.join("latency_quantiles.csv"), &["quantile", "latency"]);
    assert_has_columns(
        &dir.join("timeseries.csv"),
        &["time", "node", "in_queue", "in_service"],
    );
    let quantiles = fs::read_to_string(dir.join("latency_quantiles.csv")).unwrap();
    assert!(
        quantiles.lines().any(|l| l.starts_with("0.999,")),
        "{quantiles}"
    );
    assert_eq!(
        quantiles.lines().filter(|l| l.starts_with("0.")).count(),
        101
    );
}

#[test]
fn same_seed_gives_identical_bytes_on_one_and_two_threads() {
    let dirs: Vec<_> = ["1", "2"]
        .iter()
        .map(|threads| {
            let out = tempfile::tempdir().unwrap();
            queuesim()
                .args(["run", example("tandem.toml").to_str().unwrap(), "--quiet"])
                .args([
                    "--set",
                    "simulation.duration=20",
                    "--threads",
                    threads,
                    "--out",
                ])
                .arg(out.path())
                .assert()
                .success();
            out
        })
        .collect();
    for file in [
        "summary.csv",
        "nodes.csv",
        "classes.csv",
        "latency_quantiles.csv",
        "timeseries.csv",
    ] {
        let one = fs::read(dirs[0].path().join(file)).unwrap();
        let two = fs::read(dirs[1].path().join(file)).unwrap();
        assert!(!one.is_empty());
        assert_eq!(one, two, "{file} differs between 1 and 2 threads");
    }
}

#[test]
fn a_different_seed_changes_the_results() {
    let run = |seed: &str| {
        let out = tempfile::tempdir().unwrap();
        queuesim()
            .args(["run", example("mm1.toml").to_str().unwrap(), "--quiet"])
            .args(["--set", "simulation.duration=5", "--seed", seed, "--out"])
            .arg(out.path())
            .assert()
            .success();
        fs::read(out.path().join("summary.csv")).unwrap()
    };
    assert_ne!(run("1"), run("2"));
}

#[test]
fn json_output_is_machine_readable() {
    let out = tempfile::tempdir().unwrap();
    let assert = queuesim()
        .args(["run", example("mm1.toml").to_str().unwrap(), "--json"])
        .args([
            "--set",
            "simulation.duration=5",
            "--replications",
            "3",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let value: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(value["summary"]["replications"], 3);
    assert!(value["summary"]["mean_latency"]["mean"].as_f64().unwrap() > 0.0);
}

#[test]
fn validate_prints_the_resolved_model() {
    let assert = queuesim()
        .args(["validate", example("quickstart.toml").to_str().unwrap()])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("orders"), "{stdout}");
    assert!(stdout.contains("gamma"), "{stdout}");
}

#[test]
fn every_bad_fixture_exits_with_status_2_and_names_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut fixtures: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(
        fixtures.len() >= 10,
        "expected one fixture per kind of bad input"
    );
    for fixture in fixtures {
        let out = tempfile::tempdir().unwrap();
        let assert = queuesim()
            .arg("run")
            .arg(&fixture)
            .arg("--out")
            .arg(out.path())
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        let name = fixture.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            stderr.contains(&name),
            "{name}: error does not name the file: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            fs::read_dir(out.path()).unwrap().next().is_none(),
            "{name}: a failed run left files behind"
        );
    }
}

#[test]
fn a_missing_file_is_bad_input() {
    queuesim()
        .args(["run", "no/such/scenario.toml"])
        .assert()
        .code(2);
}

#[test]
fn an_unknown_flag_is_bad_input() {
    queuesim().args(["run", "--frobnicate"]).assert().code(2);
}
