//! The aligned summary table printed on the terminal after a run.

use std::fmt::Write;

use super::numbers;
use crate::results::{Quantity, RunResult, SummaryMetric};
use crate::stats::Estimate;

/// A number with four significant digits, or `-` when undefined.
pub fn short(value: f64) -> String {
    if value.is_nan() {
        return "-".to_string();
    }
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    if (-3..6).contains(&magnitude) {
        let decimals = (3 - magnitude).max(0) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{value:.3e}")
    }
}

fn push_row(out: &mut String, cells: &[String], widths: &[usize]) {
    let line: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, &w))| {
            if i == 0 {
                format!("{cell:<w$}")
            } else {
                format!("{cell:>w$}")
            }
        })
        .collect();
    let _ = writeln!(out, "{}", line.join("  ").trim_end());
}

/// Aligned columns, two spaces apart: the first left-aligned, the others
/// right-aligned, each as wide as its widest cell.
pub fn grid<H: AsRef<str>>(header: &[H], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.as_ref().chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.as_ref().to_owned()).collect();
    push_row(&mut out, &header, &widths);
    rows.iter().for_each(|row| push_row(&mut out, row, &widths));
    out
}

/// The summary and per-queue tables, with 95% confidence half-widths,
/// each number with its unit ([`numbers`]).
pub fn summary(result: &RunResult) -> String {
    let s = &result.summary;
    let rows: Vec<Vec<String>> = SummaryMetric::ALL
        .iter()
        .map(|m| vec![m.name().to_owned(), with_unit(m.quantity(), m.of(s))])
        .collect();
    let mut out = grid(&["metric", "mean ± 95% CI"], &rows);
    out.push('\n');
    let node_rows: Vec<Vec<String>> = result
        .nodes
        .iter()
        .map(|n| {
            let lost = n.dropped.mean + n.expired.mean + n.dead_lettered_rejected.mean;
            vec![
                n.node.clone(),
                with_unit(Quantity::Plain, n.utilization),
                with_unit(Quantity::Seconds, n.mean_wait),
                numbers::value(Quantity::Seconds, n.p99_wait.mean),
                with_unit(Quantity::Seconds, n.mean_sojourn),
                numbers::value(Quantity::Plain, n.mean_in_queue.mean),
                numbers::value(Quantity::PerSecond, n.throughput.mean),
                numbers::count(lost),
            ]
        })
        .collect();
    out.push_str(&grid(
        &[
            "node",
            "utilization",
            "mean_wait",
            "p99_wait",
            "mean_sojourn",
            "mean_in_queue",
            "throughput",
            "lost",
        ],
        &node_rows,
    ));
    out.push_str(&theory_line(result));
    out
}

fn with_unit(quantity: Quantity, estimate: Estimate) -> String {
    numbers::estimate(quantity, estimate.mean, estimate.ci95)
}

/// One line comparing the exact theoretical values of `nodes.csv` with the
/// simulated 95% intervals (plus [`crate::results::THEORY_SLACK`]).
fn theory_line(result: &RunResult) -> String {
    let checked = result.nodes.iter().filter(|n| n.theory.is_some()).count();
    if checked == 0 {
        return String::new();
    }
    match crate::results::theory_disagreements(result).as_slice() {
        [] => format!(
            "\ntheory: exact results for {checked} queue(s) lie within the simulated 95% CI (+2%)\n"
        ),
        outside => format!(
            "\ntheory OUTSIDE the simulated 95% CI (+2%): {}\n",
            outside.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers_keep_four_significant_digits() {
        assert_eq!(short(0.012345), "0.01235");
        assert_eq!(short(1234.5), "1234");
        assert_eq!(short(12.0), "12.00");
        assert_eq!(short(1.5e-7), "1.500e-7");
        assert_eq!(short(f64::NAN), "-");
    }

    #[test]
    fn grid_aligns_columns() {
        let grid = grid(&["a", "bb"], &[vec!["long".into(), "1".into()]]);
        assert_eq!(grid, "a     bb\nlong   1\n");
    }
}
