//! The traffic equations of a scenario at queue level, which queues feed
//! which, and the variability of each queue's arrival stream (Whitt's QNA).
//!
//! # Formula
//!
//! Exchanges and topics hold nothing, so every route is expanded down to
//! the queues it reaches, with a multiplier: the route's weight for a
//! weighted or direct exchange, 1 for each copy of a fanout, the partition
//! share for a topic (the producer's Zipf key mass hashed to the partition
//! for a keyed topic, an even share otherwise). A queue with consumers whose attempts fail with
//! probability `p`, with at most `k` attempts, makes
//! `T = (1 − pᵏ)/(1 − p)` attempts per message (`1/(1 − p)` unlimited),
//! forwards `1 − pᵏ` of its messages along `next` and `pᵏ` to its dead
//! letter queue. With `R[i][j]` the messages queue `i` sends to `j` per
//! message it receives and `γ` the producers' mean rates:
//!
//! ```text
//! x = γ + Rᵀ x,   attempts a = T · x
//! ```
//!
//! solved once per producer (the equations are linear), so that the rate
//! of every priority class and every source at every queue is known.

use nalgebra::{DMatrix, DVector};

use crate::model::{
    Arrivals, AttemptShares, ExchangeKind, Keys, Model, Partitioner, QueueId, Target,
};

/// One share of a route expanded down to a queue.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hop {
    /// The queue reached.
    pub queue: QueueId,
    /// Mean messages reaching it per message sent along the route.
    pub share: f64,
    /// The share is taken in turn (round-robin partitions), not at random.
    pub in_turn: bool,
    /// Fanout exchange whose copy this is, and the index of its route.
    pub fanout: Option<(usize, usize)>,
}

/// Mean rates and routing of a scenario, at queue level.
#[derive(Debug, Clone)]
pub(super) struct Routing {
    /// `per_producer[p][q]`: messages per second of producer `p` arriving
    /// at queue `q` (first attempts).
    pub per_producer: Vec<Vec<f64>>,
    /// Total first-attempt arrival rate of each queue.
    pub arrival_rate: Vec<f64>,
    /// Attempts per first arrival `T` of each queue.
    pub tries: Vec<f64>,
    /// `forward[i][j]`: messages queue `i` sends to `j` per message received.
    pub forward: DMatrix<f64>,
    /// The hops of each producer's first target.
    pub producer_hops: Vec<Vec<Hop>>,
    /// The hops of each queue's `next` routes and dead letter queue.
    pub queue_hops: Vec<Vec<Hop>>,
    /// `reaches[i][j]`: a path of one or more hops leads from queue `i` to `j`.
    pub reaches: Vec<Vec<bool>>,
}

impl Routing {
    /// Attempt rate of queue `q`, retries included.
    pub fn attempt_rate(&self, q: QueueId) -> f64 {
        if self.arrival_rate[q] == 0.0 {
            0.0
        } else {
            self.arrival_rate[q] * self.tries[q]
        }
    }
}

/// Expands `target` into the queues it reaches. `keys` are the keys of the
/// messages sent (a producer's; unknown further down the network, where a
/// keyed topic is taken to spread messages evenly).
fn expand(
    model: &Model,
    target: Target,
    share: f64,
    in_turn: bool,
    keys: Option<Keys>,
    out: &mut Vec<Hop>,
) {
    match target {
        Target::Queue(queue) => out.push(Hop {
            queue,
            share,
            in_turn,
            fanout: None,
        }),
        Target::Exchange(e) => {
            let exchange = &model.exchanges[e];
            for (r, route) in exchange.routes.iter().enumerate() {
                let start = out.len();
                if exchange.kind == ExchangeKind::Fanout {
                    expand(model, route.to, share, in_turn, keys, out);
                    out[start..]
                        .iter_mut()
                        .for_each(|h| h.fanout = h.fanout.or(Some((e, r))));
                } else {
                    expand(model, route.to, share * route.weight, in_turn, keys, out);
                }
            }
        }
        Target::Topic(t) => {
            let topic = &model.topics[t];
            let n = topic.partitions.len();
            let keyed = topic.partitioner == Partitioner::Key;
            let shares = match keys {
                Some(k) if keyed => k.partition_shares(n),
                _ => vec![1.0 / n as f64; n],
            };
            for (&partition, partition_share) in topic.partitions.iter().zip(shares) {
                expand(
                    model,
                    Target::Queue(partition),
                    share * partition_share,
                    in_turn || !keyed,
                    keys,
                    out,
                );
            }
        }
    }
}

