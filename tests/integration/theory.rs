//! The simulator against closed-form queueing theory, on the bundled
//! textbook scenarios. The comparisons of a test hold together at a 5%
//! family-wise error ([`Agreement`]).

use crate::util::{
    Agreement, ROUNDING, assert_close, example, load, measured_s, replications, simulate,
};
use queuesim::analytic;
use queuesim::stats::Estimate;

#[test]
fn mm1_wait_sojourn_queue_length_and_p99() {
    let model = load(&example("mm1.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let theory = analytic::mm1(800.0, 1000.0).unwrap();
    let node = &result.nodes[0];
    checks.mean("M/M/1 mean wait", node.mean_wait, theory.mean_wait_s);
    checks.mean(
        "M/M/1 mean sojourn",
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    checks.mean(
        "M/M/1 mean in queue",
        node.mean_in_queue,
        theory.mean_in_queue,
    );
    checks.mean("M/M/1 utilization", node.utilization, theory.utilization);
    checks.mean(
        "M/M/1 end-to-end latency",
        result.summary.mean_latency,
        theory.mean_sojourn_s,
    );
    let p99 = analytic::mm1_sojourn_quantile(800.0, 1000.0, 0.99).unwrap();
    checks.quantile("M/M/1 p99 latency", result.summary.p99_latency, p99);
    checks.quantile("M/M/1 p99 sojourn", node.p99_sojourn, p99);
    checks.assert();
}

#[test]
fn mmc_erlang_c_with_ten_consumers() {
    let model = load(&example("mmc.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let theory = analytic::mmc(800.0, 100.0, 10).unwrap();
    let node = &result.nodes[0];
    checks.mean("M/M/10 mean wait", node.mean_wait, theory.mean_wait_s);
    checks.mean(
        "M/M/10 mean sojourn",
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    checks.mean(
        "M/M/10 mean in queue",
        node.mean_in_queue,
        theory.mean_in_queue,
    );
    checks.mean("M/M/10 utilization", node.utilization, theory.utilization);
    checks.assert();
}

#[test]
fn mm1k_blocking_probability_and_sojourn() {
    let model = load(&example("mm1k.toml"), &[]);
    let (reps, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let theory = analytic::mm1k(900.0, 1000.0, analytic::system_capacity(1, 9)).unwrap();
    let blocking = Estimate::from_replications(
        reps.iter()
            .map(|r| r.nodes[0].dropped as f64 / r.nodes[0].arrivals as f64),
    );
    checks.mean("M/M/1/10 blocking", blocking, theory.loss_probability);
    let lost_share =
        Estimate::from_replications(reps.iter().map(|r| r.lost as f64 / r.produced as f64));
    checks.mean("M/M/1/10 lost share", lost_share, theory.loss_probability);
    let node = &result.nodes[0];
    checks.mean(
        "M/M/1/10 mean sojourn",
        node.mean_sojourn,
        theory.mean_sojourn_s,
    );
    checks.mean(
        "M/M/1/10 mean in queue",
        node.mean_in_queue,
        theory.mean_in_queue,
    );
    assert_eq!(
        node.max_in_queue.mean, 9.0,
        "never more than capacity waits"
    );
    checks.assert();
}

#[test]
fn md1_pollaczek_khinchine() {
    let model = load(&example("md1.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let theory = analytic::md1(800.0, 0.001).unwrap();
    checks.mean(
        "M/D/1 mean wait",
        result.nodes[0].mean_wait,
        theory.mean_wait_s,
    );
    checks.mean(
        "M/D/1 mean in queue",
        result.nodes[0].mean_in_queue,
        theory.mean_in_queue,
    );
    checks.assert();
}

#[test]
fn mg1_lognormal_pollaczek_khinchine() {
    let model = load(&example("mg1_lognormal.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
    let service = &model.queues[0].consumers.as_ref().unwrap().service;
    let theory = analytic::mg1(500.0, service.mean(), service.second_moment()).unwrap();
    assert_close("M/G/1 mean wait", theory.mean_wait_s, 0.0025, ROUNDING);
    // The mean wait is λ E[S²] / (2 (1 − ρ)), and E[S²] is estimated from
    // the n services of the run: a lognormal with coefficient of variation
    // c has E[S⁴] / E[S²]² = (1 + c²)⁴, so the sample E[S²] has relative
    // standard deviation √(((1 + c²)⁴ − 1) / n), here (c = 2, n = 2·10⁶)
    // √(624 / 2·10⁶) = 1.8%, and so has the mean wait at least. Ten
    // replications seldom draw the rare long services behind it: their
    // standard error is 0.8%.
    let c2 = service.second_moment() / service.mean().powi(2) - 1.0;
    let services = 500.0 * measured_s(&model) * replications(&model) as f64;
    let relative_sd = (((1.0 + c2).powi(4) - 1.0) / services).sqrt();
    let sd = theory.mean_wait_s * relative_sd;
    checks.mean_with_sd_at_least(
        "M/G/1 mean wait",
        result.nodes[0].mean_wait,
        theory.mean_wait_s,
        sd,
    );
    checks.mean_with_sd_at_least(
        "M/G/1 mean sojourn",
        result.nodes[0].mean_sojourn,
        theory.mean_sojourn_s,
        sd,
    );
    checks.assert();
}

#[test]
fn tandem_jackson_network_per_node_and_end_to_end() {
    let model = load(&example("tandem.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
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
        checks.mean(
            &format!("tandem node {} sojourn", node.node),
            node.mean_sojourn,
            theory.nodes[i].mean_sojourn_s,
        );
    }
    checks.mean(
        "tandem end-to-end latency",
        result.summary.mean_latency,
        theory.mean_sojourn_s,
    );
    checks.assert();
}

#[test]
fn priority_classes_follow_cobham() {
    let model = load(&example("priority.toml"), &[]);
    let (_, result) = simulate(&model);
    let mut checks = Agreement::new(&model);
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
    checks.mean("priority 2 wait", row(2).mean_wait, theory[0].mean_wait_s);
    checks.mean("priority 1 wait", row(1).mean_wait, theory[1].mean_wait_s);
    checks.mean(
        "priority 2 sojourn",
        row(2).mean_sojourn,
        theory[0].mean_sojourn_s,
    );
    checks.mean(
        "priority 1 sojourn",
        row(1).mean_sojourn,
        theory[1].mean_sojourn_s,
    );
    checks.assert();
}
