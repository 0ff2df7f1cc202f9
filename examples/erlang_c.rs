//! Sizing a RabbitMQ work queue with ten consumers: the bundled
//! `scenarios/mmc.toml` (Poisson arrivals at 800/s, exponential service of
//! mean 10 ms, utilization 0.8) run as `queuesim run` runs it, beside
//! Erlang C, the exact M/M/c result. The example checks itself: every
//! simulated 95% interval, widened for the comparisons made at once
//! (Bonferroni over the four compared), must cover the theory.
//!
//! Run it with `cargo run --release --example erlang_c`; `cargo test`
//! runs it too.

use std::error::Error;
use std::path::Path;

use queuesim::analytic::{erlang_c, mmc};
use queuesim::stats::{Estimate, student_t_975};

const ARRIVALS_PER_S: f64 = 800.0;
const SERVICE_PER_S: f64 = 100.0;
const CONSUMERS: u32 = 10;

fn main() -> Result<(), Box<dyn Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc.toml");
    let model = queuesim::scenario::load(&path, &[])?;
    let run = queuesim::run(&model, &queuesim::RunOptions::default())?;
    let queue = &run.result.nodes[0];

    let theory = mmc(ARRIVALS_PER_S, SERVICE_PER_S, CONSUMERS)?;
    let offered_erlangs = ARRIVALS_PER_S / SERVICE_PER_S;
    let waits = erlang_c(CONSUMERS, offered_erlangs)?;
    let replications = u64::from(run.result.summary.replications);

    println!("{:<22} {:>12} {:>24}", "", "Erlang C", "simulated (95% CI)");
    let checks = [
        ("mean wait [s]", theory.mean_wait_s, queue.mean_wait),
        (
            "mean sojourn [s]",
            theory.mean_sojourn_s,
            queue.mean_sojourn,
        ),
        ("utilization", theory.utilization, queue.utilization),
        ("mean in queue", theory.mean_in_queue, queue.mean_in_queue),
    ];
    let widen = family_widening(replications, checks.len());
    for (name, exact, simulated) in checks {
        println!(
            "{name:<22} {exact:>12.6} {:>12.6} ± {:<9.6}",
            simulated.mean, simulated.ci95
        );
        let widened = Estimate {
            ci95: simulated.ci95 * widen,
            ..simulated
        };
        if !widened.covers(exact, 0.0) {
            return Err(format!("{name}: simulated {simulated:?} misses theory {exact}").into());
        }
    }
    println!("P(wait) = {waits:.4} by Erlang C: a message waits about 4 times in 10");
    Ok(())
}

/// How much wider than its 95% interval each of `comparisons` intervals
/// over `replications` must be for the family to err with probability 5%:
/// Student t at 1 - 0.025/comparisons over t at 0.975.
fn family_widening(replications: u64, comparisons: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let df = (replications - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, df).expect("at least two replications");
    t.inverse_cdf(1.0 - 0.025 / comparisons as f64) / student_t_975(replications - 1)
}

#[test]
fn simulation_agrees_with_erlang_c() {
    main().expect("the example agrees with theory");
}
