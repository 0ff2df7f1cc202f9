//! Issue 14: no command writes outside its report folder, a report is
//! replaced whole, and shards prove what they hold. One test per way a
//! user's files were lost or a merge accepted work that belongs to no run.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{queuesim_in, stderr_of, tiny_scenario};

/// A scenario file in `dir` whose `name` line is `name`.
fn named_scenario(dir: &Path, name: &str) -> PathBuf {
    let text = fs::read_to_string(tiny_scenario()).unwrap();
    let text = text.replace("name = \"tiny\"", &format!("name = {name:?}"));
    let path = dir.join("named.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn issue_14_out_through_a_missing_folder_does_not_overwrite_the_folder_above() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("nodes.csv"), b"the user's own numbers\n").unwrap();
    let output = queuesim_in(root.path())
        .args([
            "run",
            "-q",
            tiny_scenario().to_str().unwrap(),
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
        let output = queuesim_in(root.path())
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
    queuesim_in(root.path())
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
    let output = queuesim_in(root.path())
        .args([
            "run",
            "-q",
            tiny_scenario().to_str().unwrap(),
            "--out",
            "link",
        ])
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
    let scenario = tiny_scenario();
    let scenario = scenario.to_str().unwrap();
    queuesim_in(root.path())
        .args(["run", "-q", scenario, "--out", "r"])
        .assert()
        .success();
    assert!(root.path().join("r/report.html").is_file());
    for i in 0..2 {
        queuesim_in(root.path())
            .args(["run", "-q", scenario, "--shard", &format!("{i}/2")])
            .args(["--out", &format!("s{i}")])
            .assert()
            .success();
    }
    queuesim_in(root.path())
        .args(["merge", "-q", "s0", "s1", "--out", "r"])
        .assert()
        .success();
    let left: Vec<String> = fs::read_dir(root.path().join("r"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|name| name.ends_with(".csv")), "{left:?}");
}

/// The commands of docs/distributed.md in any order with the default folders: a sweep
/// and shards nested in a run's folder survive the run being written
/// again, and the merge lands beside them.
#[test]
fn issue_14_nested_sweep_and_shards_survive_a_new_run_report() {
    let root = tempfile::tempdir().unwrap();
    let scenario = tiny_scenario();
    let scenario = scenario.to_str().unwrap();
    let run = || {
        queuesim_in(root.path())
            .args(["run", "-q", scenario])
            .assert()
            .success();
    };
    run();
    queuesim_in(root.path())
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
        queuesim_in(root.path())
            .args(["run", "-q", scenario, "--shard", &format!("{i}/2")])
            .assert()
            .success();
    }
    run();
    let tiny = root.path().join("reports/tiny");
    assert!(tiny.join("sweep/sweep.csv").is_file());
    assert!(tiny.join("shard-1-of-2/shard.json").is_file());
    queuesim_in(root.path())
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
    let scenario = tiny_scenario();
    for i in 0..2 {
        let mut command = queuesim_in(root);
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
    let output = queuesim_in(root)
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
    let histograms = second.join("histograms.bin");
    let bytes = fs::read(&histograms).unwrap();
    fs::write(&histograms, &bytes[..bytes.len() / 2]).unwrap();
    merge_refused(root.path(), "histograms.bin was changed");
    fs::write(&histograms, bytes).unwrap();
    let summary = second.join("replications-summary.csv");
    let edited = fs::read_to_string(&summary).unwrap().replacen(',', ",9", 3);
    fs::write(&summary, edited).unwrap();
    merge_refused(root.path(), "replications-summary.csv was changed");
}

fn scenario_with(dir: &Path, producer: &str) -> PathBuf {
    let text = format!(
        "[simulation]\nduration = 10\n[[producers]]\nname = \"p\"\nto = \"q\"\n{producer}\n\
         [[queues]]\nname = \"q\"\n[queues.consumers]\n\
         service = {{ dist = \"exponential\", mean = 0.0001 }}\n"
    );
    let path = dir.join("s.toml");
    fs::write(&path, text).unwrap();
    path
}

fn refused_at_once(root: &Path, args: &[&str], expected: &str) {
    let started = std::time::Instant::now();
    let output = queuesim_in(root).args(args).output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn issue_14_an_on_off_pattern_too_fast_for_the_clock_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let pattern =
        "pattern = { kind = \"onoff\", on = \"1e-300s\", off = \"1e-300s\", rate_on = 1e6 }";
    let scenario = scenario_with(root.path(), pattern);
    refused_at_once(
        root.path(),
        &["run", "-q", scenario.to_str().unwrap()],
        "the clock cannot advance",
    );
}

#[cfg(unix)]
#[test]
fn issue_14_a_trace_that_is_a_pipe_or_a_device_is_refused_not_read() {
    let root = tempfile::tempdir().unwrap();
    let fifo = std::ffi::CString::new(root.path().join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    for (trace, what) in [("fifo", "a named pipe"), ("/dev/zero", "a device")] {
        let scenario = scenario_with(root.path(), &format!("trace = {trace:?}"));
        refused_at_once(root.path(), &["validate", scenario.to_str().unwrap()], what);
    }
}

#[test]
fn issue_14_an_error_about_a_trace_does_not_echo_the_file() {
    let root = tempfile::tempdir().unwrap();
    fs::write(root.path().join("secret"), "root:s3cr3t-hash:0:0\n").unwrap();
    let scenario = scenario_with(root.path(), "trace = \"secret\"");
    let output = queuesim_in(root.path())
        .args(["validate", scenario.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
}

#[test]
fn issue_14_zero_threads_is_refused_and_every_simulating_command_takes_threads() {
    let root = tempfile::tempdir().unwrap();
    let scenario = tiny_scenario();
    let scenario = scenario.to_str().unwrap();
    refused_at_once(
        root.path(),
        &["run", "-q", scenario, "--threads", "0"],
        "at least 1",
    );
    queuesim_in(root.path())
        .args([
            "sweep",
            "-q",
            scenario,
            "--set",
            "producers.web.rate=[50,60]",
        ])
        .args(["--threads", "1"])
        .assert()
        .success();
    let output = queuesim_in(root.path())
        .args(["run", "-q", scenario, "--threads", "100000", "--out", "t"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        stderr_of(&output).contains("per core"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn issue_14_a_huge_sweep_grid_is_refused_before_any_point_is_built() {
    let root = tempfile::tempdir().unwrap();
    let scenario = tiny_scenario();
    refused_at_once(
        root.path(),
        &[
            "sweep",
            scenario.to_str().unwrap(),
            "--set",
            "producers.web.rate=1..1000",
            "--set",
            "simulation.seed=1..1000",
        ],
        "1000000 points",
    );
}

/// Starts `args`, sends SIGTERM after `delay_ms` and returns the exit
/// status and how long the command took to stop.
#[cfg(unix)]
fn stop_after(root: &Path, args: &[&str], delay_ms: u64) -> (Option<i32>, std::time::Duration) {
    let binary = crate::util::queuesim_path();
    let mut child = std::process::Command::new(binary)
        .args(args)
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let sent = std::time::Instant::now();
    let status = child.wait().unwrap();
    (status.code(), sent.elapsed())
}

#[cfg(unix)]
#[test]
fn issue_14_sigterm_stops_a_huge_model_a_billion_replications_and_a_big_sweep_promptly() {
    let root = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mm1.toml");
    let scenario = scenario.to_str().unwrap();
    let queues = 60_000;
    let mut big = String::from(
        "[simulation]\nduration = 2\nsample_every = \"1s\"\n[[producers]]\nname = \"p\"\n\
         to = \"x\"\nrate = 10\n[[exchanges]]\nname = \"x\"\nkind = \"fanout\"\nroutes = [",
    );
    let routes: Vec<String> = (0..queues)
        .map(|i| format!("{{ to = \"q{i}\" }}"))
        .collect();
    big.push_str(&routes.join(","));
    big.push_str("]\n");
    for i in 0..queues {
        big.push_str(&format!(
            "[[queues]]\nname = \"q{i}\"\n[queues.consumers]\n\
             service = {{ dist = \"exponential\", mean = 0.001 }}\n"
        ));
    }
    fs::write(root.path().join("big.toml"), big).unwrap();
    let cases: [&[&str]; 3] = [
        &["run", "-q", "big.toml", "--out", "c"],
        &[
            "run",
            "-q",
            scenario,
            "--replications",
            "1000000000",
            "--out",
            "a",
        ],
        &[
            "sweep",
            "-q",
            scenario,
            "--set",
            "producers.source.rate=1..100",
            "--set",
            "simulation.seed=1..100",
            "--out",
            "b",
        ],
    ];
    for args in cases {
        for delay_ms in [50, 600] {
            let (code, took) = stop_after(root.path(), args, delay_ms);
            assert_eq!(code, Some(130), "{args:?} after {delay_ms} ms");
            assert!(took.as_millis() < 1000, "{args:?}: {took:?}");
        }
    }
    for out in ["a", "b", "c"] {
        assert!(!root.path().join(out).exists(), "{out} was left behind");
    }
}

#[test]
fn issue_14_a_wrong_type_names_no_internal_type_and_seeds_take_the_u64_range() {
    let root = tempfile::tempdir().unwrap();
    let scenario = tiny_scenario();
    let scenario = scenario.to_str().unwrap();
    for value in ["simulation=5", "simulation=[1]"] {
        let output = queuesim_in(root.path())
            .args(["validate", scenario, "--set", value])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("expected a table") && !stderr.contains("Raw"),
            "{value}: {stderr}"
        );
    }
    let output = queuesim_in(root.path())
        .args(["validate", scenario, "--seed", "18446744073709551615"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("seed 18446744073709551615"), "{stdout}");
}

/// Every file under `dir` by path relative to it, with its bytes.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = fs::read(&path).unwrap_or_default();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    for (relative, bytes) in snapshot(from) {
        let path = to.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
}

/// Fault injection: `run`, `sweep` and `merge` rewrite a report folder and
/// are killed at random instants (SIGKILL, SIGTERM or SIGINT); the folder
/// always holds the complete old report or the complete new one. Trials
/// per command: `QUEUESIM_FAULT_TRIALS` (default 20).
#[cfg(unix)]
#[test]
fn issue_14_a_report_killed_at_any_instant_is_the_old_one_or_the_new_one() {
    let trials: u64 = std::env::var("QUEUESIM_FAULT_TRIALS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(20);
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let scenario = tiny_scenario();
    let scenario = scenario.to_str().unwrap();
    for i in 0..2 {
        for seed in ["1", "2"] {
            queuesim_in(root)
                .args([
                    "run",
                    "-q",
                    scenario,
                    "--seed",
                    seed,
                    "--replications",
                    "40",
                ])
                .args([
                    "--shard",
                    &format!("{i}/2"),
                    "--out",
                    &format!("shard{seed}-{i}"),
                ])
                .assert()
                .success();
        }
    }
    let big = [
        "--set",
        "simulation.sample_every=0.002",
        "--replications",
        "40",
    ];
    let sweep_axis = ["--set", "producers.web.rate=[40,50,60]"];
    let commands: [(&str, Vec<&str>, Vec<&str>); 3] = [
        (
            "run",
            [&["run", "-q", scenario, "--seed", "1"][..], &big].concat(),
            [&["run", "-q", scenario, "--seed", "2"][..], &big].concat(),
        ),
        (
            "sweep",
            [&["sweep", "-q", scenario, "--seed", "1"][..], &sweep_axis].concat(),
            [&["sweep", "-q", scenario, "--seed", "2"][..], &sweep_axis].concat(),
        ),
        (
            "merge",
            vec!["merge", "-q", "shard1-0", "shard1-1"],
            vec!["merge", "-q", "shard2-0", "shard2-1"],
        ),
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut outcomes = [0u32; 2];
    for (name, old_args, new_args) in commands {
        let target = root.join(format!("{name}-target"));
        let reference = |args: &[&str], out: &str| {
            let started = std::time::Instant::now();
            let into = ["--out", target.to_str().unwrap()];
            queuesim_in(root).args(args).args(into).assert().success();
            let took = started.elapsed();
            fs::rename(&target, root.join(out)).unwrap();
            (snapshot(&root.join(out)), took)
        };
        let (old, _) = reference(&old_args, &format!("{name}-old"));
        let (new, took) = reference(&new_args, &format!("{name}-new"));
        assert_ne!(old, new, "{name}: the two reports must differ");
        for _ in 0..trials {
            copy_tree(&root.join(format!("{name}-old")), &target);
            let binary = crate::util::queuesim_path();
            let mut child = std::process::Command::new(binary)
                .args(&new_args)
                .args(["--out", target.to_str().unwrap()])
                .current_dir(root)
                .stderr(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let delay_us = next() % (took.as_micros() as u64 * 6 / 5 + 1);
            std::thread::sleep(std::time::Duration::from_micros(delay_us));
            let signal = [libc::SIGKILL, libc::SIGTERM, libc::SIGINT][(next() % 3) as usize];
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, signal) };
            child.wait().unwrap();
            let now = snapshot(&target);
            let which = if now == old {
                0
            } else if now == new {
                1
            } else {
                panic!(
                    "{name}: after signal {signal} at {delay_us} us the folder is neither report: {:?}",
                    now.keys().collect::<Vec<_>>()
                );
            };
            outcomes[which] += 1;
        }
    }
    eprintln!("fault injection: {outcomes:?} (old, new) over {trials} trials per command");
    assert!(outcomes[0] > 0, "no trial caught a command before its swap");
}
