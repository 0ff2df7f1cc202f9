//! The simulator against closed-form queueing theory, on the bundled
//! textbook scenarios. Each comparison allows the run's own 95% confidence
//! half-width plus 2% of the theoretical value.

use crate::util::{assert_agrees, example, load, simulate};
use queuesim::analytic;
use queuesim::stats::Estimate;

#[test]
fn mm1_wait_sojourn_queue_length_and_p99() {
    let model = load(&example("mm1.toml"), &[]);
    let (_, result) = simulate(&model);
    let theory = analytic::mm1(800.0, 1000.0).unwrap();
    let node = &result.nodes[0];
    assert_agrees("M/M/1 mean wait", node.mean_wait, theory.mean_wait_s);
    assert_agrees(
        "M/M/1 mean sojourn",
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    assert_agrees(
        "M/M/1 mean in queue",
        node.mean_in_queue,
        theory.mean_in_queue,
    );
    assert_agrees("M/M/1 utilization", node.utilization, theory.utilization);
    assert_agrees(
        "M/M/1 end-to-end latency",
        result.summary.mean_latency,
        theory.mean_sojourn_s,
    );
    let p99 = analytic::mm1_sojourn_quantile(800.0, 1000.0, 0.99).unwrap();
    assert_agrees("M/M/1 p99 latency", result.summary.p99_latency, p99);
    assert_agrees("M/M/1 p99 sojourn", node.p99_sojourn, p99);
}

#[test]
fn mmc_erlang_c_with_ten_consumers() {
    let model = load(&example("mmc.toml"), &[]);
    let (_, result) = simulate(&model);
    let theory = analytic::mmc(800.0, 100.0, 10).unwrap();
    let node = &result.nodes[0];
    assert_agrees("M/M/10 mean wait", node.mean_wait, theory.mean_wait_s);
    assert_agrees(
        "M/M/10 mean sojourn",
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    assert_agrees(
        "M/M/10 mean in queue",
        node.mean_in_queue,
        theory.mean_in_queue,
    );
    assert_agrees("M/M/10 utilization", node.utilization, theory.utilization);
}

#[test]
fn mm1k_blocking_probability_and_sojourn() {
    let model = load(&example("mm1k.toml"), &[]);
    let (reps, result) = simulate(&model);
    let theory = analytic::mm1k(900.0, 1000.0, analytic::system_capacity(1, 9)).unwrap();
    let blocking = Estimate::from_replications(
        reps.iter()
            .map(|r| r.nodes[0].dropped as f64 / r.nodes[0].arrivals as f64),
    );
    assert_agrees("M/M/1/10 blocking", blocking, theory.loss_probability);
    let lost_share =
        Estimate::from_replications(reps.iter().map(|r| r.lost as f64 / r.produced as f64));
    assert_agrees("M/M/1/10 lost share", lost_share, theory.loss_probability);
    let node = &result.nodes[0];
    assert_agrees(
        "M/M/1/10 mean sojourn",
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    assert_agrees(
        "M/M/1/10 mean in queue",
        node.mean_in_queue,
        theory.mean_in_queue,
    );
    assert_eq!(
        node.max_in_queue.mean, 9.0,
        "never more than capacity waits"
    );
}

#[test]
fn md1_pollaczek_khinchine() {
    let model = load(&example("md1.toml"), &[]);
    let (_, result) = simulate(&model);
    let theory = analytic::md1(800.0, 0.001).unwrap();
    assert_agrees(
        "M/D/1 mean wait",
        result.nodes[0].mean_wait,
        theory.mean_wait_s,
    );
    assert_agrees(
        "M/D/1 mean in queue",
        result.nodes[0].mean_in_queue,
        theory.mean_in_queue,
    );
}

#[test]
fn mg1_lognormal_pollaczek_khinchine() {
    let model = load(&example("mg1_lognormal.toml"), &[]);
    let (_, result) = simulate(&model);
    let service = &model.queues[0].consumers.as_ref().unwrap().service;
    let theory = analytic::mg1(500.0, service.mean(), service.second_moment()).unwrap();
    assert!((theory.mean_wait_s - 0.0025).abs() < 1e-12);
    assert_agrees(
        "M/G/1 mean wait",
        result.nodes[0].mean_wait,
        theory.mean_wait_s,
    );
    assert_agrees(
        "M/G/1 mean sojourn",
        result.nodes[0].mean_sojourn,
        theory.mean_sojourn_s,
    );
}

#[test]
fn tandem_jackson_network_per_node_and_end_to_end() {
    let model = load(&example("tandem.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut routing = nalgebra::DMatrix::zeros(3, 3);
    routing[(0, 1)] = 1.0;
    routing[(1, 2)] = 1.0;
    let theory = analytic::jackson(
        &[500.0, 0.0, 0.0],
        &routing,
        &[1000.0, 800.0, 700.0],
        &[1, 1, 1],
    )
    .unwrap();
    for (i, node) in result.nodes.iter().enumerate() {
        assert_agrees(
            &format!("tandem node {} sojourn", node.node),
            node.mean_sojourn,
            theory.nodes[i].mean_sojourn_s,
        );
    }
    assert_agrees(
        "tandem end-to-end latency",
        result.summary.mean_latency,
        theory.mean_sojourn_s,
    );
}

#[test]
fn priority_classes_follow_cobham() {
    let model = load(&example("priority.toml"), &[]);
    let (_, result) = simulate(&model);
    let class = |lambda: f64| analytic::PriorityClass {
        arrival_rate: lambda,
        mean_service_s: 0.001,
        second_moment_service: 2e-6,
    };
    let theory = analytic::priority_mg1_nonpreemptive(&[class(300.0), class(400.0)]).unwrap();
    let row = |priority: i64| {
        result
            .classes
            .iter()
            .find(|c| c.priority == priority)
            .unwrap_or_else(|| panic!("no class {priority} in classes.csv"))
    };
    assert_agrees("priority 2 wait", row(2).mean_wait, theory[0].mean_wait_s);
    assert_agrees("priority 1 wait", row(1).mean_wait, theory[1].mean_wait_s);
    assert_agrees(
        "priority 2 sojourn",
        row(2).mean_sojourn,
        theory[0].mean_sojourn_s,
    );
    assert_agrees(
        "priority 1 sojourn",
        row(1).mean_sojourn,
        theory[1].mean_sojourn_s,
    );
}
