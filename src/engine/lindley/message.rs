//! What travels through a fast-path network, and the clock it is timed by.

/// A message on its way through the network.
#[derive(Debug, Clone, Copy)]
pub(super) struct Message {
    /// When it reaches its current queue, or leaves it once served.
    pub at_s: f64,
    pub created_s: f64,
    pub due_s: f64,
    pub size_bytes: f64,
    pub key: u64,
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
