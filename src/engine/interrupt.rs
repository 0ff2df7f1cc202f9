//! A request to stop simulating, made from another thread (the command
//! line's Ctrl-C handler) and honoured by the engine at the start of every
//! replication and every [`CHECK_EVERY_EVENTS`] events within one.
//!
//! A replication stopped this way ends early, so its results describe a
//! shorter run than the model asked for: whoever requested the stop must
//! check [`stop_requested`] once a simulation returns and report nothing
//! from it.

use std::sync::atomic::{AtomicBool, Ordering};

/// Events between two looks at the stop flag inside a replication: a
/// relaxed atomic load every 2^16 events costs nothing measurable and
/// stops a replication within a few milliseconds.
pub const CHECK_EVERY_EVENTS: u64 = 1 << 16;

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every running and future simulation of this process to stop early.
/// There is no way back: a process that was asked to stop should exit.
pub fn request_stop() {
    STOP.store(true, Ordering::Relaxed);
}

/// Whether [`request_stop`] was called: simulations stop early from then
/// on and their results must not be reported.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}
