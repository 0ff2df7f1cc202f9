//! Point estimates with 95% confidence intervals across replications.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The 97.5% quantile of Student's t with `df` degrees of freedom: the
/// multiplier of the standard error in a two-sided 95% interval.
pub fn student_t_975(df: u64) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

/// Mean over replications and the half-width of its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean of the replication values (NaN replications are left out).
    pub mean: f64,
    /// Half-width of the 95% Student-t interval; NaN with fewer than two values.
    pub ci95: f64,
}

impl Default for Estimate {
    /// An undefined estimate: no observation yet.
    fn default() -> Self {
        Self {
            mean: f64::NAN,
            ci95: f64::NAN,
        }
    }
}

impl Estimate {
    /// Estimate from one value per replication, ignoring NaN (undefined) values.
    pub fn from_replications(values: impl IntoIterator<Item = f64>) -> Self {
        let defined: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
        let n = defined.len();
        if n == 0 {
            return Self::default();
        }
        let mean = defined.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Self {
                mean,
                ci95: f64::NAN,
            };
        }
        let variance = defined.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let ci95 = student_t_975(n as u64 - 1) * (variance / n as f64).sqrt();
        Self { mean, ci95 }
    }

    /// Whether `value` lies inside the interval widened by `slack` (relative to the mean).
    pub fn covers(&self, value: f64, slack: f64) -> bool {
        (self.mean - value).abs() <= self.ci95 + slack * self.mean.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantile_matches_tables() {
        assert!((student_t_975(9) - 2.262_157_162_8).abs() < 1e-8);
        assert!((student_t_975(1) - 12.706_204_736).abs() < 1e-6);
    }

    #[test]
    fn estimate_of_known_sample() {
        let e = Estimate::from_replications([1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        let expected = student_t_975(3) * (5.0f64 / 3.0 / 4.0).sqrt();
        assert!((e.ci95 - expected).abs() < 1e-12);
    }

    #[test]
    fn single_replication_has_no_interval() {
        let e = Estimate::from_replications([7.0]);
        assert_eq!(e.mean, 7.0);
        assert!(e.ci95.is_nan());
    }
}
