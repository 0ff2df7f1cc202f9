//! Issue 14: no command writes outside its report folder, a report is
//! replaced whole, and shards prove what they hold. One test per way a
//! user's files were lost or a merge accepted work that belongs to no run.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn queuesim(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("queuesim").expect("the queuesim binary is built");
    command.current_dir(cwd);
    command
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report_tiny.toml")
}

/// A scenario file in `dir` whose `name` line is `name`.
fn named_scenario(dir: &Path, name: &str) -> PathBuf {
    let text = fs::read_to_string(fixture()).unwrap();
    let text = text.replace("name = \"tiny\"", &format!("name = {name:?}"));
    let path = dir.join("named.toml");
    fs::write(&path, text).unwrap();
    path
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn issue_14_out_through_a_missing_folder_does_not_overwrite_the_folder_above() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("nodes.csv"), b"the user's own numbers\n").unwrap();
    let output = queuesim(root.path())
        .args([
            "run",
            "-q",
            fixture().to_str().unwrap(),
            "--out",
            "data/x/..",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("nodes.csv"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        fs::read(data.join("nodes.csv")).unwrap(),
        b"the user's own numbers\n"
    );
}

#[test]
fn issue_14_a_scenario_name_cannot_lead_out_of_reports() {
    let root = tempfile::tempdir().unwrap();
    for name in ["..", "../../x", "/tmp/elsewhere", "a/b", "."] {
        let scenario = named_scenario(root.path(), name);
        let output = queuesim(root.path())
            .args(["run", "-q", scenario.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("name") && stderr.contains("folder"),
            "{name}: {stderr}"
        );
    }
    let entries: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the scenario file: {entries:?}");
}

#[test]
fn issue_14_a_safe_name_with_a_space_still_names_its_folder() {
    let root = tempfile::tempdir().unwrap();
    let scenario = named_scenario(root.path(), "my scenario");
    queuesim(root.path())
        .args(["run", "-q", scenario.to_str().unwrap()])
        .assert()
        .success();
    assert!(
        root.path()
            .join("reports/my scenario/summary.csv")
            .is_file()
    );
}

#[cfg(unix)]
#[test]
fn issue_14_out_at_a_dangling_link_is_bad_input() {
    let root = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.path().join("gone"), root.path().join("link")).unwrap();
    let output = queuesim(root.path())
        .args(["run", "-q", fixture().to_str().unwrap(), "--out", "link"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("does not exist"));
}

/// A merge into a folder holding a run report leaves no plot or page of
/// the old run beside its new CSV files.
#[test]
fn issue_14_merge_replaces_an_old_run_report_whole() {
    let root = tempfile::tempdir().unwrap();
    let scenario = fixture();
    let scenario = scenario.to_str().unwrap();
    queuesim(root.path())
        .args(["run", "-q", scenario, "--out", "r"])
        .assert()
        .success();
    assert!(root.path().join("r/report.html").is_file());
    for i in 0..2 {
        queuesim(root.path())
            .args(["run", "-q", scenario, "--shard", &format!("{i}/2")])
            .args(["--out", &format!("s{i}")])
            .assert()
            .success();
    }
    queuesim(root.path())
        .args(["merge", "-q", "s0", "s1", "--out", "r"])
        .assert()
        .success();
    let left: Vec<String> = fs::read_dir(root.path().join("r"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|name| name.ends_with(".csv")), "{left:?}");
}

/// The README's commands in any order with the default folders: a sweep
/// and shards nested in a run's folder survive the run being written
/// again, and the merge lands beside them.
#[test]
fn issue_14_nested_sweep_and_shards_survive_a_new_run_report() {
    let root = tempfile::tempdir().unwrap();
    let scenario = fixture();
    let scenario = scenario.to_str().unwrap();
    let run = || {
        queuesim(root.path())
            .args(["run", "-q", scenario])
            .assert()
            .success();
    };
    run();
    queuesim(root.path())
        .args([
            "sweep",
            "-q",
            scenario,
            "--set",
            "producers.web.rate=[40,60]",
        ])
        .assert()
        .success();
    for i in 0..2 {
        queuesim(root.path())
            .args(["run", "-q", scenario, "--shard", &format!("{i}/2")])
            .assert()
            .success();
    }
    run();
    let tiny = root.path().join("reports/tiny");
    assert!(tiny.join("sweep/sweep.csv").is_file());
    assert!(tiny.join("shard-1-of-2/shard.json").is_file());
    queuesim(root.path())
        .args([
            "merge",
            "-q",
            "reports/tiny/shard-0-of-2",
            "reports/tiny/shard-1-of-2",
        ])
        .assert()
        .success();
    assert!(tiny.join("summary.csv").is_file() && !tiny.join("report.html").exists());
    assert!(tiny.join("shard-0-of-2/shard.json").is_file());
}

/// Two shards of `scenario` written to `root/s0` and `root/s1`, the
/// second with `extra` arguments.
fn two_shards(root: &Path, extra: &[&str]) -> [PathBuf; 2] {
    let scenario = fixture();
    for i in 0..2 {
        let mut command = queuesim(root);
        command
            .args(["run", "-q", scenario.to_str().unwrap()])
            .args(["--shard", &format!("{i}/2"), "--out", &format!("s{i}")]);
        if i == 1 {
            command.args(extra);
        }
        command.assert().success();
    }
    [root.join("s0"), root.join("s1")]
}

fn merge_refused(root: &Path, expected: &str) {
    let output = queuesim(root)
        .args(["merge", "-q", "s0", "s1", "--out", "m"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(!root.join("m").exists());
}

#[test]
fn issue_14_shards_of_another_seed_are_refused() {
    let root = tempfile::tempdir().unwrap();
    two_shards(root.path(), &["--seed", "2"]);
    merge_refused(root.path(), "seed 2 against 1");
}

#[test]
fn issue_14_shards_with_another_override_are_refused_even_on_a_fixed_key() {
    let root = tempfile::tempdir().unwrap();
    two_shards(root.path(), &["--set", "queues.orders.capacity=5"]);
    merge_refused(root.path(), "resolved scenario differs");
}

#[test]
fn issue_14_an_edited_or_truncated_shard_file_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let [_, second] = two_shards(root.path(), &[]);
    let histograms = second.join("histograms.csv");
    let text = fs::read_to_string(&histograms).unwrap();
    fs::write(&histograms, &text[..text.len() / 2]).unwrap();
    merge_refused(root.path(), "histograms.csv was changed");
    fs::write(&histograms, text).unwrap();
    let summary = second.join("replications-summary.csv");
    let edited = fs::read_to_string(&summary).unwrap().replacen(',', ",9", 3);
    fs::write(&summary, edited).unwrap();
    merge_refused(root.path(), "replications-summary.csv was changed");
}
