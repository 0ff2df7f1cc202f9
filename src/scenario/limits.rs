//! Limits that keep a valid scenario simulatable in bounded time and memory.
//!
//! A scenario can be well-formed and still ask for the impossible: 10^6
//! queues (every queue keeps counters and histograms in every replication
//! and a row in every report), a rate of 1e300/s (the f64 clock
//! cannot separate consecutive arrivals, so time stops advancing while the
//! backlog grows), or a `sample_every` of 1e-300 s (a queue-length row per
//! sample, kept in memory). Each limit is an error naming the key, the
//! limit and the value to use instead, raised before anything large is
//! allocated.

use super::error::{ErrorKind, ScenarioError};
use super::locate::Source;
use super::raw::RawScenario;
use crate::model::{Arrivals, Model, Producer};

/// Most nodes: queues, topic partitions, exchanges and topics together.
///
/// Validation and analysis are linear in nodes and routes (the traffic
/// equations are sparse: 90,000 queues validate in under 3 s), so the
/// bound is the simulation's memory: each queue keeps its observations in
/// every replication in progress, histograms included, about 40 KiB (a run
/// of 90,000 queues peaks at 3.4 GiB resident with one replication).
pub const MAX_NODES: u64 = 100_000;

/// Most messages one producer may publish in one replication, 2^40. The
/// clock is an f64 in seconds: with `N` arrivals spread over a horizon `T`,
/// the mean gap `T / N` stays at least 2^12 times the clock's resolution
/// at `T` (`T · 2^-52`) while `N <= 2^40`, so times keep their precision;
/// and 2^40 messages already take days of computing time.
pub const MAX_MESSAGES: f64 = 1_099_511_627_776.0;

/// Most queue-length samples (rows of `timeseries.csv` before averaging
/// over replications) per replication, all queues together.
pub const MAX_SAMPLE_ROWS: f64 = 1e7;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Refuses a scenario with more than [`MAX_NODES`] nodes, counted on the
/// raw file (every group's copy of a topic's partitions included) before
/// any node is built.
pub(super) fn check_size(raw: &RawScenario, src: &Source) -> Result<()> {
    let partitions: u64 = (raw.topics.iter())
        .map(|t| {
            u64::from(t.partitions.unwrap_or(1)).saturating_mul(super::topics::group_copies(t))
        })
        .fold(0, u64::saturating_add);
    let nodes = raw.queues.len() as u64 + raw.exchanges.len() as u64 + raw.topics.len() as u64;
    let total = nodes.saturating_add(partitions);
    if total <= MAX_NODES {
        return Ok(());
    }
    let key = if raw.queues.len() as u64 >= partitions {
        "queues"
    } else {
        "topics"
    };
    Err(src.error(
        key,
        ErrorKind::InvalidValue(format!(
            "{total} nodes (queues, topic partitions, exchanges and topics) is more than \
             the {MAX_NODES} a scenario may have"
        )),
    ))
}

/// Refuses an on/off pattern whose phases are too short for the clock to
/// advance (a mean below the clock's resolution at the end of the run,
/// `horizon · 2^-48`) or that would switch more than [`MAX_MESSAGES`]
/// times in a replication: either would run for ever.
fn check_phases(producer: &Producer, horizon_s: f64, src: &Source) -> Result<()> {
    let Arrivals::OnOff {
        on_mean_s,
        off_mean_s,
        ..
    } = producer.arrivals
    else {
        return Ok(());
    };
    let shortest_s = horizon_s * f64::powi(2.0, -48);
    let switches = 2.0 * horizon_s / (on_mean_s + off_mean_s);
    let too_short = on_mean_s.min(off_mean_s) < shortest_s;
    if too_short || switches.is_nan() || switches > MAX_MESSAGES {
        return Err(src.error(
            &format!("producers.{}.pattern", producer.name),
            ErrorKind::InvalidValue(format!(
                "on = {on_mean_s:e} s and off = {off_mean_s:e} s switch about {switches:.3e} \
                 times in {horizon_s:.3e} s (warm-up + duration): the clock cannot advance; \
                 give each phase at least {shortest_s:.3e} s and at most 2^40 switches"
            )),
        ));
    }
    Ok(())
}

/// Refuses producers that would publish more than [`MAX_MESSAGES`] per
/// replication and a `sample_every` that records more than
/// [`MAX_SAMPLE_ROWS`] rows per replication.
pub(super) fn check_budget(model: &Model, src: &Source) -> Result<()> {
    let s = &model.simulation;
    let horizon_s = s.warmup_s + s.duration_s;
    for p in &model.producers {
        check_phases(p, horizon_s, src)?;
        let messages = p.arrivals.mean_rate_per_s(horizon_s) * horizon_s;
        if messages.is_nan() || messages > MAX_MESSAGES {
            return Err(src.error(
                &format!("producers.{}", p.name),
                ErrorKind::InvalidValue(format!(
                    "would publish about {messages:.3e} messages in {horizon_s:.3e} s \
                     (warm-up + duration); at most 2^40 ≈ 1.1e12 per replication, \
                     which keeps the clock precise and the run finite: lower the rate or \
                     shorten `simulation.duration`"
                )),
            ));
        }
    }
    let queues = model.queues.len().max(1) as f64;
    let rows = (horizon_s / s.sample_every_s + 1.0) * queues;
    if rows.is_nan() || rows > MAX_SAMPLE_ROWS {
        let smallest_s = horizon_s * queues / MAX_SAMPLE_ROWS;
        return Err(src.error(
            "simulation.sample_every",
            ErrorKind::InvalidValue(format!(
                "{:.3e} s records {rows:.3e} queue-length rows per replication (at most \
                 {MAX_SAMPLE_ROWS:e}); use at least {smallest_s:.3e} s",
                s.sample_every_s
            )),
        ));
    }
    Ok(())
}
