//! Streaming mean and variance from shifted sums.
//!
//! The sums are of deviations from the first observation, which keeps them
//! small (no cancellation when the variance is small beside the mean) and,
//! unlike Welford's update, costs no division per observation: a division
//! on every message of every queue was a sixth of the fast path's time.

/// Count, mean, variance and extremes of a stream of observations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    count: u64,
    /// The first observation: every sum is of deviations from it.
    shift: f64,
    sum: f64,
    sum_sq: f64,
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
        if self.count == 0 {
            self.shift = value;
        }
        self.count += 1;
        let deviation = value - self.shift;
        self.sum += deviation;
        self.sum_sq += deviation * deviation;
        if value > self.max {
            self.max = value;
        }
    }

    /// Adds every observation of `other`, as if recorded here after this
    /// tally's own (up to rounding: the sums are moved to this tally's shift).
    pub fn merge(&mut self, other: &Self) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        let n = other.count as f64;
        let offset = other.shift - self.shift;
        self.sum_sq += other.sum_sq + 2.0 * offset * other.sum + n * offset * offset;
        self.sum += other.sum + n * offset;
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of the observations, NaN when there are none.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.shift + self.sum / self.count as f64
        }
    }

    /// Unbiased sample variance, NaN with fewer than two observations.
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            let n = self.count as f64;
            ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
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
    fn variance_stays_exact_far_from_zero() {
        let mut tally = Tally::new();
        (0..1000).for_each(|i| tally.record(1e9 + f64::from(i % 2)));
        assert!((tally.mean() - (1e9 + 0.5)).abs() < 1e-6);
        assert!((tally.variance() - 0.25 * 1000.0 / 999.0).abs() < 1e-9);
    }

    #[test]
    fn merged_tallies_equal_one_tally_of_all_observations() {
        let values: Vec<f64> = (0..500).map(|i| 3.0 + f64::from(i % 17) * 0.25).collect();
        let (mut whole, mut first, mut second) = (Tally::new(), Tally::new(), Tally::new());
        values.iter().for_each(|&v| whole.record(v));
        values[..120].iter().for_each(|&v| first.record(v));
        values[120..].iter().for_each(|&v| second.record(v));
        let mut empty = Tally::new();
        empty.merge(&first);
        assert_eq!(empty, first);
        first.merge(&Tally::new());
        first.merge(&second);
        assert_eq!(first.count(), whole.count());
        assert!((first.mean() - whole.mean()).abs() < 1e-12);
        assert!((first.variance() - whole.variance()).abs() < 1e-12);
        assert_eq!(first.max(), whole.max());
    }

    #[test]
    fn empty_tally_has_no_mean() {
        assert!(Tally::new().mean().is_nan());
        assert!(Tally::new().variance().is_nan());
    }
}
