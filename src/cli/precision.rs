//! `queuesim run --precision`: how many replications a run needs.

use super::{Failure, interrupt};
use queuesim::experiment::metrics::metric_names;
use queuesim::experiment::precision::run_to_precision;
use queuesim::model::Model;
use queuesim::report::table::short;

/// Runs replications of `model` until `metric`'s 95% CI half-width is
/// within `precision` of its mean (or `cap` replications, with a warning)
/// and returns the model set to that many replications, ready for the
/// report.
pub(crate) fn settle(
    model: &Model,
    precision: f64,
    metric: &str,
    cap: u32,
    quiet: bool,
) -> Result<Model, Failure> {
    if !(precision.is_finite() && precision > 0.0) {
        return Err(Failure::Input(format!(
            "--precision {precision}: expected a fraction > 0, for example 0.02"
        )));
    }
    let names = metric_names(model);
    let index = names.iter().position(|n| n == metric).ok_or_else(|| {
        Failure::Input(format!(
            "--precision-metric `{metric}` is not a metric of {}; metrics: {}",
            model.name,
            names.join(", ")
        ))
    })?;
    let precise = run_to_precision(model, index, precision, cap);
    interrupt::check(|| {
        format!(
            "stopped while adding replications to {}; no report was written",
            model.name
        )
    })?;
    let n = precise.replications;
    let e = precise.estimate;
    if !precise.reached {
        eprintln!(
            "warning: {}: {metric} = {} ± {} after {n} replications (the cap, --max-replications): \
             the CI half-width is {:.2}% of the mean, not the {:.2}% asked for",
            model.name,
            short(e.mean),
            short(e.ci95),
            100.0 * e.ci95 / e.mean.abs(),
            100.0 * precision
        );
    } else if !quiet {
        eprintln!(
            "{}: {metric} = {} ± {} with {n} replications (within {:.2}%)",
            model.name,
            short(e.mean),
            short(e.ci95),
            100.0 * precision
        );
    }
    let mut settled = model.clone();
    settled.simulation.replications = n;
    Ok(settled)
}
