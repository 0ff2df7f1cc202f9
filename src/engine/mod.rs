//! The discrete-event engine: an event calendar, producers, queues,
//! consumers and routing, run as independent replications.
//!
//! [`simulate`] runs one replication, on the Lindley fast path when the
//! model is a feed-forward network of FIFO queues ([`engine_for`]) and on
//! the event calendar otherwise; [`run`] runs all replications of a model
//! in parallel and returns them in replication order, so the result does
//! not depend on the number of threads.

mod arrivals;
mod buffer;
mod calendar;
mod deferred;
mod interrupt;
mod lindley;
mod observe;
mod order;
mod rng;
mod service;
mod simulation;
mod store;
mod warmup;

use std::ops::Range;

use rayon::prelude::*;

pub use calendar::Calendar;
pub use interrupt::{CHECK_EVERY_EVENTS, request_stop, stop_requested};
pub use lindley::{Engine, drop_head_queue, engine_for, simulate_lindley};
pub use observe::{
    ClassObservations, ClassView, LATENCY_BUCKETS, NodeObservations, ReplicationResult, Sample,
};
pub use rng::{StreamKind, StreamRng, stream};
pub use simulation::{run_classes, simulate_events};
pub use warmup::{
    PILOT_REPLICATIONS, WarmupChoice, auto_warmup, choose_warmup, run_with_auto_warmup,
};

use crate::model::Model;

/// Runs replication number `replication` of `model` to completion, on the
/// fast path when the model allows it (see [`engine_for`]) and the
/// replication fills no queue that drops its oldest message
/// ([`drop_head_queue`]), else on the event engine.
pub fn simulate(model: &Model, replication: u32) -> ReplicationResult {
    simulate_lindley(model, replication).unwrap_or_else(|| simulate_events(model, replication))
}

/// Runs every replication of `model` (in parallel) and returns them in order.
pub fn run(model: &Model) -> Vec<ReplicationResult> {
    run_replications(model, 0..model.simulation.replications)
}

/// Runs the replications numbered `replications` (in parallel) and returns
/// them in order. Each replication's streams depend only on the seed and its
/// number, so any subset gives exactly the replications a full run would:
/// the basis of sharded runs and of adding replications until a precision.
pub fn run_replications(model: &Model, replications: Range<u32>) -> Vec<ReplicationResult> {
    replications
        .into_par_iter()
        .map(|replication| simulate(model, replication))
        .collect()
}
