//! The traffic equations of a scenario at queue level, which queues feed
//! which, and the variability of each queue's arrival stream (Whitt's QNA).
//!
//! # Formula
//!
//! Mean rates come from the sparse traffic equations of
//! [`crate::analytic::traffic`] (`x = γ + Mᵀ x`, attempts `T · x`), solved
//! once for all producers, once per priority class and once for the
//! producers whose arrivals are not Poisson (the equations are linear, so
//! each class's and each source's share of every queue is known).
//!
//! For variability, exchanges and topics hold nothing, so every route is
//! expanded down to the queues it reaches ([`Hop`]), with a multiplier:
//! the route's weight for a weighted or direct exchange, 1 for each copy of
//! a fanout, the partition share for a topic (the producer's Zipf key mass
//! hashed to the partition for a keyed topic, an even share otherwise).
//! An exchange with binding keys sends each destination the share of
//! messages whose routing key leads there, from the mix of key classes of
//! the messages sent (a producer's keys, or the mix arriving at the queue
//! they leave), and counts as a fanout where one key has several
//! destinations.

use crate::analytic::traffic::{FlowError, ModelFlows};
use crate::model::{Arrivals, ExchangeKind, Keys, Model, Partitioner, Producer, QueueId, Target};

/// One share of a route expanded down to a queue.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hop {
    /// The queue reached.
    pub queue: QueueId,
    /// Mean messages reaching it per message sent along the route.
    pub share: f64,
    /// The share is taken in turn (round-robin partitions), not at random.
    pub in_turn: bool,
    /// What copied the message, and which copy this is: a fanout
    /// exchange and the index of its route, or (numbered after the
    /// exchanges, `exchanges + t`) topic `t` read by several groups and
    /// the index of the group.
    pub fanout: Option<(usize, usize)>,
}

/// Mean rates and routing of a scenario, at queue level.
#[derive(Debug, Clone)]
pub(super) struct Routing {
    /// Total first-attempt arrival rate of each queue.
    pub arrival_rate: Vec<f64>,
    /// Attempts per first arrival `T` of each queue.
    pub tries: Vec<f64>,
    /// The hops of each producer's first target.
    pub producer_hops: Vec<Vec<Hop>>,
    /// The hops of each queue's `next` routes and dead letter queue.
    pub queue_hops: Vec<Vec<Hop>>,
    /// Attempt rate of each priority class at each queue, highest class
    /// first, classes with no traffic there left out.
    pub class_rates: Vec<Vec<(i64, f64)>>,
    /// Whether a producer whose arrivals are not Poisson reaches each queue.
    pub non_poisson: Vec<bool>,
    /// Whether copies of one fanout merge into each queue (see [`fanout_merges`]).
    pub fanout_merges: Vec<bool>,
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

    /// Queues reached by one or more hops from a queue that `from` marks,
    /// in time linear in queues and hops.
    pub fn downstream_of(&self, from: &[bool]) -> Vec<bool> {
        let mut seen = vec![false; from.len()];
        let mut stack: Vec<QueueId> = (0..from.len()).filter(|&q| from[q]).collect();
        while let Some(i) = stack.pop() {
            for hop in self.queue_hops[i].iter().filter(|h| h.share > 0.0) {
                if !std::mem::replace(&mut seen[hop.queue], true) {
                    stack.push(hop.queue);
                }
            }
        }
        seen
    }
}

