//! Events per second of the engine on M/M/1 and M/M/10, one replication on
//! one core, statistics on. Run with `cargo bench`.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use queuesim::engine::simulate;
use queuesim::scenario;

fn model(servers: u32) -> queuesim::model::Model {
    let text = format!(
        r#"
        [simulation]
        duration = 20000
        warmup = 0
        replications = 1
        [[producers]]
        name = "source"
        to = "q"
        rate = {rate}
        [[queues]]
        name = "q"
        [queues.consumers]
        count = {servers}
        service = {{ dist = "exponential", mean = 1.0 }}
        "#,
        rate = 0.8 * f64::from(servers),
    );
    scenario::from_str(&text, Path::new("bench.toml"), &[]).expect("bench scenario is valid")
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for servers in [1, 10] {
        let model = model(servers);
        let events = simulate(&model, 0).events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(format!("mm{servers}"), |b| b.iter(|| simulate(&model, 0)));
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
