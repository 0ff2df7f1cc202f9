//! Maximum-likelihood estimates of the families `fit` tries, with standard
//! errors from the observed Fisher information (the negative Hessian of the
//! log-likelihood at the estimate, inverted).
//!
//! Parameters are those of [`Dist`]: exponential `mean`; gamma `shape`,
//! `scale`; lognormal `mu`, `sigma` (of ln x); Weibull `shape`, `scale`.

use statrs::function::gamma::{digamma, ln_gamma};

use super::Family;
use crate::dist::{Dist, DistError};

/// Largest number of Newton (or bisection) steps of a shape equation.
const MAX_STEPS: usize = 400;
/// Relative change of the shape at which Newton's method stops.
const SHAPE_TOLERANCE: f64 = 1e-13;

/// Sums of a positive sample that every likelihood needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample<'a> {
    /// The values, all positive and finite.
    pub values: &'a [f64],
    /// Number of values, as a float.
    pub n: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Mean of ln x.
    pub mean_ln: f64,
}

impl<'a> Sample<'a> {
    /// Summarises `values` (positive and finite, checked by the caller).
    pub fn new(values: &'a [f64]) -> Sample<'a> {
        let n = values.len() as f64;
        Sample {
            values,
            n,
            mean: values.iter().sum::<f64>() / n,
            mean_ln: values.iter().map(|x| x.ln()).sum::<f64>() / n,
        }
    }
}

/// One estimated parameter with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Param {
    /// Name as written in a scenario's `dist` table, e.g. `"shape"`.
    pub name: &'static str,
    /// Maximum-likelihood estimate (seconds for `mean` and `scale`).
    pub value: f64,
    /// Standard error from the observed Fisher information (same unit).
    pub std_error: f64,
}

/// A maximum-likelihood fit of one family.
#[derive(Debug, Clone)]
pub struct Mle {
    /// The family.
    pub family: Family,
    /// Its parameters, in the order [`Dist`] displays them.
    pub params: Vec<Param>,
    /// Log-likelihood of the sample at the estimate.
    pub log_likelihood: f64,
    /// The fitted distribution.
    pub dist: Dist,
}

/// Fits `family` to `sample` by maximum likelihood.
///
/// # Errors
///
/// When the estimate is not a valid distribution (e.g. its mean overflows).
pub(super) fn fit(family: Family, sample: &Sample<'_>) -> Result<Mle, DistError> {
    match family {
        Family::Exponential => exponential(sample),
        Family::Gamma => gamma(sample),
        Family::LogNormal => lognormal(sample),
        Family::Weibull => weibull(sample),
    }
}

/// # Formula
///
/// mean = x̄; ℓ = −n ln x̄ − n; SE(mean) = x̄/√n.
fn exponential(s: &Sample<'_>) -> Result<Mle, DistError> {
    Ok(Mle {
        family: Family::Exponential,
        params: vec![Param {
            name: "mean",
            value: s.mean,
            std_error: s.mean / s.n.sqrt(),
        }],
        log_likelihood: -s.n * s.mean.ln() - s.n,
        dist: Dist::exponential(s.mean)?,
    })
}

/// # Formula
///
/// The shape k solves ln k − ψ(k) = ln x̄ − mean(ln x) (Newton, started at
/// Minka's approximation), scale θ = x̄/k;
/// ℓ = (k−1)Σln x − nk − nk ln θ − n lnΓ(k);
/// observed information n·[[ψ′(k), 1/θ], [1/θ, k/θ²]].
fn gamma(s: &Sample<'_>) -> Result<Mle, DistError> {
    let gap = s.mean.ln() - s.mean_ln;
    let guess = (3.0 - gap + ((gap - 3.0).powi(2) + 24.0 * gap).sqrt()) / (12.0 * gap);
    let shape = solve_increasing(
        |k| (digamma(k) - k.ln() + gap, trigamma(k) - 1.0 / k),
        guess,
    );
    let scale = s.mean / shape;
    let n = s.n;
    let log_likelihood =
        (shape - 1.0) * n * s.mean_ln - n * shape - n * shape * scale.ln() - n * ln_gamma(shape);
    let info = [
        [n * trigamma(shape), n / scale],
        [n / scale, n * shape / (scale * scale)],
    ];
    Ok(two_params(
        Family::Gamma,
        [("shape", shape), ("scale", scale)],
        info,
        log_likelihood,
        Dist::gamma(shape, scale)?,
    ))
}

/// # Formula
///
/// μ = mean(ln x), σ² = mean((ln x − μ)²);
/// ℓ = −Σln x − n ln σ − (n/2) ln 2π − n/2;
/// observed information diag(n/σ², 2n/σ²).
fn lognormal(s: &Sample<'_>) -> Result<Mle, DistError> {
    let mu = s.mean_ln;
    let variance = s.values.iter().map(|x| (x.ln() - mu).powi(2)).sum::<f64>() / s.n;
    let sigma = variance.sqrt();
    let n = s.n;
    let log_likelihood =
        -n * mu - n * sigma.ln() - 0.5 * n * (2.0 * std::f64::consts::PI).ln() - 0.5 * n;
    let info = [[n / variance, 0.0], [0.0, 2.0 * n / variance]];
    Ok(two_params(
        Family::LogNormal,
        [("mu", mu), ("sigma", sigma)],
        info,
        log_likelihood,
        Dist::lognormal(mu, sigma)?,
    ))
}

