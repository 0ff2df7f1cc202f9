//! The exact continuous-time Markov chain of one finite queue with Poisson
//! priority classes and exponential consumers (step 4 of the
//! [parent docs](super)), solved with [`stationary_ctmc_sparse`].
//!
//! # State
//!
//! `(n₁, …, n_m, b)`: waiting messages of each class (highest priority
//! first) and busy consumers. Consumers are identical and exponential, so
//! which class is in service does not matter; a waiting message exists
//! only when all `c` consumers are busy, and `Σ nᵢ <= capacity` (a queuesim
//! capacity counts waiting messages). With one class this is the M/M/c/K
//! birth–death chain, `K = capacity + c`.
//!
//! # Transitions
//!
//! - class `i` arrives at rate `λᵢ`: takes a free consumer (`b + 1`), or
//!   waits (`nᵢ + 1`); when the queue is full, `reject-publish` refuses it
//!   and `drop-head` drops the oldest waiting message of the lowest class
//!   present (`n_low − 1, nᵢ + 1`), or the arrival itself with no room;
//! - a service ends at rate `b μ`: the highest class waiting starts
//!   (`n_high − 1`), or a consumer goes idle (`b − 1`).

use std::collections::HashMap;

use serde::Serialize;

use super::node::{class_rates, poisson_fed};
use super::routing::Routing;
use super::{ClassTheory, NodeAnalysis};
use crate::analytic::markov::{MarkovError, SolveMethod, stationary_ctmc_sparse};
use crate::model::{Discipline, Model, Overflow, QueueId};

/// Largest state space the analysis builds a chain for.
pub const CTMC_STATE_LIMIT: usize = 100_000;

/// The queue whose chain is built.
#[derive(Debug, Clone)]
pub(super) struct FiniteQueue {
    /// Queue name.
    pub name: String,
    /// Priority (`None` for all classes merged) and arrival rate of each
    /// class, highest priority first.
    pub classes: Vec<(Option<i64>, f64)>,
    /// Consumers `c`.
    pub servers: u32,
    /// Service rate of one consumer `μ`.
    pub mu: f64,
    /// Waiting room.
    pub capacity: u64,
    /// Behaviour when full.
    pub overflow: Overflow,
}

/// Exact steady state of a finite queue from its CTMC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CtmcAnalysis {
    /// The queue whose chain this is.
    pub node: String,
    /// States of the chain.
    pub states: usize,
    /// How the chain was solved.
    pub method: SolveMethod,
    /// Relative flow imbalance of the solution.
    pub residual: f64,
    /// Share of arriving messages lost (refused or dropped), all classes.
    pub loss_probability: f64,
    /// Mean busy consumers over `c`.
    pub utilization: f64,
    /// Mean number of waiting messages.
    pub mean_in_queue: f64,
    /// Mean wait of a served message, seconds (NaN under `drop-head`, where
    /// the dropped messages' waits are not separable from the served ones').
    pub mean_wait_s: f64,
    /// `P(waiting = n)` for `n = 0 ..= capacity`.
    pub queue_length: Vec<f64>,
    /// Per class, highest priority first.
    pub classes: Vec<CtmcClass>,
}

/// One class in the chain's steady state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CtmcClass {
    /// Priority value (`None` when classes are merged: FIFO or LIFO).
    pub priority: Option<i64>,
    /// Arrival rate, per second.
    pub arrival_rate: f64,
    /// Share of this class's arrivals lost.
    pub loss_probability: f64,
    /// Mean waiting messages of this class.
    pub mean_in_queue: f64,
    /// Mean wait of a served message of this class, seconds (NaN under `drop-head`).
    pub mean_wait_s: f64,
}

/// Number of states of the chain, or `None` above `limit`.
pub(super) fn state_count(
    classes: usize,
    servers: u32,
    capacity: u64,
    limit: usize,
) -> Option<usize> {
    // Compositions of at most `capacity` into `classes` parts: C(capacity + m, m).
    let mut count: u128 = 1;
    for i in 1..=classes as u128 {
        count = count * (u128::from(capacity) + i) / i;
        if count > limit as u128 {
            return None;
        }
    }
    let total = count + u128::from(servers);
    (total <= limit as u128).then_some(total as usize)
}

