//! The event calendar: pending events ordered by `(time, sequence)`.
//!
//! Events scheduled for the same instant come out in the order they were
//! scheduled, so a run never depends on how a heap breaks ties.

/// A pending event. Times are never negative, so their bits sort as the
/// times do: `(time_bits, sequence)` orders by time, then by scheduling.
#[derive(Clone, Copy)]
struct Entry<E> {
    time_bits: u64,
    sequence: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn precedes(&self, other: &Self) -> bool {
        (self.time_bits, self.sequence) < (other.time_bits, other.sequence)
    }
}

/// A future-event list: a binary min-heap of entries.
pub struct Calendar<E> {
    heap: Vec<Entry<E>>,
    next_sequence: u64,
}

impl<E> Default for Calendar<E> {
    fn default() -> Self {
        Self {
            heap: Vec::new(),
            next_sequence: 0,
        }
    }
}

impl<E: Copy> Calendar<E> {
    /// Schedules `event` at absolute time `time_s` (not negative).
    #[inline]
    pub fn schedule(&mut self, time_s: f64, event: E) {
        debug_assert!(time_s >= 0.0, "events are never scheduled before time 0");
        let entry = Entry {
            // `+ 0.0` turns a -0.0 into 0.0, whose bits sort first.
            time_bits: (time_s + 0.0).to_bits(),
            sequence: self.next_sequence,
            event,
        };
        self.next_sequence += 1;
        self.heap.push(entry);
        self.sift_up(self.heap.len() - 1, entry);
    }

    /// Removes and returns the earliest event, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, E)> {
        let last = self.heap.pop()?;
        let first = match self.heap.first() {
            Some(&first) => {
                self.sift_down(last);
                first
            }
            None => last,
        };
        Some((f64::from_bits(first.time_bits), first.event))
    }

    /// Moves `entry`, which belongs at `slot`, up to where it sorts.
    #[inline]
    fn sift_up(&mut self, mut slot: usize, entry: Entry<E>) {
        while slot > 0 {
            let parent = (slot - 1) / 2;
            if !entry.precedes(&self.heap[parent]) {
                break;
            }
            self.heap[slot] = self.heap[parent];
            slot = parent;
        }
        self.heap[slot] = entry;
    }

    /// Puts `entry` at the root (whose entry is leaving) and moves it to
    /// where it sorts: the hole at the root first goes down to a leaf along
    /// the earlier child, one comparison a level, then `entry` climbs back
    /// from there. New events are mostly far in the future, so the climb is
    /// short (Floyd's method, as the standard library's heap does).
    #[inline]
    fn sift_down(&mut self, entry: Entry<E>) {
        let len = self.heap.len();
        let mut slot = 0;
        let mut left = 1;
        while left + 1 < len {
            let right = left + 1;
            let child = left + usize::from(self.heap[right].precedes(&self.heap[left]));
            self.heap[slot] = self.heap[child];
            slot = child;
            left = 2 * slot + 1;
        }
        if left + 1 == len {
            self.heap[slot] = self.heap[left];
            slot = left;
        }
        self.sift_up(slot, entry);
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The pending events, in no particular order.
    pub fn pending(&self) -> impl Iterator<Item = &E> + '_ {
        self.heap.iter().map(|entry| &entry.event)
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
