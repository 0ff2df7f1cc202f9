//! Per-queue choice of a result (step 3 of the [parent docs](super)).

use super::routing::{self, Routing, ServiceFacts};
use super::{Applies, ClassTheory, NodeAnalysis};
use crate::analytic::{
    AnalyticError, PriorityClass, QueueMetrics, allen_cunneen_ggc, kingman_gg1, md1, mg1, mm1,
    mm1_ttl_expired_fraction, mmc, mmck, priority_mg1_nonpreemptive, round_robin_em1,
    system_capacity,
};
use crate::model::{Arrivals, Consumers, Discipline, Model, Overflow, Queue, QueueId, Window};

/// What is known about a queue before choosing its result.
struct Facts<'a> {
    id: QueueId,
    queue: &'a Queue,
    consumers: &'a Consumers,
    /// Arrival rate, retries excluded.
    arrivals: f64,
    attempts: f64,
    rho: f64,
    poisson: bool,
    /// A queue upstream loses messages (capacity, TTL), so the arrival
    /// rate is an upper bound.
    upstream_lossy: bool,
    /// Copies of one fanout merge here (arrivals in correlated groups).
    fanout_merge: bool,
    /// Attempt rate of each priority class, highest first (priority queues only).
    class_rates: Vec<(i64, f64)>,
}

/// The chosen result: applicability, model name, reason, metrics, classes.
type Choice = (
    Applies,
    String,
    String,
    Option<QueueMetrics>,
    Vec<ClassTheory>,
);

fn none(reason: impl Into<String>) -> Choice {
    (
        Applies::None,
        "none".to_owned(),
        reason.into(),
        None,
        Vec::new(),
    )
}

/// A queue whose departures are Poisson-like for what lies downstream:
/// exponential, unbounded, stable, no TTL, one message per service.
fn markovian(model: &Model, routing: &Routing, q: QueueId) -> bool {
    let queue = &model.queues[q];
    let Some(c) = &queue.consumers else {
        return false;
    };
    let rho = routing.attempt_rate(q) * c.service.mean() / f64::from(c.slots());
    c.service.is_exponential()
        && queue.capacity.is_none()
        && queue.ttl_s.is_none()
        && c.batch.is_none()
        && c.service_per_byte_s == 0.0
        && c.window().is_none()
        && model.pools[c.pool].queues.len() == 1
        && queue.link.is_none_or(|l| l.bandwidth_bytes_per_s.is_none())
        && rho < 1.0
}

/// Whether each queue is Poisson-fed (step 2 of the parent docs), in
/// time linear in queues and hops.
pub(super) fn poisson_fed(model: &Model, routing: &Routing) -> Vec<bool> {
    let nq = model.queues.len();
    let merges = &routing.fanout_merges;
    let mut in_turn = vec![false; nq];
    let all_hops = routing.producer_hops.iter().chain(&routing.queue_hops);
    all_hops
        .flatten()
        .filter(|h| h.in_turn)
        .for_each(|h| in_turn[h.queue] = true);
    let clean = |i: usize| !merges[i] && !in_turn[i];
    let spoils: Vec<bool> = (0..nq)
        .map(|i| !(markovian(model, routing, i) && clean(i)))
        .collect();
    let spoiled = routing.downstream_of(&spoils);
    (0..nq)
        .map(|q| {
            let own_link = model.queues[q]
                .link
                .is_none_or(|l| l.bandwidth_bytes_per_s.is_none());
            !routing.non_poisson[q] && !spoiled[q] && clean(q) && own_link
        })
        .collect()
}

