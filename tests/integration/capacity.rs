//! Capacity planning: `compare`, `sweep`, `plan`, `--precision`, and
//! sharded runs merged back byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{Agreement, fixture, load, queuesim, stderr_of, stdout_of};
use assert_cmd::Command;
use queuesim::experiment::compare::compare;
use queuesim::stats::Estimate;

/// Path of a fixture of these tests, under `tests/fixtures/capacity`.
fn capacity_fixture(name: &str) -> PathBuf {
    fixture(&format!("capacity/{name}"))
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Checks the plot `name` written to `dir`: a PNG with its signature and
/// `size`, and an SVG of that size showing every one of `texts`.
fn assert_plot(dir: &Path, name: &str, size: (u32, u32), texts: &[&str]) {
    let png = fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{name}.png signature"
    );
    assert_eq!(&png[12..16], b"IHDR", "{name}.png");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    assert_eq!(
        (be(&png[16..20]), be(&png[20..24])),
        size,
        "{name}.png size"
    );
    let svg = fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    let (width, height) = size;
    assert!(
        svg.contains(&format!("width=\"{width}\" height=\"{height}\"")),
        "{name}.svg size"
    );
    for text in texts {
        assert!(svg.contains(text), "{name}.svg lacks the text {text:?}");
    }
}

#[test]
fn plan_finds_eleven_consumers_for_mmc_as_theory_says() {
    let assert = queuesim()
        .args(["plan", arg(&capacity_fixture("mmc9.toml"))])
        .args(["--vary", "queues.q.consumers.count=1..20"])
        .args(["--slo", "p99_latency<=5.5"])
        .assert()
        .success();
    let out = stdout_of(assert.get_output());
    assert!(out.contains("answer: queues.q.consumers.count=11"), "{out}");
    assert!(out.contains("theory (M/M/c) predicts"), "{out}");
    assert!(out.contains("at 10 ("), "evidence below the answer: {out}");
}

#[test]
fn plan_without_a_feasible_value_exits_1() {
    let assert = queuesim()
        .args(["plan", arg(&capacity_fixture("mmc9.toml"))])
        .args(["--vary", "queues.q.consumers.count=[8,9]"])
        .args([
            "--slo",
            "q.mean_wait<=1",
            "--set",
            "simulation.duration=300",
        ])
        .assert()
        .code(1);
    assert!(stderr_of(assert.get_output()).contains("no value of queues.q.consumers.count"));
}

#[test]
fn bad_slo_and_bad_range_exit_2_and_say_what_is_valid() {
    let assert = queuesim()
        .args(["plan", arg(&capacity_fixture("mmc9.toml"))])
        .args(["--vary", "queues.q.consumers.count=1..20"])
        .args(["--slo", "p99_latncy<=5.5"])
        .assert()
        .code(2);
    let err = stderr_of(assert.get_output());
    assert!(err.contains("unknown metric `p99_latncy`"), "{err}");
    assert!(err.contains("q.mean_wait"), "{err}");
    let assert = queuesim()
        .args(["plan", arg(&capacity_fixture("mmc9.toml"))])
        .args(["--vary", "queues.q.consumers.count=1..20"])
        .args(["--slo", "p99_latency 5.5"])
        .assert()
        .code(2);
    assert!(stderr_of(assert.get_output()).contains("expected METRIC<=NUMBER"));
    let assert = queuesim()
        .args(["sweep", arg(&capacity_fixture("small.toml"))])
        .args(["--set", "queues.orders.consumers.count=3..1"])
        .assert()
        .code(2);
    assert!(stderr_of(assert.get_output()).contains("bad range"));
    queuesim()
        .args(["plan", arg(&capacity_fixture("mmc9.toml"))])
        .args(["--vary", "queues.q.consumers.count=1..x"])
        .args(["--slo", "p99_latency<=5.5"])
        .assert()
        .code(2);
}

