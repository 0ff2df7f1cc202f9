//! Queueing theory for a whole scenario: which result applies to each
//! queue, or why none does, the network's stability and its end-to-end
//! mean latency.
//!
//! The analysis runs in four steps:
//!
//! 1. the traffic equations over producers, exchanges, topics, `next`
//!    routes, retries (Bernoulli feedback, `1/(1 − p)` attempts per
//!    message) and dead-letter routes give each queue's arrival and
//!    attempt rates (`routing`);
//! 2. a queue is *Poisson-fed* when every producer that reaches it is
//!    Poisson (and waits for no publisher confirms), every queue upstream of it is an exponential, unbounded,
//!    stable queue without TTL, and no two copies of one fanout merge
//!    into it. The count process of such a network is the one of an open
//!    Jackson (BCMP) network, also with retries limited by `max_attempts`
//!    (attempt-count classes) and with any backoff (an infinite-server
//!    delay), so each such queue behaves, for its means, as an isolated
//!    queue fed at its attempt rate;
//! 3. per queue, the first result whose conditions hold: M/M/1, M/M/c,
//!    M/M/1/K, M/M/c/K (`K = capacity + count`), M/M/1 with a TTL, M/D/1,
//!    M/G/1, Cobham's priority M/G/1 — all exact — and otherwise Kingman
//!    (G/G/1) or Allen–Cunneen (G/G/c) with arrival variability from
//!    Whitt's QNA, labelled [`Applies::Approximation`]; or
//!    [`Applies::None`] with the reason;
//! 4. when the scenario is one finite queue with Poisson classes and
//!    exponential consumers and its chain has at most
//!    [`CTMC_STATE_LIMIT`] states, the exact CTMC ([`CtmcAnalysis`]).
//!
//! Waits and sojourns are per attempt, as `nodes.csv` measures them.
//! Disciplines that do not look at service times (FIFO, LIFO, priority)
//! share one mean wait in an M/G/c-type queue with one service time
//! distribution, so LIFO and priority queues get the FIFO means (their
//! quantiles differ); priority queues with one consumer also get Cobham's
//! per-class waits.

mod ctmc;
mod node;
mod routing;

use serde::Serialize;

use super::{AnalyticError, JacksonResult, QueueMetrics, jackson_routes};
use crate::model::{Backoff, Model, QueueId};

pub use ctmc::{CTMC_STATE_LIMIT, CtmcAnalysis, CtmcClass};

/// How much a result can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applies {
    /// An exact steady-state result (for means).
    Exact,
    /// An approximation (Kingman, Allen–Cunneen, QNA arrival variability).
    Approximation,
    /// No result: see the reason.
    None,
}

impl std::fmt::Display for Applies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Applies::Exact => "exact",
            Applies::Approximation => "approximation",
            Applies::None => "none",
        })
    }
}

/// Theory for one priority class at a queue (Cobham).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassTheory {
    /// Priority value of the class (larger is served first).
    pub priority: i64,
    /// Arrival rate of the class, per second.
    pub arrival_rate: f64,
    /// Mean wait of the class, seconds.
    pub mean_wait_s: f64,
    /// Mean sojourn of the class, seconds.
    pub mean_sojourn_s: f64,
}

/// Theory for one queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeAnalysis {
    /// Queue name.
    pub node: String,
    /// Consumers (servers); `None` for a parking queue.
    pub consumers: Option<u32>,
    /// First-attempt arrivals per second.
    pub arrival_rate: f64,
    /// Processing attempts per second, retries included.
    pub attempt_rate: f64,
    /// Offered load per consumer `ρ = attempts · E[S] / c`.
    pub offered_load: Option<f64>,
    /// Share of attempts that end dead-lettered after the last allowed
    /// attempt, `pᵏ / T` (0 with unlimited retries).
    pub dead_letter_share: f64,
    /// Whether the arrivals are Poisson (step 2 of the module docs).
    pub poisson_arrivals: bool,
    /// Exact, approximate or no result.
    pub applies: Applies,
    /// The model used, e.g. `"M/M/1"`, `"Kingman G/G/1"`, or `"none"`.
    pub model: String,
    /// Why this result applies, or why none does.
    pub reason: String,
    /// Means per attempt (NaN where the model gives no value); `None`
    /// when no result applies.
    pub metrics: Option<QueueMetrics>,
    /// Per priority class, highest first (Cobham), when it applies.
    pub classes: Vec<ClassTheory>,
}

/// A queue offered more work than its consumers can do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SaturatedNode {
    /// Queue name.
    pub node: String,
    /// Offered load per consumer, `>= 1`.
    pub utilization: f64,
    /// Attempts per second above what the consumers can serve,
    /// `attempts · (1 − 1/ρ)`.
    pub excess_rate_per_s: f64,
}

