//! What travels through a fast-path network, and the clock it is timed by.

#[cfg(doc)]
use crate::engine::outcomes::Outcomes;
pub(super) use crate::engine::outcomes::SOLE;

/// A message on its way through the network.
#[derive(Debug, Clone, Copy)]
pub(super) struct Message {
    /// When it reaches its current queue, or leaves it once served.
    pub at_s: f64,
    pub created_s: f64,
    pub due_s: f64,
    pub size_bytes: f64,
    /// Its key (1-based, 0 for none): at most 10,000,000 distinct keys
    /// are valid, so 32 bits hold it, and the copy's origin shares its
    /// word.
    pub key: u32,
    /// The message it is a copy of, in [`Outcomes`]' table of copied
    /// messages, or [`SOLE`] while it has not been copied.
    pub origin: u32,
}

/// The window being computed and the measured window.
#[derive(Clone, Copy)]
pub(super) struct Clock {
    pub warmup_s: f64,
    pub end_s: f64,
}

impl Clock {
    pub fn measured(&self, created_s: f64) -> bool {
        created_s >= self.warmup_s
    }

    pub(super) fn in_window(&self, t_s: f64) -> bool {
        t_s >= self.warmup_s && t_s <= self.end_s
    }
}

// Windows of arrivals are vectors of messages: a copy's origin fits in
// the key's word, so that copying costs nothing to models without copies.
const _: () = assert!(size_of::<Message>() == 40);
