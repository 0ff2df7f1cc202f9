//! Probability distributions of non-negative quantities (service times,
//! interarrival times, message sizes).
//!
//! [`DistSpec`] mirrors a TOML inline table such as
//! `{ dist = "gamma", mean = 0.015, cv = 0.8 }`; [`DistSpec::build`] checks it
//! and returns a [`Dist`], which is valid by construction: every constructor
//! validates its parameters and the mean is always positive and finite.
//! Sampling uses the `rand_distr` samplers and never allocates.

mod error;
mod spec;

pub use error::DistError;
pub use spec::DistSpec;

use std::fmt;
use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};
use statrs::function::gamma::{gamma, ln_gamma};

use error::keys_error;

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
    sampler: rand_distr::Exp<f64>,
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
#[derive(Debug, Clone)]
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

impl Dist {
    /// Exponential with the given mean.
    ///
    /// # Errors
    ///
    /// When `mean` is not positive and finite.
    pub fn exponential(mean: f64) -> Result<Dist, DistError> {
        Dist::exponential_rate(1.0 / positive("exponential", "mean", mean)?)
    }

    /// Exponential with the given rate (1/mean).
    ///
    /// # Errors
    ///
    /// When `rate` is not positive and finite.
    pub fn exponential_rate(rate: f64) -> Result<Dist, DistError> {
        let rate = positive("exponential", "rate", rate)?;
        let sampler = sampler(rand_distr::Exp::new(rate));
        Dist::checked(Dist::Exponential(Exponential { rate, sampler }))
    }

    /// Always `value`.
    ///
    /// # Errors
    ///
    /// When `value` is not positive and finite.
    pub fn constant(value: f64) -> Result<Dist, DistError> {
        let value = positive("constant", "value", value)?;
        Ok(Dist::Constant(Constant { value }))
    }

    /// Uniform on [min, max).
    ///
    /// # Errors
    ///
    /// When `min` is negative or `max <= min` (or either is not finite).
    pub fn uniform(min: f64, max: f64) -> Result<Dist, DistError> {
        let min = non_negative("uniform", "min", min)?;
        let max = check(
            "uniform",
            "max",
            max,
            max.is_finite() && max > min,
            "must be greater than min",
        )?;
        let sampler = sampler(rand_distr::Uniform::new(min, max));
        Dist::checked(Dist::Uniform(Uniform { min, max, sampler }))
    }

    /// Erlang with `k` phases of rate `rate` each.
    ///
    /// # Errors
    ///
    /// When `k` is 0 or `rate` is not positive and finite.
    pub fn erlang(k: u32, rate: f64) -> Result<Dist, DistError> {
        check(
            "erlang",
            "k",
            f64::from(k),
            k >= 1,
            "must be a whole number >= 1",
        )?;
        let rate = positive("erlang", "rate", rate)?;
        let sampler = sampler(rand_distr::Gamma::new(f64::from(k), 1.0 / rate));
        Dist::checked(Dist::Erlang(Erlang { k, rate, sampler }))
    }

    /// Gamma with the given shape and scale.
    ///
    /// # Errors
    ///
    /// When either is not positive and finite.
    pub fn gamma(shape: f64, scale: f64) -> Result<Dist, DistError> {
        let shape = positive("gamma", "shape", shape)?;
        let scale = positive("gamma", "scale", scale)?;
        let sampler = sampler(rand_distr::Gamma::new(shape, scale));
        Dist::checked(Dist::Gamma(Gamma {
            shape,
            scale,
            sampler,
        }))
    }

    /// Lognormal whose logarithm has mean `mu` and standard deviation `sigma`.
    ///
    /// # Errors
    ///
    /// When `mu` is not finite, `sigma` not positive and finite, or the mean overflows.
    pub fn lognormal(mu: f64, sigma: f64) -> Result<Dist, DistError> {
        let mu = check(
            "lognormal",
            "mu",
            mu,
            mu.is_finite(),
            "must be a finite number",
        )?;
        let sigma = positive("lognormal", "sigma", sigma)?;
        let sampler = sampler(rand_distr::LogNormal::new(mu, sigma));
        Dist::checked(Dist::LogNormal(LogNormal { mu, sigma, sampler }))
    }

