//! Probability distributions of non-negative quantities (service times,
//! interarrival times, message sizes).
//!
//! [`DistSpec`] mirrors a TOML inline table such as
//! `{ dist = "gamma", mean = 0.015, cv = 0.8 }`; [`DistSpec::build`] checks it
//! and returns a [`Dist`], which is valid by construction: every constructor
//! validates its parameters and the mean is always positive and finite.
//! Sampling uses the `rand_distr` samplers and never allocates.

pub(crate) mod column;
mod error;
mod families;
mod moments;
mod spec;

pub use column::{Column, ColumnError};
pub use error::DistError;
pub use spec::DistSpec;

use std::fmt;
use std::sync::Arc;

use statrs::function::gamma::ln_gamma;

/// Every family with the sets of keys it accepts (exactly one set per spec).
const FAMILIES: [(&str, &[&[&str]]); 10] = [
    ("exponential", &[&["rate"], &["mean"]]),
    ("constant", &[&["value"], &["mean"]]),
    ("uniform", &[&["min", "max"], &["mean", "cv"]]),
    ("erlang", &[&["k", "rate"], &["k", "mean"], &["mean", "cv"]]),
    (
        "gamma",
        &[&["shape", "scale"], &["shape", "rate"], &["mean", "cv"]],
    ),
    ("lognormal", &[&["mu", "sigma"], &["mean", "cv"]]),
    ("weibull", &[&["shape", "scale"], &["mean", "cv"]]),
    (
        "hyperexponential",
        &[&["probs", "rates"], &["probs", "means"], &["mean", "cv"]],
    ),
    (
        "pareto",
        &[&["shape", "scale"], &["mean", "cv"], &["mean", "shape"]],
    ),
    ("empirical", &[&["file", "column"]]),
];

/// Range of cv that [`Dist::with_mean_cv`] solves for a Weibull shape.
const WEIBULL_CV: (f64, f64) = (0.01, 100.0);
/// Bracket of shapes searched for [`WEIBULL_CV`] (cv 0.0064 to about 3.6e5).
const WEIBULL_SHAPE: (f64, f64) = (0.05, 200.0);

const POSITIVE: &str = "must be a positive finite number";
const NON_NEGATIVE: &str = "must be a finite number >= 0";

fn family(name: &str) -> Result<(&'static str, &'static [&'static [&'static str]]), DistError> {
    if let Some(&found) = FAMILIES.iter().find(|(family, _)| *family == name) {
        return Ok(found);
    }
    let lower = name.to_lowercase();
    let suggestion = FAMILIES
        .iter()
        .map(|(family, _)| (strsim::levenshtein(&lower, family), *family))
        .filter(|&(distance, family)| {
            distance <= 3 || (lower.len() >= 2 && family.starts_with(&lower))
        })
        .min()
        .map(|(_, family)| family);
    Err(DistError::UnknownFamily {
        name: name.to_owned(),
        suggestion,
    })
}

fn check(
    family: &'static str,
    param: &'static str,
    value: f64,
    ok: bool,
    requirement: &'static str,
) -> Result<f64, DistError> {
    if ok {
        Ok(value)
    } else {
        Err(DistError::Param {
            family,
            param,
            value,
            requirement,
        })
    }
}

fn positive(family: &'static str, param: &'static str, value: f64) -> Result<f64, DistError> {
    check(
        family,
        param,
        value,
        value.is_finite() && value > 0.0,
        POSITIVE,
    )
}

fn non_negative(family: &'static str, param: &'static str, value: f64) -> Result<f64, DistError> {
    check(
        family,
        param,
        value,
        value.is_finite() && value >= 0.0,
        NON_NEGATIVE,
    )
}

/// Unwraps a `rand_distr` constructor whose parameters were validated before.
fn sampler<T, E: fmt::Debug>(result: Result<T, E>) -> T {
    result.expect("parameters validated before building the sampler")
}

/// Exponential with rate λ. Mean 1/λ, variance 1/λ².
#[derive(Debug, Clone)]
pub struct Exponential {
    rate: f64,
    /// 1/λ, computed once: a draw is a unit exponential times this, as
    /// `rand_distr::Exp` draws it (same bits), but inlined on the hot path.
    scale: f64,
}

/// Always the same value (deterministic).
#[derive(Debug, Clone)]
pub struct Constant {
    value: f64,
}

/// Uniform on [min, max). Mean (min+max)/2, variance (max−min)²/12.
#[derive(Debug, Clone)]
pub struct Uniform {
    min: f64,
    max: f64,
    sampler: rand_distr::Uniform<f64>,
}

/// Erlang: sum of k exponential phases of rate λ. Mean k/λ, variance k/λ².
#[derive(Debug, Clone)]
pub struct Erlang {
    k: u32,
    rate: f64,
    sampler: rand_distr::Gamma<f64>,
}

/// Gamma with shape k and scale θ. Mean kθ, variance kθ².
#[derive(Debug, Clone)]
pub struct Gamma {
    shape: f64,
    scale: f64,
    sampler: rand_distr::Gamma<f64>,
}

/// Lognormal: exp(N(μ, σ²)). Mean exp(μ + σ²/2), cv² = exp(σ²) − 1.
#[derive(Debug, Clone)]
pub struct LogNormal {
    mu: f64,
    sigma: f64,
    sampler: rand_distr::LogNormal<f64>,
}

