//! Redis as its users run it: a stream trimmed by `XADD MAXLEN`
//! (`overflow = "trim"`), read by pulling consumers; pub/sub subscribers
//! disconnected when their output buffer passes its limit (`overflow =
//! "disconnect"`, `capacity_bytes`, `reconnect`); byte limits on queues.

use crate::util::{Agreement, ROUNDING, assert_close, inline as model, simulate, try_inline};
use nalgebra::{DMatrix, DVector};
use queuesim::analytic::markov;
use queuesim::stats::Estimate;

/// A stream with MAXLEN `n_max` read by one consumer pulling `COUNT k`:
/// the CTMC of (w waiting, f fetched and not yet processed). An arrival
/// goes straight to a blocked consumer (f = 0), else waits; at w = N it
/// trims the oldest waiting entry (a loss: fetched entries stay with the
/// consumer). A service ends at rate μ; the consumer's last one makes it
/// poll min(w, k) entries. By PASTA the trimmed share is P(w = N).
fn trimmed_share(lambda: f64, mu: f64, k: usize, n_max: usize) -> f64 {
    let index = |w: usize, f: usize| f * (n_max + 1) + w;
    let states = (k + 1) * (n_max + 1);
    let mut rates = Vec::new();
    for f in 0..=k {
        for w in 0..=n_max {
            if f == 0 && w > 0 {
                continue;
            }
            let from = index(w, f);
            match (f, w) {
                (0, _) => rates.push((from, index(0, 1), lambda)),
                (_, w) if w < n_max => rates.push((from, index(w + 1, f), lambda)),
                _ => {}
            }
            if f > 1 {
                rates.push((from, index(w, f - 1), mu));
            } else if f == 1 {
                let take = w.min(k);
                rates.push((from, index(w - take, take), mu));
            }
        }
    }
    // States with f = 0 and w > 0 are unreachable: give them a way out so
    // that the chain has one closed class and they get probability 0.
    for w in 1..=n_max {
        rates.push((index(w, 0), index(0, 0), 1.0));
    }
    let pi = markov::stationary_ctmc_sparse(states, &rates)
        .expect("an irreducible chain")
        .pi;
    (1..=k).map(|f| pi[index(n_max, f)]).sum()
}

#[test]
fn a_trimmed_stream_loses_what_the_ctmc_says() {
    let text = r#"
[simulation]
duration = "2000s"
warmup = "20s"
replications = 10
seed = 14
[[producers]]
name = "app"
to = "events"
rate = "10/s"
[[queues]]
name = "events"
capacity = 5
overflow = "trim"
dead_letter = "dlq"
[[queues]]
name = "dlq"
[queues.consumers]
poll = { max_records = 3 }
service = { dist = "exponential", mean = "90ms" }
"#
    .replace(
        "[[queues]]\nname = \"dlq\"\n[queues.consumers]",
        "[queues.consumers]",
    );
    let text = format!("{text}[[queues]]\nname = \"dlq\"\n");
    let m = model(&text, &[]);
    let (_, result) = simulate(&m);
    let share = trimmed_share(10.0, 1.0 / 0.09, 3, 5);
    let node = result.nodes.iter().find(|n| n.node == "events").unwrap();
    let mut checks = Agreement::new(&m);
    checks.mean("trimmed share", node.loss_ratio, share);
    checks.assert();
    assert!(share > 0.05, "the test exercises trimming: {share}");
    let dlq = result.nodes.iter().find(|n| n.node == "dlq").unwrap();
    assert_eq!(
        dlq.arrivals.mean, 0.0,
        "a trimmed entry is not dead-lettered"
    );
}

/// A subscriber of a fanout channel at λ with 1 KiB messages, one
/// consumer of rate μ, an output buffer of `limit` bytes (it passes the
/// limit with its (K + 1)-th waiting message, K = ⌊limit / 1 KiB⌋) and a
/// reconnect time d. The broker disconnects it while its consumer is busy
/// (messages wait); the consumer finishes that message (an exponential
/// residual, mean 1/μ), then waits d, and comes back idle to an empty
/// buffer. So a cycle is the hitting time T of the (K + 1)-th waiting
/// message from idle, then 1/μ + d on average; per cycle, K + 1 messages
/// are lost at the disconnection and λ(1/μ + d) while away, so the lost
/// share is (K + 1 + λ(1/μ + d)) / (λ(E[T] + 1/μ + d)) (renewal–reward).
/// E[T] solves the first-step equations of the birth–death chain (idle,
/// or busy with n waiting) that an arrival at n = K leaves.
fn disconnect_loss_share(lambda: f64, mu: f64, k: usize, d: f64) -> f64 {
    // States: 0 = idle, 1 + n = busy with n waiting (n = 0..=k).
    let states = k + 2;
    let mut a = DMatrix::<f64>::zeros(states, states);
    let b = DVector::<f64>::from_element(states, 1.0);
    a[(0, 0)] = lambda;
    a[(0, 1)] = -lambda;
    for n in 0..=k {
        let s = 1 + n;
        a[(s, s)] = lambda + mu;
        if n < k {
            a[(s, s + 1)] -= lambda;
        }
        let after_service = if n == 0 { 0 } else { s - 1 };
        a[(s, after_service)] -= mu;
    }
    let hit = a.lu().solve(&b).expect("a regular system");
    let away_s = 1.0 / mu + d;
    (k as f64 + 1.0 + lambda * away_s) / (lambda * (hit[0] + away_s))
}