    /// Weibull with the given shape and scale.
    ///
    /// # Errors
    ///
    /// When either is not positive and finite, or the mean overflows.
    pub fn weibull(shape: f64, scale: f64) -> Result<Dist, DistError> {
        let shape = positive("weibull", "shape", shape)?;
        let scale = positive("weibull", "scale", scale)?;
        let sampler = sampler(rand_distr::Weibull::new(scale, shape));
        Dist::checked(Dist::Weibull(Weibull {
            shape,
            scale,
            sampler,
        }))
    }

    /// Mixture of exponentials: rate `rates[i]` with probability `probs[i]`.
    ///
    /// # Errors
    ///
    /// When the lengths differ or are 0, a probability is outside [0, 1], the
    /// probabilities do not sum to 1 (within 1e-9), or a rate is not positive.
    pub fn hyperexponential(probs: &[f64], rates: &[f64]) -> Result<Dist, DistError> {
        let family = "hyperexponential";
        let n = probs.len() as f64;
        check(
            family,
            "probs",
            n,
            n > 0.0 && probs.len() == rates.len(),
            "must have one entry per rate (at least one)",
        )?;
        let mut phases = Vec::with_capacity(probs.len());
        let mut cumulative = 0.0;
        for (&prob, &rate) in probs.iter().zip(rates) {
            check(
                family,
                "probs",
                prob,
                (0.0..=1.0).contains(&prob),
                "must each be in [0, 1]",
            )?;
            cumulative += prob;
            phases.push(Phase {
                prob,
                rate: positive(family, "rates", rate)?,
                cumulative,
            });
        }
        check(
            family,
            "probs",
            cumulative,
            (cumulative - 1.0).abs() <= 1e-9,
            "must sum to 1",
        )?;
        if let Some(last) = phases.last_mut() {
            last.cumulative = f64::INFINITY;
        }
        Dist::checked(Dist::HyperExponential(HyperExponential {
            phases: phases.into(),
        }))
    }

    /// Pareto with the given shape (> 1, for a finite mean) and scale (the minimum).
    ///
    /// # Errors
    ///
    /// When `shape <= 1` or `scale` is not positive and finite.
    pub fn pareto(shape: f64, scale: f64) -> Result<Dist, DistError> {
        let shape = check(
            "pareto",
            "shape",
            shape,
            shape.is_finite() && shape > 1.0,
            "must be greater than 1 so that the mean is finite",
        )?;
        let scale = positive("pareto", "scale", scale)?;
        let sampler = sampler(rand_distr::Pareto::new(scale, shape));
        Dist::checked(Dist::Pareto(Pareto {
            shape,
            scale,
            sampler,
        }))
    }

    /// Draws uniformly from `values`; `source` names them in [`Display`](fmt::Display).
    ///
    /// # Errors
    ///
    /// When `values` is empty, holds a negative or non-finite value, or is all zeros.
    pub fn empirical(values: Vec<f64>, source: &str) -> Result<Dist, DistError> {
        let n = values.len() as f64;
        check("empirical", "count", n, n > 0.0, "must be at least 1 value")?;
        for &value in &values {
            non_negative("empirical", "value", value)?;
        }
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let index = sampler(rand_distr::Uniform::new(0, values.len()));
        let source = source.into();
        Dist::checked(Dist::Empirical(Empirical {
            values: values.into(),
            index,
            mean,
            variance,
            source,
        }))
    }

