//! One test per bug found by the hostile-input, fuzzing and coverage work
//! of issue 8, named after what broke.

use queuesim::stats::Estimate;
use queuesim::{engine, results};
use std::fmt::Write;

use crate::util::{mm1_text, try_inline as load};

/// [`mm1_text`] with nothing added to the queue.
fn mm1(simulation: &str, rate: &str) -> String {
    mm1_text(simulation, rate, "", "")
}

/// Issue 8: 10^5 queues made validation allocate an n×n matrix (80 GB)
/// for the traffic equations and abort.
#[test]
fn issue_8_a_hundred_thousand_queues_is_an_error_not_an_abort() {
    let mut text = mm1("duration = 1", "1");
    for i in 0..100_000 {
        write!(text, "[[queues]]\nname = \"extra{i}\"\n").unwrap();
    }
    let err = load(&text).unwrap_err();
    assert!(
        err.contains("100001 nodes") && err.contains("the 100000 a scenario may have"),
        "{err}"
    );
}

/// Issue 8: partitions count as nodes too (a topic may have up to 10^5).
#[test]
fn issue_8_huge_topics_count_their_partitions() {
    let text = "[[producers]]\nname = \"p\"\nto = \"t\"\nrate = 1\n[[topics]]\nname = \"t\"\n\
                partitions = 100000\n[topics.consumers]\ncount = 1\n\
                service = { dist = \"exponential\", mean = 0.001 }\n";
    let err = load(text).unwrap_err();
    assert!(err.contains("`topics`") && err.contains("nodes"), "{err}");
}

/// Issue 8: a rate of 1e300/s was accepted; the clock stopped advancing
/// (gaps below its resolution) while the backlog grew without bound.
#[test]
fn issue_8_an_absurd_rate_is_an_error() {
    let err = load(&mm1("duration = 100", "1e300")).unwrap_err();
    assert!(err.contains("producers.p") && err.contains("2^40"), "{err}");
}

/// Issue 8: a duration of 1e300 s ran (effectively) forever.
#[test]
fn issue_8_an_endless_duration_is_an_error() {
    let err = load(&mm1("duration = 1e300", "0.8")).unwrap_err();
    assert!(err.contains("messages"), "{err}");
}

/// Issue 8: `sample_every = 1e-300` tried to record 10^302 samples.
#[test]
fn issue_8_a_tiny_sample_interval_is_an_error() {
    let err = load(&mm1("duration = 100\nsample_every = 1e-300", "0.8")).unwrap_err();
    assert!(
        err.contains("simulation.sample_every") && err.contains("use at least"),
        "{err}"
    );
}

/// The limits leave the largest sensible runs alone: 10^9 s at a low rate.
#[test]
fn issue_8_limits_accept_long_runs() {
    load(&mm1("duration = 1e9\nsample_every = 1e6", "0.001")).unwrap();
}

/// Issue 8: a reported quantile was the mean of per-replication quantiles,
/// biased low when replications are short: for an M/M/1 at ρ = 0.8 with
/// 10 × 2,000 s replications the p99 sojourn came out 14% low (19.9 s for
/// ln(100)/(μ − λ) = 23.03 s). It is now the quantile of the replications
/// pooled. Over 100 seeds the mean reported p99 must lie within its own
/// 95% interval of the truth, while the old estimator's lies below it.
#[test]
fn issue_8_short_replications_do_not_bias_the_p99_low() {
    let truth = 100f64.ln() / (1.0 - 0.8);
    let (mut reported, mut averaged) = (Vec::new(), Vec::new());
    for seed in 0..100 {
        let simulation = format!(
            "duration = 2000\nwarmup = 500\nreplications = 10\nseed = {seed}\nsample_every = 2000"
        );
        let model = load(&mm1(&simulation, "0.8")).unwrap();
        let reps = engine::run(&model);
        reported.push(results::summarize(&model, &reps).nodes[0].p99_sojourn.mean);
        let per_replication = reps.iter().map(|r| r.nodes[0].sojourn_hist.quantile(0.99));
        averaged.push(Estimate::from_replications(per_replication).mean);
    }
    let reported = Estimate::from_replications(reported);
    let averaged = Estimate::from_replications(averaged);
    assert!(reported.covers(truth, 0.0), "{reported:?} vs {truth}");
    assert!(averaged.mean + averaged.ci95 < truth, "{averaged:?}");
}
