//! The resolved model in words, for `queuesim validate`.
//!
//! Every node with its parameters after defaults and unit conversion (times
//! in seconds, rates per second, sizes in bytes), routes with their
//! normalised weights or binding keys (and where each routing key goes),
//! the mean rates and offered load ρ of every queue from
//! the traffic equations ([`super::traffic`]), and the validation warnings.

use std::fmt::Write;

use super::traffic::{Traffic, traffic};
use crate::engine::{Engine, drop_head_queue, engine_for, window_queue};
use crate::model::{
    Ack, Arrivals, Backoff, Consumers, Discipline, Exchange, ExchangeKind, KeyRouting, Model,
    Overflow, Partitioner, Route, RoutingKeyId,
};

/// Most routing keys listed per exchange by `validate`.
const LISTED_KEYS: usize = 20;

/// Renders `model` as indented text, one node per paragraph.
pub fn describe(model: &Model) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_model(&mut out, model);
    out
}

fn write_model(out: &mut String, m: &Model) -> std::fmt::Result {
    write_simulation(out, m)?;
    write_engine(out, m)?;
    let traffic = traffic(m);
    write_producers(out, m)?;
    write_topics(out, m)?;
    write_exchanges(out, m, traffic.as_ref())?;
    writeln!(out, "\nqueues:")?;
    for q in 0..m.queues.len() {
        write_queue(out, m, q, traffic.as_ref())?;
    }
    write_warnings(out, m)
}

/// The scenario's name and how it is simulated.
fn write_simulation(out: &mut String, m: &Model) -> std::fmt::Result {
    write!(out, "scenario `{}`", m.name)?;
    if !m.description.is_empty() {
        write!(out, ": {}", m.description)?;
    }
    let s = &m.simulation;
    writeln!(out)?;
    let warmup = if s.warmup_auto {
        format!(
            "an automatic (MSER-5) warm-up, {} s if it cannot be chosen",
            num(s.warmup_s)
        )
    } else {
        format!("a {} s warm-up", num(s.warmup_s))
    };
    writeln!(
        out,
        "simulation: {} s measured after {warmup}, {} replication{}, seed {}, \
         sampled every {} s",
        num(s.duration_s),
        s.replications,
        if s.replications == 1 { "" } else { "s" },
        s.seed,
        num(s.sample_every_s)
    )?;
    if !s.initial.is_empty() {
        let backlog: Vec<String> = (s.initial.iter())
            .map(|&(q, n)| format!("{} = {n}", m.queues[q].name))
            .collect();
        writeln!(out, "initial backlog (messages): {}", backlog.join(", "))?;
    }
    Ok(())
}

/// The engine the scenario runs on, and why.
fn write_engine(out: &mut String, m: &Model) -> std::fmt::Result {
    match engine_for(m) {
        Engine::Lindley => writeln!(
            out,
            "engine: Lindley fast path (a feed-forward network of FIFO queues)"
        )?,
        Engine::Events { reason } => writeln!(out, "engine: event calendar, because {reason}")?,
    }
    if let Some(queue) = drop_head_queue(m) {
        writeln!(
            out,
            "  a replication in which queue `{queue}` fills (it drops the oldest message) \
             runs again on the event calendar"
        )?;
    }
    if let Some((queue, limit)) = window_queue(m) {
        writeln!(
            out,
            "  queue `{queue}`'s consumers run as separate FIFO queues fed in turn; a \
             replication in which a message finds the next consumer's window full \
             ({limit} unacknowledged) runs again on the event calendar"
        )?;
    }
    Ok(())
}