#[test]
fn identical_scenarios_differ_by_exactly_zero() {
    let out = tempfile::tempdir().unwrap();
    let path = capacity_fixture("small.toml");
    queuesim()
        .args(["compare", arg(&path), arg(&path), "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let text = fs::read_to_string(out.path().join("compare.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (difference, ci, significant) = (
        column("difference"),
        column("difference_ci95"),
        column("significant"),
    );
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        assert!(
            ["0", ""].contains(&&record[difference]) && ["0", ""].contains(&&record[ci]),
            "{record:?}"
        );
        assert_eq!(&record[significant], "false");
        rows += 1;
    }
    assert!(rows > 20, "{text}");
    assert_plot(
        out.path(),
        "compare_latency_cdf",
        (1200, 560),
        &[
            "End-to-end latency by scenario",
            "end-to-end latency (s)",
            "P(latency ≤ x)",
            "small",
        ],
    );
    assert_plot(
        out.path(),
        "compare_utilization",
        (1200, 520),
        &[
            "Utilization per queue by scenario",
            "queue",
            "busy fraction of consumers",
            "95% confidence interval",
        ],
    );
}

/// Mean sojourn of M/M/2 (mu = 1) minus that of M/M/1 (mu = 2), lambda = 1.6.
const MM2_MINUS_MM1_S: f64 = (0.711_111_111_111_111_1 / 0.4 + 1.0) - 2.5;

/// Replications of each scenario in the comparisons below.
const REPLICATIONS: u32 = 80;

fn mean_latency_difference(overrides_b: &[&str]) -> Estimate {
    let replications = format!("simulation.replications={REPLICATIONS}");
    let a = load(&capacity_fixture("mm1_fast.toml"), &[&replications]);
    let b = load(
        &capacity_fixture("mm2_slow.toml"),
        &[&[replications.as_str()], overrides_b].concat(),
    );
    let diffs = compare(&[a, b]).unwrap();
    diffs
        .into_iter()
        .find(|d| d.metric == "mean_latency")
        .unwrap()
        .difference
}

#[test]
fn mm1_against_mm2_matches_theory_and_crn_narrows_the_interval() {
    let crn = mean_latency_difference(&[]);
    // With the fixtures' 20 replications the paired difference lay 1.10
    // half-widths from theory (a 3.5% event; seeds 6, 7, 8 gave 0.16,
    // -0.79, 0.29, and 4x longer runs 0.51: no bias), so the comparison
    // uses 80.
    let mut checks = Agreement::over(REPLICATIONS.into());
    checks.mean("paired difference of mean latency", crn, MM2_MINUS_MM1_S);
    checks.assert();
    assert!(crn.mean - crn.ci95 > 0.0, "significant: {crn:?}");
    let independent = mean_latency_difference(&["simulation.seed=99"]);
    eprintln!(
        "mean_latency difference: CRN {} ± {}, independent seeds {} ± {} (CI ratio {:.2})",
        crn.mean,
        crn.ci95,
        independent.mean,
        independent.ci95,
        independent.ci95 / crn.ci95
    );
    assert!(
        crn.ci95 < independent.ci95,
        "CRN {crn:?} vs independent {independent:?}"
    );
}

/// One file compared with itself plus one change: the candidate alone gets
/// `--candidate-set`, `--set` goes to both; a queue of one side only shows.
#[test]
fn compare_a_file_with_itself_plus_one_change() {
    let out = tempfile::tempdir().unwrap();
    let path = capacity_fixture("small.toml");
    let assert = queuesim()
        .args(["compare", arg(&path), "--out"])
        .arg(out.path())
        .args(["--candidate-set", "queues.billing.consumers.count=3"])
        .args(["--set", "simulation.duration=50"])
        .assert()
        .success();
    let stdout = stdout_of(assert.get_output());
    assert!(
        stdout.contains("small [queues.billing.consumers.count=3]"),
        "{stdout}"
    );
    let text = fs::read_to_string(out.path().join("compare.csv")).unwrap();
    let row = |metric: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.starts_with(&format!("{metric},")));
        line.unwrap().split(',').map(str::to_owned).collect()
    };
    let utilization = row("billing.utilization");
    let (base, cand): (f64, f64) = (
        utilization[3].parse().unwrap(),
        utilization[5].parse().unwrap(),
    );
    assert!((cand / base - 2.0 / 3.0).abs() < 0.01, "{utilization:?}");
    let consumer_seconds = row("consumer_seconds");
    assert_eq!(
        (&consumer_seconds[3][..], &consumer_seconds[5][..]),
        ("150", "200")
    );
    let lone = queuesim().args(["compare", arg(&path)]).assert().code(2);
    assert!(stderr_of(lone.get_output()).contains("--candidate-set"));
}

/// `sweep.csv` ends with the busiest queue's offered load; a point at
/// ρ >= 1 is warned about.
#[test]
fn a_sweep_reports_the_busiest_load_and_warns_of_unstable_points() {
    let out = tempfile::tempdir().unwrap();
    let assert = queuesim()
        .args(["sweep", arg(&capacity_fixture("small.toml")), "--out"])
        .arg(out.path())
        .args(["--set", "producers.web.rate=[5,12]"])
        .args(["--set", "simulation.duration=20"])
        .assert()
        .success();
    let text = fs::read_to_string(out.path().join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",unavailable_ci95,max_load")
    );
    // ρ of `billing`: rate × 0.2 s / 2 consumers; of `orders`: rate × 0.1 s.
    assert!(lines.next().unwrap().ends_with(",0.5"), "{text}");
    assert!(
        lines.next().unwrap().ends_with(",1.2000000000000002"),
        "{text}"
    );
    let stderr = stderr_of(assert.get_output());
    assert!(
        stderr.contains(
            "at producers.web.rate=12: the busiest queue's offered load is ρ = 1.200 >= 1"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("rate=5:"), "{stderr}");
    assert!(stdout_of(assert.get_output()).contains("max_load"));
}