/// Weibull with shape k and scale λ. Mean λΓ(1+1/k), cv² = Γ(1+2/k)/Γ(1+1/k)² − 1.
#[derive(Debug, Clone)]
pub struct Weibull {
    shape: f64,
    scale: f64,
    sampler: rand_distr::Weibull<f64>,
}

/// Mixture of exponentials: phase i (rate λᵢ) with probability pᵢ.
/// Mean Σ pᵢ/λᵢ, E\[X²\] = Σ 2pᵢ/λᵢ².
#[derive(Debug, Clone)]
pub struct HyperExponential {
    phases: Arc<[Phase]>,
}

#[derive(Debug, Clone, Copy)]
struct Phase {
    prob: f64,
    rate: f64,
    /// Sum of the probabilities up to this phase; infinite for the last one.
    cumulative: f64,
}

/// Pareto with shape α > 1 and scale (minimum) xₘ. Mean αxₘ/(α−1); variance
/// xₘ²α/((α−1)²(α−2)), infinite for α <= 2.
#[derive(Debug, Clone)]
pub struct Pareto {
    shape: f64,
    scale: f64,
    sampler: rand_distr::Pareto<f64>,
}

/// Measured values, drawn uniformly with replacement.
#[derive(Debug, Clone)]
pub struct Empirical {
    values: Arc<[f64]>,
    index: rand_distr::Uniform<usize>,
    mean: f64,
    variance: f64,
    source: Arc<str>,
}

/// A validated distribution of a non-negative quantity with a positive,
/// finite mean.
///
/// # Examples
///
/// ```
/// use queuesim::dist::Dist;
/// use rand::SeedableRng;
///
/// let service = Dist::with_mean_cv("gamma", 0.015, 0.8)?;
/// assert_eq!(service.to_string(), "gamma(shape=1.5625, scale=0.0096) mean=0.015 cv=0.8");
/// let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
/// assert!(service.sample(&mut rng) >= 0.0);
/// # Ok::<(), queuesim::dist::DistError>(())
/// ```
// `repr(u8)` gives the family a plain tag byte: [`Dist::sample`] tells
// the exponential apart with one comparison (a niche-packed tag costs
// several instructions to decode, on every draw of the hot path).
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Dist {
    /// See [`Exponential`].
    Exponential(Exponential),
    /// See [`Constant`].
    Constant(Constant),
    /// See [`Uniform`].
    Uniform(Uniform),
    /// See [`Erlang`].
    Erlang(Erlang),
    /// See [`Gamma`].
    Gamma(Gamma),
    /// See [`LogNormal`].
    LogNormal(LogNormal),
    /// See [`Weibull`].
    Weibull(Weibull),
    /// See [`HyperExponential`].
    HyperExponential(HyperExponential),
    /// See [`Pareto`].
    Pareto(Pareto),
    /// See [`Empirical`].
    Empirical(Empirical),
}

/// cv² of a Weibull distribution with the given shape k.
///
/// # Formula
///
/// cv² = Γ(1+2/k) / Γ(1+1/k)² − 1, computed in logs for large and small k.
fn weibull_scv(shape: f64) -> f64 {
    (ln_gamma(1.0 + 2.0 / shape) - 2.0 * ln_gamma(1.0 + 1.0 / shape)).exp_m1()
}

/// A number rounded to 6 significant digits, for display.
fn num(x: f64) -> String {
    let rounded: f64 = format!("{x:.5e}").parse().unwrap_or(x);
    if rounded == 0.0 || !rounded.is_finite() || (1e-4..1e7).contains(&rounded.abs()) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

fn list(values: impl Iterator<Item = f64>) -> String {
    values.map(num).collect::<Vec<_>>().join(", ")
}

/// Shows the family, its native parameters, the mean and the cv, e.g.
/// `gamma(shape=1.5625, scale=0.0096) mean=0.015 cv=0.8`.
impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = self.family();
        match self {
            Dist::Exponential(d) => write!(f, "{family}(rate={})", num(d.rate)),
            Dist::Constant(d) => write!(f, "{family}(value={})", num(d.value)),
            Dist::Uniform(d) => write!(f, "{family}(min={}, max={})", num(d.min), num(d.max)),
            Dist::Erlang(d) => write!(f, "{family}(k={}, rate={})", d.k, num(d.rate)),
            Dist::Gamma(Gamma { shape, scale, .. })
            | Dist::Weibull(Weibull { shape, scale, .. })
            | Dist::Pareto(Pareto { shape, scale, .. }) => {
                write!(f, "{family}(shape={}, scale={})", num(*shape), num(*scale))
            }
            Dist::LogNormal(d) => write!(f, "{family}(mu={}, sigma={})", num(d.mu), num(d.sigma)),
            Dist::HyperExponential(d) => write!(
                f,
                "{family}(probs=[{}], rates=[{}])",
                list(d.phases.iter().map(|p| p.prob)),
                list(d.phases.iter().map(|p| p.rate))
            ),
            Dist::Empirical(d) => write!(f, "{family}({}, n={})", d.source, d.values.len()),
        }?;
        write!(f, " mean={} cv={}", num(self.mean()), num(self.cv()))
    }
}

#[cfg(test)]
mod tests;
