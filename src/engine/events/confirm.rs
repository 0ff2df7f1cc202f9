//! Publisher confirms: a producer's window of unconfirmed publications,
//! and the publications that wait, first in first out, for a place in it.
//!
//! A publication takes a place until its confirm arrives, `latency` after
//! it went out, whatever became of the message. A publication due while
//! the window is full keeps the time it was due (its latency counts from
//! then) and goes out when a confirm frees a place. Memory grows with the
//! waiting publications only.

use std::collections::VecDeque;

use super::store::Message;
use crate::engine::rng::StreamRng;
use crate::model::Confirm;

/// A publication waiting for a place in the window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    /// When it was due, seconds.
    pub created_s: f64,
    /// Its deadline, seconds (infinite without one).
    pub due_s: f64,
    /// Whether it was due inside the measured window.
    pub measured: bool,
    pub message: Message,
}

/// One producer's confirm window.
pub(super) struct ConfirmWindow<'m> {
    confirm: &'m Confirm,
    rng: StreamRng,
    /// Publications awaiting their confirm.
    unconfirmed: u32,
    waiting: VecDeque<Pending>,
}

impl<'m> ConfirmWindow<'m> {
    pub fn new(confirm: &'m Confirm, rng: StreamRng) -> Self {
        Self {
            confirm,
            rng,
            unconfirmed: 0,
            waiting: VecDeque::new(),
        }
    }

    /// Whether a publication due now must wait.
    pub fn is_full(&self) -> bool {
        self.unconfirmed >= self.confirm.in_flight
    }

    /// A publication due now waits for a place.
    pub fn wait(&mut self, pending: Pending) {
        self.waiting.push_back(pending);
    }

    /// A publication goes out and takes a place: the time to its confirm, seconds.
    pub fn take(&mut self) -> f64 {
        self.unconfirmed += 1;
        self.confirm.latency.sample(&mut self.rng)
    }

    /// A confirm arrives and frees a place: the publication that has waited
    /// longest, if any, to publish now.
    pub fn confirmed(&mut self) -> Option<Pending> {
        self.unconfirmed -= 1;
        self.waiting.pop_front()
    }

    /// Waiting publications that were due inside the measured window.
    pub fn measured_waiting(&self) -> u64 {
        self.waiting.iter().filter(|p| p.measured).count() as u64
    }
}
