//! Ctrl-C (SIGINT), and SIGTERM and SIGHUP alike: the commands that
//! simulate stop promptly with exit status 130, say that nothing was
//! written and leave no file; a second Ctrl-C while a report is being
//! written leaves no temporary file and no half-written report.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A run that lasts minutes: one M/M/1 queue on the event engine over 10^8 s.
const LONG: &str = "[simulation]\nduration = 1e8\nwarmup = 10\nreplications = 2\nengine = \"events\"\n\
    [[producers]]\nname = \"p\"\nto = \"q\"\nrate = 0.8\n\
    [[queues]]\nname = \"q\"\n[queues.consumers]\nservice = { dist = \"exponential\", mean = 1.0 }\n";

/// The same queue over 10^9 s on the default engine: the Lindley fast path.
const LONG_FAST: &str = "[simulation]\nduration = 1e9\nwarmup = 10\nreplications = 2\n\
    [[producers]]\nname = \"p\"\nto = \"q\"\nrate = 0.8\n\
    [[queues]]\nname = \"q\"\n[queues.consumers]\nservice = { dist = \"exponential\", mean = 1.0 }\n";

/// How long a stopped command may take to exit.
const PROMPT: Duration = Duration::from_secs(5);

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(crate::util::queuesim_path())
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn interrupt(child: &Child) {
    send(child, libc::SIGINT);
}

fn send(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a valid signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for `child` to exit, at most [`PROMPT`]; fails the test (killing
/// the child) if it does not.
fn wait_promptly(mut child: Child) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > PROMPT {
            child.kill().unwrap();
            panic!("still running {PROMPT:?} after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Every file under `dir`, recursively, relative names.
fn files_under(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .flat_map(|path| {
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path.display().to_string()]
            }
        })
        .collect()
}

/// Starts `args` in a fresh directory holding `long.toml` (the text
/// `scenario`), lets it simulate, presses Ctrl-C and checks the exit:
/// prompt, status 130, a message naming what was not written, no file but
/// the scenario.
fn assert_stops_cleanly(scenario: &str, args: &[&str], message: &str) {
    assert_stops_cleanly_on(libc::SIGINT, scenario, args, message);
}

/// [`assert_stops_cleanly`], sending `signal` instead of Ctrl-C's SIGINT.
fn assert_stops_cleanly_on(signal: libc::c_int, scenario: &str, args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("long.toml"), scenario).unwrap();
    let child = spawn(dir.path(), args);
    std::thread::sleep(Duration::from_millis(700));
    send(&child, signal);
    let output = wait_promptly(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{args:?}: {stderr}");
    assert!(
        stderr.contains("interrupted: ") && stderr.contains(message),
        "{args:?}: {stderr}"
    );
    let left = files_under(dir.path());
    assert_eq!(left.len(), 1, "{args:?} left {left:?}");
}

#[test]
fn ctrl_c_stops_a_long_run_promptly_and_writes_nothing() {
    assert_stops_cleanly(
        LONG,
        &["run", "long.toml", "--out", "out"],
        "no report was written to out",
    );
}

#[test]
fn ctrl_c_stops_a_long_fast_path_run_promptly_and_writes_nothing() {
    assert_stops_cleanly(
        LONG_FAST,
        &["run", "long.toml", "--out", "out"],
        "no report was written to out",
    );
}

#[test]
fn termination_signals_stop_a_run_as_ctrl_c_does() {
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        assert_stops_cleanly_on(
            signal,
            LONG,
            &["run", "long.toml", "--out", "out"],
            "no report was written to out",
        );
    }
}

#[test]
fn ctrl_c_stops_sweep_compare_plan_and_precision_runs() {
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "sweep",
                "long.toml",
                "--set",
                "producers.p.rate=0.1..0.9:0.1",
            ],
            "the sweep stopped",
        ),
        (
            &["compare", "long.toml", "long.toml"],
            "the comparison stopped",
        ),
        (
            &[
                "plan",
                "long.toml",
                "--vary",
                "queues.q.consumers.count=1..8",
                "--slo",
                "p99_latency<=5",
            ],
            "the search stopped before an answer",
        ),
        (
            &["run", "long.toml", "--precision", "0.0001"],
            "stopped while adding replications",
        ),
    ];
    for (args, message) in cases {
        assert_stops_cleanly(LONG, args, message);
    }
}

/// Waits until a temporary report file appears in `out` (the report is
/// being written) or the child exits; true in the first case.
fn wait_for_temporary(child: &mut Child, out: &Path) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if !staging_folders(out).is_empty() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    panic!("the run neither wrote nor ended within 30 s");
}

/// The staging folders of a report being written to `out`, beside it.
fn staging_folders(out: &Path) -> Vec<String> {
    let prefix = format!(".{}.staging-", out.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(out.parent().unwrap())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// `queuesim run` arguments that write an 18 MB report of `scenario` to `out`.
fn big_report<'a>(scenario: &'a str, out: &'a Path) -> Vec<&'a str> {
    vec![
        "run",
        "--quiet",
        scenario,
        "--set",
        "simulation.duration=40",
        "--set",
        "simulation.sample_every=0.0002",
        "--out",
        out.to_str().unwrap(),
    ]
}

/// Two Ctrl-C while the report files are being written (the second as soon
/// as the first is acknowledged): the process quits at once, and the output
/// directory holds no temporary file and either no report file or every one
/// of them, never a part of a report. The report is large (18 MB) so that
/// writing lasts long enough to be caught.
#[test]
fn a_second_ctrl_c_while_writing_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report_tiny.toml");
    let scenario = scenario.to_str().unwrap();
    let complete = {
        let out = dir.path().join("complete");
        let output = spawn(dir.path(), &big_report(scenario, &out))
            .wait_with_output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        files_under(&out).len()
    };
    let mut quit_while_writing = 0;
    for attempt in 0..10 {
        let out = dir.path().join(format!("out{attempt}"));
        let mut child = spawn(dir.path(), &big_report(scenario, &out));
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        if !wait_for_temporary(&mut child, &out) {
            continue;
        }
        interrupt(&child);
        let mut said = String::new();
        while stderr.read_line(&mut said).unwrap() > 0 && !said.contains("interrupt again") {}
        interrupt(&child);
        let output = wait_promptly(child);
        stderr.read_to_string(&mut said).unwrap();
        let left = files_under(&out);
        assert!(
            left.iter().all(|f| !f.ends_with(".tmp")),
            "temporary files left: {left:?}"
        );
        let staging = staging_folders(&out);
        assert!(staging.is_empty(), "staging folders left: {staging:?}");
        assert!(
            left.is_empty() || left.len() == complete,
            "a partial report: {left:?}"
        );
        match output.status.code() {
            Some(130) => {
                assert!(said.contains("quitting now"), "{said}");
                quit_while_writing += 1;
            }
            Some(0) => assert_eq!(left.len(), complete, "{said}"),
            other => panic!("exit status {other:?}: {said}"),
        }
    }
    assert!(
        quit_while_writing > 0,
        "no attempt caught the report being written"
    );
}