/// Every state: idle-consumer states `(0…0, b)` for `b < c`, then the
/// waiting vectors with all consumers busy.
fn enumerate(classes: usize, servers: u32, capacity: u64) -> Vec<(Vec<u64>, u32)> {
    let mut states: Vec<(Vec<u64>, u32)> = (0..servers).map(|b| (vec![0; classes], b)).collect();
    let mut current = vec![0; classes];
    fill(&mut current, 0, capacity, &mut |n| {
        states.push((n.to_vec(), servers))
    });
    states
}

fn fill(current: &mut [u64], i: usize, left: u64, emit: &mut impl FnMut(&[u64])) {
    if i == current.len() {
        emit(current);
        return;
    }
    for v in 0..=left {
        current[i] = v;
        fill(current, i + 1, left - v, emit);
    }
    current[i] = 0;
}

/// Builds and solves the chain of `queue`.
///
/// # Errors
///
/// As [`stationary_ctmc_sparse`].
pub(super) fn solve(queue: &FiniteQueue) -> Result<CtmcAnalysis, MarkovError> {
    let m = queue.classes.len();
    let c = queue.servers;
    let states = enumerate(m, c, queue.capacity);
    let index: HashMap<(Vec<u64>, u32), usize> = states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i))
        .collect();
    let at = |n: &[u64], b: u32| index[&(n.to_vec(), b)];
    let mut rates = Vec::new();
    // (state, class dropped) with their rates, for the loss of each class.
    let mut drops: Vec<(usize, usize, f64)> = Vec::new();
    for (s, (n, b)) in states.iter().enumerate() {
        let waiting: u64 = n.iter().sum();
        for (k, &(_, lambda)) in queue.classes.iter().enumerate() {
            if lambda == 0.0 {
                continue;
            }
            if *b < c {
                rates.push((s, at(n, b + 1), lambda));
            } else if waiting < queue.capacity {
                let mut to = n.clone();
                to[k] += 1;
                rates.push((s, at(&to, *b), lambda));
            } else {
                match (queue.overflow, (0..m).rev().find(|&i| n[i] > 0)) {
                    (overflow, Some(low)) if overflow.drops_head() => {
                        drops.push((s, low, lambda));
                        if low != k {
                            let mut to = n.clone();
                            to[low] -= 1;
                            to[k] += 1;
                            rates.push((s, at(&to, *b), lambda));
                        }
                    }
                    _ => drops.push((s, k, lambda)),
                }
            }
        }
        if *b > 0 {
            let service = f64::from(*b) * queue.mu;
            match (0..m).find(|&i| n[i] > 0) {
                Some(high) => {
                    let mut to = n.clone();
                    to[high] -= 1;
                    rates.push((s, at(&to, *b), service));
                }
                None => rates.push((s, at(n, b - 1), service)),
            }
        }
    }
    let solution = stationary_ctmc_sparse(states.len(), &rates)?;
    Ok(summarise(
        queue,
        &states,
        &solution.pi,
        &drops,
        solution.method,
        solution.residual,
    ))
}

