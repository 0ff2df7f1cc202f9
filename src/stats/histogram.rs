//! Percentiles of times in constant memory, on a log-linear histogram.
//!
//! Each power of two of seconds is cut into 1024 equal buckets,
//! so a bucket spans at most 1/1024 of its values (0.1%, the precision of
//! an HDR histogram with 3 significant digits). The bucket of a time is
//! read straight off the bits of its `f64` (exponent and top 10 mantissa
//! bits), which makes recording a shift, a subtraction and an increment:
//! it runs once per message per queue, so it sits on the simulator's hot
//! path. Buckets are allocated only between the smallest and the largest
//! time recorded, a few tens of kilobytes for times spanning a few decades.

/// Mantissa bits that pick the bucket inside a power of two: 1024 buckets.
const SUB_BUCKET_BITS: u32 = 10;
/// Bits of an `f64` below the bucket number.
const SHIFT: u32 = 52 - SUB_BUCKET_BITS;
/// Shortest time told apart from zero, seconds (one nanosecond, rounded
/// down to a power of two); shorter times count as zero.
const MIN_S: f64 = 1.0 / (1u64 << 30) as f64;
/// Longest time kept, seconds (about 4,000 years); longer ones are clamped.
const MAX_S: f64 = (1u64 << 37) as f64;
/// Bucket number of the smallest non-zero time.
const FIRST: u64 = MIN_S.to_bits() >> SHIFT;

/// Bucket number of a time: 0 for zero (and anything below [`MIN_S`],
/// negative or NaN), then one per 1/1024 of each power of two.
#[inline]
fn bucket_of(seconds: f64) -> usize {
    if seconds >= MIN_S {
        ((seconds.min(MAX_S).to_bits() >> SHIFT) - FIRST + 1) as usize
    } else {
        0
    }
}

/// The middle of bucket `index`, seconds (0 for the zero bucket).
fn value_of(index: usize) -> f64 {
    if index == 0 {
        return 0.0;
    }
    let low = f64::from_bits((index as u64 - 1 + FIRST) << SHIFT);
    let high = f64::from_bits((index as u64 + FIRST) << SHIFT);
    0.5 * (low + high)
}

/// A histogram of durations in seconds with 0.1% relative precision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Bucket number of `counts[0]`.
    offset: usize,
    counts: Vec<u64>,
    total: u64,
}

impl LatencyHistogram {
    /// An empty histogram; it grows to the times recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one duration in seconds (negative values count as 0).
    #[inline]
    pub fn record(&mut self, seconds: f64) {
        let index = bucket_of(seconds);
        self.total += 1;
        match index.checked_sub(self.offset) {
            Some(slot) if slot < self.counts.len() => self.counts[slot] += 1,
            _ => self.record_outside(index),
        }
    }

    /// Widens the buckets kept to include `index`, then counts it.
    #[cold]
    fn record_outside(&mut self, index: usize) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(0);
        } else if index < self.offset {
            let grow = self.offset - index;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        } else {
            self.counts.resize(index - self.offset + 1, 0);
        }
        self.counts[index - self.offset] += 1;
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` in [0, 1], in seconds: the middle of the
    /// bucket holding the `ceil(q × count)`-th smallest value (at least the
    /// first); NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (slot, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return value_of(slot + self.offset);
            }
        }
        value_of(self.offset + self.counts.len() - 1)
    }

    /// Adds every value recorded in `other`.
    pub fn add(&mut self, other: &Self) {
        if other.counts.is_empty() {
            return;
        }
        let (low, high) = (other.offset, other.offset + other.counts.len() - 1);
        for index in [low, high] {
            if self.counts.is_empty()
                || index < self.offset
                || index >= self.offset + self.counts.len()
            {
                self.record_outside(index);
                self.counts[index - self.offset] -= 1;
            }
        }
        for (slot, &count) in other.counts.iter().enumerate() {
            self.counts[slot + other.offset - self.offset] += count;
        }
        self.total += other.total;
    }

    /// Forgets every recorded value.
    pub fn clear(&mut self) {
        *self = Self::default();
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
    fn every_bucket_spans_at_most_a_thousandth_of_its_values() {
        for seconds in [1.5e-9, 3.7e-6, 1e-3, 0.0123, 1.0, 77.7, 3.2e6] {
            let mut h = LatencyHistogram::new();
            h.record(seconds);
            let error = (h.quantile(0.5) - seconds).abs() / seconds;
            assert!(error <= 0.5 / 1024.0, "{seconds}: off by {error}");
        }
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
    fn zero_negative_and_nan_count_as_zero_and_huge_values_clamp() {
        let mut h = LatencyHistogram::new();
        for v in [0.0, -1.0, f64::NAN, 1e-12] {
            h.record(v);
        }
        assert_eq!(h.quantile(1.0), 0.0);
        h.record(1e300);
        assert!(h.quantile(1.0) >= MAX_S * (1.0 - 1e-3));
        assert_eq!(h.count(), 5);
    }

    #[test]
    fn adding_histograms_equals_recording_everything_in_one() {
        let (mut a, mut b, mut both) = (
            LatencyHistogram::new(),
            LatencyHistogram::new(),
            LatencyHistogram::new(),
        );
        for i in 0..1000 {
            let v = 1e-4 * f64::from(i * i % 997 + 1);
            if i % 3 == 0 {
                a.record(v)
            } else {
                b.record(v * 50.0)
            }
            both.record(if i % 3 == 0 { v } else { v * 50.0 });
        }
        let mut sum = b.clone();
        sum.add(&a);
        assert_eq!(sum, both);
        a.add(&b);
        assert_eq!(a, both);
    }

    #[test]
    fn empty_histogram_has_no_quantile() {
        assert!(LatencyHistogram::new().quantile(0.5).is_nan());
    }
}