/// Expands `target` into the queues it reaches. `keys` are the keys of the
/// messages sent (a producer's; unknown further down the network, where a
/// keyed topic is taken to spread messages evenly); `mix` is their share
/// of each key class of `flows` (routing keys).
#[allow(clippy::too_many_arguments)]
fn expand(
    model: &Model,
    flows: &ModelFlows,
    target: Target,
    share: f64,
    in_turn: bool,
    keys: Option<Keys>,
    mix: &[f64],
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
            if let Some(keyed) = &exchange.keyed {
                let to = |class: usize| keyed.destinations(flows.class_key(class));
                let sent = |class: usize| mix[class] > 0.0;
                let mut destinations: Vec<Target> = Vec::new();
                for class in (0..mix.len()).filter(|&c| sent(c)) {
                    for &d in to(class) {
                        if !destinations.contains(&d) {
                            destinations.push(d);
                        }
                    }
                }
                let copies = (0..mix.len()).any(|c| sent(c) && to(c).len() > 1);
                for d in destinations {
                    let mut sub: Vec<f64> = (mix.iter().enumerate())
                        .map(|(c, &m)| if to(c).contains(&d) { m } else { 0.0 })
                        .collect();
                    let reaching: f64 = sub.iter().sum();
                    sub.iter_mut().for_each(|m| *m /= reaching);
                    let start = out.len();
                    expand(model, flows, d, share * reaching, in_turn, keys, &sub, out);
                    if copies {
                        let r = (exchange.routes.iter().position(|r| r.to == d))
                            .unwrap_or(exchange.routes.len());
                        out[start..]
                            .iter_mut()
                            .for_each(|h| h.fanout = h.fanout.or(Some((e, r))));
                    }
                }
                return;
            }
            for (r, route) in exchange.routes.iter().enumerate() {
                let start = out.len();
                if exchange.kind == ExchangeKind::Fanout {
                    expand(model, flows, route.to, share, in_turn, keys, mix, out);
                    out[start..]
                        .iter_mut()
                        .for_each(|h| h.fanout = h.fanout.or(Some((e, r))));
                } else {
                    let share = share * route.weight;
                    expand(model, flows, route.to, share, in_turn, keys, mix, out);
                }
            }
        }
        Target::Topic(t) => {
            let topic = &model.topics[t];
            let n = topic.partition_count;
            let keyed = topic.partitioner == Partitioner::Key;
            let shares = match keys {
                Some(k) if keyed => k.partition_shares(n),
                _ => vec![1.0 / n as f64; n],
            };
            let copies = topic.groups.len() > 1;
            for (g, group) in topic.groups.iter().enumerate() {
                let start = out.len();
                for (&partition, partition_share) in group.partitions.iter().zip(&shares) {
                    expand(
                        model,
                        flows,
                        Target::Queue(partition),
                        share * partition_share,
                        in_turn || !keyed,
                        keys,
                        mix,
                        out,
                    );
                }
                if copies {
                    let copier = (model.exchanges.len() + t, g);
                    (out[start..].iter_mut()).for_each(|h| h.fanout = h.fanout.or(Some(copier)));
                }
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
/// (fanout copies multiplying inside a loop).
pub(super) fn routing(model: &Model) -> Result<Routing, String> {
    let nq = model.queues.len();
    let flows = ModelFlows::new(model);
    let rates = |include: &dyn Fn(&Producer) -> bool| {
        let mut x = flows.rates(model, include).map_err(no_solution)?;
        x.truncate(nq);
        Ok::<_, String>(x)
    };
    let arrival_rate = rates(&|_| true)?;
    let tries = flows.tries().to_vec();
    let classes = model.priority_classes();
    let mut class_rates = vec![Vec::new(); nq];
    for &priority in &classes {
        let x = if classes.len() == 1 {
            arrival_rate.clone()
        } else {
            rates(&|p| p.priority == priority)?
        };
        for (q, rate) in x.iter().enumerate() {
            let attempts = rate * tries[q];
            if attempts > 0.0 {
                class_rates[q].push((priority, attempts));
            }
        }
    }
    let non_poisson = if model.producers.iter().all(Producer::publishes_poisson) {
        vec![false; nq]
    } else {
        let x = rates(&|p| !p.publishes_poisson())?;
        x.iter().map(|&v| v > 0.0).collect()
    };
    let producer_hops = (model.producers.iter())
        .map(|producer| {
            let mut hops = Vec::new();
            let mix = flows.producer_classes(producer);
            let (to, keys) = (producer.to, producer.keys);
            expand(model, &flows, to, 1.0, false, keys, &mix, &mut hops);
            hops
        })
        .collect();
    let mixes = queue_mixes(model, &flows).map_err(no_solution)?;
    let mut routing = Routing {
        arrival_rate,
        tries,
        producer_hops,
        queue_hops: queue_hops(model, &flows, &mixes),
        class_rates,
        non_poisson,
        fanout_merges: Vec::new(),
    };
    routing.fanout_merges = fanout_merges(&routing);
    Ok(routing)
}

/// The share of each key class in the arrivals of every queue (even
/// shares at a queue nothing reaches).
fn queue_mixes(model: &Model, flows: &ModelFlows) -> Result<Vec<Vec<f64>>, FlowError> {
    let nq = model.queues.len();
    if flows.key_classes() == 1 {
        return Ok(vec![vec![1.0]; nq]);
    }
    let classes = flows.class_rates(model, |_| true)?;
    let n = classes.len() as f64;
    Ok((0..nq)
        .map(|q| {
            let total: f64 = classes.iter().map(|x| x[q]).sum();
            if total > 0.0 {
                classes.iter().map(|x| x[q] / total).collect()
            } else {
                vec![1.0 / n; classes.len()]
            }
        })
        .collect())
}

/// The hops of each queue's `next` routes and dead-letter queue, per
/// message it receives; `mixes` are the key classes of its arrivals.
fn queue_hops(model: &Model, flows: &ModelFlows, mixes: &[Vec<f64>]) -> Vec<Vec<Hop>> {
    (model.queues.iter().zip(mixes))
        .map(|(queue, mix)| {
            let mut hops = Vec::new();
            let Some(c) = &queue.consumers else {
                return hops;
            };
            let shares = c.attempt_shares();
            for route in &c.next {
                let share = route.weight * shares.success;
                expand(model, flows, route.to, share, false, None, mix, &mut hops);
            }
            if let (Some(dl), true) = (queue.dead_letter, shares.dead > 0.0) {
                expand(
                    model,
                    flows,
                    Target::Queue(dl),
                    shares.dead,
                    false,
                    None,
                    mix,
                    &mut hops,
                );
            }
            hops
        })
        .collect()
}

fn no_solution(error: FlowError) -> String {
    let why = match error {
        FlowError::Unbounded { .. } => {
            "fanout copies inside a routing loop multiply without bound, or traffic is trapped \
             in a loop"
        }
        FlowError::NotConverged { .. } => {
            "a routing loop is within a hair of multiplying copies without bound (the \
             iteration did not converge)"
        }
    };
    format!("the traffic equations have no finite solution: {why}")
}

/// Queues that receive copies of one fanout along two different routes:
/// their arrivals come in correlated pairs, not as a Poisson stream.
///
/// Each fanout route's copies are followed downstream once, exchange by
/// exchange, so the cost is the number of fanout routes times the queues
/// each reaches.
fn fanout_merges(routing: &Routing) -> Vec<bool> {
    let nq = routing.queue_hops.len();
    let mut starts: Vec<((usize, usize), QueueId)> = (routing.producer_hops.iter())
        .chain(&routing.queue_hops)
        .flatten()
        .filter_map(|h| Some((h.fanout?, h.queue)))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut merges = vec![false; nq];
    // The fanout route that reached each queue first, and the route whose
    // walk last visited it.
    let mut first: Vec<Option<(usize, usize)>> = vec![None; nq];
    let mut visited: Vec<Option<(usize, usize)>> = vec![None; nq];
    for group in starts.chunk_by(|a, b| a.0 == b.0) {
        let origin = group[0].0;
        let mut stack: Vec<QueueId> = group.iter().map(|&(_, q)| q).collect();
        while let Some(q) = stack.pop() {
            if visited[q] == Some(origin) {
                continue;
            }
            visited[q] = Some(origin);
            match first[q] {
                Some((e, r)) if e == origin.0 && r != origin.1 => merges[q] = true,
                Some((e, _)) if e == origin.0 => {}
                _ => first[q] = Some(origin),
            }
            let next = routing.queue_hops[q].iter().filter(|h| h.share > 0.0);
            stack.extend(next.map(|h| h.queue));
        }
    }
    merges
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