    /// The distribution of `family` with the given mean and coefficient of
    /// variation, for the families with a free shape.
    ///
    /// # Formula
    ///
    /// - uniform: mean ± √3·cv·mean (cv <= 1/√3 so that min >= 0)
    /// - erlang: k = 1/cv² (a whole number), rate k/mean
    /// - gamma: shape 1/cv², scale mean·cv²
    /// - lognormal: σ² = ln(1+cv²), μ = ln(mean) − σ²/2
    /// - weibull: shape k solving cv² = Γ(1+2/k)/Γ(1+1/k)² − 1 (bisection on
    ///   ln k; cv from 0.01 to 100), scale mean/Γ(1+1/k)
    /// - hyperexponential (cv >= 1): two phases with balanced means,
    ///   p = (1 + √((cv²−1)/(cv²+1)))/2, rates 2p/mean and 2(1−p)/mean
    /// - pareto: shape 1 + √(1 + 1/cv²), scale mean·(shape−1)/shape
    ///
    /// # Errors
    ///
    /// When the family has no free shape, the mean is not positive and
    /// finite, or the cv is out of the family's range.
    pub fn with_mean_cv(family_name: &str, mean: f64, cv: f64) -> Result<Dist, DistError> {
        let (family, forms) = family(family_name)?;
        if !forms.contains(&&["mean", "cv"][..]) {
            return Err(keys_error(family, forms, &["mean", "cv"]));
        }
        let mean = positive(family, "mean", mean)?;
        let cv = check(
            family,
            "cv",
            cv,
            cv.is_finite() && cv > 0.0,
            "must be a positive finite number (use dist = \"constant\" for cv = 0)",
        )?;
        let scv = cv * cv;
        match family {
            "uniform" => {
                let half_width = 3f64.sqrt() * cv * mean;
                check(
                    family,
                    "cv",
                    cv,
                    half_width <= mean * (1.0 + 1e-12),
                    "must be at most 1/sqrt(3) = 0.57735 so that min >= 0",
                )?;
                Dist::uniform((mean - half_width).max(0.0), mean + half_width)
            }
            "erlang" => {
                let phases = 1.0 / scv;
                let suggested_k = phases.round().clamp(1.0, f64::from(u32::MAX)) as u32;
                if (phases - f64::from(suggested_k)).abs() > 1e-9 {
                    let suggested_cv = 1.0 / f64::from(suggested_k).sqrt();
                    return Err(DistError::ErlangCv {
                        cv,
                        phases,
                        suggested_k,
                        suggested_cv,
                    });
                }
                Dist::erlang(suggested_k, f64::from(suggested_k) / mean)
            }
            "gamma" => Dist::gamma(1.0 / scv, mean * scv),
            "lognormal" => {
                let sigma2 = scv.ln_1p();
                Dist::lognormal(mean.ln() - sigma2 / 2.0, sigma2.sqrt())
            }
            "weibull" => {
                let (lo_cv, hi_cv) = WEIBULL_CV;
                check(
                    family,
                    "cv",
                    cv,
                    (lo_cv..=hi_cv).contains(&cv),
                    "must be between 0.01 and 100",
                )?;
                let (mut lo, mut hi) = (WEIBULL_SHAPE.0.ln(), WEIBULL_SHAPE.1.ln());
                for _ in 0..100 {
                    let mid = 0.5 * (lo + hi);
                    if weibull_scv(mid.exp()) > scv {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                let shape = (0.5 * (lo + hi)).exp();
                Dist::weibull(shape, mean / gamma(1.0 + 1.0 / shape))
            }
            "hyperexponential" => {
                check(
                    family,
                    "cv",
                    cv,
                    cv >= 1.0,
                    "must be >= 1 (use erlang or gamma for cv < 1)",
                )?;
                let p = 0.5 * (1.0 + ((scv - 1.0) / (scv + 1.0)).sqrt());
                Dist::hyperexponential(&[p, 1.0 - p], &[2.0 * p / mean, 2.0 * (1.0 - p) / mean])
            }
            // pareto, the last family with a mean + cv form
            _ => Dist::pareto_mean_shape(mean, 1.0 + (1.0 + 1.0 / scv).sqrt()),
        }
    }

    /// Pareto with the given mean and shape (> 1); scale = mean·(shape−1)/shape.
    ///
    /// # Errors
    ///
    /// As [`Dist::pareto`], and when `mean` is not positive and finite.
    pub fn pareto_mean_shape(mean: f64, shape: f64) -> Result<Dist, DistError> {
        let mean = positive("pareto", "mean", mean)?;
        Dist::pareto(shape, mean * (shape - 1.0) / shape)
    }

    /// Rejects parameters whose mean is zero or overflows.
    fn checked(dist: Dist) -> Result<Dist, DistError> {
        let mean = dist.mean();
        check(
            dist.family(),
            "mean",
            mean,
            mean.is_finite() && mean > 0.0,
            "must be positive and finite (these parameters give no usable mean)",
        )?;
        Ok(dist)
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential(d) => d.sampler.sample(rng),
            Dist::Constant(d) => d.value,
            Dist::Uniform(d) => d.sampler.sample(rng),
            Dist::Erlang(d) => d.sampler.sample(rng),
            Dist::Gamma(d) => d.sampler.sample(rng),
            Dist::LogNormal(d) => d.sampler.sample(rng),
            Dist::Weibull(d) => d.sampler.sample(rng),
            Dist::HyperExponential(d) => {
                let u: f64 = rng.random();
                let phase = d.phases.partition_point(|p| p.cumulative <= u);
                let unit: f64 = Exp1.sample(rng);
                unit / d.phases[phase].rate
            }
            Dist::Pareto(d) => d.sampler.sample(rng),
            Dist::Empirical(d) => d.values[d.index.sample(rng)],
        }
    }

    /// The mean (always positive and finite).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential(d) => 1.0 / d.rate,
            Dist::Constant(d) => d.value,
            Dist::Uniform(d) => 0.5 * (d.min + d.max),
            Dist::Erlang(d) => f64::from(d.k) / d.rate,
            Dist::Gamma(d) => d.shape * d.scale,
            Dist::LogNormal(d) => (d.mu + 0.5 * d.sigma * d.sigma).exp(),
            Dist::Weibull(d) => d.scale * gamma(1.0 + 1.0 / d.shape),
            Dist::HyperExponential(d) => d.phases.iter().map(|p| p.prob / p.rate).sum(),
            Dist::Pareto(d) => d.shape * d.scale / (d.shape - 1.0),
            Dist::Empirical(d) => d.mean,
        }
    }

    /// The variance; `f64::INFINITY` for a Pareto with shape <= 2.
    pub fn variance(&self) -> f64 {
        match self {
            Dist::Exponential(d) => 1.0 / (d.rate * d.rate),
            Dist::Constant(_) => 0.0,
            Dist::Uniform(d) => (d.max - d.min).powi(2) / 12.0,
            Dist::Erlang(d) => f64::from(d.k) / (d.rate * d.rate),
            Dist::Gamma(d) => d.shape * d.scale * d.scale,
            Dist::LogNormal(d) => (d.sigma * d.sigma).exp_m1() * self.mean().powi(2),
            Dist::Weibull(d) => weibull_scv(d.shape) * self.mean().powi(2),
            Dist::HyperExponential(d) => {
                let second: f64 = d
                    .phases
                    .iter()
                    .map(|p| 2.0 * p.prob / (p.rate * p.rate))
                    .sum();
                second - self.mean().powi(2)
            }
            Dist::Pareto(d) if d.shape <= 2.0 => f64::INFINITY,
            Dist::Pareto(d) => {
                d.scale * d.scale * d.shape / ((d.shape - 1.0).powi(2) * (d.shape - 2.0))
            }
            Dist::Empirical(d) => d.variance,
        }
    }

    /// Coefficient of variation: standard deviation / mean.
    pub fn cv(&self) -> f64 {
        self.variance().sqrt() / self.mean()
    }

    /// Squared coefficient of variation: variance / mean².
    pub fn scv(&self) -> f64 {
        self.variance() / self.mean().powi(2)
    }

    /// E\[X²\] = variance + mean², as used by the Pollaczek–Khinchine formula.
    pub fn second_moment(&self) -> f64 {
        self.variance() + self.mean().powi(2)
    }

    /// Whether the distribution is exactly exponential (also an Erlang with
    /// k = 1, a gamma or Weibull with shape 1, or a hyperexponential whose
    /// phases share one rate).
    pub fn is_exponential(&self) -> bool {
        match self {
            Dist::Exponential(_) => true,
            Dist::Erlang(d) => d.k == 1,
            Dist::Gamma(d) => d.shape == 1.0,
            Dist::Weibull(d) => d.shape == 1.0,
            Dist::HyperExponential(d) => d.phases.iter().all(|p| p.rate == d.phases[0].rate),
            _ => false,
        }
    }

    /// Whether every draw gives the same value.
    pub fn is_constant(&self) -> bool {
        match self {
            Dist::Constant(_) => true,
            Dist::Empirical(d) => d.values.iter().all(|&x| x == d.values[0]),
            _ => false,
        }
    }

    /// The family name as written in scenario files, e.g. `"gamma"`.
    pub fn family(&self) -> &'static str {
        let index = match self {
            Dist::Exponential(_) => 0,
            Dist::Constant(_) => 1,
            Dist::Uniform(_) => 2,
            Dist::Erlang(_) => 3,
            Dist::Gamma(_) => 4,
            Dist::LogNormal(_) => 5,
            Dist::Weibull(_) => 6,
            Dist::HyperExponential(_) => 7,
            Dist::Pareto(_) => 8,
            Dist::Empirical(_) => 9,
        };
        FAMILIES[index].0
    }
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
mod tests {
    use std::path::Path;

