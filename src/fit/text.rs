//! The terminal rendering of a [`FitReport`]: a summary of the values, the
//! aligned ranking table, the line to paste into a scenario and, for
//! interarrival times, the Poisson-process checks.

use std::fmt::Write;

use super::{FamilyFit, FitReport, PoissonCheck, toml_number};
use crate::report::table::short;

/// Column headers of the ranking table; the first two are left-aligned.
const HEADER: [&str; 9] = [
    "rank",
    "family",
    "parameters (± standard error)",
    "mean_s",
    "cv",
    "ks_d",
    "ks_p",
    "aic",
    "delta_aic",
];

/// The whole report as text; `source` names the values, e.g.
/// `times.csv, column "latency"`.
pub fn render(report: &FitReport, source: &str) -> String {
    let s = &report.sample;
    let mut out = format!(
        "{source} ({}): {} values, mean {} s, cv {}, min {} s, median {} s, max {} s\n\n",
        report.kind.key(),
        s.n,
        short(s.mean_s),
        short(s.cv),
        short(s.min_s),
        short(s.median_s),
        short(s.max_s)
    );
    let rows: Vec<Vec<String>> = report.fits.iter().map(row).collect();
    out.push_str(&grid(&rows));
    for skipped in &report.skipped {
        let _ = writeln!(
            out,
            "{}: not fitted ({})",
            skipped.family.name(),
            skipped.reason
        );
    }
    let best = report.best();
    let _ = writeln!(
        out,
        "\nRanked by the Kolmogorov–Smirnov distance ks_d (p-values are conservative: \
         the parameters were estimated from these values)."
    );
    if report.best_by_aic != best.family {
        let _ = writeln!(
            out,
            "Note: AIC prefers {} to {}; compare their QQ plots (--plot).",
            report.best_by_aic.name(),
            best.family.name()
        );
    }
    let _ = writeln!(
        out,
        "\nPaste into {}:\n{}",
        report.kind.table(),
        report.toml
    );
    if let Some(check) = &report.poisson {
        out.push('\n');
        out.push_str(&poisson(check));
    }
    out
}

fn row(fit: &FamilyFit) -> Vec<String> {
    let params = fit
        .params
        .iter()
        .map(|p| format!("{} {} ± {}", p.name, short(p.value), short(p.std_error)))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        fit.rank.to_string(),
        fit.family.name().to_string(),
        params,
        short(fit.mean_s),
        short(fit.cv),
        short(fit.ks_statistic),
        p_value(fit.ks_p_value),
        format!("{:.1}", fit.aic),
        format!("{:.1}", fit.delta_aic),
    ]
}

/// A p-value with three decimals, `<0.001` below that.
fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

/// The table under [`HEADER`]: text columns left-aligned, numbers right-aligned.
fn grid(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &w))| {
                if (1..=2).contains(&i) {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&mut HEADER.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

fn poisson(check: &PoissonCheck) -> String {
    let mut out = format!(
        "Poisson-process check (each test at level {:.4}):\n",
        check.level
    );
    let _ = writeln!(
        out,
        "  cv of the gaps          {} (1 for a Poisson process)",
        short(check.cv)
    );
    let _ = writeln!(
        out,
        "  KS vs exponential       D = {}, p = {}",
        short(check.exponential_ks_statistic),
        p_value(check.exponential_ks_p_value)
    );
    let _ = writeln!(
        out,
        "  lag-1 autocorrelation   {}, p = {} (0 for independent gaps)",
        short(check.lag1_autocorrelation),
        p_value(check.lag1_p_value)
    );
    match &check.dispersion {
        Some(d) => {
            let _ = writeln!(
                out,
                "  dispersion of counts    variance/mean {} over {} windows of {} s \
                 ({} arrivals each on average), p = {} (1 for a Poisson process)",
                short(d.index),
                d.windows,
                short(d.window_s),
                short(d.mean_count),
                p_value(d.p_value)
            );
        }
        None => out.push_str(
            "  dispersion of counts    not checked: fewer than 10 windows of 10 arrivals\n",
        ),
    }
    if check.consistent {
        let _ = writeln!(
            out,
            "  => consistent with a Poisson process; in the [[producers]] entry, \
             `rate = {}` describes these arrivals as well",
            toml_number(check.rate_per_s)
        );
    } else {
        out.push_str(
            "  => not a Poisson process: use the fitted interarrival distribution above\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::fit::{Kind, fit};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn report(kind: Kind) -> FitReport {
        let dist = Dist::with_mean_cv("gamma", 0.02, 0.7).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let values: Vec<f64> = (0..2_000).map(|_| dist.sample(&mut rng)).collect();
        fit(&values, kind).unwrap()
    }

    #[test]
    fn the_table_is_aligned_and_ends_with_the_toml_line() {
        let text = render(&report(Kind::Service), "t.csv, column \"x\"");
        let lines: Vec<&str> = text.lines().collect();
        let header = lines.iter().position(|l| l.starts_with("rank")).unwrap();
        let widths: Vec<usize> = lines[header..header + 5]
            .iter()
            .map(|l| l.chars().count())
            .collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{text}");
        assert!(
            lines[header + 1].trim_start().starts_with("1  gamma"),
            "{text}"
        );
        assert!(text.contains("Paste into [queues.consumers]"));
        assert!(text.trim_end().ends_with(" }"), "{text}");
    }

    #[test]
    fn interarrival_reports_add_the_poisson_check() {
        let text = render(&report(Kind::Interarrival), "t.csv, column \"gap\"");
        assert!(text.contains("interarrival = { dist = \"gamma\""), "{text}");
        assert!(text.contains("dispersion of counts"), "{text}");
        assert!(text.contains("=> not a Poisson process"), "{text}");
    }
}