/// Analyses every queue of `model`.
pub(super) fn analyze_nodes(model: &Model, routing: &Routing) -> Vec<NodeAnalysis> {
    let poisson = poisson_fed(model, routing);
    let lossy: Vec<bool> = (model.queues.iter())
        .map(|up| up.capacity.is_some() || up.ttl_s.is_some())
        .collect();
    let upstream_lossy = routing.downstream_of(&lossy);
    let facts: Vec<Option<ServiceFacts>> = model
        .queues
        .iter()
        .enumerate()
        .map(|(q, queue)| {
            let c = queue.consumers.as_ref()?;
            if c.batch.is_some() {
                return None;
            }
            Some((c.service.scv(), pool_load(model, routing, q), c.slots()))
        })
        .collect();
    let ca2 = routing::arrival_scv(model, routing, &facts);
    model
        .queues
        .iter()
        .enumerate()
        .map(|(q, queue)| {
            let attempts = routing.attempt_rate(q);
            let offered_load = facts[q].map(|(_, rho, _)| rho);
            let (applies, name, reason, metrics, classes) = match &queue.consumers {
                None => none("parking queue (no consumers): it only holds what reaches it"),
                Some(consumers) => choose(
                    model,
                    &Facts {
                        id: q,
                        queue,
                        consumers,
                        arrivals: routing.arrival_rate[q],
                        attempts,
                        rho: offered_load.unwrap_or(f64::NAN),
                        poisson: poisson[q],
                        upstream_lossy: upstream_lossy[q],
                        fanout_merge: routing.fanout_merges[q],
                        class_rates: class_rates(routing, q),
                    },
                    ca2[q],
                ),
            };
            NodeAnalysis {
                node: queue.name.clone(),
                consumers: queue.consumers.as_ref().map(|c| c.count),
                arrival_rate: routing.arrival_rate[q],
                attempt_rate: attempts,
                offered_load,
                dead_letter_share: queue.consumers.as_ref().map_or(0.0, |c| {
                    let shares = c.attempt_shares();
                    let (tries, dead) = (shares.tries, shares.dead);
                    dead / tries
                }),
                poisson_arrivals: poisson[q],
                applies,
                model: name,
                reason,
                metrics,
                classes,
            }
        })
        .collect()
}

/// Offered load per server of the pool that serves queue `q`:
/// `Σ attempts · E[S] / servers` over the pool's queues (`Σ arrivals ·
/// E[T]` where consumers hold a record through in-place retries).
fn pool_load(model: &Model, routing: &Routing, q: QueueId) -> f64 {
    let Some(c) = &model.queues[q].consumers else {
        return f64::NAN;
    };
    let pool = &model.pools[c.pool];
    let work: f64 = pool
        .queues
        .iter()
        .filter_map(|&i| {
            let c = model.queues[i].consumers.as_ref()?;
            Some(match c.in_place_hold_s() {
                Some((hold_s, _)) => routing.arrival_rate[i] * hold_s,
                None => routing.attempt_rate(i) * c.service.mean(),
            })
        })
        .sum();
    work / f64::from(pool.servers)
}

/// Attempt rate per priority class at queue `q`, highest class first.
pub(super) fn class_rates(routing: &Routing, q: QueueId) -> Vec<(i64, f64)> {
    routing.class_rates[q].clone()
}

/// Reasons that rule out any result, before the load is looked at.
fn obstacle(model: &Model, f: &Facts) -> Option<String> {
    let c = f.consumers;
    let pool = &model.pools[c.pool];
    if pool.queues.len() > 1 {
        let names: Vec<&str> = (pool.queues.iter())
            .filter(|&&q| q != f.id)
            .map(|&q| model.queues[q].name.as_str())
            .collect();
        return Some(format!(
            "its consumer also serves {} (a topic consumer polling several partitions)",
            names.join(", ")
        ));
    }
    if let Some(batch) = c.batch {
        return Some(format!(
            "batched consumption (up to {} messages per service)",
            batch.max
        ));
    }
    if f.queue.capacity_bytes.is_some() {
        return Some("a byte limit (`capacity_bytes`) depends on message sizes".to_owned());
    }
    if f.queue.overflow == Overflow::Disconnect {
        return Some(
            "a subscriber that disconnects when its buffer overflows (`overflow = \"disconnect\"`)"
                .to_owned(),
        );
    }
    if c.poll.is_some_and(|p| p.max_records > 1) && c.count > 1 {
        return Some("consumers pulling several records per poll (`poll`)".to_owned());
    }
    if c.service_per_byte_s > 0.0 {
        return Some("service time depends on message size (`service_per_byte`)".to_owned());
    }
    let piecewise = model
        .producers
        .iter()
        .any(|p| matches!(p.arrivals, Arrivals::Piecewise { .. }));
    if piecewise && !f.poisson {
        return Some("a time-varying (piecewise) arrival rate has no steady state".to_owned());
    }
    (f.attempts == 0.0).then(|| "no traffic reaches this queue".to_owned())
}