/// # Formula
///
/// The shape k solves Σxᵏ ln x / Σxᵏ − 1/k − mean(ln x) = 0 (Newton with
/// bisection, computed on x / max x so that xᵏ cannot overflow), scale
/// λ = (Σxᵏ/n)^(1/k); ℓ = n ln k − nk ln λ + (k−1)Σln x − Σ(x/λ)ᵏ.
/// With tᵢ = (xᵢ/λ)ᵏ and Lᵢ = ln(xᵢ/λ), the observed information is
/// [[n/k² + ΣtL², n/λ − (k/λ)ΣtL − Σt/λ], [·, (k/λ²)((1+k)Σt − n)]].
fn weibull(s: &Sample<'_>) -> Result<Mle, DistError> {
    let max_ln = s
        .values
        .iter()
        .fold(f64::NEG_INFINITY, |m, x| m.max(x.ln()));
    let u: Vec<f64> = s.values.iter().map(|x| x.ln() - max_ln).collect();
    let mean_u = s.mean_ln - max_ln;
    let sd_ln = (u.iter().map(|v| (v - mean_u).powi(2)).sum::<f64>() / s.n).sqrt();
    let equation = |k: f64| {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &v in &u {
            let w = (k * v).exp();
            s0 += w;
            s1 += w * v;
            s2 += w * v * v;
        }
        let (m1, m2) = (s1 / s0, s2 / s0);
        (m1 - 1.0 / k - mean_u, m2 - m1 * m1 + 1.0 / (k * k))
    };
    let shape = solve_increasing(equation, 1.2825 / sd_ln);
    let sum_w: f64 = u.iter().map(|v| (shape * v).exp()).sum();
    let scale = (max_ln + (sum_w / s.n).ln() / shape).exp();
    let (n, k, lambda) = (s.n, shape, scale);
    let (mut sum_t, mut sum_tl, mut sum_tl2) = (0.0, 0.0, 0.0);
    for &x in s.values {
        let l = (x / lambda).ln();
        let t = (k * l).exp();
        sum_t += t;
        sum_tl += t * l;
        sum_tl2 += t * l * l;
    }
    let log_likelihood = n * k.ln() - n * k * lambda.ln() + (k - 1.0) * n * s.mean_ln - sum_t;
    let cross = n / lambda - (k / lambda) * sum_tl - sum_t / lambda;
    let info = [
        [n / (k * k) + sum_tl2, cross],
        [cross, (k / (lambda * lambda)) * ((1.0 + k) * sum_t - n)],
    ];
    Ok(two_params(
        Family::Weibull,
        [("shape", shape), ("scale", scale)],
        info,
        log_likelihood,
        Dist::weibull(shape, scale)?,
    ))
}

