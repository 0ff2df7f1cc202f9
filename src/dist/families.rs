//! The constructors of [`Dist`]: one per family from its native
//! parameters, each validating them, and [`Dist::with_mean_cv`], which
//! solves a family's parameters from a mean and a coefficient of variation.

use statrs::function::gamma::gamma;

use super::error::keys_error;
use super::{
    Constant, Dist, DistError, Empirical, Erlang, Exponential, Gamma, HyperExponential, LogNormal,
    Pareto, Phase, Uniform, WEIBULL_CV, WEIBULL_SHAPE, Weibull, check, family, non_negative,
    positive, sampler, weibull_scv,
};

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
        Dist::checked(Dist::Exponential(Exponential {
            rate,
            scale: 1.0 / rate,
        }))
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

    /// Draws uniformly from `values`; `source` names them in [`Display`](std::fmt::Display).
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
}
