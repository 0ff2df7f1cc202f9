//! Messages in the system: originals (what a producer published) and the
//! copies that travel through queues.
//!
//! Slots are recycled through free lists, so memory follows the number of
//! messages in the system at once, never the number simulated.

use super::buffer::CopyId;
use crate::model::RoutingKeyId;

/// Index of an original message.
pub type OriginId = u32;

/// Marker for a copy that no longer belongs to an outcome (a dead-lettered
/// or expired copy parked in a dead-letter queue).
pub const ORPHAN: OriginId = OriginId::MAX;

/// A published message, whose outcome is decided by its copies.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Publication time.
    pub created_s: f64,
    /// Latest acceptable delivery time (infinite without a deadline).
    pub due_s: f64,
    /// Copies still travelling.
    pub outstanding: u32,
    /// Whether the outcome (delivered or lost) is already known.
    pub resolved: bool,
    /// Whether it was published inside the measured window.
    pub measured: bool,
    /// Per-message TTL, seconds (infinite without one).
    pub ttl_s: f64,
}

/// One copy of a message travelling through the network.
#[derive(Debug, Clone)]
pub struct Copy {
    /// The original, or [`ORPHAN`].
    pub origin: OriginId,
    /// Arrival time at the current queue.
    pub entered_s: f64,
    /// Start of service at the current queue.
    pub service_start_s: f64,
    /// Current queue.
    pub queue: u32,
    /// Priority class index (0 = highest).
    pub class: u16,
    /// Failed attempts at the current queue.
    pub failures: u32,
    /// Message key (1-based), 0 when the producer sets none.
    pub key: u64,
    /// Message size in bytes (0 when the producer sets none).
    pub size_bytes: f64,
    /// The consumer of a windowed queue it was pushed to.
    pub consumer: u32,
    /// Routing key, for the exchanges that route on keys.
    pub routing_key: RoutingKeyId,
}

/// What travels with every copy of a newly published message.
#[derive(Debug, Clone, Copy)]
pub struct Message {
    /// Priority class index (0 = highest).
    pub class: u16,
    /// Key (1-based), 0 for none.
    pub key: u64,
    /// Size in bytes.
    pub size_bytes: f64,
    /// Per-message TTL, seconds (infinite without one).
    pub ttl_s: f64,
    /// Routing key ([`crate::model::NO_ROUTING_KEY`] for none).
    pub routing_key: RoutingKeyId,
}

/// A vector of slots with a free list.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value` and returns its index.
    #[inline]
    pub fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = value;
                index
            }
            None => {
                self.slots.push(value);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees slot `index` for reuse.
    #[inline]
    pub fn remove(&mut self, index: u32) {
        self.free.push(index);
    }

    /// Slot `index`.
    #[inline]
    pub fn get(&self, index: u32) -> &T {
        &self.slots[index as usize]
    }

    /// Slot `index`, mutably.
    #[inline]
    pub fn get_mut(&mut self, index: u32) -> &mut T {
        &mut self.slots[index as usize]
    }

    /// Slots ever allocated (live or free): the high-water mark.
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }

    /// Indexes of live slots.
    pub fn live_indexes(&self) -> Vec<u32> {
        let mut free = vec![false; self.slots.len()];
        self.free.iter().for_each(|&i| free[i as usize] = true);
        (0..self.slots.len() as u32)
            .filter(|&i| !free[i as usize])
            .collect()
    }
}

/// Store of originals and copies.
#[derive(Debug, Default)]
pub struct Store {
    /// Published messages whose copies are still travelling.
    pub origins: Slab<Origin>,
    /// Copies in queues, in service or waiting to be re-published.
    pub copies: Slab<Copy>,
}

impl Store {
    /// Publishes a message and returns its first copy.
    pub fn publish(&mut self, now_s: f64, due_s: f64, measured: bool, message: Message) -> CopyId {
        let origin = self.origins.insert(Origin {
            created_s: now_s,
            due_s,
            outstanding: 1,
            resolved: false,
            measured,
            ttl_s: message.ttl_s,
        });
        self.copies.insert(Copy {
            origin,
            entered_s: now_s,
            service_start_s: now_s,
            queue: 0,
            class: message.class,
            failures: 0,
            key: message.key,
            size_bytes: message.size_bytes,
            consumer: 0,
            routing_key: message.routing_key,
        })
    }

    /// Dates the message of `copy` back to `created_s`, when it was due
    /// (a publication that waited for a publisher confirm): its latency
    /// and deadline count from then.
    pub fn backdate(&mut self, copy: CopyId, created_s: f64) {
        let origin = self.copies.get(copy).origin;
        self.origins.get_mut(origin).created_s = created_s;
    }

    /// A new copy of the message `from` belongs to (for fanout).
    pub fn duplicate(&mut self, from: CopyId) -> CopyId {
        let copy = self.copies.get(from).clone();
        if copy.origin != ORPHAN {
            self.origins.get_mut(copy.origin).outstanding += 1;
        }
        self.copies.insert(Copy {
            failures: 0,
            ..copy
        })
    }
}
