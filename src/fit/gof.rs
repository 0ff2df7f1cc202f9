//! Goodness of fit: the Kolmogorov–Smirnov statistic of a fitted family and
//! its p-value, and the checks that interarrival gaps come from a Poisson
//! process.
//!
//! The KS p-value uses the asymptotic Kolmogorov distribution (statrs'
//! `TwoSidedAsymptotic`) as if the distribution had been fixed in advance.
//! Its parameters were estimated from the same values, which makes the fit
//! look better than it is: the p-values are conservative (too large). They
//! still rank the families, and a small one is a real misfit.

use statrs::distribution::{ChiSquared, ContinuousCDF, Exp, Gamma, LogNormal, Weibull};
use statrs::function::erf::erfc;
use statrs::stats_tests::NaNPolicy;
use statrs::stats_tests::ks_test::{KSOneSampleAlternativeMethod, ks_onesample};

use super::Family;
use super::mle::Mle;

/// Mean number of arrivals per window of the dispersion check.
const ARRIVALS_PER_WINDOW: f64 = 10.0;
/// Fewest windows for which the dispersion check is made.
const MIN_WINDOWS: usize = 10;
/// Family-wise level of the Poisson checks, split over the three of them
/// (Bonferroni).
const POISSON_LEVEL: f64 = 0.05;

/// A fitted family as a statrs distribution, for its CDF and quantiles.
#[derive(Debug, Clone, Copy)]
pub(super) enum Model {
    Exponential(Exp),
    Gamma(Gamma),
    LogNormal(LogNormal),
    Weibull(Weibull),
}

impl Model {
    /// The distribution of an estimate.
    ///
    /// # Errors
    ///
    /// When statrs rejects the parameters (they were already validated by
    /// [`crate::dist::Dist`], so only in corner cases such as overflow).
    pub fn of(mle: &Mle) -> Result<Model, String> {
        let p = |i: usize| mle.params[i].value;
        let model = match mle.family {
            Family::Exponential => Exp::new(1.0 / p(0)).map(Model::Exponential).ok(),
            Family::Gamma => Gamma::new(p(0), 1.0 / p(1)).map(Model::Gamma).ok(),
            Family::LogNormal => LogNormal::new(p(0), p(1)).map(Model::LogNormal).ok(),
            Family::Weibull => Weibull::new(p(0), p(1)).map(Model::Weibull).ok(),
        };
        model.ok_or_else(|| format!("no CDF for the estimated parameters {:?}", mle.params))
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            Model::Exponential(d) => d.cdf(x),
            Model::Gamma(d) => d.cdf(x),
            Model::LogNormal(d) => d.cdf(x),
            Model::Weibull(d) => d.cdf(x),
        }
    }

    /// The quantile of probability `p` (the inverse of [`Model::cdf`]).
    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            Model::Exponential(d) => d.inverse_cdf(p),
            Model::Gamma(d) => d.inverse_cdf(p),
            Model::LogNormal(d) => d.inverse_cdf(p),
            Model::Weibull(d) => d.inverse_cdf(p),
        }
    }

    /// Kolmogorov–Smirnov statistic of `values` against the model, and its
    /// asymptotic p-value.
    pub fn ks(&self, values: &[f64]) -> Ks {
        let data = values.to_vec();
        let method = || KSOneSampleAlternativeMethod::TwoSidedAsymptotic;
        let result = match self {
            Model::Exponential(d) => ks_onesample(data, d, method(), NaNPolicy::Error),
            Model::Gamma(d) => ks_onesample(data, d, method(), NaNPolicy::Error),
            Model::LogNormal(d) => ks_onesample(data, d, method(), NaNPolicy::Error),
            Model::Weibull(d) => ks_onesample(data, d, method(), NaNPolicy::Error),
        };
        let (statistic, p_value) = result.unwrap_or((f64::NAN, f64::NAN));
        Ks { statistic, p_value }
    }
}

/// A Kolmogorov–Smirnov test result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ks {
    /// sup |F_n(x) − F(x)|.
    pub statistic: f64,
    /// Asymptotic p-value (conservative with estimated parameters).
    pub p_value: f64,
}

/// Whether interarrival gaps look like those of a Poisson process: gaps
/// that are exponential and independent, so that counts in windows have
/// variance equal to their mean.
///
/// Each of the three checks (exponential KS, lag-1 autocorrelation, count
/// dispersion) is held to 0.05/3 so that a true Poisson process is called
/// inconsistent in at most about 5% of samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PoissonCheck {
    /// Arrival rate 1/mean gap, per second: the `rate` of a Poisson producer.
    pub rate_per_s: f64,
    /// Coefficient of variation of the gaps (1 for a Poisson process).
    pub cv: f64,
    /// KS statistic of the gaps against the exponential with their mean.
    pub exponential_ks_statistic: f64,
    /// Its p-value (conservative: the rate is estimated).
    pub exponential_ks_p_value: f64,
    /// Correlation of successive gaps (0 for independent gaps).
    pub lag1_autocorrelation: f64,
    /// Two-sided p-value of that correlation under independence
    /// (normal approximation, standard error 1/√n).
    pub lag1_p_value: f64,
    /// Dispersion of counts in windows; `None` when the arrivals span
    /// fewer than 10 windows of about 10 arrivals.
    pub dispersion: Option<Dispersion>,
    /// Level each check is held to (0.05/3).
    pub level: f64,
    /// Whether every check passes at `level`.
    pub consistent: bool,
}