fn write_producers(out: &mut String, m: &Model) -> std::fmt::Result {
    writeln!(out, "\nproducers:")?;
    for p in &m.producers {
        writeln!(out, "  {} -> {}", p.name, m.target_name(p.to))?;
        let horizon_s = m.simulation.warmup_s + m.simulation.duration_s;
        writeln!(
            out,
            "    arrivals: {}; mean rate {}/s",
            describe_arrivals(&p.arrivals),
            num(p.arrivals.mean_rate_per_s(horizon_s))
        )?;
        write!(out, "    priority {}", p.priority)?;
        if let Some(d) = p.deadline_s {
            write!(out, ", deadline {} s", num(d))?;
        }
        if let Some(size) = &p.size_bytes {
            write!(out, ", size [bytes]: {size}")?;
        }
        if let Some(k) = p.keys {
            write!(out, ", {} keys (Zipf skew {})", k.count, num(k.skew))?;
        }
        if let Some(ttl_s) = p.ttl_s {
            write!(out, ", message TTL {} s", num(ttl_s))?;
        }
        writeln!(out)?;
        if !p.routing_keys.is_empty() {
            let keys: Vec<String> = (p.routing_keys.iter())
                .map(|&(id, weight)| format!("{} ({})", routing_key(m, id), num(weight)))
                .collect();
            writeln!(out, "    routing keys: {}", keys.join(", "))?;
        }
        if let Some(c) = &p.confirm {
            writeln!(
                out,
                "    publisher confirms: at most {} unconfirmed at once, later publications \
                 wait; confirm latency [s]: {}",
                c.in_flight, c.latency
            )?;
        }
    }
    Ok(())
}

/// A routing key as `validate` shows it: quoted, the empty key named.
fn routing_key(m: &Model, id: RoutingKeyId) -> String {
    match m.routing_keys[id as usize].as_str() {
        "" => "\"\" (no key)".to_owned(),
        key => format!("{key:?}"),
    }
}

fn write_topics(out: &mut String, m: &Model) -> std::fmt::Result {
    for t in &m.topics {
        let partitioner = match t.partitioner {
            Partitioner::Key => "by key",
            Partitioner::RoundRobin => "round-robin",
        };
        writeln!(
            out,
            "\ntopic {}: {} partitions ({}), partitioned {partitioner}",
            t.name, t.partition_count, m.queues[t.groups[0].partitions[0]].name
        )?;
        let named = t.groups.iter().any(|g| !g.name.is_empty());
        if named {
            let names: Vec<&str> = t.groups.iter().map(|g| g.name.as_str()).collect();
            writeln!(
                out,
                "  read by {} consumer groups, each taking every record: {}",
                names.len(),
                names.join(", ")
            )?;
        }
    }
    Ok(())
}

fn write_exchanges(out: &mut String, m: &Model, traffic: Option<&Traffic>) -> std::fmt::Result {
    if !m.exchanges.is_empty() {
        writeln!(out, "\nexchanges:")?;
    }
    for (e, x) in m.exchanges.iter().enumerate() {
        let kind = match x.kind {
            ExchangeKind::Fanout => "fanout",
            ExchangeKind::Weighted => "weighted",
            ExchangeKind::Direct => "direct",
            ExchangeKind::Topic => "topic",
        };
        write!(out, "  {} ({kind})", x.name)?;
        if let Some(t) = traffic {
            write!(out, ": {}/s in", num(t.exchanges[e]))?;
        }
        writeln!(out)?;
        match &x.keyed {
            None => write_routes(out, m, &x.routes, x.kind == ExchangeKind::Fanout, "    ")?,
            Some(keyed) => write_bindings(out, m, x, keyed)?,
        }
    }
    Ok(())
}

/// The bindings of an exchange that routes on keys, its alternate, and
/// where each routing key of the model goes.
fn write_bindings(
    out: &mut String,
    m: &Model,
    x: &Exchange,
    keyed: &KeyRouting,
) -> std::fmt::Result {
    for (route, binding) in x.routes.iter().zip(&keyed.bindings) {
        writeln!(
            out,
            "    -> {} (binding key {binding:?})",
            m.target_name(route.to)
        )?;
    }
    match keyed.alternate {
        Some(to) => writeln!(
            out,
            "    matching no binding -> {} (alternate)",
            m.target_name(to)
        )?,
        None => writeln!(out, "    matching no binding: lost as unroutable")?,
    }
    let keyless =
        m.producers.iter().any(|p| p.routing_keys.is_empty()) || !m.simulation.initial.is_empty();
    let ids: Vec<RoutingKeyId> = (0..m.routing_keys.len() as RoutingKeyId)
        .filter(|&id| id != crate::model::NO_ROUTING_KEY || keyless)
        .collect();
    writeln!(out, "    routing keys:")?;
    for &id in ids.iter().take(LISTED_KEYS) {
        let destinations: Vec<&str> = (keyed.destinations(id).iter())
            .map(|&to| m.target_name(to))
            .collect();
        let goes = match (keyed.matched(id), destinations.as_slice()) {
            (_, []) => "unroutable (lost)".to_owned(),
            (true, _) => destinations.join(", "),
            (false, _) => format!("{} (alternate)", destinations.join(", ")),
        };
        writeln!(out, "      {} -> {goes}", routing_key(m, id))?;
    }
    if ids.len() > LISTED_KEYS {
        writeln!(out, "      … and {} more", ids.len() - LISTED_KEYS)?;
    }
    Ok(())
}

