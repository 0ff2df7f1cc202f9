//! Outages (`down` in `[[events]]`) and what producers do about them.
//!
//! A queue that is down refuses whatever reaches it (lost as
//! `unavailable`) and delivers nothing: its waiting messages stay, its
//! consumers finish what they hold and then idle, and it delivers again
//! when it comes back. A topic that is down is down in every group's copy
//! of its partitions, and refuses its producers' records.
//!
//! A producer with `on_unavailable` does not lose a publication that its
//! target refuses (a queue or topic that is down, a queue full under
//! `overflow = "reject-publish"`): it holds it in its client buffer, first
//! in first out behind those already held, and retries every `retry`; a
//! publication that finds the buffer full is lost as `unavailable`. A held
//! publication keeps the time it was due, so its latency counts its wait.
//! Memory grows with the held publications only.

use std::collections::VecDeque;

use super::buffer::CopyId;
use super::confirm::Pending;
use super::store::ORPHAN;
use super::{Event, Simulation};
use crate::model::{ClientBuffer, Model, Overflow, Target};

/// One producer's client buffer.
pub(super) struct ClientQueue {
    buffer: ClientBuffer,
    held: VecDeque<Pending>,
    /// Whether a retry is on the calendar.
    retry_armed: bool,
}

impl ClientQueue {
    /// Publications held now.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Held publications that were due inside the measured window: in
    /// flight at the end.
    pub fn measured_held(&self) -> u64 {
        self.held.iter().filter(|p| p.measured).count() as u64
    }
}

/// Each producer's client buffer, where it has `on_unavailable`.
pub(super) fn client_queues(model: &Model) -> Vec<Option<Box<ClientQueue>>> {
    (model.producers.iter())
        .map(|p| {
            let buffer = p.on_unavailable?;
            Some(Box::new(ClientQueue {
                buffer,
                held: VecDeque::new(),
                retry_armed: false,
            }))
        })
        .collect()
}

impl Simulation<'_> {
    /// Scheduled event `e` takes its queues and topics down (`down`) or
    /// brings them back; overlapping outages keep a queue down until the
    /// last ends.
    pub(super) fn set_down(&mut self, e: usize, down: bool) {
        let event = &self.model.events[e];
        for &t in &event.down_topics {
            let outages = &mut self.topic_outages[t];
            *outages = if down { *outages + 1 } else { *outages - 1 };
        }
        for &q in &event.down {
            let state = &mut self.queues[q];
            state.outages = if down {
                state.outages + 1
            } else {
                state.outages - 1
            };
            if state.outages == 0 {
                self.resume(q);
            }
        }
    }

    /// Queue `q` is back: its consumers take what waits.
    fn resume(&mut self, q: usize) {
        let state = &self.queues[q];
        let Some(consumers) = state.consumers else {
            return;
        };
        if state.window.is_some() {
            self.push_ready(q);
        } else if consumers.poll.is_some() {
            self.wake_blocked(consumers.pool);
        } else {
            self.try_start(q);
        }
    }

    /// A copy reaches queue `q` while it is down: lost as unavailable.
    pub(super) fn refuse_unavailable(&mut self, copy: CopyId) {
        let origin_id = self.store.copies.get(copy).origin;
        if origin_id != ORPHAN {
            let origin = self.store.origins.get(origin_id);
            if origin.measured && !origin.resolved {
                self.outcomes.unavailable += 1;
            }
        }
        self.lose(copy, None);
    }

    /// Whether producer `p`'s target refuses a publication now: a queue or
    /// topic that is down, or a queue full under reject-publish (by its
    /// `capacity`). A producer to an exchange always finds it up; the
    /// copies it routes to a queue that is down are lost there.
    fn refuses(&self, p: usize) -> bool {
        match self.model.producers[p].to {
            Target::Queue(q) => {
                let state = &self.queues[q];
                let queue = &self.model.queues[q];
                let full = queue.overflow == Overflow::RejectPublish
                    && queue
                        .capacity
                        .is_some_and(|c| state.buffer.len() as u64 >= c);
                state.outages > 0 || full
            }
            Target::Topic(t) => self.topic_outages[t] > 0,
            Target::Exchange(_) => false,
        }
    }

    /// Producer `p`, which has a client buffer, is to publish `pending`:
    /// returns it when it may go out now, else holds it (or loses it to a
    /// full buffer).
    pub(super) fn hold_unless_accepted(&mut self, p: usize, pending: Pending) -> Option<Pending> {
        let holding = self.client_queue(p).len() > 0;
        if !holding && !self.refuses(p) {
            return Some(pending);
        }
        let now_s = self.now_s;
        let client = self.client_queue(p);
        if client.len() as u64 >= client.buffer.capacity {
            if pending.measured {
                self.outcomes.lost += 1;
                self.outcomes.unavailable += 1;
            }
            return None;
        }
        client.held.push_back(pending);
        if !client.retry_armed {
            client.retry_armed = true;
            let at_s = now_s + client.buffer.retry_s;
            self.calendar.schedule(at_s, Event::ClientRetry(p as u32));
        }
        self.watch_producer(p);
        None
    }

    /// Producer `p` retries what it holds: publications go out, oldest
    /// first, while its target accepts them.
    pub(super) fn client_retry(&mut self, p: usize) {
        self.client_queue(p).retry_armed = false;
        while self.client_queue(p).len() > 0 && !self.refuses(p) {
            let pending = (self.client_queue(p).held.pop_front())
                .expect("a client buffer with publications has a first");
            self.publish_out(p, pending);
        }
        self.watch_producer(p);
        let now_s = self.now_s;
        let client = self.client_queue(p);
        if client.len() > 0 {
            client.retry_armed = true;
            let at_s = now_s + client.buffer.retry_s;
            self.calendar.schedule(at_s, Event::ClientRetry(p as u32));
        }
    }

    fn client_queue(&mut self, p: usize) -> &mut ClientQueue {
        self.clients[p]
            .as_deref_mut()
            .expect("only producers with on_unavailable hold publications")
    }
}
