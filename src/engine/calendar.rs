//! The event calendar: pending events ordered by `(time, sequence)`.
//!
//! Events scheduled for the same instant come out in the order they were
//! scheduled, so a run never depends on how a heap breaks ties.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time_s: f64,
    sequence: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest entry first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time_s
            .total_cmp(&self.time_s)
            .then_with(|| other.sequence.cmp(&self.sequence))
    }
}

/// A future-event list.
pub struct Calendar<E> {
    heap: BinaryHeap<Entry<E>>,
    next_sequence: u64,
}

impl<E> Default for Calendar<E> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_sequence: 0,
        }
    }
}

impl<E> Calendar<E> {
    /// Schedules `event` at absolute time `time_s`.
    #[inline]
    pub fn schedule(&mut self, time_s: f64, event: E) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.heap.push(Entry {
            time_s,
            sequence,
            event,
        });
    }

    /// Removes and returns the earliest event, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        self.heap.pop().map(|entry| (entry.time_s, entry.event))
    }

    /// Time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<f64> {
        self.heap.peek().map(|entry| entry.time_s)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_fifo_among_ties() {
        let mut calendar = Calendar::default();
        calendar.schedule(2.0, "late");
        calendar.schedule(1.0, "tie-first");
        calendar.schedule(1.0, "tie-second");
        calendar.schedule(0.5, "early");
        let order: Vec<_> = std::iter::from_fn(|| calendar.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["early", "tie-first", "tie-second", "late"]);
        assert!(calendar.is_empty());
    }
}
