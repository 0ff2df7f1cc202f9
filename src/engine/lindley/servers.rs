//! The servers of a fast-path queue (Kiefer–Wolfowitz's workload vector)
//! and the outbox that holds served messages until they leave.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use super::message::Message;

/// Something due at `time_s`, ordered so that a max-heap pops the
/// earliest first, ties in increasing `tie`: a served message waiting for
/// its departure (tie: the order it was served).
#[derive(Debug, Clone, Copy)]
pub(super) struct Earliest<T> {
    time_s: f64,
    tie: u64,
    item: T,
}

impl<T> Ord for Earliest<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_s.total_cmp(&self.time_s)).then(other.tie.cmp(&self.tie))
    }
}

impl<T> PartialOrd for Earliest<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Earliest<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Earliest<T> {}

/// Served messages of a queue that routes onwards, until their departure.
pub(super) enum Outbox {
    /// One server: messages leave in the order they arrived.
    InOrder(VecDeque<Message>),
    /// Several servers: messages leave in order of departure time.
    Sorted(BinaryHeap<Earliest<Message>>, u64),
}

impl Outbox {
    pub(super) fn new(servers: u32) -> Self {
        if servers == 1 {
            Self::InOrder(VecDeque::new())
        } else {
            Self::Sorted(BinaryHeap::new(), 0)
        }
    }

    pub(super) fn push(&mut self, message: Message) {
        match self {
            Self::InOrder(queue) => queue.push_back(message),
            Self::Sorted(heap, served) => {
                *served += 1;
                heap.push(Earliest {
                    time_s: message.at_s,
                    tie: *served,
                    item: message,
                });
            }
        }
    }

    /// The next message to leave by `until_s`, if any.
    pub(super) fn pop_until(&mut self, until_s: f64) -> Option<Message> {
        match self {
            Self::InOrder(queue) => queue.pop_front_if(|m| m.at_s <= until_s),
            Self::Sorted(heap, _) => heap
                .peek()
                .is_some_and(|d| d.time_s <= until_s)
                .then(|| heap.pop().expect("peeked").item),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Self::InOrder(queue) => queue.len(),
            Self::Sorted(heap, _) => heap.len(),
        }
    }
}

/// The `c` servers of a FIFO queue (Kiefer–Wolfowitz's workload vector).
pub(super) enum Servers {
    /// One server, busy until the given time (Lindley's recursion).
    One { busy_until_s: f64 },
    /// Several servers: when each of them frees up, as time keys
    /// ([`free_time_key`]), one entry per server; a server whose entry is
    /// not after `released_at`, the latest release, is free. Releasing
    /// only moves `released_at`, and a start replaces the earliest entry
    /// in one sift: no entry is ever popped.
    Many {
        count: usize,
        free_at: BinaryHeap<Reverse<u64>>,
        released_at: Reverse<u64>,
    },
}

/// Servers of `free_at` busy after `now` (keys as from [`free_time_key`]).
pub(super) fn busy_after(free_at: &BinaryHeap<Reverse<u64>>, now: Reverse<u64>) -> usize {
    free_at.iter().filter(|&&free| free < now).count()
}

/// A key that orders times in reverse, so that the max-heap's top is the
/// earliest (`a < b` on keys: `a` is the later time): times are never
/// negative, so their bits sort as they do, and `+ 0.0` turns a -0.0
/// into 0.0, whose bits sort first.
#[inline]
pub(super) fn free_time_key(time_s: f64) -> Reverse<u64> {
    Reverse((time_s + 0.0).to_bits())
}

impl Servers {
    pub(super) fn new(count: u32) -> Self {
        if count == 1 {
            Self::One {
                busy_until_s: f64::NEG_INFINITY,
            }
        } else {
            Self::Many {
                count: count as usize,
                free_at: vec![free_time_key(0.0); count as usize].into(),
                released_at: free_time_key(0.0),
            }
        }
    }

    pub(super) fn count(&self) -> usize {
        match self {
            Self::One { .. } => 1,
            Self::Many { count, .. } => *count,
        }
    }

    /// Frees the servers done by `now_s`.
    #[inline]
    pub(super) fn release_until(&mut self, now_s: f64) {
        match self {
            Self::One { busy_until_s } => {
                if *busy_until_s <= now_s {
                    *busy_until_s = f64::NEG_INFINITY;
                }
            }
            Self::Many { released_at, .. } => *released_at = free_time_key(now_s),
        }
    }

    /// Servers busy now (after [`Self::release_until`]).
    #[inline]
    pub(super) fn busy(&self) -> usize {
        match self {
            Self::One { busy_until_s } => usize::from(*busy_until_s > f64::NEG_INFINITY),
            Self::Many {
                free_at,
                released_at,
                ..
            } => busy_after(free_at, *released_at),
        }
    }

    #[inline]
    pub(super) fn has_free(&self) -> bool {
        match self {
            Self::One { .. } => self.busy() == 0,
            Self::Many {
                free_at,
                released_at,
                ..
            } => free_at
                .peek()
                .is_some_and(|&earliest| earliest >= *released_at),
        }
    }

    /// Takes the earliest free server for a message arriving at
    /// `arrival_s` (after [`Self::release_until`]) until `start_s +
    /// service_s`; returns `start_s` and, if `count_busy`, the servers
    /// busy from then on (else 0: counting costs one look at each server).
    #[inline]
    pub(super) fn take(
        &mut self,
        arrival_s: f64,
        service_s: f64,
        count_busy: bool,
    ) -> (f64, usize) {
        match self {
            Self::One { busy_until_s } => {
                let start_s = if *busy_until_s > arrival_s {
                    *busy_until_s
                } else {
                    arrival_s
                };
                *busy_until_s = start_s + service_s;
                (start_s, 1)
            }
            Self::Many { count, free_at, .. } => {
                let arrival = free_time_key(arrival_s);
                let earliest = *free_at.peek().expect("a queue has a server");
                // The earliest server frees up after the arrival.
                let all_busy = earliest < arrival;
                let busy = match (count_busy, all_busy) {
                    (false, _) => 0,
                    (true, true) => *count,
                    (true, false) => busy_after(free_at, arrival) + 1,
                };
                let start_s = if all_busy {
                    f64::from_bits(earliest.0)
                } else {
                    arrival_s
                };
                *free_at.peek_mut().expect("a queue has a server") =
                    free_time_key(start_s + service_s);
                (start_s, busy)
            }
        }
    }
}
