//! The simulation engines, run as independent replications.
//!
//! [`simulate`] runs one replication on the engine [`Choice`] picks for
//! the model: the Lindley fast path ([`lindley`]) when the model is a
//! feed-forward network of FIFO queues, else the event calendar
//! ([`events`]). [`run`] runs all replications of a model in parallel and
//! returns them in replication order, so the result does not depend on
//! the number of threads.
//!
//! Both engines share what decides a message's fate outside a queue,
//! so that they follow the same sample path: the random streams
//! ([`rng`]), the producers ([`arrivals`]), routing ([`routing`]), the
//! run-wide counters and the result they build ([`outcomes`]), and what
//! a queue observes ([`observe`]).

mod arrivals;
mod choice;
mod events;
mod interrupt;
mod lindley;
mod observe;
mod outcomes;
mod rng;
mod routing;
mod warmup;

use std::ops::Range;

use rayon::prelude::*;

pub use choice::{Choice, Engine, EventsReason, QueueFeature};
pub use events::{Calendar, simulate_events};
pub use interrupt::{CHECK_EVERY_EVENTS, request_stop, stop_requested};
pub use observe::{
    ClassObservations, ClassView, EventObservations, LATENCY_BUCKETS, NodeObservations,
    ReplicationResult, Sample, SinkObservations,
};
pub use rng::{StreamKind, StreamRng, stream};
pub use warmup::{
    PILOT_REPLICATIONS, WarmupChoice, auto_warmup, choose_warmup, run_with_auto_warmup,
};

use crate::model::Model;

/// The engine [`simulate`] runs `model` on: the fast path whenever the
/// model allows it.
pub fn engine_for(model: &Model) -> Engine {
    Choice::for_model(model).engine()
}

/// A queue of a fast-path model that drops its oldest waiting message when
/// full, if any (see [`Choice::drop_head_queue`]).
pub fn drop_head_queue(model: &Model) -> Option<&str> {
    Choice::for_model(model).drop_head_queue()
}

/// A queue of a fast-path model whose consumers' prefetch windows can
/// fill, if any, with the window's size (see [`Choice::window_queue`]).
pub fn window_queue(model: &Model) -> Option<(&str, u32)> {
    Choice::for_model(model).window_queue()
}

impl Choice<'_> {
    /// Runs replication number `replication` to completion, on the fast
    /// path when the model allows it and the replication fills no queue
    /// that drops its oldest message ([`Self::drop_head_queue`]) and no
    /// consumer's prefetch window ([`Self::window_queue`]), else on the
    /// event engine.
    pub fn simulate(&self, replication: u32) -> ReplicationResult {
        (self.fast_path.as_ref().ok())
            .and_then(|layout| lindley::simulate_laid_out(self.model, layout, replication))
            .unwrap_or_else(|| simulate_events(self.model, replication))
    }
}

/// Runs replication `replication` on the fast path, or `None` when the
/// model needs the event engine (see [`engine_for`]) or, in this
/// replication, a queue that drops the oldest message when full filled up
/// (see [`drop_head_queue`]) or a message found the consumer due to take
/// it with a full prefetch window (see [`window_queue`]).
pub fn simulate_lindley(model: &Model, replication: u32) -> Option<ReplicationResult> {
    let choice = Choice::for_model(model);
    let layout = choice.fast_path.as_ref().ok()?;
    lindley::simulate_laid_out(model, layout, replication)
}

/// Runs replication number `replication` of `model` to completion on the
/// engine [`Choice`] picks.
pub fn simulate(model: &Model, replication: u32) -> ReplicationResult {
    Choice::for_model(model).simulate(replication)
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
    let choice = Choice::for_model(model);
    replications
        .into_par_iter()
        .map(|replication| choice.simulate(replication))
        .collect()
}
