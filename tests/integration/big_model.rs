//! Big models (issue 7): a scenario with thousands of queues loads,
//! validates, is analysed and runs, with a report whose plots stay bounded.
//!
//! The scenario has the shape of `bench/big_model.sh` (which times 1,000
//! producers, 10,000 queues and 10^7 messages): every producer feeds a
//! pipeline of 10 queues of its own, by producer number modulo 4 a tandem
//! of 10, a 50/50 weighted exchange into two tandems of 5, or a
//! round-robin topic of 4 partitions (2 consumers) into a tandem of 5
//! whose first queue retries 1% of attempts and dead-letters after 3.

use std::fmt::Write;

use queuesim::analytic::scenario::analyze;

use crate::util::{LINEAR_SOLVE, assert_close};
use queuesim::report::{self, ReportInput};
use queuesim::scenario;

/// Mean service time of the tandem queues, seconds (ρ = 0.5 at 10/s).
const SERVICE_S: f64 = 0.05;
/// Standard deviations a Poisson count may stray from its mean: a normal
/// variable strays farther with probability 5.7e-7 (two-sided), so a correct
/// count fails this once in about two million seeds.
const POISSON_SDS: f64 = 5.0;
/// Rate of every producer, messages per second.
const RATE_PER_S: f64 = 10.0;

/// A tandem `prefix.first` … `prefix.last` of exponential queues.
fn chain(out: &mut String, prefix: &str, range: std::ops::RangeInclusive<usize>, mean_s: f64) {
    let last = *range.end();
    for k in range {
        write!(
            out,
            "[[queues]]\nname = \"{prefix}.{k}\"\n[queues.consumers]\n\
             service = {{ dist = \"exponential\", mean = {mean_s} }}\n"
        )
        .unwrap();
        if k < last {
            writeln!(out, "next = \"{prefix}.{}\"", k + 1).unwrap();
        }
    }
}

/// The scenario text: `producers` pipelines of 10 queues, `duration_s`
/// measured after a 1 s warm-up.
fn big_scenario(producers: usize, duration_s: f64) -> String {
    let mut out = format!(
        "name = \"big\"\n[simulation]\nduration = {duration_s}\nwarmup = 1\n\
         replications = 1\nseed = 7\nsample_every = {duration_s}\n"
    );
    for i in 0..producers {
        let to = match i % 4 {
            0 | 1 => format!("c{i}.0"),
            2 => format!("x{i}"),
            _ => format!("t{i}"),
        };
        write!(
            out,
            "[[producers]]\nname = \"p{i}\"\nto = \"{to}\"\nrate = {RATE_PER_S}\n"
        )
        .unwrap();
        match i % 4 {
            0 | 1 => chain(&mut out, &format!("c{i}"), 0..=9, SERVICE_S),
            2 => {
                write!(
                    out,
                    "[[exchanges]]\nname = \"x{i}\"\nkind = \"weighted\"\nroutes = \
                     [{{ to = \"a{i}.0\", weight = 0.5 }}, {{ to = \"b{i}.0\", weight = 0.5 }}]\n"
                )
                .unwrap();
                chain(&mut out, &format!("a{i}"), 0..=4, 2.0 * SERVICE_S);
                chain(&mut out, &format!("b{i}"), 0..=4, 2.0 * SERVICE_S);
            }
            _ => {
                write!(
                    out,
                    "[[topics]]\nname = \"t{i}\"\npartitions = 4\npartitioner = \"round-robin\"\n\
                     [topics.consumers]\ncount = 2\n\
                     service = {{ dist = \"exponential\", mean = {} }}\nnext = \"r{i}.0\"\n\
                     [[queues]]\nname = \"r{i}.0\"\ndead_letter = \"dlq{i}\"\n[queues.consumers]\n\
                     service = {{ dist = \"exponential\", mean = {SERVICE_S} }}\nnext = \"r{i}.1\"\n\
                     failure = 0.01\nretry = {{ max_attempts = 3, backoff = \"constant\", initial = 0.1 }}\n\
                     [[queues]]\nname = \"dlq{i}\"\n",
                    2.0 * SERVICE_S
                )
                .unwrap();
                chain(&mut out, &format!("r{i}"), 1..=4, SERVICE_S);
            }
        }
    }
    out
}

#[test]
fn five_thousand_queues_load_validate_analyse_and_run() {
    let producers = 500;
    let text = big_scenario(producers, 20.0);
    let model = crate::util::inline(&text, &[]);
    assert_eq!(model.queues.len(), 10 * producers);
    assert!(model.warnings.is_empty(), "{:?}", model.warnings);
    let described = scenario::describe(&model);
    assert!(described.contains("c0.9"), "every queue is described");

    // Theory: the traffic equations reach every queue, ρ = 0.5 on the tandems.
    let theory = analyze(&model);
    assert!(theory.stable);
    let c9 = theory.nodes.iter().find(|n| n.node == "c0.9").unwrap();
    assert_close(
        "c0.9 arrival rate",
        c9.arrival_rate,
        RATE_PER_S,
        LINEAR_SOLVE,
    );
    assert_close("c0.9 load", c9.offered_load.unwrap(), 0.5, LINEAR_SOLVE);
    let a4 = theory.nodes.iter().find(|n| n.node == "a2.4").unwrap();
    assert_close(
        "a2.4 arrival rate",
        a4.arrival_rate,
        RATE_PER_S / 2.0,
        LINEAR_SOLVE,
    );

    let (reps, result) = crate::util::simulate(&model);
    let produced = reps[0].produced as f64;
    // About 500 · 10/s · 20 s = 10^5 publications: Poisson, so within
    // POISSON_SDS standard deviations.
    let expected = producers as f64 * RATE_PER_S * 20.0;
    assert!(
        (produced - expected).abs() < POISSON_SDS * expected.sqrt(),
        "{produced} vs {expected}"
    );
    assert_eq!(result.nodes.len(), model.queues.len());
    assert!(result.summary.delivered.mean > 0.9 * expected);

    let files = report::render(&ReportInput {
        model: &model,
        result: &result,
        scenario_text: &text,
        command_line: "queuesim run big.toml",
    })
    .unwrap();
    let svg = |name: &str| {
        let (_, bytes) = files.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8_lossy(bytes).into_owned()
    };
    let waits = svg("wait_cdf.svg");
    assert!(waits.contains("the 12 queues with the longest p99 wait, of 4875"));
    let nodes = svg("node_utilization_loss.svg");
    assert!(nodes.contains("the 40 busiest of 5000 queues"));
    // One curve or bar per queue would take megabytes.
    for plot in [&waits, &nodes] {
        assert!(plot.len() < 400_000, "{} bytes", plot.len());
    }
}