/// End-to-end mean latency of delivered messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndToEnd {
    /// Exact or approximate (`None` when not computed).
    pub applies: Applies,
    /// How it was computed, or why not.
    pub reason: String,
    /// Mean latency from publication to delivery, seconds (NaN when not computed).
    pub mean_latency_s: f64,
    /// The queue with the highest offered load.
    pub bottleneck: Option<String>,
}

/// Everything theory says about a scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioAnalysis {
    /// Scenario name.
    pub scenario: String,
    /// No unbounded queue is saturated.
    pub stable: bool,
    /// The saturated unbounded queues (empty when stable).
    pub saturated: Vec<SaturatedNode>,
    /// One entry per queue, in scenario order.
    pub nodes: Vec<NodeAnalysis>,
    /// End-to-end mean latency.
    pub end_to_end: EndToEnd,
    /// The exact chain of a single finite queue, when built.
    pub ctmc: Option<CtmcAnalysis>,
    /// Why no chain was built, when the scenario has a finite queue.
    pub ctmc_reason: Option<String>,
}

impl ScenarioAnalysis {
    /// The analysis of queue `q`.
    pub fn node(&self, q: QueueId) -> &NodeAnalysis {
        &self.nodes[q]
    }
}

/// What [`analyze_with`] computes beyond the per-queue formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Build and solve the CTMC of a single finite queue (up to
    /// [`CTMC_STATE_LIMIT`] states: seconds for the largest chains).
    pub build_ctmc: bool,
}

impl Default for AnalyzeOptions {
    /// Everything, the CTMC included.
    fn default() -> Self {
        Self { build_ctmc: true }
    }
}

/// Analyses `model` with queueing theory (see the [module docs](self)),
/// the CTMC of a single finite queue included.
///
/// Never fails: a scenario whose traffic equations have no solution gets
/// [`Applies::None`] everywhere, with the reason.
pub fn analyze(model: &Model) -> ScenarioAnalysis {
    analyze_with(model, &AnalyzeOptions::default())
}

/// [`analyze`] with a choice of what to compute: `queuesim run` leaves the
/// CTMC out, since `nodes.csv` needs only per-queue means, which the
/// closed forms give.
pub fn analyze_with(model: &Model, options: &AnalyzeOptions) -> ScenarioAnalysis {
    let routing = match routing::routing(model) {
        Ok(routing) => routing,
        Err(reason) => return unsolvable(model, &reason),
    };
    let mut nodes = node::analyze_nodes(model, &routing);
    without_steady_state(model, &mut nodes);
    let saturated = saturated(model, &routing, &nodes);
    let (ctmc, ctmc_reason) = if options.build_ctmc {
        ctmc::single_queue_ctmc(model, &routing)
    } else {
        (None, None)
    };
    if let Some(chain) = &ctmc {
        ctmc::apply_ctmc(model, &mut nodes, chain);
    }
    let end_to_end = end_to_end(model, &routing, &nodes);
    ScenarioAnalysis {
        scenario: model.name.clone(),
        stable: saturated.is_empty(),
        saturated,
        nodes,
        end_to_end,
        ctmc,
        ctmc_reason,
    }
}

/// Queues that a scheduled event takes down or changes the consumers of
/// (for some time) have no steady state during the run: no result for them.
fn without_steady_state(model: &Model, nodes: &mut [NodeAnalysis]) {
    for event in model.events.iter().filter(|e| e.for_s != Some(0.0)) {
        let changed = event
            .consumers
            .iter()
            .flat_map(|&(p, _)| &model.pools[p].queues);
        for &q in event.down.iter().chain(changed) {
            let node = &mut nodes[q];
            node.applies = Applies::None;
            node.model = "none".to_owned();
            node.reason = "scheduled `[[events]]` change it during the run: no steady state".into();
            node.metrics = None;
        }
    }
}

fn unsolvable(model: &Model, reason: &str) -> ScenarioAnalysis {
    let nodes = model
        .queues
        .iter()
        .map(|queue| NodeAnalysis {
            node: queue.name.clone(),
            consumers: queue.consumers.as_ref().map(|c| c.count),
            arrival_rate: f64::NAN,
            attempt_rate: f64::NAN,
            offered_load: None,
            dead_letter_share: f64::NAN,
            poisson_arrivals: false,
            applies: Applies::None,
            model: "none".to_owned(),
            reason: reason.to_owned(),
            metrics: None,
            classes: Vec::new(),
        })
        .collect();
    ScenarioAnalysis {
        scenario: model.name.clone(),
        stable: false,
        saturated: Vec::new(),
        nodes,
        end_to_end: EndToEnd {
            applies: Applies::None,
            reason: reason.to_owned(),
            mean_latency_s: f64::NAN,
            bottleneck: None,
        },
        ctmc: None,
        ctmc_reason: None,
    }
}