/// Index of dispersion of the counts of arrivals in windows of equal width.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Dispersion {
    /// Width of a window, seconds (10 mean gaps).
    pub window_s: f64,
    /// Number of whole windows the arrivals span.
    pub windows: usize,
    /// Mean count per window.
    pub mean_count: f64,
    /// Variance / mean of the counts (1 for a Poisson process, above 1 for
    /// bursty arrivals, below 1 for regular ones).
    pub index: f64,
    /// Two-sided p-value of (windows − 1) · index against χ²(windows − 1).
    pub p_value: f64,
}

/// Checks `gaps` (positive interarrival times in arrival order, at least 2)
/// against a Poisson process.
pub(super) fn poisson_check(gaps: &[f64]) -> PoissonCheck {
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let sum_sq: f64 = gaps.iter().map(|g| (g - mean).powi(2)).sum();
    let cv = (sum_sq / n).sqrt() / mean;
    let ks = Exp::new(1.0 / mean).map_or(
        Ks {
            statistic: f64::NAN,
            p_value: f64::NAN,
        },
        |d| Model::Exponential(d).ks(gaps),
    );
    let lag1: f64 = gaps
        .windows(2)
        .map(|w| (w[0] - mean) * (w[1] - mean))
        .sum::<f64>()
        / sum_sq;
    let lag1_p_value = erfc(lag1.abs() * n.sqrt() / std::f64::consts::SQRT_2);
    let dispersion = dispersion(gaps, ARRIVALS_PER_WINDOW * mean);
    let level = POISSON_LEVEL / 3.0;
    let consistent = ks.p_value >= level
        && lag1_p_value >= level
        && dispersion.as_ref().is_none_or(|d| d.p_value >= level);
    PoissonCheck {
        rate_per_s: 1.0 / mean,
        cv,
        exponential_ks_statistic: ks.statistic,
        exponential_ks_p_value: ks.p_value,
        lag1_autocorrelation: lag1,
        lag1_p_value,
        dispersion,
        level,
        consistent,
    }
}

/// Counts the arrivals (at the cumulative sums of `gaps`) in consecutive
/// windows of `window_s` and compares their variance with their mean.
fn dispersion(gaps: &[f64], window_s: f64) -> Option<Dispersion> {
    let span_s: f64 = gaps.iter().sum();
    let windows = (span_s / window_s).floor() as usize;
    if windows < MIN_WINDOWS {
        return None;
    }
    let mut counts = vec![0.0f64; windows];
    let mut time_s = 0.0;
    for gap in gaps {
        time_s += gap;
        let window = (time_s / window_s) as usize;
        if let Some(count) = counts.get_mut(window) {
            *count += 1.0;
        }
    }
    let m = windows as f64;
    let mean_count = counts.iter().sum::<f64>() / m;
    let variance = counts.iter().map(|c| (c - mean_count).powi(2)).sum::<f64>() / (m - 1.0);
    let index = variance / mean_count;
    let p_value = ChiSquared::new(m - 1.0).map_or(f64::NAN, |chi2| {
        let statistic = (m - 1.0) * index;
        (2.0 * chi2.cdf(statistic).min(chi2.sf(statistic))).min(1.0)
    });
    Some(Dispersion {
        window_s,
        windows,
        mean_count,
        index,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn draw(dist: &Dist, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| dist.sample(&mut rng)).collect()
    }

    #[test]
    fn ks_statistic_of_a_tiny_sample_by_hand() {
        let model = Model::Exponential(Exp::new(1.0).unwrap());
        let ks = model.ks(&[1.0]);
        let f = 1.0 - (-1.0f64).exp();
        assert!((ks.statistic - f.max(1.0 - f)).abs() < 1e-12);
    }

    #[test]
    fn exponential_gaps_pass_the_poisson_checks() {
        let gaps = draw(&Dist::exponential(0.01).unwrap(), 10_000, 11);
        let check = poisson_check(&gaps);
        assert!(check.consistent, "{check:?}");
        let dispersion = check.dispersion.unwrap();
        assert!((dispersion.mean_count - ARRIVALS_PER_WINDOW).abs() < 0.5);
    }

    #[test]
    fn bursty_and_regular_gaps_fail_them() {
        let bursty = poisson_check(&draw(
            &Dist::with_mean_cv("hyperexponential", 0.01, 3.0).unwrap(),
            10_000,
            12,
        ));
        assert!(!bursty.consistent, "{bursty:?}");
        assert!(bursty.dispersion.unwrap().index > 1.5, "{bursty:?}");
        let regular = poisson_check(&draw(&Dist::gamma(4.0, 0.0025).unwrap(), 10_000, 13));
        assert!(!regular.consistent, "{regular:?}");
        assert!(regular.dispersion.unwrap().index < 0.5, "{regular:?}");
    }

    #[test]
    fn correlated_gaps_fail_the_independence_check() {
        let base = draw(&Dist::exponential(0.01).unwrap(), 5_001, 14);
        let smoothed: Vec<f64> = base.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
        let check = poisson_check(&smoothed);
        assert!(check.lag1_autocorrelation > 0.4, "{check:?}");
        assert!(!check.consistent);
    }

    #[test]
    fn few_gaps_skip_the_dispersion_check() {
        let check = poisson_check(&draw(&Dist::exponential(1.0).unwrap(), 50, 15));
        assert!(check.dispersion.is_none());
    }
}
