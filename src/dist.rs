//! Probability distributions (placeholder, being written).

/// A validated distribution of a non-negative quantity.
#[derive(Debug, Clone)]
pub enum Dist {
    /// Exponential with the given rate.
    Exponential(rand_distr::Exp<f64>, f64),
}

impl Dist {
    /// Draws one value.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        use rand_distr::Distribution;
        match self {
            Dist::Exponential(d, _) => d.sample(rng),
        }
    }
    /// Mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential(_, rate) => 1.0 / rate,
        }
    }
}