/// Mean rate of a producer, per second, over the measured horizon.
pub(super) fn producer_rate(model: &Model, arrivals: &Arrivals) -> f64 {
    let s = &model.simulation;
    arrivals.mean_rate_per_s(s.warmup_s + s.duration_s)
}

/// Solves the traffic equations of `model`.
///
/// # Errors
///
/// A message when the equations have no finite non-negative solution
/// (fanout copies multiplying inside a loop, or a loop with no exit).
pub(super) fn routing(model: &Model) -> Result<Routing, String> {
    let nq = model.queues.len();
    let mut forward = DMatrix::<f64>::zeros(nq, nq);
    let mut tries = vec![1.0; nq];
    let mut queue_hops = vec![Vec::new(); nq];
    for (q, queue) in model.queues.iter().enumerate() {
        let Some(c) = &queue.consumers else { continue };
        let AttemptShares {
            tries: t,
            success,
            dead,
        } = c.attempt_shares();
        tries[q] = t;
        let mut hops = Vec::new();
        for route in &c.next {
            expand(
                model,
                route.to,
                route.weight * success,
                false,
                None,
                &mut hops,
            );
        }
        if let (Some(dl), true) = (queue.dead_letter, dead > 0.0) {
            expand(model, Target::Queue(dl), dead, false, None, &mut hops);
        }
        for hop in &hops {
            forward[(q, hop.queue)] += hop.share;
        }
        queue_hops[q] = hops;
    }
    let system = DMatrix::<f64>::identity(nq, nq) - forward.transpose();
    let lu = system.clone().lu();
    let mut per_producer = Vec::with_capacity(model.producers.len());
    let mut producer_hops = Vec::with_capacity(model.producers.len());
    for producer in &model.producers {
        let mut hops = Vec::new();
        expand(model, producer.to, 1.0, false, producer.keys, &mut hops);
        let rate = producer_rate(model, &producer.arrivals);
        let mut gamma = DVector::<f64>::zeros(nq);
        hops.iter().for_each(|h| gamma[h.queue] += h.share * rate);
        let x = lu.solve(&gamma).ok_or_else(no_solution)?;
        if x.iter()
            .any(|v| !v.is_finite() || *v < -1e-9 * rate.max(1.0))
        {
            return Err(no_solution());
        }
        per_producer.push(x.iter().map(|v| v.max(0.0)).collect::<Vec<f64>>());
        producer_hops.push(hops);
    }
    let arrival_rate = (0..nq)
        .map(|q| per_producer.iter().map(|x| x[q]).sum())
        .collect();
    let reaches = reachability(&forward);
    Ok(Routing {
        per_producer,
        arrival_rate,
        tries,
        forward,
        producer_hops,
        queue_hops,
        reaches,
    })
}

fn no_solution() -> String {
    "the traffic equations have no finite solution: fanout copies inside a routing loop \
     multiply without bound, or traffic is trapped in a loop"
        .to_owned()
}

/// Transitive closure of the "sends to" relation (paths of length >= 1).
fn reachability(forward: &DMatrix<f64>) -> Vec<Vec<bool>> {
    let n = forward.nrows();
    (0..n)
        .map(|start| {
            let mut seen = vec![false; n];
            let mut stack: Vec<usize> = (0..n).filter(|&j| forward[(start, j)] > 0.0).collect();
            while let Some(i) = stack.pop() {
                if !seen[i] {
                    seen[i] = true;
                    stack.extend((0..n).filter(|&j| forward[(i, j)] > 0.0 && !seen[j]));
                }
            }
            seen
        })
        .collect()
}

/// Queues that receive copies of one fanout along two different routes:
/// their arrivals come in correlated pairs, not as a Poisson stream.
pub(super) fn fanout_merges(routing: &Routing, nq: usize) -> Vec<bool> {
    let mut origins: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nq];
    let all_hops = routing.producer_hops.iter().chain(&routing.queue_hops);
    for hop in all_hops.flatten() {
        let Some(origin) = hop.fanout else { continue };
        origins[hop.queue].push(origin);
        for (j, reached) in routing.reaches[hop.queue].iter().enumerate() {
            if *reached {
                origins[j].push(origin);
            }
        }
    }
    origins
        .into_iter()
        .map(|mut list| {
            list.sort_unstable();
            list.dedup();
            list.windows(2).any(|w| w[0].0 == w[1].0)
        })
        .collect()
}

