//! Unit tests of the scenario analysis on small inline scenarios.

use super::*;
use crate::analytic::testutil::assert_rel;

fn model(text: &str) -> Model {
    crate::scenario::from_str(text, std::path::Path::new("inline.toml"), &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

const HEAD: &str = "[simulation]\nduration = 100.0\n";

#[test]
fn mean_backoff_sums_the_delays_of_each_retry() {
    let constant = Backoff::Constant { delay_s: 2.0 };
    assert_rel(mean_backoff_s(0.5, None, &constant), 2.0, 1e-12);
    assert_rel(mean_backoff_s(0.5, Some(3), &constant), 2.0 * 0.75, 1e-12);
    assert_eq!(mean_backoff_s(0.0, None, &constant), 0.0);
}

#[test]
fn retries_are_feedback_and_count_in_the_latency() {
    let m = model(&format!(
        "{HEAD}[[producers]]\nname = \"p\"\nto = \"q\"\nrate = 100.0\n\
         [[queues]]\nname = \"q\"\n[queues.consumers]\n\
         service = {{ dist = \"exponential\", mean = 0.004 }}\nfailure = 0.2\n"
    ));
    let a = analyze(&m);
    let node = a.node(0);
    assert_eq!(
        (node.applies, node.model.as_str()),
        (Applies::Exact, "M/M/1")
    );
    assert_rel(node.attempt_rate, 125.0, 1e-12);
    let exact = crate::analytic::mm1_feedback(100.0, 250.0, 0.2).unwrap();
    assert_rel(a.end_to_end.mean_latency_s, exact.mean_sojourn_s, 1e-9);
}

#[test]
fn parking_ttl_and_lognormal_queues_say_why() {
    let m = model(&format!(
        "{HEAD}[[producers]]\nname = \"p\"\nto = \"a\"\nrate = 100.0\n\
         [[queues]]\nname = \"a\"\nttl = 0.5\ndiscipline = \"lifo\"\ndead_letter = \"dlq\"\n\
         [queues.consumers]\nservice = {{ dist = \"lognormal\", mean = 0.004, cv = 2.0 }}\nnext = \"b\"\n\
         [[queues]]\nname = \"b\"\n[queues.consumers]\ncount = 2\n\
         service = {{ dist = \"exponential\", mean = 0.004 }}\n\
         [[queues]]\nname = \"dlq\"\n"
    ));
    let a = analyze(&m);
    assert_eq!(a.node(0).applies, Applies::None);
    assert!(a.node(0).reason.contains("TTL"), "{}", a.node(0).reason);
    assert_eq!(a.node(1).applies, Applies::Approximation);
    assert!(!a.node(1).poisson_arrivals);
    assert_eq!(a.node(2).applies, Applies::None);
    assert!(a.node(2).reason.contains("parking"));
    assert_eq!(a.end_to_end.applies, Applies::None);
}

#[test]
fn weighted_exchange_splits_poisson_traffic() {
    let m = model(&format!(
        "{HEAD}[[producers]]\nname = \"p\"\nto = \"x\"\nrate = 100.0\n\
         [[exchanges]]\nname = \"x\"\nkind = \"weighted\"\n\
         routes = [{{ to = \"a\", weight = 0.25 }}, {{ to = \"b\", weight = 0.75 }}]\n\
         [[queues]]\nname = \"a\"\n[queues.consumers]\nservice = {{ dist = \"constant\", value = 0.01 }}\n\
         [[queues]]\nname = \"b\"\n[queues.consumers]\nservice = {{ dist = \"exponential\", mean = 0.01 }}\n"
    ));
    let a = analyze(&m);
    assert_eq!(a.node(0).model, "M/D/1");
    assert_rel(a.node(0).arrival_rate, 25.0, 1e-12);
    assert_eq!(a.node(1).model, "M/M/1");
    assert_eq!(a.end_to_end.applies, Applies::Exact);
    let expected = 0.25 * crate::analytic::md1(25.0, 0.01).unwrap().mean_sojourn_s
        + 0.75 * crate::analytic::mm1(75.0, 100.0).unwrap().mean_sojourn_s;
    assert_rel(a.end_to_end.mean_latency_s, expected, 1e-9);
}
