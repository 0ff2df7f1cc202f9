//! Inside a queue: the link in front of it, waiting (capacity, overflow,
//! TTL), consumers taking single messages or batches from their pool's
//! queues, and what follows an attempt (retry, dead letter, next hop).

use rand::RngExt;

use super::buffer::CopyId;
use super::deferred::Measure;
use super::store::ORPHAN;
use super::{Event, Simulation};
use crate::model::{Consumers, Overflow};

impl<'m> Simulation<'m> {
    /// The consumers of queue `q`, which must have some.
    #[inline]
    pub(super) fn consumers_of(&self, q: usize) -> &'m Consumers {
        self.queues[q]
            .consumers
            .expect("only queues with consumers serve")
    }

    /// A copy reaches queue `q`'s side of the broker: across the link first
    /// where the queue has one.
    pub(super) fn arrive(&mut self, q: usize, copy: CopyId) {
        let Some(link) = self.queues[q].link else {
            self.enqueue(q, copy);
            return;
        };
        let c = self.store.copies.get_mut(copy);
        c.queue = q as u32;
        let transmit_s = link
            .bandwidth_bytes_per_s
            .map_or(0.0, |bandwidth| c.size_bytes / bandwidth);
        let state = &mut self.queues[q];
        let done_s = state.link_free_s.max(self.now_s) + transmit_s;
        state.link_free_s = done_s;
        self.calendar
            .schedule(done_s + link.latency_s, Event::LinkArrival(copy));
    }

    /// A copy enters queue `q`: served at once, queued, or lost to overflow.
    pub(super) fn enqueue(&mut self, q: usize, copy: CopyId) {
        if self.queues[q].outages > 0 {
            self.refuse_unavailable(copy);
            return;
        }
        let now_s = self.now_s;
        let class = {
            let c = self.store.copies.get_mut(copy);
            c.entered_s = now_s;
            c.queue = q as u32;
            c.class as usize
        };
        let node = &mut self.nodes[q];
        node.arrivals += 1;
        if let Some(k) = node.classes.get_mut(class) {
            k.arrivals += 1;
        }
        let state = &self.queues[q];
        if state.byte_or_redis_limit && now_s < state.away_until_s {
            self.nodes[q].dropped += 1;
            self.lose(copy, None);
            return;
        }
        if let Some(window) = &state.window {
            if state.buffer.len() == 0 && window.has_credit() {
                self.push(q, copy);
                return;
            }
        } else if let Some(consumers) = state.consumers
            && consumers.batch.is_none()
            && self.pool_busy[state.pool] < state.pool_servers
        {
            // A free server means every queue of its pool is empty.
            match consumers.poll {
                None => self.start_service(q, copy),
                Some(_) => self.poll_receive(q, copy),
            }
            return;
        }
        let queue = &self.model.queues[q];
        if let Some(capacity) = queue.capacity
            && self.queues[q].buffer.len() as u64 >= capacity
        {
            match queue.overflow {
                Overflow::RejectPublish => {
                    self.nodes[q].dropped += 1;
                    self.lose(copy, None);
                    return;
                }
                Overflow::Disconnect => {
                    self.disconnect(q, copy);
                    return;
                }
                Overflow::DropHead | Overflow::Trim => {
                    if !self.drop_head(q) {
                        self.nodes[q].dropped += 1;
                        self.lose(copy, self.dead_letter_of_drops(q));
                        return;
                    }
                }
            }
        }
        if self.queues[q].byte_or_redis_limit && !self.fits_bytes(q, copy) {
            return;
        }
        self.queues[q].buffer.push(copy, class);
        if queue.consumers.as_ref().is_some_and(|c| c.batch.is_some()) {
            self.try_start(q);
        }
        self.update_in_queue(q);
        // With a queue TTL alone the armed check is never later than the
        // head's expiry; a message's own TTL may make a new head expire sooner.
        let unarmed = self.queues[q].expiry_at_s == f64::INFINITY;
        if self.message_ttls || (queue.ttl_s.is_some() && unarmed) {
            self.arm_expiry(q);
        }
    }

    /// Where the messages a full queue `q` drops go: its dead-letter
    /// queue, except for a trimmed stream.
    fn dead_letter_of_drops(&self, q: usize) -> Option<usize> {
        let queue = &self.model.queues[q];
        (queue.overflow == Overflow::DropHead)
            .then_some(queue.dead_letter)
            .flatten()
    }

    /// A full queue `q` drops its head (the oldest waiting message of its
    /// lowest class) to make room; returns whether it had one.
    fn drop_head(&mut self, q: usize) -> bool {
        let Some(head) = self.queues[q].buffer.pop_for_drop() else {
            return false;
        };
        self.untrack_bytes(q, head);
        self.nodes[q].dropped += 1;
        let dead_letter = self.dead_letter_of_drops(q);
        if dead_letter.is_some() {
            self.nodes[q].dead_lettered_maxlen += 1;
        }
        self.lose(head, dead_letter);
        true
    }

    /// Makes room for `copy` under queue `q`'s byte limit, as its
    /// overflow says: returns whether `copy` is to be queued (it is lost
    /// otherwise). Drop-head and trim drop the oldest messages until the
    /// rest fits (the new one too, if it alone is too big);
    /// reject-publish refuses a message that does not fit; a subscriber
    /// whose buffer passes the limit is disconnected.
    #[inline(never)]
    fn fits_bytes(&mut self, q: usize, copy: CopyId) -> bool {
        let limit = self.queues[q].capacity_bytes;
        if limit == f64::INFINITY {
            return true;
        }
        let size_bytes = self.store.copies.get(copy).size_bytes;
        let passes = self.queues[q].waiting_bytes + size_bytes > limit;
        match self.model.queues[q].overflow {
            _ if !passes => {}
            Overflow::RejectPublish => {
                self.nodes[q].dropped += 1;
                self.lose(copy, None);
                return false;
            }
            Overflow::Disconnect => {
                self.disconnect(q, copy);
                return false;
            }
            Overflow::DropHead | Overflow::Trim => {
                while self.queues[q].waiting_bytes + size_bytes > limit && self.drop_head(q) {}
                if size_bytes > limit {
                    self.nodes[q].dropped += 1;
                    self.lose(copy, self.dead_letter_of_drops(q));
                    return false;
                }
            }
        }
        self.queues[q].waiting_bytes += size_bytes;
        true
    }

    /// `copy` overflows queue `q`, a subscriber's buffer: the broker drops
    /// the connection, losing `copy` and everything waiting, and the
    /// subscriber receives nothing until it has reconnected. Its consumer
    /// first finishes what it holds (the message in service, and those
    /// already pushed into its window: the socket's buffers), then
    /// reconnects after `reconnect`.
    fn disconnect(&mut self, q: usize, copy: CopyId) {
        self.nodes[q].dropped += 1;
        self.lose(copy, None);
        while let Some(waiting) = self.queues[q].buffer.pop_next() {
            self.nodes[q].dropped += 1;
            self.lose(waiting, None);
        }
        self.queues[q].waiting_bytes = 0.0;
        self.update_in_queue(q);
        self.nodes[q].disconnects += 1;
        if self.queues[q].away_until_s != f64::INFINITY {
            self.queues[q].away_until_s = f64::INFINITY;
            self.draining_subscribers += 1;
        }
        self.reconnect_when_drained(q);
    }

    /// A disconnected subscriber at `q` that holds nothing more starts
    /// its reconnect delay now.
    #[inline(never)]
    fn reconnect_when_drained(&mut self, q: usize) {
        let state = &self.queues[q];
        if state.away_until_s != f64::INFINITY {
            return;
        }
        let holds = state.in_service > 0
            || state.polled > 0
            || state.window.as_ref().is_some_and(|w| w.unacked > 0);
        if !holds {
            self.queues[q].away_until_s = self.now_s + self.model.queues[q].reconnect_s;
            self.draining_subscribers -= 1;
        }
    }

    /// `copy` left queue `q`'s buffer: its bytes no longer count.
    #[inline]
    fn untrack_bytes(&mut self, q: usize, copy: CopyId) {
        let state = &mut self.queues[q];
        if state.byte_or_redis_limit && state.capacity_bytes < f64::INFINITY {
            state.waiting_bytes = match state.buffer.len() {
                0 => 0.0,
                _ => state.waiting_bytes - self.store.copies.get(copy).size_bytes,
            };
        }
    }

    /// Takes the next ready copy of queue `q`. Where messages carry TTLs
    /// of their own, the expired ones at the head are dropped first, as
    /// RabbitMQ does before it delivers, and the new head's expiry is
    /// armed.
    #[inline(always)]
    pub(super) fn pop_ready(&mut self, q: usize) -> Option<CopyId> {
        if self.message_ttls {
            return self.pop_ready_expiring(q);
        }
        let copy = self.queues[q].buffer.pop_next()?;
        self.untrack_bytes(q, copy);
        Some(copy)
    }

    #[inline(never)]
    fn pop_ready_expiring(&mut self, q: usize) -> Option<CopyId> {
        self.expire_heads(q);
        let copy = self.queues[q].buffer.pop_next();
        if let Some(copy) = copy {
            self.untrack_bytes(q, copy);
        }
        self.expire_heads(q);
        self.arm_expiry(q);
        copy
    }

    /// Arrival time of the oldest waiting copy of queue `q`.
    fn oldest_entered_s(&self, q: usize) -> Option<f64> {
        self.queues[q]
            .buffer
            .oldest()
            .map(|id| self.store.copies.get(id).entered_s)
            .min_by(f64::total_cmp)
    }

    /// The queue of pool `pool_id` whose oldest waiting message has
    /// waited longest, if any waits.
    #[inline(always)]
    pub(super) fn next_pool_queue(&self, pool_id: usize) -> Option<usize> {
        let pool = &self.model.pools[pool_id];
        let ready = |q: usize| self.queues[q].buffer.len() > 0 && self.queues[q].outages == 0;
        if pool.queues.len() == 1 {
            Some(pool.queues[0]).filter(|&only| ready(only))
        } else {
            (pool.queues.iter().copied())
                .filter(|&p| self.queues[p].outages == 0)
                .filter_map(|p| self.oldest_entered_s(p).map(|t| (p, t)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(p, _)| p)
        }
    }

    /// Puts the free servers of queue `q`'s pool to work, taking from the
    /// pool queue whose oldest message has waited longest.
    pub(super) fn try_start(&mut self, q: usize) {
        let pool_id = self.consumers_of(q).pool;
        while self.pool_busy[pool_id] < self.pool_servers[pool_id] {
            let Some(target) = self.next_pool_queue(pool_id) else {
                break;
            };
            match self.consumers_of(target).batch {
                None => {
                    let Some(copy) = self.pop_ready(target) else {
                        continue;
                    };
                    self.update_in_queue(target);
                    self.start_service(target, copy);
                }
                Some(batch) => {
                    let len = self.queues[target].buffer.len();
                    let oldest_s = self.oldest_entered_s(target).unwrap_or(self.now_s);
                    // Compared as the timer is scheduled, so that it fires ready.
                    let ready_s = oldest_s + batch.timeout_s;
                    if len < batch.max as usize && self.now_s < ready_s {
                        if !self.queues[target].batch_timer_armed {
                            self.queues[target].batch_timer_armed = true;
                            self.calendar
                                .schedule(ready_s, Event::BatchTimeout(target as u32));
                        }
                        break;
                    }
                    let take = len.min(batch.max as usize);
                    let copies: Vec<CopyId> = (0..take)
                        .filter_map(|_| {
                            let copy = self.queues[target].buffer.pop_next()?;
                            self.untrack_bytes(target, copy);
                            Some(copy)
                        })
                        .collect();
                    self.update_in_queue(target);
                    self.start_batch(target, copies);
                }
            }
        }
    }

    /// Occupies one server of `q`'s pool for `copies` and returns the service time.
    #[inline]
    pub(super) fn occupy(&mut self, q: usize, copies: &[CopyId]) -> f64 {
        let now_s = self.now_s;
        let consumers = self.consumers_of(q);
        self.pool_busy[consumers.pool] += 1;
        let state = &mut self.queues[q];
        state.in_service += copies.len() as u32;
        state.busy_servers += 1;
        let mut service_s = consumers.service.sample(&mut state.service_rng);
        let busy_servers = f64::from(state.busy_servers);
        for &copy in copies {
            let c = self.store.copies.get_mut(copy);
            c.service_start_s = now_s;
            service_s += consumers.service_per_byte_s * c.size_bytes;
            let wait_s = now_s - c.entered_s;
            let class = c.class as usize;
            let node = &mut self.nodes[q];
            if let Some(order) = &mut self.queues[q].start_order
                && order.out_of_order(class, c.entered_s)
            {
                node.out_of_order += 1;
            }
            node.wait.record(wait_s);
            if let Some(k) = node.classes.get_mut(class) {
                k.wait.record(wait_s);
                k.wait_hist.record(wait_s);
            }
            self.deferred
                .record(q, Measure::Wait, wait_s, &mut self.nodes);
        }
        self.nodes[q].in_service.set(now_s, busy_servers);
        service_s
    }

    fn start_service(&mut self, q: usize, copy: CopyId) {
        if self.has_crashes {
            self.assign_member(q, copy);
        }
        let service_s = self.occupy(q, &[copy]);
        self.calendar
            .schedule(self.now_s + service_s, Event::ServiceEnd(copy));
    }

    fn start_batch(&mut self, q: usize, copies: Vec<CopyId>) {
        let service_s = self.occupy(q, &copies);
        let batch = self.batches.insert(copies);
        self.calendar
            .schedule(self.now_s + service_s, Event::BatchEnd(batch));
    }

    /// Frees the server of `q` that served `copies` copies.
    pub(super) fn release(&mut self, q: usize, copies: usize) {
        let pool = self.queues[q].pool;
        self.pool_busy[pool] -= 1;
        let state = &mut self.queues[q];
        state.in_service -= copies as u32;
        state.busy_servers -= 1;
        let busy_servers = f64::from(state.busy_servers);
        self.nodes[q].in_service.set(self.now_s, busy_servers);
    }

    /// Records the end of one attempt and decides whether it failed.
    pub(super) fn end_attempt(&mut self, q: usize, copy: CopyId) -> bool {
        let failed = self.attempt_fails(q);
        self.record_end(q, copy);
        failed
    }

    /// Draws whether an attempt at `q` fails.
    #[inline]
    fn attempt_fails(&mut self, q: usize) -> bool {
        let failure = self.queues[q].failure;
        failure > 0.0 && self.queues[q].failure_rng.random::<f64>() < failure
    }

    /// The end of `copy`'s attempt at `q` and its sojourn since it arrived.
    #[inline(always)]
    fn record_end(&mut self, q: usize, copy: CopyId) {
        let (class, entered_s) = {
            let c = self.store.copies.get(copy);
            (c.class as usize, c.entered_s)
        };
        let sojourn_s = self.now_s - entered_s;
        let node = &mut self.nodes[q];
        if let Some(order) = &mut self.queues[q].end_order
            && order.out_of_order(class, entered_s)
        {
            node.out_of_order += 1;
        }
        node.served += 1;
        node.sojourn.record(sojourn_s);
        if let Some(k) = node.classes.get_mut(class) {
            k.served += 1;
            k.sojourn.record(sojourn_s);
        }
        self.deferred
            .record(q, Measure::Sojourn, sojourn_s, &mut self.nodes);
    }

    /// Decides whether the attempt of `copy` at `q` that ends now failed,
    /// and records its end unless its consumer retries it in place (then
    /// its one end is when the consumer lets it go). Returns whether it
    /// failed, or `None` while it is retried in place.
    #[inline(always)]
    pub(super) fn end_or_retry_in_place(&mut self, q: usize, copy: CopyId) -> Option<bool> {
        let failed = self.attempt_fails(q);
        if failed && self.retry_in_place(q, copy) {
            return None;
        }
        self.record_end(q, copy);
        Some(failed)
    }

    /// Retry, dead-letter or forward a copy whose attempt has ended.
    pub(super) fn after_attempt(&mut self, q: usize, copy: CopyId, failed: bool) {
        if self.draining_subscribers > 0 {
            self.reconnect_when_drained(q);
        }
        if failed {
            self.fail(q, copy);
        } else {
            self.nodes[q].succeeded += 1;
            self.forward(q, copy);
        }
    }

    pub(super) fn service_end(&mut self, copy: CopyId) {
        let q = self.store.copies.get(copy).queue as usize;
        if self.has_crashes && self.crashing_service_end(q, copy) {
            return;
        }
        let Some(failed) = self.end_or_retry_in_place(q, copy) else {
            return;
        };
        if !self.hand_over(q) {
            self.release(q, 1);
            self.try_start(q);
        }
        self.after_attempt(q, copy, failed);
    }

    /// The server that just finished at `q` takes `q`'s next waiting copy
    /// at once, when `q` alone feeds its pool and serves one at a time.
    /// The server never goes idle: its counts are lowered only for
    /// [`Self::occupy`] to raise them again, and the momentary drop is not
    /// recorded (it lasts no time, so the averages are unchanged).
    /// Returns whether it did.
    #[inline]
    fn hand_over(&mut self, q: usize) -> bool {
        let state = &self.queues[q];
        if !state.hands_over || state.outages > 0 || self.consumers_of(q).batch.is_some() {
            return false;
        }
        let pool = state.pool;
        let Some(next) = self.pop_ready(q) else {
            return false;
        };
        self.update_in_queue(q);
        self.pool_busy[pool] -= 1;
        self.queues[q].in_service -= 1;
        self.queues[q].busy_servers -= 1;
        self.start_service(q, next);
        true
    }

    pub(super) fn batch_end(&mut self, batch: u32) {
        let copies = std::mem::take(self.batches.get_mut(batch));
        self.batches.remove(batch);
        let q = self.store.copies.get(copies[0]).queue as usize;
        self.release(q, copies.len());
        let failed: Vec<bool> = copies.iter().map(|&c| self.end_attempt(q, c)).collect();
        self.try_start(q);
        for (copy, failed) in copies.into_iter().zip(failed) {
            self.after_attempt(q, copy, failed);
        }
    }

    /// A failed attempt: retry after the backoff, or dead-letter after the last one.
    fn fail(&mut self, q: usize, copy: CopyId) {
        let queue = &self.model.queues[q];
        let retry = &self.consumers_of(q).retry;
        let failures = {
            let c = self.store.copies.get_mut(copy);
            c.failures += 1;
            c.failures
        };
        if retry.max_attempts.is_some_and(|max| failures >= max) {
            self.nodes[q].dead_lettered_rejected += 1;
            self.lose(copy, queue.dead_letter);
            return;
        }
        self.nodes[q].retries += 1;
        let delay_s = self.backoff_delay_s(q, failures);
        self.calendar
            .schedule(self.now_s + delay_s, Event::Republish(copy));
    }

    /// The delay before the retry that follows the `failures`-th failure
    /// at `q`, jittered.
    fn backoff_delay_s(&mut self, q: usize, failures: u32) -> f64 {
        let retry = &self.consumers_of(q).retry;
        let delay_s = retry.backoff.delay_s(failures);
        if retry.jitter == 0.0 {
            return delay_s;
        }
        let u: f64 = self.queues[q].backoff_rng.random();
        delay_s * (1.0 + retry.jitter * (2.0 * u - 1.0))
    }

    /// A consumer that retries in place keeps the failed `copy` and tries
    /// it again after the backoff, busy meanwhile, while attempts remain.
    /// Returns whether it does.
    fn retry_in_place(&mut self, q: usize, copy: CopyId) -> bool {
        let retry = &self.consumers_of(q).retry;
        let failures = self.store.copies.get(copy).failures + 1;
        if !retry.in_place || retry.max_attempts.is_some_and(|max| failures >= max) {
            return false;
        }
        self.store.copies.get_mut(copy).failures = failures;
        self.nodes[q].retries += 1;
        let delay_s = self.backoff_delay_s(q, failures);
        (self.calendar).schedule(self.now_s + delay_s, Event::RetryInPlace(copy));
        true
    }

    /// The backoff of an in-place retry is over: the consumer attempts
    /// `copy` again.
    pub(super) fn attempt_again(&mut self, copy: CopyId) {
        let q = self.queue_of(copy);
        let consumers = self.consumers_of(q);
        let size_bytes = self.store.copies.get(copy).size_bytes;
        let service_s = consumers.service.sample(&mut self.queues[q].service_rng)
            + consumers.service_per_byte_s * size_bytes;
        let end = match consumers.poll {
            None => Event::ServiceEnd(copy),
            Some(_) => Event::PolledEnd(copy),
        };
        self.calendar.schedule(self.now_s + service_s, end);
    }

    /// A successfully processed copy goes on along `next`, or is delivered.
    fn forward(&mut self, q: usize, copy: CopyId) {
        let next = &self.consumers_of(q).next;
        if next.is_empty() {
            self.deliver(copy);
            return;
        }
        self.store.copies.get_mut(copy).failures = 0;
        let route = self.queues[q].next_route.choose();
        self.send(next[route].to, copy);
    }

    /// When `copy`, waiting at queue `q`, expires: `ttl` after it
    /// entered, the smaller of the queue's and its own message TTL.
    fn expiry_of(&self, q: usize, copy: CopyId) -> f64 {
        let c = self.store.copies.get(copy);
        let queue_ttl_s = self.model.queues[q].ttl_s.unwrap_or(f64::INFINITY);
        let message_ttl_s = if self.message_ttls && c.origin != ORPHAN {
            self.store.origins.get(c.origin).ttl_s
        } else {
            f64::INFINITY
        };
        c.entered_s + queue_ttl_s.min(message_ttl_s)
    }

    /// The earliest expiry among the heads of queue `q`'s lanes: only a
    /// message at the head expires (RabbitMQ's rule; for a FIFO queue
    /// with a queue TTL alone, the head is the oldest message).
    fn next_expiry_s(&self, q: usize) -> Option<f64> {
        (self.queues[q].buffer.oldest())
            .map(|id| self.expiry_of(q, id))
            .filter(|at_s| at_s.is_finite())
            .min_by(f64::total_cmp)
    }

    /// Schedules an expiry check of queue `q` at its next expiry, unless
    /// one is due no later.
    fn arm_expiry(&mut self, q: usize) {
        if let Some(at_s) = self.next_expiry_s(q)
            && at_s < self.queues[q].expiry_at_s
        {
            self.queues[q].expiry_at_s = at_s;
            self.calendar.schedule(at_s, Event::Expiry(q as u32));
        }
    }

    pub(super) fn expire(&mut self, q: usize) {
        if self.now_s >= self.queues[q].expiry_at_s {
            self.queues[q].expiry_at_s = f64::INFINITY;
        }
        self.expire_heads(q);
        self.arm_expiry(q);
    }

    /// Expires the heads of queue `q` whose time has come, until none has.
    fn expire_heads(&mut self, q: usize) {
        loop {
            let expired =
                (self.queues[q].buffer.oldest()).find(|&id| self.expiry_of(q, id) <= self.now_s);
            let Some(id) = expired else { break };
            self.queues[q].buffer.remove_oldest(id);
            self.untrack_bytes(q, id);
            self.nodes[q].expired += 1;
            let dead_letter = self.model.queues[q].dead_letter;
            if dead_letter.is_some() {
                self.nodes[q].dead_lettered_expired += 1;
            }
            self.update_in_queue(q);
            self.lose(id, dead_letter);
        }
    }

    #[inline]
    pub(super) fn update_in_queue(&mut self, q: usize) {
        let len = self.queues[q].buffer.len() as f64;
        self.nodes[q].in_queue.set(self.now_s, len);
        if self.queues[q].watched {
            self.watch_queue(q);
        }
    }
}
