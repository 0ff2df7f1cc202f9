//! Consumers with a prefetch window (AMQP `basic.qos`), as RabbitMQ runs
//! them: the broker pushes the head of the queue to the next consumer, in
//! round-robin order, that holds fewer unacknowledged messages than its
//! window allows. A pushed message leaves the queue (it no longer counts
//! against `capacity`, and queue TTL no longer reaches it), travels for
//! the `dispatch` time, and waits in the consumer's own buffer, FIFO, for
//! a free processing slot. It stops counting against the window when it
//! is acknowledged: after its service, or as it starts with `ack =
//! "on-start"`.

use std::collections::VecDeque;

use super::buffer::CopyId;
use super::{Event, Simulation};
use crate::dist::Dist;
use crate::engine::rng::StreamRng;
use crate::model::{Ack, Window};

/// One consumer's share of a window.
#[derive(Debug, Clone, Default)]
struct ConsumerWindow {
    /// Pushed and not yet acknowledged.
    unacked: u32,
    /// Slots processing a message.
    busy: u32,
    /// Arrived and waiting for a slot, in arrival order.
    buffered: VecDeque<CopyId>,
    /// When the last message pushed to it arrives: one channel delivers
    /// in order.
    last_arrival_s: f64,
}

/// The window state of one queue's consumers.
#[derive(Debug)]
pub struct WindowState {
    window: Window,
    consumers: Vec<ConsumerWindow>,
    /// The consumer the round-robin looks at first.
    cursor: usize,
    /// Consumers below their window limit.
    with_credit: usize,
    /// Pushed and not yet acknowledged, over all consumers.
    pub unacked: u32,
    dispatch: Option<Dist>,
    dispatch_rng: StreamRng,
}

impl WindowState {
    /// `count` consumers with empty windows.
    pub fn new(window: Window, count: u32, dispatch: Option<Dist>, rng: StreamRng) -> Self {
        Self {
            window,
            consumers: vec![ConsumerWindow::default(); count as usize],
            cursor: 0,
            with_credit: count as usize,
            unacked: 0,
            dispatch,
            dispatch_rng: rng,
        }
    }

    /// Whether some consumer may take another message.
    #[inline]
    pub fn has_credit(&self) -> bool {
        self.with_credit > 0
    }

    /// The next consumer in round-robin order with room in its window,
    /// which now holds one more message; the cursor moves past it.
    fn take_credit(&mut self) -> Option<usize> {
        if self.with_credit == 0 {
            return None;
        }
        let n = self.consumers.len();
        let limit = self.window.limit;
        let k = (0..n)
            .map(|i| (self.cursor + i) % n)
            .find(|&k| self.consumers[k].unacked < limit)?;
        self.cursor = (k + 1) % n;
        let consumer = &mut self.consumers[k];
        consumer.unacked += 1;
        if consumer.unacked == limit {
            self.with_credit -= 1;
        }
        self.unacked += 1;
        Some(k)
    }

    /// Consumer `k` acknowledges one message.
    fn acknowledge(&mut self, k: usize) {
        let consumer = &mut self.consumers[k];
        if consumer.unacked == self.window.limit {
            self.with_credit += 1;
        }
        consumer.unacked -= 1;
        self.unacked -= 1;
    }
}

impl Simulation<'_> {
    fn window_mut(&mut self, q: usize) -> &mut WindowState {
        self.queues[q]
            .window
            .as_deref_mut()
            .expect("only queues whose consumers have a window push")
    }

    /// Pushes ready messages of queue `q` to consumers while any has room.
    pub(super) fn push_ready(&mut self, q: usize) {
        let down = self.queues[q].outages > 0;
        while !down && self.queues[q].buffer.len() > 0 && self.window_mut(q).has_credit() {
            let Some(copy) = self.pop_ready(q) else {
                break;
            };
            self.update_in_queue(q);
            self.push(q, copy);
        }
    }

    /// Pushes `copy` to the next consumer of `q` with room, which must exist.
    pub(super) fn push(&mut self, q: usize, copy: CopyId) {
        let now_s = self.now_s;
        let window = self.window_mut(q);
        let k = window
            .take_credit()
            .expect("a push needs a consumer with room");
        let unacked = f64::from(window.unacked);
        let at_s = match &window.dispatch {
            None => None,
            Some(dispatch) => {
                let consumer = &window.consumers[k];
                let at_s = (now_s + dispatch.sample(&mut window.dispatch_rng))
                    .max(consumer.last_arrival_s);
                window.consumers[k].last_arrival_s = at_s;
                Some(at_s)
            }
        };
        self.record_unacked(q, unacked);
        self.store.copies.get_mut(copy).consumer = k as u32;
        match at_s {
            Some(at_s) => self.calendar.schedule(at_s, Event::Dispatched(copy)),
            None => self.receive(q, k, copy),
        }
    }

    /// A pushed copy reaches its consumer.
    pub(super) fn dispatched(&mut self, copy: CopyId) {
        let c = self.store.copies.get(copy);
        let (q, k) = (c.queue as usize, c.consumer as usize);
        self.receive(q, k, copy);
        if self.window_mut(q).window.ack == Ack::OnStart {
            self.push_ready(q);
        }
    }

    /// Consumer `k` of `q` starts `copy` in a free slot or buffers it.
    fn receive(&mut self, q: usize, k: usize, copy: CopyId) {
        let window = self.window_mut(q);
        if window.consumers[k].busy < window.window.concurrency {
            self.start_in_slot(q, k, copy);
        } else {
            window.consumers[k].buffered.push_back(copy);
        }
    }

    /// Consumer `k` of `q` processes `copy` in one of its slots.
    fn start_in_slot(&mut self, q: usize, k: usize, copy: CopyId) {
        let window = self.window_mut(q);
        window.consumers[k].busy += 1;
        if window.window.ack == Ack::OnStart {
            self.acknowledge(q, k);
        }
        let service_s = self.occupy(q, &[copy]);
        self.calendar
            .schedule(self.now_s + service_s, Event::SlotEnd(copy));
    }

    /// A slot of a consumer of `q` finished `copy`: the ack frees its
    /// place in the window, the slot takes the consumer's next buffered
    /// message, and the broker pushes what the window now allows.
    pub(super) fn slot_end(&mut self, copy: CopyId) {
        let q = self.store.copies.get(copy).queue as usize;
        let failed = self.end_attempt(q, copy);
        self.release(q, 1);
        let k = self.store.copies.get(copy).consumer as usize;
        let window = self.window_mut(q);
        window.consumers[k].busy -= 1;
        if window.window.ack == Ack::AfterService {
            self.acknowledge(q, k);
        }
        if let Some(next) = self.window_mut(q).consumers[k].buffered.pop_front() {
            self.start_in_slot(q, k, next);
        }
        self.push_ready(q);
        self.after_attempt(q, copy, failed);
    }

    /// Consumer `k` of `q` acknowledges one message.
    fn acknowledge(&mut self, q: usize, k: usize) {
        let window = self.window_mut(q);
        window.acknowledge(k);
        let unacked = f64::from(window.unacked);
        self.record_unacked(q, unacked);
    }

    #[inline]
    pub(super) fn record_unacked(&mut self, q: usize, unacked: f64) {
        let now_s = self.now_s;
        if let Some(level) = &mut self.nodes[q].unacked {
            level.set(now_s, unacked);
        }
    }
}
