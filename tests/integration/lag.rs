//! Consumer lag of a topic's partitions: `mean_lag`, `max_lag`, `p99_lag`
//! in `nodes.csv`, `lag` and `lag_seconds` in `timeseries.csv`.

use crate::util::{Agreement, ROUNDING, assert_close, inline as model, simulate};
use queuesim::analytic;
use queuesim::engine::{self, Choice, Engine};

/// One partition per consumer, Poisson arrivals: M/M/1 per partition.
const TOPIC: &str = r#"
[simulation]
duration = "200s"
warmup = "5s"
replications = 10
seed = 23
sample_every = "0.1s"

[[producers]]
name = "app"
to = "clicks"
rate = "600/s"
keys = { count = 1000, skew = 0.0 }

[[topics]]
name = "clicks"
partitions = 2
[topics.consumers]
count = 2
service = { dist = "exponential", mean = "2ms" }
"#;

#[test]
fn mean_lag_is_the_partitions_mean_number_in_system() {
    let model = model(TOPIC, &[]);
    let keys = model.producers[0].keys.expect("the producer sets keys");
    let shares = keys.partition_shares(2);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    for (node, share) in result.nodes.iter().zip(shares) {
        let rate = 600.0 * share;
        let theory = analytic::mm1(rate, 500.0).unwrap();
        let in_system = theory.mean_sojourn_s * rate;
        checks.mean(&format!("{} mean_lag", node.node), node.mean_lag, in_system);
        let little = node.mean_sojourn.mean * node.throughput.mean;
        checks.mean(&format!("{} Little", node.node), node.mean_lag, little);
        assert!(node.max_lag.mean >= node.p99_lag.mean && node.p99_lag.mean >= 1.0);
    }
    checks.assert();
}

/// A record every second, served in 0.3 s: at an instant a fraction
/// `f` of a second after a publication, the oldest unprocessed record
/// is `f` old while `f` < 0.3, and there is none after.
const CLOCKWORK: &str = r#"
[simulation]
duration = "60s"
warmup = "0s"
replications = 2
seed = 1
sample_every = "0.35s"

[[producers]]
name = "app"
to = "t"
interarrival = { dist = "constant", value = "1s" }

[[topics]]
name = "t"
[topics.consumers]
service = { dist = "constant", value = "0.3s" }
"#;

#[test]
fn lag_seconds_is_the_age_of_the_oldest_unprocessed_record_on_both_engines() {
    for engine in ["auto", "events"] {
        let model = model(CLOCKWORK, &[&format!("simulation.engine={engine}")]);
        let (_, result) = simulate(&model);
        let mut checked = 0;
        for row in &result.timeseries {
            let since_publication_s = row.time - row.time.floor();
            if (0.01..0.29).contains(&since_publication_s) {
                assert_close("age", row.lag_seconds, since_publication_s, 1e-9);
                assert_eq!(row.lag, 1.0);
                checked += 1;
            } else if (0.31..0.99).contains(&since_publication_s) {
                assert_eq!((row.lag_seconds, row.lag), (0.0, 0.0), "at {}", row.time);
            }
        }
        assert!(checked > 40, "{engine}: {checked} instants checked");
    }
}

#[test]
fn both_engines_see_the_same_lag_on_a_fast_path_topic() {
    let fast = model(TOPIC, &["simulation.replications=2"]);
    assert_eq!(Choice::for_model(&fast).engine(), Engine::Lindley);
    let events = model(
        TOPIC,
        &["simulation.replications=2", "simulation.engine=events"],
    );
    let a = engine::run(&fast);
    let b = engine::run(&events);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.lag_ages_s.len(), x.timeseries.len());
        for (u, v) in x.lag_ages_s.iter().zip(&y.lag_ages_s) {
            assert_close("lag age", *u, *v, ROUNDING);
        }
    }
}

#[test]
fn queues_that_are_not_partitions_have_no_lag() {
    let text = r#"
[simulation]
duration = "20s"
replications = 2
[[producers]]
name = "app"
to = "q"
rate = 10
[[queues]]
name = "q"
[queues.consumers]
service = { dist = "exponential", mean = 0.01 }
"#;
    let (reps, result) = simulate(&model(text, &[]));
    assert!(reps.iter().all(|r| r.lag_ages_s.is_empty()));
    assert!(result.nodes[0].mean_lag.mean.is_nan());
    assert!(result.timeseries.iter().all(|r| r.lag_seconds.is_nan()));
}
