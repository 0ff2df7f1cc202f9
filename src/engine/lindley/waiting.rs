//! The start times of the messages waiting at a fast-path queue.

/// Start times of the messages waiting at a queue, earliest first, in a
/// ring buffer whose capacity is a power of two.
///
/// An arrival first forgets the starts it has passed: usually none, one
/// or two, in a pattern no branch predictor can learn. The first four
/// are compared at once, without branches, and a loop takes over only
/// when all four have passed; a loop alone (`VecDeque`) cost the fast
/// path about a quarter of its time on M/M/1. A message that does not
/// wait is written past the end and not counted, again without a branch.
pub(super) struct WaitingStarts {
    slots: Vec<f64>,
    /// Slot of the earliest start.
    head: usize,
    len: usize,
}

impl WaitingStarts {
    pub(super) fn new() -> Self {
        Self {
            slots: vec![0.0; 16],
            head: 0,
            len: 0,
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Adds `start_s` (no earlier than any start held) if `waits`.
    #[inline(always)]
    pub(super) fn push_if(&mut self, waits: bool, start_s: f64) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        self.slots[(self.head + self.len) & mask] = start_s;
        self.len += usize::from(waits);
    }

    /// Forgets the starts at or before `t_s`.
    #[inline(always)]
    pub(super) fn forget_until(&mut self, t_s: f64) {
        /// Starts compared without a branch.
        const STEPS: usize = 4;
        let mask = self.slots.len() - 1;
        let started = (0..STEPS)
            .map(|k| usize::from((self.len > k) & (self.slots[(self.head + k) & mask] <= t_s)))
            .sum::<usize>();
        self.head = (self.head + started) & mask;
        self.len -= started;
        if started == STEPS {
            while self.len > 0 && self.slots[self.head] <= t_s {
                self.head = (self.head + 1) & mask;
                self.len -= 1;
            }
        }
    }

    /// Doubles the capacity, the earliest start moved to slot 0.
    #[cold]
    pub(super) fn grow(&mut self) {
        let capacity = 2 * self.slots.len();
        let mut slots = Vec::with_capacity(capacity);
        slots.extend_from_slice(&self.slots[self.head..]);
        slots.extend_from_slice(&self.slots[..self.head]);
        slots.resize(capacity, 0.0);
        self.slots = slots;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    #[test]
    pub(super) fn waiting_starts_follow_a_plain_queue_through_growth_and_long_forgets() {
        let mut ring = WaitingStarts::new();
        let mut plain = VecDeque::new();
        let mut start_s = 0.0;
        for i in 0..2_000u32 {
            // Stretches where the queue builds up, then ones where an
            // arrival forgets many starts at once.
            let waits = i % 97 < 60 || i % 5 == 0;
            start_s += f64::from(i % 7) * 0.25;
            ring.push_if(waits, start_s);
            if waits {
                plain.push_back(start_s);
            }
            let lag_s = if (i / 100) % 2 == 0 {
                50.0
            } else {
                f64::from(i % 13) * 0.5
            };
            let t_s = start_s - lag_s;
            ring.forget_until(t_s);
            while plain.front().is_some_and(|&s| s <= t_s) {
                plain.pop_front();
            }
            assert_eq!(ring.len(), plain.len(), "after message {i}");
            let mask = ring.slots.len() - 1;
            let held: Vec<f64> = (0..ring.len())
                .map(|k| ring.slots[(ring.head + k) & mask])
                .collect();
            assert!(held.iter().eq(plain.iter()), "after message {i}");
        }
        assert!(ring.slots.len() > 16, "the ring grew");
    }
}
