//! Relative-precision stopping: replications until a metric is known to
//! within a fraction of its mean.
//!
//! After the scenario's replications (at least 2), the CI half-width `h` of
//! the target metric is compared with `precision · |mean|`. While it is
//! wider, the number of replications `n` needed is projected from
//! `h ∝ 1/√n` (at most doubling per round) and the missing replications
//! are run, continuing the numbering, up to a cap.

use std::ops::Range;

use super::metrics::Samples;
use crate::engine::{run_replications, stop_requested};
use crate::model::Model;
use crate::stats::Estimate;

/// The result of running to a precision.
#[derive(Debug, Clone)]
pub struct Precise {
    /// Replications run (numbered `0..replications`).
    pub replications: u32,
    /// The target metric's estimate over them.
    pub estimate: Estimate,
    /// Whether the precision was reached (false: the cap stopped the run).
    pub reached: bool,
}

/// Whether `estimate` is within `precision` of its mean.
pub fn is_precise(estimate: Estimate, precision: f64) -> bool {
    estimate.ci95 <= precision * estimate.mean.abs()
}

/// The next batch of replications to run after `done`: enough to reach
/// `precision` if the half-width shrinks as `1/√n`, at least one more, at
/// most twice as many, never past `cap`.
fn next_batch(done: u32, estimate: Estimate, precision: f64, cap: u32) -> Range<u32> {
    let ratio = estimate.ci95 / (precision * estimate.mean.abs());
    let needed = if ratio.is_finite() {
        (f64::from(done) * ratio * ratio).ceil() as u32
    } else {
        done * 2
    };
    done..needed.clamp(done + 1, done.saturating_mul(2)).min(cap)
}

/// Runs `model` until metric `metric` (an index into [`Samples::names`]) is
/// within `precision` (relative CI half-width) or `cap` replications ran.
/// Returns early, with partial replications, once a stop was requested
/// ([`crate::engine::request_stop`]).
pub fn run_to_precision(model: &Model, metric: usize, precision: f64, cap: u32) -> Precise {
    let mut samples = Samples::new(model);
    let mut batch = 0..model.simulation.replications.max(2).min(cap.max(2));
    loop {
        samples.extend(model, &run_replications(model, batch.clone()));
        let estimate = samples.estimate(metric);
        let done = batch.end;
        if is_precise(estimate, precision) || done >= cap || stop_requested() {
            return Precise {
                replications: done,
                estimate,
                reached: is_precise(estimate, precision),
            };
        }
        batch = next_batch(done, estimate, precision, cap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_follow_the_square_root_law_within_limits() {
        let e = |ci95| Estimate { mean: 1.0, ci95 };
        assert_eq!(next_batch(10, e(0.025), 0.02, 100), 10..16);
        assert_eq!(next_batch(10, e(0.2), 0.02, 100), 10..20);
        assert_eq!(next_batch(10, e(0.0201), 0.02, 100), 10..11);
        assert_eq!(next_batch(60, e(0.2), 0.02, 100), 60..100);
        assert_eq!(next_batch(4, e(f64::NAN), 0.02, 100), 4..8);
    }

    #[test]
    fn precision_is_relative_to_the_mean() {
        assert!(is_precise(
            Estimate {
                mean: -10.0,
                ci95: 0.1
            },
            0.02
        ));
        assert!(!is_precise(
            Estimate {
                mean: 1.0,
                ci95: 0.1
            },
            0.02
        ));
        assert!(!is_precise(
            Estimate {
                mean: 1.0,
                ci95: f64::NAN
            },
            0.02
        ));
    }
}
