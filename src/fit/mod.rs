//! Fitting distributions to measured times (`queuesim fit`).
//!
//! [`fit`] estimates exponential, gamma, lognormal and Weibull
//! distributions by maximum likelihood ([`mle`]), ranks them by the
//! Kolmogorov–Smirnov statistic (with AIC alongside, [`gof`]), and gives
//! the best one as the inline TOML table a scenario takes, e.g.
//! `{ dist = "gamma", mean = 0.01512, cv = 0.7903 }`. For interarrival
//! times it also checks whether the arrivals form a Poisson process.
//!
//! # Examples
//!
//! ```
//! use queuesim::fit::{Kind, fit};
//!
//! let gaps: Vec<f64> = (1..=200).map(|i| 0.001 * f64::from(i % 17 + 1)).collect();
//! let report = fit(&gaps, Kind::Interarrival)?;
//! assert!(report.toml.starts_with("interarrival = { dist = "));
//! assert!(report.poisson.is_some());
//! # Ok::<(), queuesim::fit::FitError>(())
//! ```

pub mod data;
pub mod gof;
pub mod mle;
pub mod plot;
pub mod text;

use crate::dist::{ColumnError, Dist};
use gof::Model;
pub use gof::{Dispersion, PoissonCheck};
pub use mle::Param;

/// Fewest values [`fit`] accepts: below this a two-parameter fit and its
/// goodness-of-fit statistics say little.
pub const MIN_VALUES: usize = 10;
/// Significant digits of the numbers in the suggested TOML table.
const TOML_DIGITS: usize = 4;

/// A family that [`fit`] tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// One parameter: the mean.
    Exponential,
    /// Shape and scale.
    Gamma,
    /// mu and sigma of ln x.
    LogNormal,
    /// Shape and scale.
    Weibull,
}

impl Family {
    /// Every family, in the order they are tried.
    pub const ALL: [Family; 4] = [
        Family::Exponential,
        Family::Gamma,
        Family::LogNormal,
        Family::Weibull,
    ];

    /// The name as written in scenario files (`dist = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            Family::Exponential => "exponential",
            Family::Gamma => "gamma",
            Family::LogNormal => "lognormal",
            Family::Weibull => "weibull",
        }
    }
}

/// What the values measure, which decides the scenario key they fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Processing times: `service` of `[queues.consumers]`.
    #[default]
    Service,
    /// Times between arrivals: `interarrival` of a `[[producers]]` entry;
    /// also checked against a Poisson process.
    Interarrival,
}

impl Kind {
    /// The scenario key the fitted distribution goes to.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Interarrival => "interarrival",
        }
    }

    /// Where in a scenario the key belongs.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Service => "[queues.consumers] (or [topics.consumers])",
            Kind::Interarrival => "a [[producers]] entry, instead of `rate`",
        }
    }
}

/// Why values could not be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// The file could not be read: not CSV, no such column, or a cell
    /// that is not a positive finite number.
    #[error(transparent)]
    Column(#[from] ColumnError),
    /// A value passed to [`fit`] is not positive and finite.
    #[error("value #{index} = {value} is not a positive finite number")]
    NotPositive {
        /// 0-based position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Too few values to fit.
    #[error("only {count} values; fitting needs at least {min}")]
    TooFew {
        /// Number of values given.
        count: usize,
        /// [`MIN_VALUES`].
        min: usize,
    },
    /// Every value is the same: no family with a free shape fits.
    #[error("every value is {value}; use dist = \"constant\", value = {value}")]
    AllEqual {
        /// The value.
        value: f64,
    },
    /// The QQ plot could not be drawn.
    #[error("cannot draw the QQ plot: {message}")]
    Plot {
        /// What the drawing library said.
        message: String,
    },
    /// No family could be fitted.
    #[error("no distribution could be fitted: {reasons}")]
    NoFit {
        /// Why each family failed.
        reasons: String,
    },
}

/// One fitted family with its goodness of fit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FamilyFit {
    /// 1 for the best fit (smallest KS statistic).
    pub rank: usize,
    /// The family.
    pub family: Family,
    /// Maximum-likelihood estimates with standard errors.
    pub params: Vec<Param>,
    /// Mean of the fitted distribution, seconds.
    pub mean_s: f64,
    /// Its coefficient of variation.
    pub cv: f64,
    /// Log-likelihood of the values at the estimate.
    pub log_likelihood: f64,
    /// Akaike information criterion, 2·(parameters) − 2·log-likelihood.
    pub aic: f64,
    /// AIC minus the smallest AIC of the families (0 for the AIC-best).
    pub delta_aic: f64,
    /// Kolmogorov–Smirnov statistic sup |F_n − F|.
    pub ks_statistic: f64,
    /// Its asymptotic p-value (conservative: parameters were estimated).
    pub ks_p_value: f64,
    /// The inline TOML table of this fit, e.g. `{ dist = "gamma", mean = 0.01512, cv = 0.7903 }`.
    pub spec: String,
    #[serde(skip)]
    model: Model,
}

