//! Drawing from a [`Dist`] and its moments: mean, variance, cv, E\[X²\],
//! and the shape predicates the analytic formulas ask about.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};
use statrs::function::gamma::gamma;

use super::{Dist, Exponential, FAMILIES, weibull_scv};

impl Exponential {
    /// A unit exponential times 1/λ: the algorithm of `rand_distr::Exp`
    /// (ziggurat), drawn inline.
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let unit: f64 = Exp1.sample(rng);
        unit * self.scale
    }
}

impl Dist {
    /// Draws one value.
    ///
    /// The exponential, by far the most common family on the simulator's
    /// hot path (every `rate = ...` producer draws its gaps from it), is
    /// drawn inline; the other families behind a call.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential(d) => d.sample(rng),
            _ => self.sample_any(rng),
        }
    }

    /// [`Self::sample`] behind a call, for any family.
    #[inline(never)]
    fn sample_any<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Exponential(d) => d.sample(rng),
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
