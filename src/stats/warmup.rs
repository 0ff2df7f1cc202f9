//! Warm-up detection by MSER-5 (White, 1997; White, Cobb and Spratt, 2000).
//!
//! A simulation that starts empty, or with a backlog, spends its first
//! moments far from steady state; averaging them in biases every mean.
//! MSER (Marginal Standard Error Rule) truncates a series `Y_1 .. Y_n` at
//! the `d` that minimises
//!
//! ```text
//! MSER(d) = Σ_{i>d} (Y_i − Ȳ_d)² / (n − d)²      Ȳ_d = mean of Y_{d+1} .. Y_n
//! ```
//!
//! over `d` in the first half of the series: cutting more observations
//! pays only while it removes more squared deviation (bias) than it costs
//! in sample size. MSER-5 applies the rule to means of batches of 5
//! observations, which smooths the series.
//!
//! The engine records latencies per time slice as `(sum, count)` (see
//! `ReplicationResult::latency_by_time`), so batches here are runs of
//! consecutive slices holding at least [`MSER_BATCH`] observations on
//! average; slices without deliveries are skipped.

/// Observations per batch mean: the "5" of MSER-5.
pub const MSER_BATCH: u64 = 5;

/// Fewest non-empty batches for which MSER is attempted.
pub const MIN_BATCHES: usize = 10;

/// Truncation point of a series by MSER: the number of leading values to
/// discard, at most half of them. 0 for an empty series.
pub fn mser_truncation(series: &[f64]) -> usize {
    let n = series.len();
    let mut best = (f64::INFINITY, 0);
    for d in 0..=n / 2 {
        let tail = &series[d..];
        if tail.is_empty() {
            break;
        }
        let m = tail.len() as f64;
        let mean = tail.iter().sum::<f64>() / m;
        let squares: f64 = tail.iter().map(|y| (y - mean).powi(2)).sum();
        let statistic = squares / (m * m);
        if statistic < best.0 {
            best = (statistic, d);
        }
    }
    best.1
}

/// The warm-up MSER-5 chooses for one delivery-time series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MserChoice {
    /// Time to discard, seconds: the start of the first kept batch.
    pub warmup_s: f64,
    /// Whether the truncation reached the end of the first half of the
    /// series: the run may be too short to reach steady state.
    pub at_limit: bool,
}

/// MSER-5 on `slices`, equal time slices of width `slice_s` seconds each
/// holding `(sum of observations, count)`. `None` when the series has
/// fewer than [`MIN_BATCHES`] non-empty batches.
pub fn mser5(slices: &[(f64, u64)], slice_s: f64) -> Option<MserChoice> {
    let total: u64 = slices.iter().map(|&(_, count)| count).sum();
    if total == 0 {
        return None;
    }
    let per_batch = (MSER_BATCH * slices.len() as u64).div_ceil(total).max(1) as usize;
    let (starts, means): (Vec<usize>, Vec<f64>) = slices
        .chunks(per_batch)
        .enumerate()
        .filter_map(|(i, batch)| {
            let (sum, count) = batch
                .iter()
                .fold((0.0, 0), |(s, c), &(sum, count)| (s + sum, c + count));
            (count > 0).then(|| (i * per_batch, sum / count as f64))
        })
        .unzip();
    if means.len() < MIN_BATCHES {
        return None;
    }
    let d = mser_truncation(&means);
    Some(MserChoice {
        warmup_s: starts[d] as f64 * slice_s,
        at_limit: d == means.len() / 2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stationary_series_is_not_truncated() {
        let series: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 1.0 } else { 3.0 })
            .collect();
        assert_eq!(mser_truncation(&series), 0);
    }

    #[test]
    fn a_decaying_transient_is_cut_off() {
        let series: Vec<f64> = (0..200)
            .map(|i| 10.0 * (-(i as f64) / 5.0).exp() + if i % 2 == 0 { 0.9 } else { 1.1 })
            .collect();
        let d = mser_truncation(&series);
        assert!((10..40).contains(&d), "{d}");
    }

    #[test]
    fn truncation_never_passes_half_the_series() {
        let series: Vec<f64> = (0..50).map(|i| 100.0 - i as f64).collect();
        assert!(mser_truncation(&series) <= 25);
    }

    #[test]
    fn sparse_slices_are_batched_to_five_observations() {
        let mut slices = vec![(0.0, 0); 500];
        for (i, slice) in slices.iter_mut().enumerate() {
            *slice = if i < 100 { (50.0, 1) } else { (1.0, 1) };
        }
        let choice = mser5(&slices, 2.0).unwrap();
        assert_eq!(choice.warmup_s, 200.0);
        assert!(!choice.at_limit);
    }

    #[test]
    fn too_few_observations_give_no_choice() {
        assert_eq!(mser5(&[(0.0, 0); 500], 1.0), None);
        let mut slices = vec![(0.0, 0); 500];
        slices[3] = (4.0, 20);
        assert_eq!(mser5(&slices, 1.0), None);
    }
}