/// Picks the first result whose conditions hold.
fn choose(model: &Model, f: &Facts, ca2: f64) -> Choice {
    if let Some(reason) = obstacle(model, f) {
        return none(reason);
    }
    let c = f.consumers;
    let exponential = c.service.is_exponential();
    if let Some(window) = c.window() {
        return pushed(f, window);
    }
    if let Some((hold_s, hold_second)) = c.in_place_hold_s() {
        return in_place(f, hold_s, hold_second);
    }
    if let Some(ttl_s) = f.queue.ttl_s {
        return ttl(f, ttl_s);
    }
    if let Some(capacity) = f.queue.capacity {
        return finite(f, capacity, exponential);
    }
    if f.rho >= 1.0 {
        return none(format!(
            "unstable: offered load ρ = {:.4} >= 1, the backlog grows without bound",
            f.rho
        ));
    }
    let mean = c.service.mean();
    if f.poisson && exponential {
        let (name, result) = if c.slots() == 1 {
            ("M/M/1", mm1(f.attempts, 1.0 / mean))
        } else {
            ("M/M/c", mmc(f.attempts, 1.0 / mean, c.slots()))
        };
        return exact(
            f,
            name,
            "Poisson arrivals, exponential service, unbounded queue",
            result,
        );
    }
    if f.poisson && c.slots() == 1 && c.failure == 0.0 {
        let (name, result) = if c.service.is_constant() {
            ("M/D/1", md1(f.attempts, mean))
        } else {
            ("M/G/1", mg1(f.attempts, mean, c.service.second_moment()))
        };
        return exact(
            f,
            name,
            "Poisson arrivals, one consumer (Pollaczek–Khinchine)",
            result,
        );
    }
    approximate(f, ca2)
}

/// A consumer that retries failed records in place holds each record for
/// T, its attempts and backoffs together: with Poisson arrivals and one
/// consumer the queue is M/G/1 with service time T (Pollaczek–Khinchine
/// with E[T] and E[T²]). Its sojourn ends when the consumer lets the
/// record go, delivered or dead-lettered.
fn in_place(f: &Facts, hold_s: f64, hold_second: f64) -> Choice {
    if f.rho >= 1.0 {
        return none(format!(
            "unstable: offered load ρ = {:.4} >= 1 (attempts and in-place backoffs), the \
             backlog grows without bound",
            f.rho
        ));
    }
    if !f.poisson || f.consumers.slots() > 1 || f.queue.discipline == Discipline::Priority {
        return none(
            "in-place retries: exact only for Poisson arrivals and one consumer (an M/G/1 \
             whose service time includes the retries)",
        );
    }
    let why = "Poisson arrivals, one consumer retrying in place: the service time includes \
               every attempt and backoff (Pollaczek–Khinchine)";
    let result = mg1(f.arrivals, hold_s, hold_second);
    match result {
        Ok(metrics) => (
            Applies::Exact,
            "M/G/1".to_owned(),
            why.to_owned(),
            Some(metrics),
            Vec::new(),
        ),
        Err(e) => none(e.to_string()),
    }
}