#[test]
fn a_slow_subscriber_is_disconnected_as_the_renewal_argument_says() {
    let text = r#"
[simulation]
duration = "3000s"
warmup = "30s"
replications = 10
seed = 21
[[producers]]
name = "publisher"
to = "channel"
rate = "50/s"
size = { dist = "constant", value = "1KiB" }
[[exchanges]]
name = "channel"
kind = "fanout"
routes = [{ to = "fast" }, { to = "slow" }]
[[queues]]
name = "fast"
[queues.consumers]
service = { dist = "exponential", mean = "1ms" }
[[queues]]
name = "slow"
overflow = "disconnect"
capacity_bytes = "8KiB"
reconnect = "1s"
[queues.consumers]
service = { dist = "exponential", mean = "18ms" }
"#;
    let m = model(text, &[]);
    let (_, result) = simulate(&m);
    let share = disconnect_loss_share(50.0, 1.0 / 0.018, 8, 1.0);
    let slow = result.nodes.iter().find(|n| n.node == "slow").unwrap();
    let fast = result.nodes.iter().find(|n| n.node == "fast").unwrap();
    let mut checks = Agreement::new(&m);
    checks.mean("lost share", slow.loss_ratio, share);
    checks.assert();
    assert!(slow.disconnects.mean > 10.0, "{:?}", slow.disconnects);
    assert_eq!(fast.dropped.mean, 0.0);
    let lost = 1.0 - result.summary.success_ratio.mean;
    assert_close(
        "a message is lost with its slow copy",
        lost,
        slow.loss_ratio.mean,
        0.02,
    );
}

/// With every message 100 bytes, a limit of 1,000 bytes is a limit of 10
/// messages, for each overflow (RabbitMQ's `x-max-length-bytes`).
#[test]
fn a_byte_limit_of_equal_messages_is_a_count_limit() {
    let text = r#"
[simulation]
duration = "200s"
replications = 3
seed = 2
engine = "events"
[[producers]]
name = "app"
to = "q"
rate = "90/s"
size = { dist = "constant", value = "100B" }
[[queues]]
name = "q"
capacity = 10
overflow = "drop-head"
dead_letter = "dlq"
[queues.consumers]
count = 2
service = { dist = "exponential", mean = "20ms" }
[[queues]]
name = "dlq"
"#;
    for overflow in ["drop-head", "reject-publish"] {
        let counted = text.replace("drop-head", overflow);
        let bytes = counted.replace("capacity = 10", "capacity_bytes = \"1000B\"");
        let (_, a) = simulate(&model(&counted, &[]));
        let (_, b) = simulate(&model(&bytes, &[]));
        for (x, y) in a.nodes.iter().zip(&b.nodes) {
            let same = |a: Estimate, b: Estimate| format!("{a:?}") == format!("{b:?}");
            assert!(
                same(x.dropped, y.dropped),
                "{overflow}: dropped at {}",
                x.node
            );
            assert!(
                same(x.arrivals, y.arrivals),
                "{overflow}: arrivals at {}",
                x.node
            );
            assert!(
                same(x.mean_sojourn, y.mean_sojourn),
                "{overflow}: {}",
                x.node
            );
        }
        assert!(
            a.nodes[0].dropped.mean > 0.0,
            "{overflow}: the limit is reached"
        );
    }
}

#[test]
fn redis_overflows_are_checked_naming_the_key() {
    let queue = "[[producers]]\nname = \"app\"\nto = \"q\"\nrate = 10\n[[queues]]\nname = \"q\"\n\
                 [queues.consumers]\nservice = { dist = \"exponential\", mean = 0.01 }\n";
    let with = |keys: &str| {
        queue.replace(
            "name = \"q\"\n[queues",
            &format!("name = \"q\"\n{keys}[queues"),
        )
    };
    let cases = [
        (
            with("reconnect = \"1s\"\n"),
            "`queues.q.reconnect`",
            "disconnect",
        ),
        (
            with("capacity_bytes = \"-1KiB\"\n"),
            "`queues.q.capacity_bytes`",
            "",
        ),
        (with("overflow = \"evict\"\n"), "overflow", "trim"),
    ];
    for (text, key, why) in cases {
        let err = try_inline(&text).expect_err(&text);
        assert!(err.contains(key) && err.contains(why), "{text}\n-> {err}");
    }
    let warned = model(&with("overflow = \"trim\"\n"), &[]);
    assert!(
        warned.warnings.iter().any(|w| w.contains("no effect")),
        "{:?}",
        warned.warnings
    );
    let _ = ROUNDING;
}