/// Squared coefficient of variation of a producer's inter-arrival times,
/// as QNA uses it: the gap scv of a renewal stream or trace, the
/// asymptotic index of dispersion of an on/off (MMPP-2) stream; `None` for
/// a time-varying (piecewise) rate, which has no steady state.
pub(super) fn producer_scv(arrivals: &Arrivals) -> Option<f64> {
    match arrivals {
        Arrivals::Renewal(dist) => Some(dist.scv()),
        Arrivals::OnOff {
            on_mean_s,
            off_mean_s,
            rate_on_per_s,
            rate_off_per_s,
        } => {
            let (s1, s2) = (1.0 / on_mean_s, 1.0 / off_mean_s);
            let mean_rate = (rate_on_per_s * s2 + rate_off_per_s * s1) / (s1 + s2);
            let diff = rate_on_per_s - rate_off_per_s;
            Some(1.0 + 2.0 * diff * diff * s1 * s2 / ((s1 + s2).powi(3) * mean_rate))
        }
        Arrivals::Piecewise { .. } => None,
        Arrivals::Trace { times_s } => {
            let gaps: Vec<f64> = times_s.windows(2).map(|w| w[1] - w[0]).collect();
            let n = gaps.len() as f64;
            let mean = gaps.iter().sum::<f64>() / n;
            let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n;
            (gaps.len() >= 2 && mean > 0.0).then(|| var / (mean * mean))
        }
    }
}

/// Per-queue service facts QNA needs: `(scv of service, utilization, servers)`.
pub(super) type ServiceFacts = (f64, f64, u32);

/// Arrival scv of every queue by QNA's linear equations (merging is a
/// rate-weighted mean, a random split with share `m` gives
/// `m·c² + 1 − m`, a departure stream has
/// `c_d² = 1 + (1 − ρ²)(c_a² − 1) + ρ² (c_s² − 1)/√c`), iterated to a
/// fixed point. Producers with no steady state count as Poisson here;
/// callers refuse those queues anyway.
pub(super) fn arrival_scv(
    model: &Model,
    routing: &Routing,
    facts: &[Option<ServiceFacts>],
) -> Vec<f64> {
    let nq = model.queues.len();
    let mut external = vec![(0.0, 0.0); nq];
    for (p, producer) in model.producers.iter().enumerate() {
        let rate = producer_rate(model, &producer.arrivals);
        let scv = producer_scv(&producer.arrivals).unwrap_or(1.0);
        for hop in &routing.producer_hops[p] {
            let m = hop.share.min(1.0);
            let split = if hop.in_turn {
                m * scv
            } else {
                m * scv + 1.0 - m
            };
            external[hop.queue].0 += rate * hop.share;
            external[hop.queue].1 += rate * hop.share * split;
        }
    }
    let mut ca2 = vec![1.0; nq];
    for _ in 0..200 {
        let mut next = external.clone();
        for (i, hops) in routing.queue_hops.iter().enumerate() {
            let Some((cs2, rho, c)) = facts[i] else {
                continue;
            };
            let attempts = routing.attempt_rate(i);
            if attempts == 0.0 {
                continue;
            }
            let rho2 = rho.min(1.0).powi(2);
            let departure =
                1.0 + (1.0 - rho2) * (ca2[i] - 1.0) + rho2 * (cs2 - 1.0) / f64::from(c).sqrt();
            let retry_share = 1.0 - 1.0 / routing.tries[i];
            let mut add = |q: usize, m: f64, in_turn: bool| {
                let flow = attempts * m;
                let m = m.min(1.0);
                let split = if in_turn {
                    m * departure
                } else {
                    m * departure + 1.0 - m
                };
                next[q].0 += flow;
                next[q].1 += flow * split;
            };
            if retry_share > 0.0 {
                add(i, retry_share, false);
            }
            for hop in hops {
                add(hop.queue, hop.share / routing.tries[i], hop.in_turn);
            }
        }
        ca2 = next
            .iter()
            .map(|&(rate, sum)| if rate > 0.0 { sum / rate } else { 1.0 })
            .collect();
    }
    ca2
}