    use super::error::family_names;
    use super::*;
    use crate::units::QuantityKind;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    const TOLERANCE: f64 = 1e-9;

    pub(super) fn spec(table: &str) -> Result<Dist, DistError> {
        spec_in(table, Path::new("."))
    }

    pub(super) fn spec_in(table: &str, dir: &Path) -> Result<Dist, DistError> {
        #[derive(serde::Deserialize)]
        struct Row {
            d: DistSpec,
        }
        let row: Row = toml::from_str(&format!("d = {{ {table} }}")).unwrap();
        row.d.build(QuantityKind::Duration, dir)
    }

    pub(super) fn assert_rel(actual: f64, expected: f64, what: &str) {
        let error = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
        assert!(error <= TOLERANCE, "{what}: {actual} != {expected}");
    }

    fn assert_moments(table: &str, mean: f64, cv: f64) -> Dist {
        let dist = spec(table).unwrap_or_else(|e| panic!("{table}: {e}"));
        assert_rel(dist.mean(), mean, &format!("mean of {table}"));
        if cv == 0.0 {
            assert_eq!(dist.cv(), 0.0, "{table}");
        } else {
            assert_rel(dist.cv(), cv, &format!("cv of {table}"));
        }
        assert_rel(dist.scv(), dist.cv().powi(2), "scv");
        assert_rel(
            dist.second_moment(),
            dist.variance() + mean * mean,
            "E[X^2]",
        );
        dist
    }

