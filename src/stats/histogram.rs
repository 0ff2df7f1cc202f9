//! Percentiles of times in constant memory, on a log-linear histogram.
//!
//! Each power of two of seconds is cut into 1024 equal buckets,
//! so a bucket spans at most 1/1024 of its values (0.1%, the precision of
//! an HDR histogram with 3 significant digits). The bucket of a time is
//! read straight off the bits of its `f64` (exponent and top 10 mantissa
//! bits), which makes recording a shift, a subtraction and an increment:
//! it runs once per message per queue, so it sits on the simulator's hot
//! path. Buckets are allocated only between the smallest and the largest
//! non-zero time recorded (zeros, frequent among waits, are counted apart),
//! a few tens of kilobytes for times spanning a few decades.

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

/// `values` with `count` zeros in front.
fn prepend_zeros<T: Copy + Default>(values: &[T], count: usize) -> Vec<T> {
    let mut grown = vec![T::default(); count + values.len()];
    grown[count..].copy_from_slice(values);
    grown
}

/// A histogram of durations in seconds with 0.1% relative precision.
///
/// A bucket's count is kept in two parts: its low 8 bits in `low`, one
/// byte per bucket, and the rest (`count >> 8`) in `high`, allocated only
/// once some bucket passes 255. A record touches one byte (and `high` once
/// in 256 records of a bucket), so the histograms of thousands of queues
/// take an eighth of the memory and cache that 64-bit counters would.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Bucket number of `low[0]` (never the zero bucket).
    offset: usize,
    /// Low 8 bits of each bucket's count.
    low: Vec<u8>,
    /// `count >> 8` of each bucket, as long as `low`; empty while every
    /// count is below 256.
    high: Vec<u64>,
    /// Times in the zero bucket, kept apart so that a zero does not
    /// stretch `low` down to bucket 0 (30 powers of two below a second).
    zeros: u64,
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
            Some(slot) if slot < self.low.len() => self.bump(slot),
            _ if index == 0 => self.zeros += 1,
            _ => self.record_outside(index),
        }
    }

    /// Counts one more value in bucket `slot` of `low`.
    #[inline]
    fn bump(&mut self, slot: usize) {
        let low = &mut self.low[slot];
        *low = low.wrapping_add(1);
        if *low == 0 {
            self.carry(slot, 1);
        }
    }

    /// Adds `carries × 256` to the count of `slot`.
    #[cold]
    fn carry(&mut self, slot: usize, carries: u64) {
        if self.high.is_empty() {
            self.high = vec![0; self.low.len()];
        }
        self.high[slot] += carries;
    }

    /// Widens the buckets kept to include `index` (not the zero bucket),
    /// then counts it.
    #[cold]
    fn record_outside(&mut self, index: usize) {
        self.widen(index);
        self.bump(index - self.offset);
    }

    /// Widens the buckets kept to include `index` (not the zero bucket).
    fn widen(&mut self, index: usize) {
        let grow_high = !self.high.is_empty();
        if self.low.is_empty() {
            self.offset = index;
            self.low.push(0);
        } else if index < self.offset {
            let grow = self.offset - index;
            self.low = prepend_zeros(&self.low, grow);
            if grow_high {
                self.high = prepend_zeros(&self.high, grow);
            }
            self.offset = index;
        } else if index >= self.offset + self.low.len() {
            self.low.resize(index - self.offset + 1, 0);
        }
        if grow_high {
            self.high.resize(self.low.len(), 0);
        }
    }

    /// Count of bucket `slot` of `low` (and `high`).
    fn count_at(&self, slot: usize) -> u64 {
        u64::from(self.low[slot]) + (self.high.get(slot).copied().unwrap_or(0) << 8)
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` in [0, 1], in seconds: the middle of the
    /// bucket holding the `ceil(q × count)`-th smallest value (at least the
    /// first); NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        self.quantiles(&[q])[0]
    }

    /// [`Self::quantile`] at each of `levels` (in increasing order), in one
    /// pass over the buckets.
    pub fn quantiles(&self, levels: &[f64]) -> Vec<f64> {
        if self.total == 0 {
            return vec![f64::NAN; levels.len()];
        }
        let rank = |q: f64| ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let last = value_of(self.offset + self.low.len().max(1) - 1);
        // The zero bucket comes first; `index` is the bucket holding the
        // `seen`-th smallest value, `slot` the next bucket of `low` to count.
        let mut seen = self.zeros;
        let mut index = 0;
        let mut slot = 0;
        levels
            .iter()
            .map(|&q| {
                let wanted = rank(q);
                while seen < wanted {
                    slot = self.skip_empty(slot);
                    if slot == self.low.len() {
                        return last;
                    }
                    seen += self.count_at(slot);
                    index = slot + self.offset;
                    slot += 1;
                }
                value_of(index)
            })
            .collect()
    }

    /// The first bucket of `low` from `slot` on that may hold values (or
    /// the end), jumping eight empty buckets at a time: with thousands of
    /// queues, most buckets of most histograms are empty.
    fn skip_empty(&self, mut slot: usize) -> usize {
        let empty = |from: usize| {
            let low: [u8; 8] = self.low[from..from + 8].try_into().expect("eight buckets");
            u64::from_ne_bytes(low) == 0
                && (self.high.is_empty() || self.high[from..from + 8].iter().all(|&c| c == 0))
        };
        while slot + 8 <= self.low.len() && empty(slot) {
            slot += 8;
        }
        while slot < self.low.len() && self.count_at(slot) == 0 {
            slot += 1;
        }
        slot
    }

    /// Adds every value recorded in `other`.
    pub fn add(&mut self, other: &Self) {
        if self.total == 0 {
            self.clone_from(other);
            return;
        }
        self.zeros += other.zeros;
        self.total += other.total;
        if other.low.is_empty() {
            return;
        }
        self.widen(other.offset);
        self.widen(other.offset + other.low.len() - 1);
        let mut slot = other.skip_empty(0);
        while slot < other.low.len() {
            let mine = slot + other.offset - self.offset;
            let sum = u64::from(self.low[mine]) + u64::from(other.low[slot]);
            self.low[mine] = sum as u8;
            let carries = (sum >> 8) + other.high.get(slot).copied().unwrap_or(0);
            if carries > 0 {
                self.carry(mine, carries);
            }
            slot = other.skip_empty(slot + 1);
        }
    }

    /// Records `count` durations of `seconds` at once.
    pub fn record_n(&mut self, seconds: f64, count: u64) {
        if count == 0 {
            return;
        }
        self.total += count;
        let index = bucket_of(seconds);
        if index == 0 {
            self.zeros += count;
            return;
        }
        self.widen(index);
        let slot = index - self.offset;
        let sum = u64::from(self.low[slot]) + count;
        self.low[slot] = sum as u8;
        if sum >> 8 > 0 {
            self.carry(slot, sum >> 8);
        }
    }

    /// The non-empty buckets, shortest first, as `(seconds, count)`: a
    /// value inside the bucket and how many values it holds. Recording
    /// them with [`Self::record_n`] rebuilds this histogram exactly (the
    /// form in which shard files carry histograms).
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let zeros = (self.zeros > 0).then_some((0.0, self.zeros));
        let rest =
            (0..self.low.len()).map(|slot| (value_of(slot + self.offset), self.count_at(slot)));
        zeros
            .into_iter()
            .chain(rest.filter(|(_, count)| *count > 0))
    }

    /// The non-empty buckets as `(bucket number, count)`, the zero bucket
    /// (number 0) first: the compact form in which shard files carry
    /// histograms. [`Self::record_bucket`] rebuilds this histogram exactly.
    pub fn bucket_counts(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let zeros = (self.zeros > 0).then_some((0, self.zeros));
        let rest = (0..self.low.len()).map(|slot| (slot + self.offset, self.count_at(slot)));
        zeros
            .into_iter()
            .chain(rest.filter(|(_, count)| *count > 0))
    }

    /// Records `count` values in bucket number `index` (as numbered by
    /// [`Self::bucket_counts`]).
    ///
    /// # Errors
    ///
    /// A bucket number beyond the longest time kept.
    pub fn record_bucket(&mut self, index: usize, count: u64) -> Result<(), String> {
        if index > bucket_of(MAX_S) {
            return Err(format!("bucket {index} is beyond the histogram's range"));
        }
        self.record_n(value_of(index), count);
        Ok(())
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
    fn counts_past_255_carry_and_zeros_take_no_buckets() {
        let mut h = LatencyHistogram::new();
        for _ in 0..1000 {
            h.record(0.0);
        }
        assert!(h.low.is_empty(), "zeros are counted apart");
        for _ in 0..700 {
            h.record(0.01);
        }
        h.record(0.02);
        assert_eq!(h.low.len(), 1025, "one power of two, both ends included");
        // 1000 zeros, 700 at 0.01 (a count of 2·256 + 188), one at 0.02;
        // levels halfway between ranks, clear of rounding.
        assert_eq!(h.quantile(999.5 / 1701.0), 0.0);
        let at_10ms = h.quantile(1000.5 / 1701.0);
        assert!((at_10ms - 0.01).abs() < 1e-5, "{at_10ms}");
        assert!((h.quantile(1699.5 / 1701.0) - 0.01).abs() < 1e-5);
        assert!((h.quantile(1.0) - 0.02).abs() < 2e-5);
        let mut twice = h.clone();
        twice.add(&h);
        assert!((twice.quantile(2000.5 / 3402.0) - 0.01).abs() < 1e-5);
        assert!((twice.quantile(3399.5 / 3402.0) - 0.01).abs() < 1e-5);
        assert_eq!(twice.count(), 3402);
    }

    #[test]
    fn quantiles_in_one_pass_equal_quantiles_one_by_one() {
        let mut h = LatencyHistogram::new();
        for i in 0..5000_u32 {
            let seconds = 1e-5 * f64::from(i * i % 9973);
            h.record(if i % 7 == 0 { 0.0 } else { seconds });
        }
        let levels: Vec<f64> = (0..=100).map(|i| f64::from(i) / 100.0).collect();
        let each: Vec<f64> = levels.iter().map(|&q| h.quantile(q)).collect();
        assert_eq!(h.quantiles(&levels), each);
    }

    #[test]
    fn buckets_rebuild_the_histogram_exactly() {
        let mut h = LatencyHistogram::new();
        for i in 0..5000 {
            h.record(1e-6 * f64::from(i * i % 4999));
        }
        for _ in 0..300 {
            h.record(0.25);
        }
        h.record(0.0);
        let mut rebuilt = LatencyHistogram::new();
        for (seconds, count) in h.buckets() {
            rebuilt.record_n(seconds.to_string().parse().unwrap(), count);
        }
        assert_eq!(rebuilt, h);
        rebuilt.record_n(1.0, 0);
        assert_eq!(rebuilt, h);
    }

    #[test]
    fn empty_histogram_has_no_quantile() {
        assert!(LatencyHistogram::new().quantile(0.5).is_nan());
    }
}