/// Consumers that buffer pushed messages. An unlimited window without a
/// dispatch time pushes every message at once, in turn, so each of the
/// `count` single-slot consumers is an E_count/M/1 queue; any other
/// window lies between M/M/c and that, with no exact result.
fn pushed(f: &Facts, window: Window) -> Choice {
    let c = f.consumers;
    let limit = if window.limit == u32::MAX {
        "an unlimited prefetch window".to_owned()
    } else {
        format!("a prefetch window of {}", window.limit)
    };
    if c.dispatch.is_some() {
        return none(format!(
            "{limit} with a dispatch time: no exact result (M/M/c holds only for prefetch 1 \
             without dispatch time)"
        ));
    }
    if window.limit != u32::MAX || window.concurrency > 1 {
        return none(format!(
            "{limit} with concurrency {}: consumers buffer pushed messages, which lies \
             between M/M/c (prefetch 1) and separate E_c/M/1 queues (unlimited), with no \
             exact result",
            window.concurrency
        ));
    }
    if !(f.poisson && c.service.is_exponential() && c.failure == 0.0) {
        return none(format!(
            "{limit} makes the consumers separate queues fed in turn, exact only for Poisson \
             arrivals, exponential service and no failures"
        ));
    }
    if f.rho >= 1.0 {
        return none(format!(
            "unstable: offered load ρ = {:.4} >= 1, the backlog grows without bound",
            f.rho
        ));
    }
    let name = format!("E{0}/M/1 x{0}", c.count);
    let result = round_robin_em1(f.attempts, 1.0 / c.service.mean(), c.count);
    exact(
        f,
        &name,
        "unlimited prefetch: every message is pushed at once, in turn, so each consumer sees \
         every count-th Poisson arrival (Erlang gaps; G/M/1 root)",
        result,
    )
}

/// Wraps an exact result, adding Cobham's classes for a one-consumer
/// priority queue and a note for LIFO.
fn exact(f: &Facts, name: &str, why: &str, result: Result<QueueMetrics, AnalyticError>) -> Choice {
    let metrics = match result {
        Ok(m) => m,
        Err(e) => return none(e.to_string()),
    };
    let mut reason = why.to_owned();
    let c = f.consumers;
    let mut classes = Vec::new();
    match f.queue.discipline {
        Discipline::Lifo => reason.push_str("; LIFO: means as FIFO, quantiles differ"),
        Discipline::Priority if f.class_rates.len() > 1 && c.slots() == 1 && c.failure == 0.0 => {
            classes = cobham(f);
            reason.push_str("; per-class waits by Cobham's formula");
        }
        Discipline::Priority if f.class_rates.len() > 1 => {
            reason.push_str("; priority: overall means as FIFO, no per-class result");
        }
        _ => {}
    }
    if c.failure > 0.0 {
        reason.push_str("; retries are Bernoulli feedback (means exact by product form)");
        if let Some(k) = c.retry.max_attempts {
            reason.push_str(&format!(
                "; with max_attempts = {k} the attempt count acts as a message class (BCMP), so \
                 queue means stay exact, but delivered messages made fewer attempts than average"
            ));
        }
    }

    (
        Applies::Exact,
        name.to_owned(),
        reason,
        Some(metrics),
        classes,
    )
}

