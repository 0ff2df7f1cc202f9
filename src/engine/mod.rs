//! The discrete-event engine: an event calendar, producers, queues,
//! consumers and routing, run as independent replications.
//!
//! [`simulate`] runs one replication; [`run`] runs all replications of a
//! model in parallel and returns them in replication order, so the result
//! does not depend on the number of threads.

mod buffer;
mod calendar;
mod observe;
mod rng;
mod simulation;
mod store;

use rayon::prelude::*;

pub use calendar::Calendar;
pub use observe::{ClassObservations, NodeObservations, ReplicationResult, Sample};
pub use rng::{StreamKind, StreamRng, stream};
pub use simulation::{run_classes, simulate};

use crate::model::Model;

/// Runs every replication of `model` (in parallel) and returns them in order.
pub fn run(model: &Model) -> Vec<ReplicationResult> {
    (0..model.simulation.replications)
        .into_par_iter()
        .map(|replication| simulate(model, replication))
        .collect()
}
