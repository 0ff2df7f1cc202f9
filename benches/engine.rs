//! Events per second of the engine on M/M/1, M/M/10 and M/M/100, one
//! replication on one core with statistics on, beside a minimal
//! binary-heap event loop measured in the same run (the budget the engine
//! is held against). Run with `cargo bench --bench engine`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use queuesim::engine::{StreamKind, simulate, stream};
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

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for servers in [1, 10, 100] {
        let model = model(servers);
        let events = simulate(&model, 0).events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(format!("mm{servers}"), |b| b.iter(|| simulate(&model, 0)));
        let duration_s = DURATION_S / f64::from(servers);
        let baseline_events = minimal_loop(servers, duration_s);
        group.throughput(Throughput::Elements(baseline_events));
        group.bench_function(format!("minimal_loop_mm{servers}"), |b| {
            b.iter(|| minimal_loop(servers, duration_s))
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