impl FamilyFit {
    /// The quantile of probability `p` of the fitted distribution, seconds.
    pub fn quantile_s(&self, p: f64) -> f64 {
        self.model.quantile(p)
    }

    /// P(X <= `x_s`) under the fitted distribution.
    pub fn cdf(&self, x_s: f64) -> f64 {
        self.model.cdf(x_s)
    }
}

/// A family that could not be fitted, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    /// The family.
    pub family: Family,
    /// What went wrong.
    pub reason: String,
}

/// Descriptive statistics of the values.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SampleSummary {
    /// Number of values.
    pub n: usize,
    /// Mean, seconds.
    pub mean_s: f64,
    /// Coefficient of variation (population standard deviation / mean).
    pub cv: f64,
    /// Smallest value, seconds.
    pub min_s: f64,
    /// Median, seconds.
    pub median_s: f64,
    /// Largest value, seconds.
    pub max_s: f64,
}

/// Everything `queuesim fit` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FitReport {
    /// What the values measure.
    pub kind: Kind,
    /// The values summarised.
    pub sample: SampleSummary,
    /// The fitted families, best (smallest KS statistic) first.
    pub fits: Vec<FamilyFit>,
    /// Families that could not be fitted.
    pub skipped: Vec<Skipped>,
    /// The family with the smallest AIC.
    pub best_by_aic: Family,
    /// The line to paste into a scenario, for the best fit, e.g.
    /// `service = { dist = "gamma", mean = 0.01512, cv = 0.7903 }`.
    pub toml: String,
    /// For interarrival times: the Poisson-process checks.
    pub poisson: Option<PoissonCheck>,
}

impl FitReport {
    /// The best fit (smallest KS statistic).
    pub fn best(&self) -> &FamilyFit {
        &self.fits[0]
    }

    /// The values' empirical quantile of probability `p`, from `sorted`.
    pub fn empirical_quantile(sorted: &[f64], p: f64) -> f64 {
        let index = (p * sorted.len() as f64).floor() as usize;
        sorted[index.min(sorted.len() - 1)]
    }
}