fn summarise(
    queue: &FiniteQueue,
    states: &[(Vec<u64>, u32)],
    pi: &[f64],
    drops: &[(usize, usize, f64)],
    method: SolveMethod,
    residual: f64,
) -> CtmcAnalysis {
    let m = queue.classes.len();
    let mut queue_length = vec![0.0; queue.capacity as usize + 1];
    let mut in_queue = vec![0.0; m];
    let mut busy = 0.0;
    for ((n, b), &p) in states.iter().zip(pi) {
        queue_length[n.iter().sum::<u64>() as usize] += p;
        n.iter()
            .zip(&mut in_queue)
            .for_each(|(&v, l)| *l += v as f64 * p);
        busy += f64::from(*b) * p;
    }
    let mut lost = vec![0.0; m];
    for &(s, class, rate) in drops {
        lost[class] += pi[s] * rate;
    }
    let total_rate: f64 = queue.classes.iter().map(|&(_, rate)| rate).sum();
    let drop_head = queue.overflow.drops_head();
    let wait = |lq: f64, accepted: f64| if drop_head { f64::NAN } else { lq / accepted };
    let classes: Vec<CtmcClass> = (0..m)
        .map(|k| {
            let (priority, lambda) = queue.classes[k];
            CtmcClass {
                priority,
                arrival_rate: lambda,
                loss_probability: if lambda > 0.0 { lost[k] / lambda } else { 0.0 },
                mean_in_queue: in_queue[k],
                mean_wait_s: wait(in_queue[k], lambda - lost[k]),
            }
        })
        .collect();
    let total_lost: f64 = lost.iter().sum();
    let mean_in_queue: f64 = in_queue.iter().sum();
    CtmcAnalysis {
        node: queue.name.clone(),
        states: states.len(),
        method,
        residual,
        loss_probability: total_lost / total_rate,
        utilization: busy / f64::from(queue.servers),
        mean_in_queue,
        mean_wait_s: wait(mean_in_queue, total_rate - total_lost),
        queue_length,
        classes,
    }
}

/// Builds the CTMC when the scenario is one finite queue with Poisson
/// classes and exponential consumers; otherwise says why not (or `None`
/// when the scenario has no finite queue).
pub(super) fn single_queue_ctmc(
    model: &Model,
    routing: &Routing,
) -> (Option<CtmcAnalysis>, Option<String>) {
    let served: Vec<QueueId> = (0..model.queues.len())
        .filter(|&q| routing.arrival_rate[q] > 0.0 && model.queues[q].consumers.is_some())
        .collect();
    let finite = served.iter().any(|&q| model.queues[q].capacity.is_some());
    if !finite {
        return (None, None);
    }
    let [q] = served[..] else {
        return (
            None,
            Some("more than one queue serves messages: the joint chain is not built".to_owned()),
        );
    };
    let queue = &model.queues[q];
    let c = queue
        .consumers
        .as_ref()
        .expect("served queues have consumers");
    let poisson = poisson_fed(model, routing)[q];
    let fits = poisson
        && c.service.is_exponential()
        && c.failure == 0.0
        && queue.ttl_s.is_none()
        && c.batch.is_none()
        && c.service_per_byte_s == 0.0
        && c.window().is_none()
        && model.pools[c.pool].queues.len() == 1;
    if !fits {
        return (
            None,
            Some(format!(
                "`{}` is not a Markov queue (needs Poisson arrivals, exponential service, no retries, TTL, batches or prefetch windows)",
                queue.name
            )),
        );
    }
    let rates = class_rates(routing, q);
    let classes: Vec<(Option<i64>, f64)> = if queue.discipline == Discipline::Priority {
        rates.iter().map(|&(p, r)| (Some(p), r)).collect()
    } else {
        vec![(None, rates.iter().map(|&(_, r)| r).sum())]
    };
    let capacity = queue.capacity.unwrap_or(0);
    let single_class_limit = crate::analytic::markov::DENSE_LIMIT;
    if classes.len() == 1 && state_count(1, c.slots(), capacity, single_class_limit).is_none() {
        return (
            None,
            Some(format!(
                "`{}` is a birth–death chain of more than {single_class_limit} states, which the \
                 M/M/c/K closed form solves exactly",
                queue.name
            )),
        );
    }
    if state_count(classes.len(), c.slots(), capacity, CTMC_STATE_LIMIT).is_none() {
        return (
            None,
            Some(format!(
                "the chain of `{}` has more than {CTMC_STATE_LIMIT} states",
                queue.name
            )),
        );
    }
    let finite_queue = FiniteQueue {
        name: queue.name.clone(),
        classes,
        servers: c.slots(),
        mu: 1.0 / c.service.mean(),
        capacity,
        overflow: queue.overflow,
    };
    match solve(&finite_queue) {
        Ok(chain) => (Some(chain), None),
        Err(e) => (
            None,
            Some(format!(
                "the chain of `{}` could not be solved: {e}",
                queue.name
            )),
        ),
    }
}