    pub(super) fn error(table: &str) -> String {
        match spec(table) {
            Ok(dist) => panic!("{table} accepted as {dist}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn exponential_and_constant_parameterizations() {
        assert_moments(r#"dist = "exponential", rate = 50"#, 0.02, 1.0);
        assert_moments(r#"dist = "exponential", rate = "3000/min""#, 0.02, 1.0);
        assert_moments(r#"dist = "exponential", mean = "20ms""#, 0.02, 1.0);
        assert_moments(r#"dist = "constant", value = "15ms""#, 0.015, 0.0);
        assert_moments(r#"dist = "constant", mean = 2"#, 2.0, 0.0);
        assert!(Dist::exponential(0.5).unwrap().is_exponential());
        assert!(Dist::constant(0.5).unwrap().is_constant());
    }

    #[test]
    fn uniform_and_erlang_parameterizations() {
        assert_moments(
            r#"dist = "uniform", min = 1, max = 3"#,
            2.0,
            1.0 / 12f64.sqrt(),
        );
        assert_moments(r#"dist = "uniform", mean = 2, cv = 0.5"#, 2.0, 0.5);
        let edge = 1.0 / 3f64.sqrt();
        assert_moments(
            &format!(r#"dist = "uniform", mean = 2, cv = {edge}"#),
            2.0,
            edge,
        );
        assert_moments(r#"dist = "erlang", k = 4, rate = 200"#, 0.02, 0.5);
        assert_moments(
            r#"dist = "erlang", k = 3, mean = "30ms""#,
            0.03,
            1.0 / 3f64.sqrt(),
        );
        let erlang = assert_moments(r#"dist = "erlang", mean = 0.02, cv = 0.5"#, 0.02, 0.5);
        assert_eq!(erlang.to_string(), "erlang(k=4, rate=200) mean=0.02 cv=0.5");
        assert!(
            spec(r#"dist = "erlang", k = 1, rate = 2"#)
                .unwrap()
                .is_exponential()
        );
    }

    #[test]
    fn gamma_and_lognormal_parameterizations() {
        let gamma = assert_moments(
            r#"dist = "gamma", shape = 1.5625, scale = 0.0096"#,
            0.015,
            0.8,
        );
        assert_eq!(
            gamma.to_string(),
            "gamma(shape=1.5625, scale=0.0096) mean=0.015 cv=0.8"
        );
        assert_moments(r#"dist = "gamma", shape = 4, rate = "200/s""#, 0.02, 0.5);
        let fitted = assert_moments(r#"dist = "gamma", mean = "15ms", cv = 0.8"#, 0.015, 0.8);
        assert_eq!(fitted.to_string(), gamma.to_string());
        let (mu, sigma) = (-4.0f64, 0.7f64);
        let cv = (sigma * sigma).exp_m1().sqrt();
        let table = format!(r#"dist = "lognormal", mu = {mu}, sigma = {sigma}"#);
        assert_moments(&table, (mu + sigma * sigma / 2.0).exp(), cv);
        assert_moments(r#"dist = "lognormal", mean = 0.01, cv = 2.0"#, 0.01, 2.0);
    }

    #[test]
    fn weibull_parameterizations() {
        let (shape, scale) = (1.7f64, 0.5f64);
        let mean = scale * gamma(1.0 + 1.0 / shape);
        let cv = (gamma(1.0 + 2.0 / shape) / gamma(1.0 + 1.0 / shape).powi(2) - 1.0).sqrt();
        let table = format!(r#"dist = "weibull", shape = {shape}, scale = {scale}"#);
        assert_moments(&table, mean, cv);
        for cv in [0.01, 0.05, 0.3, 0.7, 1.0, 2.5, 10.0, 100.0] {
            assert_moments(
                &format!(r#"dist = "weibull", mean = "3s", cv = {cv}"#),
                3.0,
                cv,
            );
        }
        let exponential = spec(r#"dist = "weibull", mean = 1, cv = 1"#).unwrap();
        assert!((exponential.to_string()).starts_with("weibull(shape=1, scale=1)"));
    }

    #[test]
    fn hyperexponential_parameterizations() {
        let (p, r1, r2) = (0.3f64, 10.0f64, 1.0f64);
        let mean = p / r1 + (1.0 - p) / r2;
        let second = 2.0 * (p / (r1 * r1) + (1.0 - p) / (r2 * r2));
        let cv = (second / (mean * mean) - 1.0).sqrt();
        assert_moments(
            r#"dist = "hyperexponential", probs = [0.3, 0.7], rates = [10, 1]"#,
            mean,
            cv,
        );
        let table = r#"dist = "hyperexponential", probs = [0.3, 0.7], means = ["100ms", "1s"]"#;
        assert_moments(table, mean, cv);
        assert_moments(
            r#"dist = "hyperexponential", mean = 0.02, cv = 2"#,
            0.02,
            2.0,
        );
        let one = assert_moments(
            r#"dist = "hyperexponential", mean = 0.02, cv = 1"#,
            0.02,
            1.0,
        );
        assert!(one.is_exponential());
    }

    #[test]
    fn pareto_parameterizations() {
        let (shape, scale) = (3.0f64, 2.0f64);
        let cv = (1.0 / (shape * (shape - 2.0))).sqrt();
        let table = format!(r#"dist = "pareto", shape = {shape}, scale = {scale}"#);
        assert_moments(&table, 3.0, cv);
        assert_moments(r#"dist = "pareto", mean = 1, cv = 0.5"#, 1.0, 0.5);
        assert_moments(r#"dist = "pareto", mean = 1, cv = 20"#, 1.0, 20.0);
        let heavy = spec(r#"dist = "pareto", mean = "10ms", shape = 1.5"#).unwrap();
        assert_rel(heavy.mean(), 0.01, "pareto mean");
        assert_eq!(heavy.variance(), f64::INFINITY);
        assert_eq!(heavy.cv(), f64::INFINITY);
        assert_eq!(heavy.second_moment(), f64::INFINITY);
    }

    /// Sample mean within 4 standard errors; where the 4th moment is finite,
    /// sample cv within 4 of its (delta-method) standard errors.
    fn assert_samples(dist: &Dist, check_cv: bool) {
        const N: usize = 200_000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let xs: Vec<f64> = (0..N).map(|_| dist.sample(&mut rng)).collect();
        let n = N as f64;
        assert!(xs.iter().all(|&x| x.is_finite() && x >= 0.0), "{dist}");
        let mean = xs.iter().sum::<f64>() / n;
        let se = (dist.variance() / n).sqrt();
        assert!(
            (mean - dist.mean()).abs() <= 4.0 * se,
            "{dist}: sample mean {mean}"
        );
        if check_cv {
            let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
            let cv = m2.sqrt() / mean;
            let se_cv = ((m4 - m2 * m2) / n).sqrt() / (2.0 * m2.sqrt() * mean) + cv * se / mean;
            let expected = dist.cv();
            let slack = 4.0 * se_cv + 1e-12;
            assert!(
                (cv - expected).abs() <= slack,
                "{dist}: sample cv {cv} (se {se_cv})"
            );
        }
    }

    #[test]
    fn samples_match_moments() {
        let light = [
            r#"dist = "exponential", mean = 0.02"#,
            r#"dist = "uniform", min = 1, max = 3"#,
            r#"dist = "erlang", k = 4, rate = 200"#,
            r#"dist = "gamma", mean = 0.015, cv = 0.8"#,
            r#"dist = "gamma", mean = 0.015, cv = 2"#,
            r#"dist = "lognormal", mean = 0.01, cv = 1"#,
            r#"dist = "weibull", mean = 1, cv = 0.5"#,
            r#"dist = "weibull", mean = 1, cv = 2"#,
            r#"dist = "hyperexponential", mean = 0.02, cv = 2"#,
            r#"dist = "pareto", mean = 1, cv = 0.2"#,
        ];
        for table in light {
            assert_samples(&spec(table).unwrap(), true);
        }
        assert_samples(
            &spec(r#"dist = "pareto", mean = 1, shape = 2.5"#).unwrap(),
            false,
        );
        let values: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.01).collect();
        assert_samples(&Dist::empirical(values, "ramp").unwrap(), true);
    }

    #[test]
    fn unknown_family_suggests_the_closest_and_lists_all() {
        let message = error(r#"dist = "gama", mean = 1"#);
        assert!(message.starts_with(r#"unknown distribution "gama" (did you mean "gamma"?)"#));
        assert!(message.ends_with(&family_names()), "{message}");
        assert!(error(r#"dist = "LogNormal", mean = 1"#).contains(r#"did you mean "lognormal""#));
        assert!(error(r#"dist = "hyperexp", mean = 1"#).contains(r#""hyperexponential"?"#));
        assert!(!error(r#"dist = "zipfian", mean = 1"#).contains("did you mean"));
    }

    #[test]
    fn non_positive_and_non_finite_parameters_are_rejected() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Dist::exponential(bad).is_err(), "{bad}");
            assert!(Dist::exponential_rate(bad).is_err(), "{bad}");
            assert!(Dist::constant(bad).is_err(), "{bad}");
            assert!(
                Dist::gamma(bad, 1.0).is_err() && Dist::gamma(1.0, bad).is_err(),
                "{bad}"
            );
            assert!(
                Dist::weibull(bad, 1.0).is_err() && Dist::weibull(1.0, bad).is_err(),
                "{bad}"
            );
            assert!(Dist::lognormal(0.0, bad).is_err(), "{bad}");
            assert!(Dist::erlang(2, bad).is_err(), "{bad}");
            assert!(Dist::pareto(3.0, bad).is_err(), "{bad}");
            assert!(Dist::hyperexponential(&[1.0], &[bad]).is_err(), "{bad}");
            assert!(Dist::with_mean_cv("gamma", bad, 1.0).is_err(), "{bad}");
            assert!(Dist::with_mean_cv("gamma", 1.0, bad).is_err(), "{bad}");
        }
        assert_eq!(
            Dist::gamma(-1.0, 1.0).unwrap_err().to_string(),
            "gamma shape = -1 is invalid: must be a positive finite number"
        );
        assert!(Dist::lognormal(f64::NAN, 1.0).is_err());
        assert!(
            Dist::lognormal(800.0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("lognormal mean = inf")
        );
        assert!(Dist::exponential_rate(1e-320).is_err());
        assert!(
            Dist::erlang(0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("erlang k = 0")
        );
        assert!(error(r#"dist = "erlang", k = 2, mean = 0"#).contains("erlang mean = 0"));
        assert!(error(r#"dist = "gamma", shape = 2, rate = 0"#).contains("gamma rate = 0"));
        let means = r#"dist = "hyperexponential", probs = [1], means = [0]"#;
        assert!(error(means).contains("hyperexponential means = 0"));
    }

    #[test]
    fn bounds_and_probabilities_are_checked() {
        assert!(
            Dist::uniform(2.0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("greater than min")
        );
        assert!(Dist::uniform(1.0, 1.0).is_err());
        assert!(
            Dist::uniform(-1.0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("uniform min = -1")
        );
        assert!(Dist::uniform(0.0, f64::INFINITY).is_err());
        let sum = Dist::hyperexponential(&[0.5, 0.6], &[1.0, 2.0]).unwrap_err();
        assert_eq!(
            sum.to_string(),
            "hyperexponential probs = 1.1 is invalid: must sum to 1"
        );
        assert!(Dist::hyperexponential(&[1.5, -0.5], &[1.0, 2.0]).is_err());
        assert!(Dist::hyperexponential(&[1.0], &[1.0, 2.0]).is_err());
        assert!(Dist::hyperexponential(&[], &[]).is_err());
        assert!(
            Dist::pareto(1.0, 1.0)
                .unwrap_err()
                .to_string()
                .contains("greater than 1")
        );
        assert!(Dist::pareto_mean_shape(1.0, 0.5).is_err());
    }

    #[test]
    fn cv_out_of_the_family_range_is_rejected() {
        assert!(error(r#"dist = "uniform", mean = 1, cv = 0.6"#).contains("1/sqrt(3)"));
        assert!(error(r#"dist = "hyperexponential", mean = 1, cv = 0.5"#).contains("cv < 1"));
        assert!(error(r#"dist = "weibull", mean = 1, cv = 1000"#).contains("between 0.01 and 100"));
        assert!(error(r#"dist = "weibull", mean = 1, cv = 0.001"#).contains("between"));
        assert!(error(r#"dist = "gamma", mean = 1, cv = 0"#).contains("constant"));
        assert!(error(r#"dist = "lognormal", mean = 1, cv = -1"#).contains("lognormal cv = -1"));
    }

    #[test]
    fn erlang_cv_must_give_whole_phases() {
        assert_eq!(
            error(r#"dist = "erlang", mean = 1, cv = 0.7"#),
            "erlang needs 1/cv^2 to be a whole number of phases k, but cv = 0.7 gives \
             1/cv^2 = 2.040816; use cv = 0.707107 (k = 2), or dist = \"gamma\", which takes any cv"
        );
        assert!(error(r#"dist = "erlang", mean = 1, cv = 2"#).contains("k = 1"));
    }
}
