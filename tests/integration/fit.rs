//! `queuesim fit` as a user runs it, on CSV files generated with the
//! crate's own samplers.

use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{assert_close, queuesim, stderr_of, stdout_of};
use queuesim::dist::{Dist, DistSpec};
use queuesim::units::QuantityKind;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// A CSV with columns `id`, `latency` (gamma, mean 15 ms, cv 0.5) and
/// `gap` (exponential, mean 10 ms), `rows` rows.
fn measurements(dir: &Path, rows: usize) -> PathBuf {
    let latency = Dist::with_mean_cv("gamma", 0.015, 0.5).unwrap();
    let gap = Dist::exponential(0.01).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let mut csv = String::from("id,latency,gap\n");
    for id in 0..rows {
        let (l, g) = (latency.sample(&mut rng), gap.sample(&mut rng));
        let _ = writeln!(csv, "{id},{l},{g}");
    }
    let path = dir.join("measured.csv");
    fs::write(&path, csv).unwrap();
    path
}

/// Standard output of `queuesim args`, which must succeed.
fn succeeds(args: &[&str]) -> String {
    let output = queuesim().args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    stdout_of(&output)
}

fn failure(args: &[&str]) -> (Option<i32>, String) {
    let output = queuesim().args(args).output().unwrap();
    (output.status.code(), stderr_of(&output))
}

#[test]
fn fit_prints_a_ranking_table_and_a_toml_line_that_parses() {
    let dir = tempfile::tempdir().unwrap();
    let file = measurements(dir.path(), 5_000);
    let text = succeeds(&["fit", file.to_str().unwrap(), "--column", "latency"]);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("rank  family"))
        .unwrap_or_else(|| panic!("no table header:\n{text}"));
    for (rank, line) in lines[header + 1..header + 5].iter().enumerate() {
        assert!(
            line.trim_start().starts_with(&format!("{}  ", rank + 1)),
            "{text}"
        );
    }
    for family in ["exponential", "gamma", "lognormal", "weibull"] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    let toml_line = lines.last().unwrap();
    assert!(
        toml_line.starts_with("service = { dist = \"gamma\""),
        "{text}"
    );
    let table: toml::Table = toml::from_str(toml_line).unwrap();
    let spec: DistSpec = table["service"].clone().try_into().unwrap();
    let dist = spec.build(QuantityKind::Duration, Path::new(".")).unwrap();
    // The gamma fitted by maximum likelihood has the sample's mean, whose
    // relative standard error is cv / √n = 0.5 / √5000 = 0.71%: within
    // 1.96 of them (95%), 1.4%, of the 15 ms it was drawn with.
    let within = 1.96 * 0.5 / (5_000f64).sqrt();
    assert_close("mean of the fitted gamma", dist.mean(), 0.015, within);
}

#[test]
fn json_output_holds_every_fit_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = measurements(dir.path(), 2_000);
    let text = succeeds(&[
        "fit",
        file.to_str().unwrap(),
        "--column",
        "gap",
        "--kind",
        "interarrival",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["column"], "gap");
    assert_eq!(json["kind"], "interarrival");
    assert_eq!(json["sample"]["n"], 2_000);
    let fits = json["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 4);
    for (i, fit) in fits.iter().enumerate() {
        assert_eq!(fit["rank"], i + 1);
        assert!(fit["ks_p_value"].as_f64().unwrap() <= 1.0);
        assert!(fit["params"][0]["std_error"].as_f64().unwrap() > 0.0);
    }
    assert!(
        json["toml"]
            .as_str()
            .unwrap()
            .starts_with("interarrival = { dist = ")
    );
    assert_eq!(json["poisson"]["consistent"], true, "{text}");
}

#[test]
fn interarrival_text_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let file = measurements(dir.path(), 2_000);
    let plot = dir.path().join("qq.svg");
    let text = succeeds(&[
        "fit",
        file.to_str().unwrap(),
        "--column",
        "gap",
        "--kind",
        "interarrival",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(text.contains("Poisson-process check"), "{text}");
    assert!(text.contains("consistent with a Poisson process"), "{text}");
    let svg = fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("QQ plot"),
        "{svg:.200}"
    );
}

#[test]
fn bad_input_exits_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = measurements(dir.path(), 20);
    let path = file.to_str().unwrap();
    let (code, stderr) = failure(&["fit", path, "--column", "latncy"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(r#"has no column "latncy"; available columns: "id", "latency", "gap""#),
        "{stderr}"
    );
    let (code, stderr) = failure(&["fit", "/nonexistent/m.csv", "--column", "latency"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("cannot read /nonexistent/m.csv"),
        "{stderr}"
    );
    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "latency\n0.1\n-0.2\n").unwrap();
    let (code, stderr) = failure(&["fit", bad.to_str().unwrap(), "--column", "latency"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(r#"line 3, column "latency": "-0.2" is negative"#),
        "{stderr}"
    );
    fs::write(&bad, "latency\n0.1\n0.2\n").unwrap();
    let (code, stderr) = failure(&["fit", bad.to_str().unwrap(), "--column", "latency"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("only 2 values"), "{stderr}");
    let (code, _) = failure(&["fit", path]);
    assert_eq!(code, Some(2), "--column is required");
    let (code, _) = failure(&["fit", path, "--column", "gap", "--kind", "arrivals"]);
    assert_eq!(code, Some(2));
}