fn saturated(
    model: &Model,
    routing: &routing::Routing,
    nodes: &[NodeAnalysis],
) -> Vec<SaturatedNode> {
    model
        .queues
        .iter()
        .zip(nodes)
        .enumerate()
        .filter_map(|(q, (queue, node))| {
            let rho = node.offered_load?;
            let bounded = queue.capacity.is_some() || queue.ttl_s.is_some();
            let attempts = routing.attempt_rate(q);
            (!bounded && rho >= 1.0).then(|| SaturatedNode {
                node: queue.name.clone(),
                utilization: rho,
                excess_rate_per_s: attempts - attempts / rho,
            })
        })
        .collect()
}

/// Mean total backoff delay per message arriving at a queue whose attempts
/// fail with probability `p`: `Σ_{j=1}^{k−1} pʲ · delay(j)`.
fn mean_backoff_s(p: f64, max_attempts: Option<u32>, backoff: &Backoff) -> f64 {
    let last = max_attempts.map_or(u32::MAX, |k| k.saturating_sub(1));
    let mut total = 0.0;
    let mut weight = 1.0;
    for j in 1..=last {
        weight *= p;
        if weight < 1e-17 {
            break;
        }
        total += weight * backoff.delay_s(j);
    }
    total
}

/// Why the end-to-end mean cannot be computed from per-node means, if so.
fn end_to_end_obstacle(
    model: &Model,
    routing: &routing::Routing,
    nodes: &[NodeAnalysis],
) -> Option<String> {
    if let Some(t) = model.topics.iter().find(|t| t.replication.is_some()) {
        return Some(format!(
            "topic `{}` waits for in-sync replicas: the commit time is not among the queue means",
            t.name
        ));
    }
    if let Some(p) = model.producers.iter().find(|p| p.delay_s.is_some()) {
        return Some(format!(
            "producer `{}` delays delivery: its messages' latency includes the `delay`, \
             which the sum of queue means leaves out",
            p.name
        ));
    }
    if let Some(p) = model.producers.iter().find(|p| p.confirm.is_some()) {
        return Some(format!(
            "producer `{}` waits for publisher confirms: the time publications wait for a \
             place in its window is not modelled",
            p.name
        ));
    }
    if let Some(e) = unroutable_exchange(model) {
        return Some(format!(
            "exchange `{e}` loses unroutable messages: delivered ones are a biased subset"
        ));
    }
    for (q, (queue, node)) in model.queues.iter().zip(nodes).enumerate() {
        if routing.arrival_rate[q] == 0.0 {
            continue;
        }
        let name = &queue.name;
        let Some(c) = &queue.consumers else {
            return Some(format!(
                "messages park in `{name}` (no consumers): delivered ones are a biased subset"
            ));
        };
        if queue.capacity.is_some() || queue.ttl_s.is_some() {
            return Some(format!(
                "`{name}` loses messages (capacity or TTL): delivered ones are a biased subset"
            ));
        }
        if c.failure > 0.0 && c.retry.max_attempts.is_some() {
            return Some(format!(
                "`{name}` dead-letters messages after `max_attempts`: delivered ones made fewer attempts than average"
            ));
        }
        if queue.link.is_some() {
            return Some(format!(
                "`{name}` has a network link whose delay is not modelled here"
            ));
        }
        if node.metrics.is_none() {
            return Some(format!("no result for `{name}`: {}", node.reason));
        }
    }
    let copier = (routing.producer_hops.iter())
        .chain(&routing.queue_hops)
        .flatten()
        .find_map(|h| h.fanout)?;
    Some(match copier.0.checked_sub(model.exchanges.len()) {
        None => "a fanout exchange copies messages: a message's latency is that of its slowest copy, not a sum of means".to_owned(),
        Some(t) => format!(
            "topic `{}` is read by several consumer groups: a record's latency is that of the slowest group, not a sum of means",
            model.topics[t].name
        ),
    })
}

/// An exchange with binding keys that some producer's routing key (or the
/// empty key) matches nothing at, without an alternate.
fn unroutable_exchange(model: &Model) -> Option<&str> {
    let keyless = model.producers.iter().any(|p| p.routing_keys.is_empty());
    let keys: Vec<_> = (model.producers.iter())
        .flat_map(|p| p.routing_keys.iter().map(|&(key, _)| key))
        .chain(keyless.then_some(crate::model::NO_ROUTING_KEY))
        .collect();
    (model.exchanges.iter())
        .find(|e| {
            e.keyed
                .as_ref()
                .is_some_and(|k| keys.iter().any(|&key| k.destinations(key).is_empty()))
        })
        .map(|e| e.name.as_str())
}

