//! Ctrl-C during the commands that simulate (`run`, `compare`, `sweep`,
//! `plan`): the first press asks the simulations to stop; the command then
//! writes nothing and exits with [`EXIT_STATUS`], saying what was written
//! before (complete reports only). A second press quits at once, removing the
//! temporary files of a report being written, if any. A termination signal
//! (SIGTERM, what `kill` and job schedulers send, or SIGHUP when the
//! terminal closes) is handled exactly as Ctrl-C: the handler cannot tell
//! them apart. A command that has not stopped 100 ms after the first
//! signal is ended as by a second one.

use std::path::PathBuf;

use super::Failure;
use queuesim::{engine, report};

/// Exit status of a command stopped by Ctrl-C: 128 + SIGINT, what a shell
/// reports for a process that SIGINT ended.
pub const EXIT_STATUS: u8 = 130;

/// Routes Ctrl-C, SIGTERM and SIGHUP to [`on_ctrl_c`] for the rest of the
/// process. If a handler cannot be installed, they keep their default
/// action (the process ends at once, which leaves at worst a temporary file).
pub(crate) fn install() {
    if let Err(e) = ctrlc::set_handler(on_ctrl_c) {
        eprintln!("warning: Ctrl-C will end the process without cleaning up: {e}");
    }
}

/// How long a command may take to stop cleanly after the first signal
/// before it is ended as a second signal would (loading a huge scenario,
/// drawing a plot of 10^5 queues): nothing is ever half-written either way.
const GRACE: std::time::Duration = std::time::Duration::from_millis(100);

fn on_ctrl_c() {
    if engine::stop_requested() {
        eprintln!("\ninterrupted again: quitting now");
        report::exit_removing_temporaries(EXIT_STATUS.into());
    }
    engine::request_stop();
    eprintln!(
        "\ninterrupted (Ctrl-C or a termination signal): stopping; interrupt again to quit now"
    );
    std::thread::spawn(|| {
        std::thread::sleep(GRACE);
        eprintln!("interrupted: stopped where it was; no report was written or changed");
        report::exit_removing_temporaries(EXIT_STATUS.into());
    });
}

/// `Err(Failure::Interrupted)` once Ctrl-C was pressed, with `unwritten()`
/// saying what is not written; `Ok` otherwise. Called right after each
/// simulation, whose results are then partial, and right before writing.
pub(crate) fn check(unwritten: impl FnOnce() -> String) -> Result<(), Failure> {
    if engine::stop_requested() {
        Err(Failure::Interrupted(unwritten()))
    } else {
        Ok(())
    }
}

/// `failure`, with the directories in `written` (complete results written
/// earlier by the same command) added to the message if it is an interruption.
pub(crate) fn noting_written(failure: Failure, written: &[PathBuf]) -> Failure {
    match failure {
        Failure::Interrupted(message) if !written.is_empty() => {
            let dirs: Vec<String> = written.iter().map(|d| d.display().to_string()).collect();
            Failure::Interrupted(format!(
                "{message}; complete results of the earlier scenarios are in {}",
                dirs.join(", ")
            ))
        }
        other => other,
    }
}