/// Queue number `q`: its buffer, consumers and offered load.
fn write_queue(
    out: &mut String,
    m: &Model,
    q: usize,
    traffic: Option<&Traffic>,
) -> std::fmt::Result {
    let queue = &m.queues[q];
    write!(out, "  {}: ", queue.name)?;
    let overflow = match queue.overflow {
        Overflow::DropHead => "drop-head",
        Overflow::RejectPublish => "reject-publish",
        Overflow::Trim => "trim",
        Overflow::Disconnect => "disconnect",
    };
    match (queue.capacity, queue.capacity_bytes) {
        (Some(c), None) => write!(out, "capacity {c} waiting ({overflow})")?,
        (None, Some(b)) => write!(out, "capacity {} bytes waiting ({overflow})", num(b))?,
        (Some(c), Some(b)) => write!(out, "capacity {c} waiting, {} bytes ({overflow})", num(b))?,
        (None, None) => write!(out, "unbounded")?,
    }
    if queue.overflow == Overflow::Disconnect {
        write!(out, ", reconnects after {} s", num(queue.reconnect_s))?;
    }
    let discipline = match queue.discipline {
        Discipline::Fifo => "fifo",
        Discipline::Lifo => "lifo",
        Discipline::Priority => "priority",
    };
    write!(out, ", {discipline}")?;
    if let Some(ttl) = queue.ttl_s {
        write!(out, ", ttl {} s", num(ttl))?;
    }
    if let Some(dl) = queue.dead_letter {
        write!(out, ", dead letters -> {}", m.queues[dl].name)?;
    }
    if let Some(link) = queue.link {
        write!(out, ", link latency {} s", num(link.latency_s))?;
        if let Some(b) = link.bandwidth_bytes_per_s {
            write!(out, " at {} bytes/s", num(b))?;
        }
    }
    writeln!(out)?;
    match &queue.consumers {
        None => writeln!(out, "    no consumers: holds what reaches it")?,
        Some(c) => write_consumers(out, m, c)?,
    }
    if let Some(t) = traffic {
        let load = t.queues[q];
        write!(out, "    arrivals {}/s", num(load.arrival_rate))?;
        if load.attempt_rate > load.arrival_rate {
            write!(out, " ({}/s with retries)", num(load.attempt_rate))?;
        }
        if let Some(rho) = load.utilization {
            write!(out, ", offered load ρ = {}", num(rho))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_consumers(out: &mut String, m: &Model, c: &Consumers) -> std::fmt::Result {
    writeln!(
        out,
        "    {} consumer{}; service [s]: {}",
        c.count,
        if c.count == 1 { "" } else { "s" },
        c.service
    )?;
    write_window(out, c)?;
    let pool = &m.pools[c.pool];
    if pool.queues.len() > 1 {
        let shared: Vec<&str> = pool
            .queues
            .iter()
            .map(|&q| m.queues[q].name.as_str())
            .collect();
        writeln!(out, "    consumer shared by {}", shared.join(", "))?;
    }
    if c.service_per_byte_s > 0.0 {
        writeln!(out, "    plus {} s per byte", num(c.service_per_byte_s))?;
    }
    if let Some(b) = c.batch {
        writeln!(
            out,
            "    batches of up to {}, waiting at most {} s to fill",
            b.max,
            num(b.timeout_s)
        )?;
    }
    write_retry(out, c)?;
    if c.next.is_empty() {
        writeln!(out, "    delivers what it processes")?;
    } else {
        writeln!(out, "    next:")?;
        write_routes(out, m, &c.next, false, "      ")?;
    }
    Ok(())
}

/// Concurrency, prefetch window, ack mode and dispatch time, as resolved.
fn write_window(out: &mut String, c: &Consumers) -> std::fmt::Result {
    let plain = c.concurrency == 1 && c.prefetch.is_none() && c.dispatch.is_none();
    if plain && c.ack == Ack::AfterService {
        return Ok(());
    }
    let prefetch = match c.prefetch {
        None => "none (a free slot takes the next message)".to_owned(),
        Some(0) => "unlimited".to_owned(),
        Some(p) => p.to_string(),
    };
    let ack = match c.ack {
        Ack::AfterService => "after-service",
        Ack::OnStart => "on-start",
    };
    let behaves = match c.window() {
        None => format!("{} plain slots", c.slots()),
        Some(_) => "the broker pushes into consumer buffers".to_owned(),
    };
    writeln!(
        out,
        "    concurrency {} per consumer; prefetch {prefetch}; ack {ack}; {behaves}",
        c.concurrency
    )?;
    if let Some(dispatch) = &c.dispatch {
        writeln!(out, "    dispatch [s]: {dispatch}")?;
    }
    Ok(())
}

/// Failures and what follows them, if the consumers ever fail.
fn write_retry(out: &mut String, c: &Consumers) -> std::fmt::Result {
    if c.failure <= 0.0 {
        return Ok(());
    }
    write!(out, "    failure {}, ", num(c.failure))?;
    match c.retry.max_attempts {
        Some(1) => write!(out, "no retry")?,
        Some(k) => write!(out, "at most {k} attempts")?,
        None => write!(out, "retried until it succeeds")?,
    }
    match &c.retry.backoff {
        Backoff::Constant { delay_s } => write!(out, ", backoff {} s", num(*delay_s))?,
        Backoff::Exponential {
            initial_s,
            factor,
            max_s,
        } => write!(
            out,
            ", backoff {} s × {} per failure, at most {} s",
            num(*initial_s),
            num(*factor),
            num(*max_s)
        )?,
        Backoff::Levels { delays_s } => {
            let rungs: Vec<String> = delays_s.iter().map(|d| format!("{} s", num(*d))).collect();
            write!(out, ", backoff ladder {}", rungs.join(", "))?;
        }
    }
    match c.retry.in_place {
        true => writeln!(
            out,
            ", in place (the consumer waits, its partitions with it)"
        ),
        false => writeln!(out),
    }
}

fn write_warnings(out: &mut String, m: &Model) -> std::fmt::Result {
    if !m.warnings.is_empty() {
        writeln!(out, "\nwarnings:")?;
        for w in &m.warnings {
            writeln!(out, "  - {w}")?;
        }
    }
    Ok(())
}

fn describe_arrivals(arrivals: &Arrivals) -> String {
    match arrivals {
        Arrivals::Renewal(dist) => format!("gaps [s] {dist}"),
        Arrivals::OnOff {
            on_mean_s,
            off_mean_s,
            rate_on_per_s,
            rate_off_per_s,
        } => format!(
            "on/off bursts: {}/s for {} s on average, then {}/s for {} s",
            num(*rate_on_per_s),
            num(*on_mean_s),
            num(*rate_off_per_s),
            num(*off_mean_s)
        ),
        Arrivals::Piecewise {
            times_s,
            rates_per_s,
        } => {
            let steps: Vec<String> = (times_s.iter().zip(rates_per_s))
                .map(|(t, r)| format!("{}/s from {} s", num(*r), num(*t)))
                .collect();
            format!("piecewise Poisson: {}", steps.join(", "))
        }
        Arrivals::Trace { times_s } => format!("trace of {} timestamps", times_s.len()),
    }
}

fn write_routes(
    out: &mut String,
    m: &Model,
    routes: &[Route],
    fanout: bool,
    indent: &str,
) -> std::fmt::Result {
    for r in routes {
        let to = m.target_name(r.to);
        if fanout {
            writeln!(out, "{indent}-> {to} (a copy of every message)")?;
        } else {
            writeln!(out, "{indent}-> {to} (weight {})", num(r.weight))?;
        }
    }
    Ok(())
}

/// A number with four significant digits and no trailing zeros
/// (scientific notation below 0.0001).
pub fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() < 1e-4 {
        return format!("{x:.3e}");
    }
    let decimals = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(num(450.0), "450");
        assert_eq!(num(0.0022222), "0.002222");
        assert_eq!(num(0.85), "0.85");
        assert_eq!(num(1234567.0), "1234567");
        assert_eq!(num(f64::INFINITY), "inf");
        assert_eq!(num(4.5e-8), "4.500e-8");
    }
}
