//! Mean message rates through the network: the traffic equations.
//!
//! # Formula
//!
//! With `x` the rate of messages entering each node (queues, then
//! exchanges), `b` the producers' mean rates (`1 / E[interarrival]`) and
//! `M[i][j]` the mean number of messages node `i` sends to node `j` per
//! message it receives:
//!
//! ```text
//! x = b + Mᵀ x,   so   x = (I − Mᵀ)⁻¹ b
//! ```
//!
//! A weighted or direct exchange sends `weight` of a message down each
//! route, a fanout exchange one copy down every route. A queue with
//! consumers whose attempts fail with probability `p`, with at most `k`
//! attempts, makes `(1 − pᵏ) / (1 − p)` attempts per message
//! (`1 / (1 − p)` when retries are unlimited), forwards `(1 − pᵏ) · weight`
//! along each `next` route and `pᵏ` to its dead-letter queue. Expiry (TTL)
//! and overflow losses are not subtracted, so rates are upper bounds.
//! The offered load of a queue is `ρ = attempts rate · E[S] / count`.
//!
//! The equations have a finite non-negative solution exactly when
//! `(I − Mᵀ)⁻¹` exists and is non-negative (spectral radius of `M` below 1);
//! otherwise fanout copies inside a loop multiply without bound.

use nalgebra::{DMatrix, DVector};

use crate::model::{AttemptShares, Model, Partitioner, Target};

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
    let nq = model.queues.len();
    let ne = model.exchanges.len();
    let n = nq + ne + model.topics.len();
    let index = |t: Target| match t {
        Target::Queue(q) => q,
        Target::Exchange(e) => nq + e,
        Target::Topic(t) => nq + ne + t,
    };
    let horizon_s = model.simulation.warmup_s + model.simulation.duration_s;
    let mut b = DVector::<f64>::zeros(n);
    for p in &model.producers {
        b[index(p.to)] += p.arrivals.mean_rate_per_s(horizon_s);
    }
    // a = I − Mᵀ: a[(to, from)] −= M[from][to].
    let mut a = DMatrix::<f64>::identity(n, n);
    let mut attempts = vec![1.0; nq];
    for (q, queue) in model.queues.iter().enumerate() {
        let Some(c) = &queue.consumers else { continue };
        let AttemptShares {
            tries,
            success,
            dead,
        } = c.attempt_shares();
        attempts[q] = tries;
        for r in &c.next {
            a[(index(r.to), q)] -= success * r.weight;
        }
        if let Some(dl) = queue.dead_letter {
            a[(dl, q)] -= dead;
        }
    }
    for (e, exchange) in model.exchanges.iter().enumerate() {
        let fanout = exchange.kind == crate::model::ExchangeKind::Fanout;
        for r in &exchange.routes {
            a[(index(r.to), nq + e)] -= if fanout { 1.0 } else { r.weight };
        }
    }
    for (t, topic) in model.topics.iter().enumerate() {
        let shares = partition_shares(model, t);
        for (&q, share) in topic.partitions.iter().zip(shares) {
            a[(q, nq + ne + t)] -= share;
        }
    }
    let inverse = a.try_inverse()?;
    if inverse.iter().any(|v| !v.is_finite() || *v < -1e-9) {
        return None;
    }
    let x = inverse * b;
    let queues = model
        .queues
        .iter()
        .enumerate()
        .map(|(q, queue)| {
            let arrival_rate = x[q].max(0.0);
            let attempt_rate = if arrival_rate == 0.0 {
                0.0
            } else {
                arrival_rate * attempts[q]
            };
            let utilization = (queue.consumers.as_ref())
                .map(|c| attempt_rate * c.service.mean() / f64::from(c.count));
            QueueLoad {
                arrival_rate,
                attempt_rate,
                utilization,
            }
        })
        .collect();
    let exchanges = (nq..nq + ne).map(|i| x[i].max(0.0)).collect();
    Some(Traffic { queues, exchanges })
}

/// Expected share of each partition of topic `t`: the producers that
/// publish straight into it spread their keys by the Zipf law hashed to
/// partitions (rate-weighted); everything else is spread evenly.
fn partition_shares(model: &Model, t: usize) -> Vec<f64> {
    let topic = &model.topics[t];
    let partitions = topic.partitions.len();
    let even = vec![1.0 / partitions as f64; partitions];
    if topic.partitioner == Partitioner::RoundRobin {
        return even;
    }
    let horizon_s = model.simulation.warmup_s + model.simulation.duration_s;
    let mut shares = vec![0.0; partitions];
    let mut total = 0.0;
    for p in model.producers.iter().filter(|p| p.to == Target::Topic(t)) {
        let rate = p.arrivals.mean_rate_per_s(horizon_s);
        let spread = p
            .keys
            .map_or_else(|| even.clone(), |k| k.partition_shares(partitions));
        shares
            .iter_mut()
            .zip(spread)
            .for_each(|(s, x)| *s += rate * x);
        total += rate;
    }
    if total > 0.0 {
        shares.iter_mut().for_each(|s| *s /= total);
        shares
    } else {
        even
    }
}

/// Warnings about load: unstable unbounded queues, or equations without
/// a finite solution.
pub fn warnings(model: &Model) -> Vec<String> {
    let Some(traffic) = traffic(model) else {
        return vec![
            "the traffic equations have no finite solution: fanout copies inside a routing \
             loop multiply without bound, so some queues grow without limit"
                .to_owned(),
        ];
    };
    model
        .queues
        .iter()
        .zip(&traffic.queues)
        .filter_map(|(queue, load)| {
            let rho = load.utilization?;
            let c = queue.consumers.as_ref()?;
            (queue.capacity.is_none() && rho >= 1.0).then(|| {
                format!(
                    "queue `{}` is unstable: offered load ρ = {} >= 1 with unbounded capacity \
                     ({} attempts/s × mean service {} s for {} consumer{}); its backlog grows \
                     without bound — add consumers, speed up service or set `capacity`",
                    queue.name,
                    super::describe::num(rho),
                    super::describe::num(load.attempt_rate),
                    super::describe::num(c.service.mean()),
                    c.count,
                    if c.count == 1 { "" } else { "s" }
                )
            })
        })
        .collect()
}
