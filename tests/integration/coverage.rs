//! Confidence-interval coverage: does the reported 95% interval contain
//! the true value 95% of the time?
//!
//! Each experiment repeats a run of a queue with a known exact answer
//! under many seeds and counts the runs whose reported 95% confidence
//! interval (Student t over replications; for a quantile, sectioning
//! around the pooled quantile) covers that answer, with no slack. The count must fall inside the binomial acceptance band of a
//! true coverage of 95%: the central 99% of Binomial(trials, 0.95), so a
//! correct interval fails the check once in a hundred seed sets, and a
//! systematically narrow or biased one fails it.
//!
//! The fast versions (100 trials) run in CI; the long ones (400 trials,
//! longer runs) run with `cargo test --release --test coverage -- --ignored`.

use queuesim::analytic;
use queuesim::results::RunResult;
use queuesim::stats::Estimate;

use crate::util::{ROUNDING, assert_close, inline, simulate};

/// Coverage the intervals claim.
const NOMINAL: f64 = 0.95;
/// Probability that a correct interval falls outside the acceptance band.
const BAND_RISK: f64 = 0.01;

/// Run length of one trial.
#[derive(Debug, Clone, Copy)]
struct Length {
    trials: u64,
    /// Seed of the first trial; trial `t` uses `first_seed + t`.
    first_seed: u64,
    replications: u32,
    warmup_s: f64,
    duration_s: f64,
}

/// CI version: 100 trials of 10 replications of 20 000 s (about 200
/// relaxation times of the M/M/1 at ρ = 0.8, 1/(μ (1 − √ρ)²) ≈ 90 s).
const FAST: Length = Length {
    trials: 100,
    first_seed: 10_000,
    replications: 10,
    warmup_s: 1_000.0,
    duration_s: 20_000.0,
};

/// Long version: 400 further trials of the same length.
const LONG: Length = Length {
    trials: 400,
    first_seed: 20_000,
    ..FAST
};

/// Replications ten times shorter (about 20 relaxation times).
const SHORT: Length = Length {
    duration_s: 2_000.0,
    warmup_s: 500.0,
    ..FAST
};

/// One coverage experiment: a queue, the metric it reports, the truth.
struct Experiment {
    name: &'static str,
    /// `[[queues]]` table of the queue `q`, fed at `rate_per_s`.
    queue: &'static str,
    rate_per_s: f64,
    metric: fn(&RunResult) -> Estimate,
    truth: f64,
}

/// M/M/1, λ = 0.8/s, μ = 1/s: mean wait ρ/(μ − λ) = 4 s.
fn mm1_wait() -> Experiment {
    Experiment {
        name: "M/M/1 mean wait",
        queue: MM1,
        rate_per_s: 0.8,
        metric: |r| r.nodes[0].mean_wait,
        truth: analytic::mm1(0.8, 1.0).unwrap().mean_wait_s,
    }
}

/// M/M/3, λ = 2.4/s, μ = 1/s (ρ = 0.8): Erlang C mean wait.
fn mmc_wait() -> Experiment {
    Experiment {
        name: "M/M/3 mean wait",
        queue: MM3,
        rate_per_s: 2.4,
        metric: |r| r.nodes[0].mean_wait,
        truth: analytic::mmc(2.4, 1.0, 3).unwrap().mean_wait_s,
    }
}

/// M/M/1/5 (4 waiting places), λ = 0.8/s, μ = 1/s: blocking probability.
fn mm1k_blocking() -> Experiment {
    Experiment {
        name: "M/M/1/5 blocking",
        queue: MM1K,
        rate_per_s: 0.8,
        metric: |r| r.nodes[0].loss_ratio,
        truth: analytic::mm1k(0.8, 1.0, 5).unwrap().loss_probability,
    }
}

/// M/M/1, λ = `rate_per_s`, μ = 1/s: p99 of sojourn, ln(100)/(μ − λ).
fn mm1_p99(name: &'static str, rate_per_s: f64) -> Experiment {
    Experiment {
        name,
        queue: MM1,
        rate_per_s,
        metric: |r| r.nodes[0].p99_sojourn,
        truth: 100f64.ln() / (1.0 - rate_per_s),
    }
}

const MM1: &str = r#"
[[queues]]
name = "q"
[queues.consumers]
service = { dist = "exponential", mean = 1.0 }
"#;

const MM3: &str = r#"
[[queues]]
name = "q"
[queues.consumers]
count = 3
service = { dist = "exponential", mean = 1.0 }
"#;

const MM1K: &str = r#"
[[queues]]
name = "q"
capacity = 4
overflow = "reject-publish"
[queues.consumers]
service = { dist = "exponential", mean = 1.0 }
"#;

/// The scenario text of one trial.
fn scenario_text(experiment: &Experiment, length: Length, seed: u64) -> String {
    format!(
        "[simulation]\nduration = {}\nwarmup = {}\nreplications = {}\nseed = {seed}\n\
         sample_every = {}\n\n[[producers]]\nname = \"p\"\nto = \"q\"\nrate = {}\n{}",
        length.duration_s,
        length.warmup_s,
        length.replications,
        length.duration_s,
        experiment.rate_per_s,
        experiment.queue
    )
}

/// The reported estimate of one trial.
fn trial(experiment: &Experiment, length: Length, seed: u64) -> Estimate {
    let text = scenario_text(experiment, length, seed);
    let (_, result) = simulate(&inline(&text, &[]));
    (experiment.metric)(&result)
}

/// The reported estimate of every trial.
fn trials(experiment: &Experiment, length: Length) -> Vec<Estimate> {
    (0..length.trials)
        .map(|t| trial(experiment, length, length.first_seed + t))
        .collect()
}

