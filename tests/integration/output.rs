//! Safe output: `--out` never overwrites someone's data, bad output paths
//! are clear errors (exit 2), and a run killed mid-way leaves no files.

use std::path::Path;
use std::time::Duration;

use crate::util::queuesim;

const SCENARIO: &str = "[simulation]\nduration = 200\nwarmup = 10\nreplications = 2\n\
    [[producers]]\nname = \"p\"\nto = \"q\"\nrate = 0.8\n\
    [[queues]]\nname = \"q\"\n[queues.consumers]\nservice = { dist = \"exponential\", mean = 1.0 }\n";

fn run(scenario: &Path, out: &Path) -> std::process::Output {
    queuesim()
        .args(["run", "--quiet"])
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn scenario(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn out_refuses_a_directory_with_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("thesis.tex"), "precious").unwrap();
    let output = run(&scenario(dir.path(), SCENARIO), &out);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("mine") && stderr.contains("thesis.tex"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn out_rewrites_an_earlier_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), SCENARIO);
    let out = dir.path().join("report");
    assert!(run(&path, &out).status.success());
    let output = run(&path, &out);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn an_output_path_under_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let output = run(&scenario(dir.path(), SCENARIO), &file.join("out"));
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("plain/out"));
}

/// Nothing is written before the simulation ends and files are renamed
/// into place only once all are complete, so a run killed while it
/// simulates (SIGKILL, which no handler sees) leaves no file, partial or
/// temporary (Ctrl-C is in `tests/interrupt.rs`).
#[test]
fn a_killed_run_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let long = SCENARIO.replace("duration = 200", "duration = 1e9");
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(crate::util::queuesim_path())
        .args(["run", "--quiet"])
        .arg(scenario(dir.path(), &long))
        .arg("--out")
        .arg(&out)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run should still be going"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let left = std::fs::read_dir(&out).map_or(0, |entries| entries.count());
    assert_eq!(left, 0);
}
