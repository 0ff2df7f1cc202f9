//! Percentiles of times in constant memory, on an HDR histogram.

use hdrhistogram::Histogram;

/// Resolution of recorded times: one nanosecond.
const NANOS_PER_S: f64 = 1e9;
/// Largest duration kept, in nanoseconds (about 146 years); longer ones are clamped.
const MAX_NANOS: f64 = (i64::MAX / 2) as f64;
/// Significant decimal digits kept: values are exact to 0.1% relative.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of durations in seconds with 0.1% relative precision.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram that grows to the largest value recorded.
    pub fn new() -> Self {
        let histogram = Histogram::new(SIGNIFICANT_DIGITS)
            .expect("3 significant digits is a valid HDR histogram precision");
        Self { histogram }
    }

    /// Records one duration in seconds (negative values count as 0).
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        let nanos = (seconds * NANOS_PER_S).round().clamp(0.0, MAX_NANOS) as u64;
        if self.histogram.record(nanos).is_err() {
            self.histogram.saturating_record(nanos);
        }
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The value at quantile `q` in [0, 1], in seconds; NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.histogram.is_empty() {
            return f64::NAN;
        }
        self.histogram.value_at_quantile(q) as f64 / NANOS_PER_S
    }

    /// Forgets every recorded value.
    pub fn clear(&mut self) {
        self.histogram.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_the_stated_precision() {
        let mut h = LatencyHistogram::new();
        for i in 1..=10_000 {
            h.record(i as f64 * 1e-3);
        }
        assert_eq!(h.count(), 10_000);
        let p99 = h.quantile(0.99);
        assert!((p99 - 9.9).abs() / 9.9 < 1e-3, "p99 = {p99}");
        let p50 = h.quantile(0.5);
        assert!((p50 - 5.0).abs() / 5.0 < 1e-3, "p50 = {p50}");
    }

    #[test]
    fn histogram_grows_to_large_values() {
        let mut h = LatencyHistogram::new();
        h.record(3600.0);
        h.record(1e-6);
        assert!((h.quantile(1.0) - 3600.0).abs() / 3600.0 < 1e-3);
        assert!((h.quantile(0.0) - 1e-6).abs() / 1e-6 < 1e-3);
    }

    #[test]
    fn empty_histogram_has_no_quantile() {
        assert!(LatencyHistogram::new().quantile(0.5).is_nan());
    }
}