/// Fits every [`Family`] to `values` (times in seconds, in the order they
/// were measured) and ranks the fits.
///
/// # Errors
///
/// Fewer than [`MIN_VALUES`] values, a value that is not positive and
/// finite, all values equal, or no family could be fitted.
pub fn fit(values: &[f64], kind: Kind) -> Result<FitReport, FitError> {
    if values.len() < MIN_VALUES {
        return Err(FitError::TooFew {
            count: values.len(),
            min: MIN_VALUES,
        });
    }
    if let Some((index, &value)) = values
        .iter()
        .enumerate()
        .find(|(_, x)| !(x.is_finite() && **x > 0.0))
    {
        return Err(FitError::NotPositive { index, value });
    }
    if values.iter().all(|&x| x == values[0]) {
        return Err(FitError::AllEqual { value: values[0] });
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let sample = mle::Sample::new(values);
    let (mut fits, skipped) = fit_families(&sample, &sorted);
    if fits.is_empty() {
        let reasons = skipped
            .iter()
            .map(|s| format!("{}: {}", s.family.name(), s.reason))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(FitError::NoFit { reasons });
    }
    rank(&mut fits);
    let best_by_aic = fits
        .iter()
        .min_by(|a, b| a.aic.total_cmp(&b.aic))
        .map_or(fits[0].family, |f| f.family);
    Ok(FitReport {
        kind,
        sample: summary(&sample, &sorted),
        toml: format!("{} = {}", kind.key(), fits[0].spec),
        fits,
        skipped,
        best_by_aic,
        poisson: (kind == Kind::Interarrival).then(|| gof::poisson_check(values)),
    })
}

fn fit_families(sample: &mle::Sample<'_>, sorted: &[f64]) -> (Vec<FamilyFit>, Vec<Skipped>) {
    let mut fits = Vec::new();
    let mut skipped = Vec::new();
    for family in Family::ALL {
        let fitted = mle::fit(family, sample)
            .map_err(|e| e.to_string())
            .and_then(|mle| Model::of(&mle).map(|model| (mle, model)));
        match fitted {
            Ok((mle, model)) => {
                let ks = model.ks(sorted);
                let aic = 2.0 * mle.params.len() as f64 - 2.0 * mle.log_likelihood;
                fits.push(FamilyFit {
                    rank: 0,
                    family,
                    mean_s: mle.dist.mean(),
                    cv: mle.dist.cv(),
                    log_likelihood: mle.log_likelihood,
                    aic,
                    delta_aic: 0.0,
                    ks_statistic: ks.statistic,
                    ks_p_value: ks.p_value,
                    spec: spec_table(&mle.dist, &mle.params),
                    params: mle.params,
                    model,
                });
            }
            Err(reason) => skipped.push(Skipped { family, reason }),
        }
    }
    (fits, skipped)
}

/// Sorts by KS statistic (AIC breaks ties), numbers the ranks and fills in ΔAIC.
fn rank(fits: &mut [FamilyFit]) {
    fits.sort_by(|a, b| {
        a.ks_statistic
            .total_cmp(&b.ks_statistic)
            .then(a.aic.total_cmp(&b.aic))
    });
    let min_aic = fits.iter().map(|f| f.aic).fold(f64::INFINITY, f64::min);
    for (i, fit) in fits.iter_mut().enumerate() {
        fit.rank = i + 1;
        fit.delta_aic = fit.aic - min_aic;
    }
}

fn summary(sample: &mle::Sample<'_>, sorted: &[f64]) -> SampleSummary {
    let variance = sorted
        .iter()
        .map(|x| (x - sample.mean).powi(2))
        .sum::<f64>()
        / sample.n;
    SampleSummary {
        n: sorted.len(),
        mean_s: sample.mean,
        cv: variance.sqrt() / sample.mean,
        min_s: sorted[0],
        median_s: FitReport::empirical_quantile(sorted, 0.5),
        max_s: sorted[sorted.len() - 1],
    }
}

/// `x` rounded to [`TOML_DIGITS`] significant digits, written as a TOML float.
fn toml_number(x: f64) -> String {
    let rounded: f64 = format!("{x:.*e}", TOML_DIGITS - 1).parse().unwrap_or(x);
    if (1e-4..1e7).contains(&rounded.abs()) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

/// The inline table of a fitted distribution: `mean` and `cv`, the way
/// people describe times, where the rounded values still build that family;
/// otherwise (a Weibull cv outside 0.01..100) its native parameters.
fn spec_table(dist: &Dist, params: &[Param]) -> String {
    let family = dist.family();
    let mean = toml_number(dist.mean());
    if family == "exponential" {
        return format!("{{ dist = \"{family}\", mean = {mean} }}");
    }
    let cv = toml_number(dist.cv());
    let builds = |m: &str, c: &str| {
        let (Ok(m), Ok(c)) = (m.parse(), c.parse()) else {
            return false;
        };
        Dist::with_mean_cv(family, m, c).is_ok()
    };
    if builds(&mean, &cv) {
        return format!("{{ dist = \"{family}\", mean = {mean}, cv = {cv} }}");
    }
    let native = params
        .iter()
        .map(|p| format!("{} = {}", p.name, toml_number(p.value)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{ dist = \"{family}\", {native} }}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::DistSpec;
    use crate::units::QuantityKind;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::path::Path;

    fn draw(dist: &Dist, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| dist.sample(&mut rng)).collect()
    }

    /// Parses `key = { ... }` as a scenario would and builds the distribution.
    fn parse_line(line: &str, key: &str) -> Dist {
        let table: toml::Table = toml::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let spec: DistSpec = table[key].clone().try_into().unwrap();
        spec.build(QuantityKind::Duration, Path::new("."))
            .unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn picks_the_true_family_on_10000_samples() {
        let cases = [
            ("gamma", 0.5),
            ("gamma", 2.0),
            ("weibull", 0.5),
            ("weibull", 2.0),
            ("lognormal", 0.5),
            ("lognormal", 2.0),
        ];
        for (seed, (family, cv)) in (20..).zip(cases) {
            let truth = Dist::with_mean_cv(family, 0.015, cv).unwrap();
            let report = fit(&draw(&truth, 10_000, seed), Kind::Service).unwrap();
            let ranking: Vec<_> = report
                .fits
                .iter()
                .map(|f| (f.family.name(), f.ks_statistic, f.delta_aic))
                .collect();
            assert_eq!(report.best().family.name(), family, "cv {cv}: {ranking:?}");
            assert_eq!(report.best_by_aic.name(), family, "cv {cv}: {ranking:?}");
        }
    }

    #[test]
    fn the_toml_line_parses_and_round_trips() {
        for (kind, family, cv) in [
            (Kind::Service, "gamma", 0.79),
            (Kind::Service, "lognormal", 1.5),
            (Kind::Interarrival, "weibull", 0.6),
            (Kind::Interarrival, "exponential", 1.0),
        ] {
            let truth = if family == "exponential" {
                Dist::exponential(0.0151).unwrap()
            } else {
                Dist::with_mean_cv(family, 0.0151, cv).unwrap()
            };
            let report = fit(&draw(&truth, 10_000, 30), kind).unwrap();
            let best = report.best();
            let parsed = parse_line(&report.toml, kind.key());
            assert_eq!(parsed.family(), best.family.name(), "{}", report.toml);
            let rel = |a: f64, b: f64| (a - b).abs() / b;
            let digits = 0.5 * 10f64.powi(1 - TOML_DIGITS as i32);
            assert!(rel(parsed.mean(), best.mean_s) <= digits, "{}", report.toml);
            assert!(rel(parsed.cv(), best.cv) <= 1.5 * digits, "{}", report.toml);
        }
    }

    #[test]
    fn the_toml_line_looks_like_the_example() {
        let report = fit(
            &draw(
                &Dist::with_mean_cv("gamma", 0.0151, 0.79).unwrap(),
                10_000,
                31,
            ),
            Kind::Service,
        )
        .unwrap();
        assert!(
            report
                .toml
                .starts_with("service = { dist = \"gamma\", mean = 0.01"),
            "{}",
            report.toml
        );
        assert!(report.poisson.is_none());
    }

    #[test]
    fn extreme_weibull_falls_back_to_native_parameters() {
        let dist = Dist::weibull(0.05, 1.0).unwrap();
        let params = [
            Param {
                name: "shape",
                value: 0.05,
                std_error: 0.0,
            },
            Param {
                name: "scale",
                value: 1.0,
                std_error: 0.0,
            },
        ];
        let table = spec_table(&dist, &params);
        assert_eq!(table, r#"{ dist = "weibull", shape = 0.05, scale = 1 }"#);
        parse_line(&format!("service = {table}"), "service");
    }

    #[test]
    fn toml_numbers_keep_four_significant_digits() {
        assert_eq!(toml_number(0.015_126_9), "0.01513");
        assert_eq!(toml_number(2.0), "2");
        assert_eq!(toml_number(1.234_56e-6), "1.235e-6");
        assert_eq!(toml_number(123_456_789.0), "1.235e8");
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut values = vec![1.0; 12];
        assert!(matches!(
            fit(&values, Kind::Service),
            Err(FitError::AllEqual { .. })
        ));
        values[3] = 0.0;
        assert_eq!(
            fit(&values, Kind::Service).unwrap_err().to_string(),
            "value #3 = 0 is not a positive finite number"
        );
        values[3] = f64::NAN;
        assert!(fit(&values, Kind::Service).is_err());
        assert_eq!(
            fit(&[1.0, 2.0], Kind::Service).unwrap_err().to_string(),
            "only 2 values; fitting needs at least 10"
        );
    }
}