fn cobham(f: &Facts) -> Vec<ClassTheory> {
    let s = &f.consumers.service;
    let input: Vec<PriorityClass> = f
        .class_rates
        .iter()
        .map(|&(_, rate)| PriorityClass {
            arrival_rate: rate,
            mean_service_s: s.mean(),
            second_moment_service: s.second_moment(),
        })
        .collect();
    priority_mg1_nonpreemptive(&input)
        .map(|classes| {
            classes
                .iter()
                .zip(&f.class_rates)
                .map(|(m, &(priority, rate))| ClassTheory {
                    priority,
                    arrival_rate: rate,
                    mean_wait_s: m.mean_wait_s,
                    mean_sojourn_s: m.mean_sojourn_s,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// M/M/1 FIFO with a TTL (M/M/1+D): the expired share is exact.
fn ttl(f: &Facts, ttl_s: f64) -> Choice {
    let c = f.consumers;
    let applicable = f.poisson
        && c.service.is_exponential()
        && c.slots() == 1
        && c.failure == 0.0
        && f.queue.capacity.is_none()
        && f.queue.discipline == Discipline::Fifo;
    if !applicable {
        return none(
            "TTL: waiting messages expire; only the M/M/1 FIFO queue with a TTL (M/M/1+D) has a \
             closed form",
        );
    }
    let mu = 1.0 / c.service.mean();
    match mm1_ttl_expired_fraction(f.attempts, mu, ttl_s) {
        Ok(expired) => {
            let throughput = f.attempts * (1.0 - expired);
            let metrics = QueueMetrics {
                arrival_rate: f.attempts,
                throughput,
                utilization: throughput / mu,
                loss_probability: expired,
                mean_wait_s: f64::NAN,
                mean_sojourn_s: f64::NAN,
                mean_in_queue: f64::NAN,
                mean_in_system: f64::NAN,
            };
            let reason = "M/M/1 with deterministic patience: expired share and utilization exact; \
                          no mean wait given";
            (
                Applies::Exact,
                "M/M/1+D (TTL)".to_owned(),
                reason.to_owned(),
                Some(metrics),
                Vec::new(),
            )
        }
        Err(e) => none(e.to_string()),
    }
}

/// M/M/c/K for a finite queue, `K = capacity + c`.
fn finite(f: &Facts, capacity: u64, exponential: bool) -> Choice {
    let c = f.consumers;
    let why_not = if !exponential {
        Some("non-exponential service")
    } else if !f.poisson {
        Some("non-Poisson arrivals")
    } else if c.failure > 0.0 {
        Some("retries re-published into a finite queue")
    } else {
        None
    };
    if let Some(why) = why_not {
        return none(format!("finite capacity with {why}: no closed form"));
    }
    let k = system_capacity(c.slots(), capacity);
    let name = if c.slots() == 1 { "M/M/1/K" } else { "M/M/c/K" };
    let mut choice = exact(
        f,
        name,
        &format!("Poisson arrivals, exponential service, K = capacity + consumers = {k}"),
        mmck(f.attempts, 1.0 / c.service.mean(), c.slots(), k),
    );
    choice.4.clear();
    if f.queue.overflow.drops_head() {
        if let Some(m) = &mut choice.3 {
            m.mean_wait_s = f64::NAN;
            m.mean_sojourn_s = f64::NAN;
        }
        choice.2.push_str(
            "; drop-head: loss, utilization and queue length exact, waits of served messages not \
             given",
        );
    }
    choice
}

/// Kingman (one consumer) or Allen–Cunneen (several), with QNA's `ca²`.
fn approximate(f: &Facts, ca2: f64) -> Choice {
    let c = f.consumers;
    let cs2 = c.service.scv();
    let mut why = Vec::new();
    if !f.poisson {
        why.push(format!("non-Poisson arrivals (QNA ca² = {ca2:.3})"));
    }
    if !c.service.is_exponential() && c.slots() > 1 {
        why.push(format!(
            "non-exponential service with {} consumers (cs² = {cs2:.3})",
            c.slots()
        ));
    }
    if c.failure > 0.0 && !c.service.is_exponential() {
        why.push("retries feed back non-exponential work".to_owned());
    }
    if f.fanout_merge {
        why.push(
            "copies of one fanout merge here and arrive in correlated groups, which QNA ignores \
             (the wait is underestimated)"
                .to_owned(),
        );
    }
    if f.upstream_lossy {
        why.push(
            "upstream losses are not subtracted: the arrival rate is an upper bound".to_owned(),
        );
    }
    let (name, result) = if c.slots() == 1 {
        (
            "Kingman G/G/1",
            kingman_gg1(f.attempts, ca2, c.service.mean(), cs2),
        )
    } else {
        (
            "Allen–Cunneen G/G/c",
            allen_cunneen_ggc(f.attempts, ca2, c.service.mean(), cs2, c.slots()),
        )
    };
    match result {
        Ok(m) => (
            Applies::Approximation,
            name.to_owned(),
            format!("approximation: {}", why.join("; ")),
            Some(m),
            Vec::new(),
        ),
        Err(e) => none(e.to_string()),
    }
}
