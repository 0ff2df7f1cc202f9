//! The terminal experience of long commands: a progress bar that appears
//! only when work lasts longer than a second on a terminal, and colours
//! only where they help (a terminal, and never with `NO_COLOR`).

use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use indicatif::style::TemplateError;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Work shorter than this shows no progress bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// Redraw interval of a visible bar.
const TICK: Duration = Duration::from_millis(120);

/// Whether stderr may carry ANSI colours: it is a terminal and `NO_COLOR`
/// is unset or empty (<https://no-color.org>).
pub fn colours_on_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `warning:` in bold yellow when colours are allowed.
pub fn warning_prefix() -> &'static str {
    if colours_on_stderr() {
        "\x1b[1;33mwarning:\x1b[0m"
    } else {
        "warning:"
    }
}

/// Runs `work`, which reports each finished unit (of `total`) with
/// `ProgressBar::inc`. A bar counting `unit` appears on stderr once the work
/// has lasted [`SHOW_AFTER`], if `wanted` and stderr is a terminal; it is
/// removed when the work ends. The bar only observes: it cannot change
/// what `work` computes.
pub fn with_progress<T>(
    total: u64,
    unit: &str,
    wanted: bool,
    work: impl FnOnce(&ProgressBar) -> T,
) -> T {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        bar_style(unit, colours_on_stderr()).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if !wanted || !std::io::stderr().is_terminal() {
        return work(&bar);
    }
    let (done, finished) = mpsc::channel::<()>();
    let output = std::thread::scope(|scope| {
        let watched = bar.clone();
        let watcher = scope.spawn(move || {
            if finished.recv_timeout(SHOW_AFTER) == Err(RecvTimeoutError::Timeout) {
                watched.set_draw_target(ProgressDrawTarget::stderr());
                watched.enable_steady_tick(TICK);
            }
        });
        let output = work(&bar);
        let _ = done.send(());
        let _ = watcher.join();
        output
    });
    bar.finish_and_clear();
    output
}

fn bar_style(unit: &str, colours: bool) -> Result<ProgressStyle, TemplateError> {
    let bar = if colours {
        "{bar:40.cyan/blue}"
    } else {
        "{bar:40}"
    };
    let template =
        format!("{{spinner}} [{bar}] {{pos}}/{{len}} {unit} ({{elapsed}}, about {{eta}} left)");
    Ok(ProgressStyle::with_template(&template)?.progress_chars("=> "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_to_completion_without_a_terminal() {
        let total = with_progress(4, "replications", true, |bar| {
            (0..4u64).inspect(|_| bar.inc(1)).sum::<u64>()
        });
        assert_eq!(total, 6);
    }

    #[test]
    fn both_bar_templates_parse() {
        for colours in [false, true] {
            assert!(
                bar_style("replications", colours).is_ok(),
                "colours {colours}"
            );
        }
    }
}
