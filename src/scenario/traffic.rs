//! Mean message rates through the network and each queue's offered load,
//! from the traffic equations of [`crate::analytic::traffic`] (one sparse
//! solver shared with `queuesim analyze`).
//!
//! # Formula
//!
//! With `x` the first-attempt arrival rate of a queue (see
//! [`crate::analytic::traffic`] for the equations) and `T` its attempts per
//! message, the offered load of a queue is `ρ = T · x · E[S] / count`.

use crate::analytic::traffic::{FlowError, ModelFlows};
use crate::model::Model;

/// Mean traffic at one queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueLoad {
    /// Messages per second arriving from producers and upstream nodes
    /// (first attempts only).
    pub arrival_rate: f64,
    /// Processing attempts per second, retries included.
    pub attempt_rate: f64,
    /// Offered load per consumer `ρ`; `None` for a queue without consumers.
    pub utilization: Option<f64>,
}

/// Mean traffic at every node.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    /// Per queue, in [`Model::queues`] order.
    pub queues: Vec<QueueLoad>,
    /// Messages per second entering each exchange, in [`Model::exchanges`] order.
    pub exchanges: Vec<f64>,
}

/// Solves the traffic equations of `model`; `None` when they have no
/// finite non-negative solution.
pub fn traffic(model: &Model) -> Option<Traffic> {
    solve(model).ok()
}

fn solve(model: &Model) -> Result<Traffic, FlowError> {
    let flows = ModelFlows::new(model);
    let x = flows.rates(model, |_| true)?;
    let nq = model.queues.len();
    let queues = (model.queues.iter().zip(&x).zip(flows.tries()))
        .map(|((queue, &arrival_rate), &tries)| {
            let attempt_rate = if arrival_rate == 0.0 {
                0.0
            } else {
                arrival_rate * tries
            };
            let utilization = (queue.consumers.as_ref()).map(|c| match c.in_place_hold_s() {
                // A consumer retrying in place is busy for the whole hold.
                Some((hold_s, _)) => arrival_rate * hold_s / f64::from(c.count),
                None => attempt_rate * c.service.mean() / f64::from(c.count),
            });
            QueueLoad {
                arrival_rate,
                attempt_rate,
                utilization,
            }
        })
        .collect();
    let exchanges = x[nq..nq + model.exchanges.len()].to_vec();
    Ok(Traffic { queues, exchanges })
}

/// The offered load `ρ` of the busiest queue with consumers; `None` when
/// no queue has consumers or the traffic equations have no solution.
pub fn max_load(model: &Model) -> Option<f64> {
    let traffic = traffic(model)?;
    (traffic.queues.iter())
        .filter_map(|load| load.utilization)
        .reduce(f64::max)
}

/// The name of graph node `node` of [`ModelFlows`].
fn node_name(model: &Model, node: usize) -> &str {
    let (nq, ne) = (model.queues.len(), model.exchanges.len());
    if node < nq {
        &model.queues[node].name
    } else if node < nq + ne {
        &model.exchanges[node - nq].name
    } else {
        &model.topics[node - nq - ne].name
    }
}

/// Why the traffic equations of `model` have no solution, in words.
fn no_solution(model: &Model, error: FlowError) -> String {
    match error {
        FlowError::Unbounded { node } => format!(
            "the traffic equations have no finite solution: fanout copies inside the routing \
             loop through `{}` multiply without bound, so some queues grow without limit",
            node_name(model, node)
        ),
        FlowError::NotConverged { node, sweeps, .. } => format!(
            "the traffic equations did not converge in {sweeps} sweeps over the routing loop \
             through `{}`: it is within a hair of multiplying copies without bound, so loads \
             are not reported",
            node_name(model, node)
        ),
    }
}

/// Warnings about load: unstable unbounded queues, or equations without
/// a finite solution; producers whose confirm window cannot keep up.
pub fn warnings(model: &Model) -> Vec<String> {
    let mut found = confirm_warnings(model);
    let traffic = match solve(model) {
        Ok(traffic) => traffic,
        Err(error) => {
            found.insert(0, no_solution(model, error));
            return found;
        }
    };
    let queues: Vec<String> = (model.queues.iter().zip(&traffic.queues))
        .filter_map(|(queue, load)| overload_warning(queue, load))
        .collect();
    queues.into_iter().chain(found).collect()
}

/// The warning for a queue whose offered load is 1 or more: unstable
/// when nothing bounds its backlog; saturated, shedding at least
/// `1 − 1/ρ` of its messages, when a queue TTL bounds it. A queue with a
/// capacity is left to the capacity checks.
fn overload_warning(queue: &crate::model::Queue, load: &QueueLoad) -> Option<String> {
    let rho = load.utilization?;
    let c = queue.consumers.as_ref()?;
    if rho < 1.0 || queue.capacity.is_some() || queue.capacity_bytes.is_some() {
        return None;
    }
    let num = super::describe::num;
    let why = format!(
        "offered load ρ = {} >= 1 ({} attempts/s × mean service {} s for {} consumer{})",
        num(rho),
        num(load.attempt_rate),
        num(c.service.mean()),
        c.count,
        if c.count == 1 { "" } else { "s" }
    );
    Some(match queue.ttl_s {
        Some(ttl_s) => format!(
            "queue `{}` is saturated: {why}; its TTL of {} s bounds the backlog, so at least \
             1 − 1/ρ = {}% of its messages expire — add consumers or speed up service",
            queue.name,
            num(ttl_s),
            num(100.0 * (1.0 - 1.0 / rho))
        ),
        None => format!(
            "queue `{}` is unstable: {why} with unbounded capacity; its backlog grows \
             without bound — add consumers, speed up service or set `capacity`",
            queue.name
        ),
    })
}

/// Producers that publish faster than their confirm window lets out
/// (`in_flight / E[latency]` per second): their waiting publications, and
/// latency, grow without bound.
fn confirm_warnings(model: &Model) -> Vec<String> {
    let horizon_s = model.simulation.warmup_s + model.simulation.duration_s;
    (model.producers.iter())
        .filter_map(|p| {
            let c = p.confirm.as_ref()?;
            let rate = p.arrivals.mean_rate_per_s(horizon_s);
            let most = f64::from(c.in_flight) / c.latency.mean();
            (rate >= most).then(|| {
                format!(
                    "producer `{}` publishes {}/s but its confirm window lets at most \
                     in_flight / mean latency = {} / {} s = {}/s out: its waiting publications \
                     grow without bound — raise `confirm.in_flight` or lower the rate",
                    p.name,
                    super::describe::num(rate),
                    c.in_flight,
                    super::describe::num(c.latency.mean()),
                    super::describe::num(most)
                )
            })
        })
        .collect()
}