/// Adds the chain's per-class waits to its queue's entry.
pub(super) fn apply_ctmc(model: &Model, nodes: &mut [NodeAnalysis], chain: &CtmcAnalysis) {
    if chain.classes.len() < 2 {
        return;
    }
    let Some(q) = model.queues.iter().position(|q| q.name == chain.node) else {
        return;
    };
    let service_s = model.queues[q]
        .consumers
        .as_ref()
        .map_or(f64::NAN, |c| c.service.mean());
    let node = &mut nodes[q];
    node.classes = chain
        .classes
        .iter()
        .filter_map(|class| {
            Some(ClassTheory {
                priority: class.priority?,
                arrival_rate: class.arrival_rate,
                mean_wait_s: class.mean_wait_s,
                mean_sojourn_s: class.mean_wait_s + service_s,
            })
        })
        .collect();
    node.model = format!(
        "{} (CTMC, {} priority classes)",
        node.model,
        chain.classes.len()
    );
    node.reason = node
        .reason
        .replace("; priority: overall means as FIFO, no per-class result", "");
    node.reason.push_str(&format!(
        "; per-class waits from the exact CTMC ({} states)",
        chain.states
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::testutil::assert_rel;
    use crate::analytic::{mmck, system_capacity};

    #[test]
    fn one_class_is_the_mmck_birth_death_chain() {
        for overflow in [Overflow::RejectPublish, Overflow::DropHead] {
            let queue = FiniteQueue {
                name: "q".to_owned(),
                classes: vec![(None, 2.5)],
                servers: 3,
                mu: 1.0,
                capacity: 7,
                overflow,
            };
            let ctmc = solve(&queue).unwrap();
            let exact = mmck(2.5, 1.0, 3, system_capacity(3, 7)).unwrap();
            assert_eq!(ctmc.states, 3 + 8);
            assert_rel(ctmc.loss_probability, exact.loss_probability, 1e-12);
            assert_rel(ctmc.mean_in_queue, exact.mean_in_queue, 1e-12);
            assert_rel(ctmc.utilization, exact.utilization, 1e-12);
        }
    }

    #[test]
    fn classes_split_the_total_and_priority_waits_less() {
        let queue = FiniteQueue {
            name: "q".to_owned(),
            classes: vec![(Some(2), 0.8), (Some(1), 0.9)],
            servers: 2,
            mu: 1.0,
            capacity: 6,
            overflow: Overflow::RejectPublish,
        };
        let ctmc = solve(&queue).unwrap();
        let exact = mmck(1.7, 1.0, 2, system_capacity(2, 6)).unwrap();
        assert_rel(ctmc.loss_probability, exact.loss_probability, 1e-12);
        assert_rel(ctmc.mean_wait_s, exact.mean_wait_s, 1e-12);
        assert!(ctmc.classes[0].mean_wait_s < ctmc.classes[1].mean_wait_s);
        assert_eq!(state_count(2, 2, 6, CTMC_STATE_LIMIT), Some(ctmc.states));
        assert_eq!(state_count(3, 1, 10_000, CTMC_STATE_LIMIT), None);
    }

    #[test]
    fn drop_head_drops_the_lowest_class_first() {
        let queue = FiniteQueue {
            name: "q".to_owned(),
            classes: vec![(Some(2), 1.0), (Some(1), 1.0)],
            servers: 1,
            mu: 1.0,
            capacity: 3,
            overflow: Overflow::DropHead,
        };
        let ctmc = solve(&queue).unwrap();
        assert!(ctmc.classes[0].loss_probability < ctmc.classes[1].loss_probability);
        assert!(ctmc.mean_wait_s.is_nan());
    }
}
