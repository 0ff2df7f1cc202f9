//! Consumers that pull, as Kafka's `poll` and Redis's `XREADGROUP COUNT`
//! run them: a free consumer takes up to `max_records` waiting records of
//! its pool's queues (its partitions, or the stream it reads), grouped by
//! partition, and processes them in order, one at a time. Records that arrive
//! meanwhile wait for its next poll. A consumer that finds nothing blocks
//! until a record arrives; blocked consumers are served in the order they
//! blocked (Redis's rule). Fetched records leave the queue but stay
//! unacknowledged (Kafka's uncommitted offsets, a stream's pending
//! entries) until processed: they count in `unacked` and in the lag.

use std::collections::VecDeque;

use super::buffer::CopyId;
use super::{Event, Simulation};
use crate::model::Poll;

/// The pulling consumers of one pool.
#[derive(Debug)]
pub struct PollState {
    max_records: u32,
    /// Each consumer's fetched records not yet started, in order.
    fetched: Vec<VecDeque<CopyId>>,
    /// Consumers blocked on an empty poll, longest blocked first.
    blocked: VecDeque<u32>,
}

impl PollState {
    /// `count` consumers, all blocked on their first poll.
    pub fn new(poll: Poll, count: u32) -> Self {
        Self {
            max_records: poll.max_records,
            fetched: vec![VecDeque::new(); count as usize],
            blocked: (0..count).collect(),
        }
    }

    /// The fetched records not yet started, of every consumer.
    pub fn waiting(&self) -> impl Iterator<Item = CopyId> + '_ {
        self.fetched.iter().flatten().copied()
    }
}

impl Simulation<'_> {
    fn poll_state(&mut self, pool: usize) -> &mut PollState {
        self.polls[pool]
            .as_deref_mut()
            .expect("only pools of pulling consumers poll")
    }

    /// `copy` arrives at queue `q`, whose pool has a blocked consumer: the
    /// longest blocked one receives it and starts it.
    pub(super) fn poll_receive(&mut self, q: usize, copy: CopyId) {
        let pool = self.queues[q].pool;
        let k = (self.poll_state(pool).blocked.pop_front())
            .expect("a free server of a pulling pool is a blocked consumer");
        self.fetch(q, k, copy);
        self.start_polled(copy);
    }

    /// Consumer `k` of `pool` polls: it takes up to `max_records` waiting
    /// records and starts the first; finding none, it blocks. Records come
    /// grouped by partition, as a Kafka fetch returns them: every waiting
    /// record of the queue whose head has waited longest, then of the next
    /// such queue, and so on.
    fn poll(&mut self, pool: usize, k: u32) {
        let mut remaining = self.poll_state(pool).max_records;
        while remaining > 0 {
            let Some(q) = self.next_pool_queue(pool) else {
                break;
            };
            while remaining > 0
                && let Some(copy) = self.pop_ready(q)
            {
                remaining -= 1;
                self.fetch(q, k, copy);
                self.poll_state(pool).fetched[k as usize].push_back(copy);
            }
            self.update_in_queue(q);
        }
        let state = self.poll_state(pool);
        match state.fetched[k as usize].pop_front() {
            Some(first) => self.start_polled(first),
            None => state.blocked.push_back(k),
        }
    }

    /// Consumer `k` holds `copy`, fetched from queue `q`, unacknowledged.
    fn fetch(&mut self, q: usize, k: u32, copy: CopyId) {
        self.store.copies.get_mut(copy).consumer = k;
        self.queues[q].polled += 1;
        self.record_polled(q);
    }

    fn start_polled(&mut self, copy: CopyId) {
        let q = self.queue_of(copy);
        let service_s = self.occupy(q, &[copy]);
        (self.calendar).schedule(self.now_s + service_s, Event::PolledEnd(copy));
    }

    /// A pulling consumer finished `copy`: it acknowledges it, starts its
    /// next fetched record, or polls again once it has none.
    pub(super) fn polled_end(&mut self, copy: CopyId) {
        let q = self.queue_of(copy);
        let Some(failed) = self.end_or_retry_in_place(q, copy) else {
            return;
        };
        self.release(q, 1);
        self.queues[q].polled -= 1;
        self.record_polled(q);
        let (pool, k) = (self.queues[q].pool, self.store.copies.get(copy).consumer);
        match self.poll_state(pool).fetched[k as usize].pop_front() {
            Some(next) => self.start_polled(next),
            None => self.poll(pool, k),
        }
        self.after_attempt(q, copy, failed);
    }

    /// Blocked consumers of `pool` poll again, longest blocked first,
    /// while its queues hold records: after an outage, whose arrivals
    /// woke nobody.
    pub(super) fn wake_blocked(&mut self, pool: usize) {
        let blocked = self.poll_state(pool).blocked.len();
        for _ in 0..blocked {
            if self.next_pool_queue(pool).is_none() {
                break;
            }
            let k = (self.poll_state(pool).blocked.pop_front())
                .expect("counted blocked consumers are blocked");
            self.poll(pool, k);
        }
    }

    fn record_polled(&mut self, q: usize) {
        self.record_unacked(q, f64::from(self.queues[q].polled));
    }
}
