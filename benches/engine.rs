//! Events per second of the event engine and of the Lindley fast path on
//! M/M/1, M/M/10 and M/M/100, one replication on one core with statistics
//! on, beside a minimal binary-heap event loop and a bare Lindley
//! recursion measured in the same run (the budgets they are held
//! against), and of the event engine on a 10-node network with retries
//! and a partitioned topic. Run with `cargo bench --bench engine`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use queuesim::engine::{StreamKind, simulate_events, simulate_lindley, stream};
use queuesim::scenario;
use rand::RngExt;
use rand_distr::Exp1;

/// Simulated seconds per iteration: about a million events at utilization 0.8.
const DURATION_S: f64 = 600_000.0;

fn model(servers: u32) -> queuesim::model::Model {
    let text = format!(
        r#"
        [simulation]
        duration = {duration}
        warmup = 0
        replications = 1
        sample_every = {duration}
        [[producers]]
        name = "source"
        to = "q"
        rate = {rate}
        [[queues]]
        name = "q"
        [queues.consumers]
        count = {servers}
        service = {{ dist = "exponential", mean = {mean} }}
        "#,
        duration = DURATION_S / f64::from(servers),
        rate = 0.8,
        mean = f64::from(servers),
    );
    scenario::from_str(&text, Path::new("bench.toml"), &[]).expect("bench scenario is valid")
}

/// The smallest M/M/c event loop: a binary heap of (time, sequence, kind),
/// a waiting counter and a busy counter; no statistics. Returns events.
fn minimal_loop(servers: u32, duration_s: f64) -> u64 {
    let mut arrivals = stream(1, 0, StreamKind::Interarrival, 0);
    let mut services = stream(1, 0, StreamKind::Service, 0);
    let mean_service = f64::from(servers);
    let mut heap: BinaryHeap<Reverse<(u64, u64, bool)>> = BinaryHeap::new();
    let key = |t: f64| t.to_bits();
    let mut sequence = 0;
    let mut push = |heap: &mut BinaryHeap<_>, t: f64, is_arrival: bool| {
        sequence += 1;
        heap.push(Reverse((key(t), sequence, is_arrival)));
    };
    push(&mut heap, arrivals.sample::<f64, _>(Exp1) / 0.8, true);
    let (mut waiting, mut busy, mut events) = (0u64, 0u32, 0u64);
    while let Some(Reverse((bits, _, is_arrival))) = heap.pop() {
        let now = f64::from_bits(bits);
        if now > duration_s {
            break;
        }
        events += 1;
        if is_arrival {
            push(&mut heap, now + arrivals.sample::<f64, _>(Exp1) / 0.8, true);
            if busy < servers {
                busy += 1;
                push(
                    &mut heap,
                    now + services.sample::<f64, _>(Exp1) * mean_service,
                    false,
                );
            } else {
                waiting += 1;
            }
        } else if waiting > 0 {
            waiting -= 1;
            push(
                &mut heap,
                now + services.sample::<f64, _>(Exp1) * mean_service,
                false,
            );
        } else {
            busy -= 1;
        }
    }
    events
}

/// Lindley's recursion with nothing else: customers through an M/M/1
/// queue in `duration_s`, returned as events (an arrival and a departure
/// each) to compare with the event loops.
fn bare_lindley(duration_s: f64) -> u64 {
    let mut arrivals = stream(1, 0, StreamKind::Interarrival, 0);
    let mut services = stream(1, 0, StreamKind::Service, 0);
    let (mut arrival_s, mut free_s, mut sojourn_sum_s) = (0.0f64, 0.0f64, 0.0f64);
    let mut customers = 0u64;
    loop {
        arrival_s += arrivals.sample::<f64, _>(Exp1) / 0.8;
        if arrival_s > duration_s {
            break;
        }
        free_s = free_s.max(arrival_s) + services.sample::<f64, _>(Exp1);
        sojourn_sum_s += free_s - arrival_s;
        customers += 1;
    }
    std::hint::black_box(sojourn_sum_s);
    2 * customers
}

/// Ten queues with retries, dead letters and a keyed topic
/// (`bench/network10.toml`, also the memory measurement of docs/performance.md).
fn network() -> queuesim::model::Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/network10.toml");
    scenario::load(&path, &[]).expect("bench/network10.toml is valid")
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for servers in [1, 10, 100] {
        let model = model(servers);
        let events = simulate_events(&model, 0).events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(format!("mm{servers}"), |b| {
            b.iter(|| simulate_events(&model, 0))
        });
        group.bench_function(format!("lindley_mm{servers}"), |b| {
            b.iter(|| simulate_lindley(&model, 0).expect("M/M/c takes the fast path"))
        });
        let duration_s = DURATION_S / f64::from(servers);
        let baseline_events = minimal_loop(servers, duration_s);
        group.throughput(Throughput::Elements(baseline_events));
        group.bench_function(format!("minimal_loop_mm{servers}"), |b| {
            b.iter(|| minimal_loop(servers, duration_s))
        });
    }
    let bare_events = bare_lindley(DURATION_S);
    group.throughput(Throughput::Elements(bare_events));
    group.bench_function("bare_lindley_mm1", |b| b.iter(|| bare_lindley(DURATION_S)));
    let network = network();
    group.throughput(Throughput::Elements(simulate_events(&network, 0).events));
    group.bench_function("network10", |b| b.iter(|| simulate_events(&network, 0)));
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
