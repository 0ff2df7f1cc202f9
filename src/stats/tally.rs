//! Streaming mean and variance (Welford's algorithm).

/// Count, mean, variance and extremes of a stream of observations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    count: u64,
    mean: f64,
    sum_sq_dev: f64,
    max: f64,
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one observation.
    #[inline]
    pub fn record(&mut self, value: f64) {
        self.count += 1;
        let delta = value - self.mean;
        self.mean += delta / self.count as f64;
        self.sum_sq_dev += delta * (value - self.mean);
        if value > self.max {
            self.max = value;
        }
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of the observations, NaN when there are none.
    pub fn mean(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.mean }
    }

    /// Unbiased sample variance, NaN with fewer than two observations.
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.sum_sq_dev / (self.count - 1) as f64
        }
    }

    /// Largest observation (0 when there are none).
    pub fn max(&self) -> f64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_variance_match_the_two_pass_formulas() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut tally = Tally::new();
        values.iter().for_each(|&v| tally.record(v));
        assert_eq!(tally.count(), 8);
        assert!((tally.mean() - 5.0).abs() < 1e-12);
        assert!((tally.variance() - 32.0 / 7.0).abs() < 1e-12);
        assert_eq!(tally.max(), 9.0);
    }

    #[test]
    fn empty_tally_has_no_mean() {
        assert!(Tally::new().mean().is_nan());
        assert!(Tally::new().variance().is_nan());
    }
}