/// P(X = k) for X ~ Binomial(n, p), through logarithms.
fn binomial_pmf(n: u64, k: u64, p: f64) -> f64 {
    let ln_choose: f64 = (1..=k)
        .map(|i| ((n - k + i) as f64).ln() - (i as f64).ln())
        .sum();
    (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp()
}

/// Smallest and largest counts of the central `1 − risk` of
/// Binomial(n, p): each tail outside holds at most `risk / 2`.
fn acceptance_band(n: u64, p: f64, risk: f64) -> (u64, u64) {
    let pmf: Vec<f64> = (0..=n).map(|k| binomial_pmf(n, k, p)).collect();
    let mut low = 0;
    let mut tail = 0.0;
    while tail + pmf[low as usize] <= risk / 2.0 {
        tail += pmf[low as usize];
        low += 1;
    }
    let mut high = n;
    tail = 0.0;
    while tail + pmf[high as usize] <= risk / 2.0 {
        tail += pmf[high as usize];
        high -= 1;
    }
    (low, high)
}

/// Runs `experiment`, prints its coverage and checks it lies in the band.
fn check(experiment: Experiment, length: Length) {
    let estimates = trials(&experiment, length);
    let hits = (estimates.iter())
        .filter(|e| e.covers(experiment.truth, 0.0))
        .count() as u64;
    let (low, high) = acceptance_band(length.trials, NOMINAL, BAND_RISK);
    let n = estimates.len() as f64;
    println!(
        "{}: {hits}/{} intervals cover {:.6} ({:.1}%), band {low}..={high}; \
         mean estimate {:.6}, mean half-width {:.6}",
        experiment.name,
        length.trials,
        experiment.truth,
        100.0 * hits as f64 / n,
        estimates.iter().map(|e| e.mean).sum::<f64>() / n,
        estimates.iter().map(|e| e.ci95).sum::<f64>() / n,
    );
    assert!(
        (low..=high).contains(&hits),
        "{}: coverage {hits}/{} outside the 99% band {low}..={high} of a 95% interval",
        experiment.name,
        length.trials
    );
}

#[test]
fn acceptance_band_matches_the_binomial_quantiles() {
    assert_eq!(acceptance_band(100, 0.95, 0.01), (89, 100));
    assert_eq!(acceptance_band(200, 0.95, 0.01), (181, 197));
    assert_eq!(acceptance_band(400, 0.95, 0.01), (368, 390));
    let total: f64 = (0..=50).map(|k| binomial_pmf(50, k, 0.3)).sum();
    assert_close("total probability", total, 1.0, ROUNDING);
}

#[test]
fn mm1_mean_wait_interval_covers_95_percent() {
    check(mm1_wait(), FAST);
}

#[test]
fn mmc_mean_wait_interval_covers_95_percent() {
    check(mmc_wait(), FAST);
}

#[test]
fn mm1k_blocking_interval_covers_95_percent() {
    check(mm1k_blocking(), FAST);
}

#[test]
fn mm1_p99_sojourn_interval_covers_95_percent() {
    check(mm1_p99("M/M/1 p99 sojourn, rho 0.8", 0.8), FAST);
}

#[test]
#[ignore = "long: 400 trials; run with --ignored"]
fn long_mm1_mean_wait_coverage() {
    check(mm1_wait(), LONG);
}

#[test]
#[ignore = "long: 400 trials; run with --ignored"]
fn long_mmc_mean_wait_coverage() {
    check(mmc_wait(), LONG);
}

#[test]
#[ignore = "long: 400 trials; run with --ignored"]
fn long_mm1k_blocking_coverage() {
    check(mm1k_blocking(), LONG);
}

/// Failed while the p99 was the mean of per-replication p99s (361/400,
/// band 368..=390); the pooled p99 with a sectioning interval is in the
/// band (see docs/validation.md, "Confidence-interval coverage").
#[test]
#[ignore = "long: 400 trials; run with --ignored"]
fn long_mm1_p99_sojourn_coverage() {
    check(mm1_p99("M/M/1 p99 sojourn, rho 0.8", 0.8), LONG);
}

/// A known limitation, kept as a test so that it is noticed when fixed:
/// with replications that span only about 20 relaxation times, the pooled
/// p99 is unbiased (the mean of per-replication p99s was 19.9 s against
/// 23.03 s, 55/100 intervals covering), but its sectioning interval is
/// still too narrow: one replication's p99 is too far from normal for
/// Student's t with 9 degrees of freedom (measured 79/100, band 89..=100).
/// Remedy: longer replications (see `FAST`).
#[test]
#[ignore = "long: documents the under-coverage of p99 with short replications; run with --ignored"]
fn short_replications_p99_is_unbiased_but_its_interval_too_narrow() {
    let experiment = mm1_p99("M/M/1 p99 sojourn, rho 0.8, short runs", 0.8);
    let estimates = trials(&experiment, SHORT);
    let hits = (estimates.iter())
        .filter(|e| e.covers(experiment.truth, 0.0))
        .count() as u64;
    let over_trials = Estimate::from_replications(estimates.iter().map(|e| e.mean));
    println!(
        "{}: {hits}/{} cover, mean estimate {:.3} ± {:.3}",
        experiment.name, SHORT.trials, over_trials.mean, over_trials.ci95
    );
    let (low, _) = acceptance_band(SHORT.trials, NOMINAL, BAND_RISK);
    assert!(over_trials.covers(experiment.truth, 0.0), "{over_trials:?}");
    assert!(hits < low, "{hits}");
}
