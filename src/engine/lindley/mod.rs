//! The fast path: feed-forward networks of FIFO queues, computed by the
//! Lindley / Kiefer–Wolfowitz recursion instead of an event calendar.
//!
//! In a FIFO queue with `c` servers a message starts service at the later
//! of its arrival and the moment the earliest of the `c` servers frees up
//! (Kiefer–Wolfowitz; Lindley's recursion when `c = 1`): its start and
//! departure follow from its arrival and the servers' free times alone, so
//! nothing needs scheduling. When no message can come back to a queue it
//! has left (acyclic routing) and nothing else changes the fate of a
//! waiting message (no retries, TTL, batches, consumers shared between
//! queues other than a topic's partitions, priority classes, links or
//! fanout copies; drop-head overflow only until a queue fills, see
//! [`super::Choice::drop_head_queue`]), a whole network is computed queue by queue in
//! routing order. A topic consumer that owns several partitions serves
//! their merged arrivals in arrival order, which is what serving the
//! oldest head first amounts to. A topic read by several consumer groups
//! puts a copy of each record into every group's partition: each group is
//! a network of its own fed by the same records, and a record's outcome
//! is settled with its last copy (delivered at the latest of its copies'
//! deliveries, lost with its first lost copy; see
//! [`crate::engine::outcomes`]). Consumers with prefetch windows are
//! separate FIFO queues fed round-robin until a window is full when a
//! message arrives ([`prefetch`], [`super::Choice::window_queue`]).
//!
//! Time advances in windows: producers publish up to the window's end,
//! then each queue, upstream first, serves the window's arrivals and hands
//! on its departures up to the window's end (a queue fed by one producer
//! alone serves that producer's messages as they are published, without
//! holding them). Memory holds the messages in the system and one window's
//! arrivals, not the whole run.
//!
//! Every stream is drawn in the order the event engine draws it wherever
//! that order is unambiguous (a producer's gaps, keys and sizes in
//! publication order, a queue's service times in start order, its route
//! choices in departure order), so both engines follow the same sample
//! path on a single queue, a tandem or a topic's consumer groups, and
//! agree in distribution where several senders share an exchange or a
//! topic (tested).
//!
//! Rooms: [`layout`] (the model's shape, once per model), [`run`] (the
//! windows and routing of one replication), [`message`] (what travels and
//! the clock), [`source`] (producers),
//! [`station`] (one queue), [`prefetch`] (consumers with prefetch
//! windows), [`servers`] (the servers and the outbox),
//! [`waiting`] (the waiting messages' start times), [`sampling`] (queue
//! lengths at the sampling instants).

mod layout;
mod message;
mod prefetch;
mod run;
mod sampling;
mod servers;
mod source;
mod station;
mod waiting;

pub(super) use layout::Layout;

use super::observe::ReplicationResult;
use crate::model::Model;

/// Runs replication `replication` of `model`, laid out as `layout`, on the
/// fast path, or `None` when a queue that drops the oldest message when
/// full filled up in it (see [`super::Choice::drop_head_queue`]), or a
/// message arrived while the consumer due to take it had a full prefetch
/// window (see [`super::Choice::window_queue`]).
pub(super) fn simulate_laid_out(
    model: &Model,
    layout: &Layout,
    replication: u32,
) -> Option<ReplicationResult> {
    let mut run = run::Run::new(model, layout, replication);
    run.run_windows(&layout.order);
    if run.needs_events {
        return None;
    }
    Some(run.finish(replication))
}