fn sweep_args(command: &mut Command) -> &mut Command {
    command
        .args(["sweep", arg(&capacity_fixture("small.toml")), "--quiet"])
        .args(["--set", "queues.orders.consumers.count=1..2"])
        .args(["--set", "producers.web.rate=[4,6,8]"])
        .args(["--set", "simulation.replications=5"])
}

#[test]
fn a_sweep_sharded_three_ways_merges_byte_identical() {
    let root = tempfile::tempdir().unwrap();
    let whole = root.path().join("whole");
    sweep_args(&mut queuesim())
        .arg("--out")
        .arg(&whole)
        .assert()
        .success();
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| {
            let dir = root.path().join(format!("shard{i}"));
            sweep_args(&mut queuesim())
                .args(["--shard", &format!("{i}/3"), "--out"])
                .arg(&dir)
                .assert()
                .success();
            dir
        })
        .collect();
    let merged = root.path().join("merged");
    queuesim()
        .arg("merge")
        .args(&shards)
        .args(["--quiet", "--out"])
        .arg(&merged)
        .assert()
        .success();
    let expected = fs::read(whole.join("sweep.csv")).unwrap();
    assert_eq!(fs::read(merged.join("sweep.csv")).unwrap(), expected);
    let text = String::from_utf8(expected).unwrap();
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(
        text.starts_with(
            "queues.orders.consumers.count,producers.web.rate,replications,produced,produced_ci95"
        ),
        "{text}"
    );
    assert!(text.contains("orders.utilization,orders.utilization_ci95"));
    assert_plot(
        &whole,
        "sweep_curves",
        (1200, 900),
        &[
            "Sweep over queues.orders.consumers.count (one curve per producers.web.rate)",
            "p50 latency",
            "p99 latency",
            "latency (s)",
            "success ratio",
            "busy fraction of consumers",
            "producers.web.rate=8",
            "95% confidence band",
        ],
    );
    let err = queuesim().arg("merge").args(&shards[..2]).assert().code(2);
    assert!(stderr_of(err.get_output()).contains("missing: 2"));
}

#[test]
fn a_run_sharded_two_ways_merges_into_the_same_csv_files() {
    let root = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], out: &Path| {
        queuesim()
            .args(["run", arg(&capacity_fixture("small.toml")), "--quiet"])
            .args(extra)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    };
    let whole = root.path().join("whole");
    run(&[], &whole);
    let shards: Vec<PathBuf> = (0..2)
        .map(|i| {
            let dir = root.path().join(format!("shard{i}"));
            run(&["--shard", &format!("{i}/2")], &dir);
            dir
        })
        .collect();
    let merged = root.path().join("merged");
    queuesim()
        .arg("merge")
        .args(&shards)
        .args(["--quiet", "--out"])
        .arg(&merged)
        .assert()
        .success();
    for file in [
        "summary.csv",
        "nodes.csv",
        "classes.csv",
        "latency_quantiles.csv",
        "timeseries.csv",
    ] {
        assert_eq!(
            fs::read(merged.join(file)).unwrap(),
            fs::read(whole.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn precision_adds_replications_and_warns_at_the_cap() {
    let out = tempfile::tempdir().unwrap();
    let assert = queuesim()
        .args(["run", arg(&capacity_fixture("small.toml")), "--quiet"])
        .args(["--precision", "0.05", "--out"])
        .arg(out.path())
        .assert()
        .success();
    assert!(!stderr_of(assert.get_output()).contains("warning"));
    let summary = fs::read_to_string(out.path().join("summary.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(summary.as_bytes());
    let header = reader.headers().unwrap().clone();
    let record = reader.records().next().unwrap().unwrap();
    let value = |name: &str| -> f64 {
        record[header.iter().position(|h| h == name).unwrap()]
            .parse()
            .unwrap()
    };
    assert!(value("mean_latency_ci95") <= 0.05 * value("mean_latency"));
    let assert = queuesim()
        .args(["run", arg(&capacity_fixture("small.toml")), "--quiet"])
        .args(["--precision", "0.0001", "--max-replications", "6", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let err = stderr_of(assert.get_output());
    assert!(
        err.contains("warning") && err.contains("after 6 replications"),
        "{err}"
    );
    queuesim()
        .args([
            "run",
            arg(&capacity_fixture("small.toml")),
            "--precision",
            "0.05",
        ])
        .args(["--precision-metric", "nope", "--out"])
        .arg(out.path())
        .assert()
        .code(2);
}