fn end_to_end(model: &Model, routing: &routing::Routing, nodes: &[NodeAnalysis]) -> EndToEnd {
    let bottleneck = nodes
        .iter()
        .filter(|n| n.offered_load.is_some())
        .max_by(|a, b| {
            a.offered_load
                .unwrap_or(0.0)
                .total_cmp(&b.offered_load.unwrap_or(0.0))
        })
        .map(|n| n.node.clone());
    let not_computed = |reason: String| EndToEnd {
        applies: Applies::None,
        reason,
        mean_latency_s: f64::NAN,
        bottleneck: bottleneck.clone(),
    };
    if let Some(reason) = end_to_end_obstacle(model, routing, nodes) {
        return not_computed(reason);
    }
    let total_rate: f64 = model
        .producers
        .iter()
        .map(|p| routing::producer_rate(model, &p.arrivals))
        .sum();
    let mut in_system = 0.0;
    let mut backoff = 0.0;
    for (q, queue) in model.queues.iter().enumerate() {
        let (Some(c), Some(m)) = (&queue.consumers, &nodes[q].metrics) else {
            continue;
        };
        in_system += routing.attempt_rate(q) * m.mean_sojourn_s;
        backoff += routing.arrival_rate[q]
            * mean_backoff_s(c.failure, c.retry.max_attempts, &c.retry.backoff);
    }
    let all_exact = nodes
        .iter()
        .zip(&routing.arrival_rate)
        .all(|(n, &rate)| rate == 0.0 || n.applies == Applies::Exact);
    let markovian = model.queues.iter().zip(nodes).all(|(queue, n)| {
        n.attempt_rate == 0.0
            || (n.poisson_arrivals
                && queue
                    .consumers
                    .as_ref()
                    .is_some_and(|c| c.service.is_exponential()))
    });
    let backoff_s = backoff / total_rate;
    let plus = if backoff_s > 0.0 {
        ", plus the mean backoff delay"
    } else {
        ""
    };
    if all_exact && markovian {
        match jackson_network(model, routing) {
            Some(Ok(network)) => {
                return EndToEnd {
                    applies: Applies::Exact,
                    reason: format!("open Jackson network: Σ L / Σ γ (Little){plus}"),
                    mean_latency_s: network.mean_sojourn_s + backoff_s,
                    bottleneck: Some(model.queues[network.bottleneck].name.clone()),
                };
            }
            Some(Err(e)) => return not_computed(e.to_string()),
            None => {}
        }
    }
    let (applies, reason) = if all_exact {
        (
            Applies::Exact,
            "exact per-queue means weighted by visits (Little)",
        )
    } else {
        (
            Applies::Approximation,
            "per-queue means weighted by visits, some of them approximations",
        )
    };
    EndToEnd {
        applies,
        reason: format!("{reason}{plus}"),
        mean_latency_s: in_system / total_rate + backoff_s,
        bottleneck,
    }
}

/// The scenario as an open Jackson network over per-attempt routing (a
/// failed attempt re-joins the queue: the diagonal), solved by
/// [`jackson_routes`]; `None` when some queue with traffic has no consumers.
fn jackson_network(
    model: &Model,
    routing: &routing::Routing,
) -> Option<Result<JacksonResult, AnalyticError>> {
    let nq = model.queues.len();
    let mut mu = Vec::with_capacity(nq);
    let mut servers = Vec::with_capacity(nq);
    for (q, queue) in model.queues.iter().enumerate() {
        match &queue.consumers {
            Some(c) => {
                mu.push(1.0 / c.service.mean());
                servers.push(c.slots());
            }
            None if routing.arrival_rate[q] == 0.0 => {
                mu.push(1.0);
                servers.push(1);
            }
            None => return None,
        }
    }
    let mut per_attempt = Vec::new();
    let mut external = vec![0.0; nq];
    for (q, hops) in routing.queue_hops.iter().enumerate() {
        let tries = routing.tries[q];
        per_attempt.extend(hops.iter().map(|h| (q, h.queue, h.share / tries)));
        per_attempt.push((q, q, 1.0 - 1.0 / tries));
    }
    for (p, producer) in model.producers.iter().enumerate() {
        let rate = routing::producer_rate(model, &producer.arrivals);
        for hop in &routing.producer_hops[p] {
            external[hop.queue] += rate * hop.share;
        }
    }
    Some(jackson_routes(&external, &per_attempt, &mu, &servers))
}

#[cfg(test)]
mod tests;