/// Builds an [`Mle`] of two parameters whose standard errors are the square
/// roots of the diagonal of `info`⁻¹ (NaN where `info` is not positive
/// definite, which happens only when the optimisation failed).
fn two_params(
    family: Family,
    values: [(&'static str, f64); 2],
    info: [[f64; 2]; 2],
    log_likelihood: f64,
    dist: Dist,
) -> Mle {
    let det = info[0][0] * info[1][1] - info[0][1] * info[1][0];
    let variances = [info[1][1] / det, info[0][0] / det];
    let params = values
        .iter()
        .zip(variances)
        .map(|(&(name, value), variance)| Param {
            name,
            value,
            std_error: if det > 0.0 && variance > 0.0 {
                variance.sqrt()
            } else {
                f64::NAN
            },
        })
        .collect();
    Mle {
        family,
        params,
        log_likelihood,
        dist,
    }
}

/// The root of an increasing function of a positive variable, given as
/// `x -> (f(x), f'(x))`: the bracket is widened by factors of 2 around
/// `guess` until it holds a sign change, then Newton steps are taken,
/// falling back to bisection whenever a step leaves the bracket.
fn solve_increasing(f: impl Fn(f64) -> (f64, f64), guess: f64) -> f64 {
    let guess = if guess.is_finite() && guess > 0.0 {
        guess
    } else {
        1.0
    };
    let (mut lo, mut hi) = (guess, guess);
    for _ in 0..MAX_STEPS {
        if f(lo).0 <= 0.0 {
            break;
        }
        lo /= 2.0;
    }
    for _ in 0..MAX_STEPS {
        if f(hi).0 >= 0.0 {
            break;
        }
        hi *= 2.0;
    }
    let mut x = guess;
    for _ in 0..MAX_STEPS {
        let (value, slope) = f(x);
        if value == 0.0 {
            return x;
        }
        if value < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - value / slope;
        let next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= SHAPE_TOLERANCE * x {
            return next;
        }
        x = next;
    }
    x
}

/// The trigamma function ψ′(x) = d²/dx² ln Γ(x), for x > 0.
///
/// # Formula
///
/// ψ′(x) = ψ′(x+1) + 1/x² until x >= 10, then the asymptotic series
/// 1/x + 1/(2x²) + 1/(6x³) − 1/(30x⁵) + 1/(42x⁷) − 1/(30x⁹) + 5/(66x¹¹)
/// (next term below 3e-14 there).
pub(super) fn trigamma(x: f64) -> f64 {
    let mut x = x;
    let mut sum = 0.0;
    while x < 10.0 {
        sum += 1.0 / (x * x);
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let tail = 1.0 / 6.0
        - inv2 * (1.0 / 30.0 - inv2 * (1.0 / 42.0 - inv2 * (1.0 / 30.0 - inv2 * 5.0 / 66.0)));
    sum + inv + inv2 / 2.0 + inv * inv2 * tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    const N: usize = 10_000;

    fn draw(dist: &Dist, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..N).map(|_| dist.sample(&mut rng)).collect()
    }

    /// Fits `family` to 10,000 draws of `truth` and checks every parameter
    /// within 3 of its standard errors.
    fn assert_recovers(family: Family, truth: &Dist, expected: &[(&str, f64)], seed: u64) {
        let values = draw(truth, seed);
        let mle = fit(family, &Sample::new(&values)).unwrap();
        assert_eq!(mle.params.len(), expected.len());
        for (param, &(name, value)) in mle.params.iter().zip(expected) {
            assert_eq!(param.name, name);
            assert!(param.std_error > 0.0, "{family:?} {name}: {param:?}");
            let z = (param.value - value) / param.std_error;
            assert!(
                z.abs() <= 3.0,
                "{family:?} {name}: estimate {} ± {}, truth {value} (z = {z:.2})",
                param.value,
                param.std_error
            );
        }
    }

    #[test]
    fn recovers_each_family_within_three_standard_errors() {
        let exponential = Dist::exponential(0.02).unwrap();
        assert_recovers(Family::Exponential, &exponential, &[("mean", 0.02)], 1);
        for (shape, scale) in [(4.0, 0.004), (0.6, 0.05)] {
            let truth = Dist::gamma(shape, scale).unwrap();
            let expected = [("shape", shape), ("scale", scale)];
            assert_recovers(Family::Gamma, &truth, &expected, 2);
        }
        for (mu, sigma) in [(-4.0, 0.5), (-5.0, 1.3)] {
            let truth = Dist::lognormal(mu, sigma).unwrap();
            assert_recovers(
                Family::LogNormal,
                &truth,
                &[("mu", mu), ("sigma", sigma)],
                3,
            );
        }
        for (shape, scale) in [(2.5, 0.01), (0.7, 0.02)] {
            let truth = Dist::weibull(shape, scale).unwrap();
            let expected = [("shape", shape), ("scale", scale)];
            assert_recovers(Family::Weibull, &truth, &expected, 4);
        }
    }

    #[test]
    fn standard_errors_match_the_closed_forms() {
        let values = draw(&Dist::gamma(2.0, 0.01).unwrap(), 5);
        let sample = Sample::new(&values);
        let lognormal = fit(Family::LogNormal, &sample).unwrap();
        let sigma = lognormal.params[1].value;
        assert!((lognormal.params[0].std_error - sigma / sample.n.sqrt()).abs() < 1e-15);
        assert!((lognormal.params[1].std_error - sigma / (2.0 * sample.n).sqrt()).abs() < 1e-15);
        let gamma = fit(Family::Gamma, &sample).unwrap();
        let k = gamma.params[0].value;
        let se_k = (k / (sample.n * (k * trigamma(k) - 1.0))).sqrt();
        assert!((gamma.params[0].std_error / se_k - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_estimates_maximise_the_likelihood() {
        let values = draw(&Dist::weibull(1.7, 0.3).unwrap(), 6);
        let sample = Sample::new(&values);
        let best = fit(Family::Weibull, &sample).unwrap();
        let [k, lambda] = [best.params[0].value, best.params[1].value];
        let ll = |k: f64, l: f64| -> f64 {
            values
                .iter()
                .map(|x| k.ln() - k * l.ln() + (k - 1.0) * x.ln() - (x / l).powf(k))
                .sum()
        };
        assert!((ll(k, lambda) - best.log_likelihood).abs() < 1e-6 * best.log_likelihood.abs());
        for (dk, dl) in [(1.001, 1.0), (0.999, 1.0), (1.0, 1.001), (1.0, 0.999)] {
            assert!(ll(k * dk, lambda * dl) < best.log_likelihood);
        }
    }

    #[test]
    fn trigamma_matches_known_values() {
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-12);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-12);
        assert!((trigamma(2.0) - (pi2 / 6.0 - 1.0)).abs() < 1e-12);
        assert!((trigamma(100.0) - 0.010_050_166_663_333_571).abs() < 1e-15);
    }
}
