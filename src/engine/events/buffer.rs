//! Waiting room of a queue, in the order its discipline serves.

use std::collections::VecDeque;

use crate::model::Discipline;

/// Identity of a message copy in the engine's store.
pub type CopyId = u32;

/// Messages waiting at one queue.
///
/// Each lane is kept in arrival order, so the oldest waiting messages are
/// always at the fronts of the lanes: that is where TTL expiry and
/// drop-head overflow look.
#[derive(Debug)]
pub struct Buffer {
    discipline: Discipline,
    /// The only lane of FIFO and LIFO queues, the highest priority class's
    /// otherwise; kept inline, as it is touched on every push and pop.
    first: VecDeque<CopyId>,
    /// Lanes of the lower priority classes, highest first.
    lower: Vec<VecDeque<CopyId>>,
    len: usize,
}

impl Buffer {
    /// An empty buffer; `classes` is the number of priority classes.
    pub fn new(discipline: Discipline, classes: usize) -> Self {
        let lower_lanes = match discipline {
            Discipline::Priority => classes.saturating_sub(1),
            Discipline::Fifo | Discipline::Lifo => 0,
        };
        Self {
            discipline,
            first: VecDeque::new(),
            lower: vec![VecDeque::new(); lower_lanes],
            len: 0,
        }
    }

    /// Number of waiting messages.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Every lane, highest priority first.
    fn lanes(&self) -> impl DoubleEndedIterator<Item = &VecDeque<CopyId>> {
        std::iter::once(&self.first).chain(&self.lower)
    }

    /// Every lane, highest priority first, mutably.
    fn lanes_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut VecDeque<CopyId>> {
        std::iter::once(&mut self.first).chain(&mut self.lower)
    }

    /// The lane of priority class `class` (0 = highest).
    #[inline]
    fn lane_of(&mut self, class: usize) -> &mut VecDeque<CopyId> {
        let lower = self.lower.len();
        match self.discipline {
            Discipline::Priority if class > 0 && lower > 0 => {
                &mut self.lower[(class - 1).min(lower - 1)]
            }
            _ => &mut self.first,
        }
    }

    /// Adds a message of priority class `class` (0 = highest).
    #[inline]
    pub fn push(&mut self, id: CopyId, class: usize) {
        self.lane_of(class).push_back(id);
        self.len += 1;
    }

    /// Puts back a message of class `class` so that it is served next in
    /// its class (a redelivery).
    pub fn push_next(&mut self, id: CopyId, class: usize) {
        let lifo = self.discipline == Discipline::Lifo;
        let lane = self.lane_of(class);
        match lifo {
            true => lane.push_back(id),
            false => lane.push_front(id),
        }
        self.len += 1;
    }

    /// Removes the message to serve next.
    #[inline]
    pub fn pop_next(&mut self) -> Option<CopyId> {
        let id = match self.discipline {
            Discipline::Fifo => self.first.pop_front(),
            Discipline::Lifo => self.first.pop_back(),
            Discipline::Priority => self.lanes_mut().find_map(|lane| lane.pop_front()),
        }?;
        self.len -= 1;
        Some(id)
    }

    /// Removes the message that overflow drops first: the oldest of the
    /// lowest priority class present.
    pub fn pop_for_drop(&mut self) -> Option<CopyId> {
        let id = self.lanes_mut().rev().find_map(|lane| lane.pop_front())?;
        self.len -= 1;
        Some(id)
    }

    /// The oldest message of each lane.
    pub fn oldest(&self) -> impl Iterator<Item = CopyId> + '_ {
        self.lanes().filter_map(|lane| lane.front().copied())
    }

    /// Removes the oldest message of the lane whose oldest message is `id`.
    pub fn remove_oldest(&mut self, id: CopyId) -> bool {
        let Some(lane) = self.lanes_mut().find(|lane| lane.front() == Some(&id)) else {
            return false;
        };
        lane.pop_front();
        self.len -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(buffer: &mut Buffer) -> Vec<CopyId> {
        std::iter::from_fn(|| buffer.pop_next()).collect()
    }

    #[test]
    fn fifo_and_lifo_orders() {
        let mut fifo = Buffer::new(Discipline::Fifo, 1);
        let mut lifo = Buffer::new(Discipline::Lifo, 1);
        for id in 1..=3 {
            fifo.push(id, 0);
            lifo.push(id, 0);
        }
        assert_eq!(drain(&mut fifo), [1, 2, 3]);
        assert_eq!(drain(&mut lifo), [3, 2, 1]);
    }

    #[test]
    fn priority_serves_high_class_first_fifo_within() {
        let mut buffer = Buffer::new(Discipline::Priority, 2);
        buffer.push(1, 1);
        buffer.push(2, 0);
        buffer.push(3, 1);
        buffer.push(4, 0);
        assert_eq!(buffer.len(), 4);
        assert_eq!(drain(&mut buffer), [2, 4, 1, 3]);
        assert_eq!(buffer.len(), 0);
    }

    #[test]
    fn drop_takes_the_oldest_of_the_lowest_class() {
        let mut buffer = Buffer::new(Discipline::Priority, 2);
        buffer.push(1, 0);
        buffer.push(2, 1);
        buffer.push(3, 1);
        assert_eq!(buffer.pop_for_drop(), Some(2));
        assert_eq!(buffer.oldest().collect::<Vec<_>>(), [1, 3]);
        assert!(buffer.remove_oldest(3));
        assert_eq!(buffer.len(), 1);
    }
}
