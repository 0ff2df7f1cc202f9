//! Consumers that crash and restart (`crash = { mtbf, restart }`): each
//! consumer of such a pool fails after an exponential time from its
//! (re)start, busy or idle, and stays down for a `restart` time. The
//! message it was processing is unacknowledged, so the broker puts it
//! back at the head of its queue and delivers it again (`redelivered`);
//! the work done on it is lost. Its pending service end then finds a
//! *zombie*: a copy that no longer belongs to any message.
//!
//! A down consumer counts as a busy server of its pool, so that the
//! pool's free-server checks need no change; it does not count in its
//! queue's `in_service` or utilization.

use rand::RngExt;

use super::buffer::CopyId;
use super::store::ORPHAN;
use super::{Event, Simulation};
use crate::engine::rng::StreamRng;

/// The `consumer` of a copy whose consumer crashed while processing it.
pub const ZOMBIE: u32 = u32::MAX;

/// One consumer of a crashing pool.
#[derive(Debug, Clone, Default)]
struct Member {
    up: bool,
    /// The copy it is processing.
    serving: Option<CopyId>,
    /// When it went down, while it is down.
    down_since_s: f64,
}

/// The consumers of one pool that crash.
#[derive(Debug)]
pub struct CrashState {
    members: Vec<Member>,
    rng: StreamRng,
    /// Index of this pool's first consumer among every crashing one.
    first: u32,
}

impl CrashState {
    /// `count` consumers, all up, numbered from `first` among every
    /// crashing consumer of the model.
    pub fn new(count: u32, first: u32, rng: StreamRng) -> Self {
        let up = Member {
            up: true,
            ..Member::default()
        };
        Self {
            members: vec![up; count as usize],
            rng,
            first,
        }
    }

    /// How many consumers it has.
    pub fn len(&self) -> u32 {
        self.members.len() as u32
    }

    /// How many of them are down.
    pub fn down(&self) -> u32 {
        self.members.iter().filter(|m| !m.up).count() as u32
    }
}

impl<'m> Simulation<'m> {
    fn crash_state(&mut self, pool: usize) -> &mut CrashState {
        self.crashes[pool]
            .as_deref_mut()
            .expect("only crashing pools have members")
    }

    /// When a consumer of `pool` that is up now fails next.
    fn next_failure_s(&mut self, pool: usize) -> f64 {
        let q = self.model.pools[pool].queues[0];
        let mtbf_s = self
            .consumers_of(q)
            .crash
            .as_ref()
            .map_or(0.0, |c| c.mtbf_s);
        let u: f64 = self.crash_state(pool).rng.random();
        self.now_s - mtbf_s * (1.0 - u).ln()
    }

    /// Schedules every crashing consumer's first failure.
    pub(super) fn schedule_first_failures(&mut self) {
        for pool in 0..self.crashes.len() {
            let Some(state) = &self.crashes[pool] else {
                continue;
            };
            let (first, count) = (state.first, state.len());
            for k in 0..count {
                let at_s = self.next_failure_s(pool);
                self.calendar.schedule(at_s, Event::Crash(first + k));
            }
        }
    }

    /// Crashing consumer number `global`: its pool and its index there.
    fn member_of(&self, global: u32) -> (usize, usize) {
        let (pool, state) = (self.crashes.iter().enumerate())
            .filter_map(|(p, s)| s.as_deref().map(|s| (p, s)))
            .rfind(|(_, s)| s.first <= global)
            .expect("every crashing consumer belongs to a pool");
        (pool, (global - state.first) as usize)
    }

    /// `copy` starts at queue `q`: at a free consumer that is up, where
    /// its pool's consumers crash.
    pub(super) fn assign_member(&mut self, q: usize, copy: CopyId) {
        let pool = self.queues[q].pool;
        if self.crashes[pool].is_none() {
            return;
        }
        let state = self.crash_state(pool);
        let k = (state.members.iter())
            .position(|m| m.up && m.serving.is_none())
            .expect("a free server of a crashing pool is a consumer that is up and idle");
        state.members[k].serving = Some(copy);
        self.store.copies.get_mut(copy).consumer = k as u32;
    }

    /// A service end at queue `q`: where its pool's consumers crash, frees
    /// the consumer; returns whether the copy is a zombie, now discarded,
    /// which nothing follows.
    pub(super) fn crashing_service_end(&mut self, q: usize, copy: CopyId) -> bool {
        let pool = self.queues[q].pool;
        if self.crashes[pool].is_none() {
            return false;
        }
        let k = self.store.copies.get(copy).consumer;
        if k == ZOMBIE {
            self.store.copies.remove(copy);
            return true;
        }
        self.crash_state(pool).members[k as usize].serving = None;
        false
    }

    /// Consumer `global` fails: what it was processing is redelivered at
    /// the head of its queue; it restarts after its `restart` time.
    pub(super) fn crash(&mut self, global: u32) {
        let (pool, k) = self.member_of(global);
        let now_s = self.now_s;
        let member = &mut self.crash_state(pool).members[k];
        member.up = false;
        member.down_since_s = now_s;
        match member.serving.take() {
            Some(copy) => self.redeliver(copy),
            None => self.pool_busy[pool] += 1,
        }
        let q = self.model.pools[pool].queues[0];
        let restart = &self
            .consumers_of(q)
            .crash
            .as_ref()
            .expect("a crash policy")
            .restart;
        let restart_s = restart.sample(&mut self.crash_state(pool).rng);
        (self.calendar).schedule(now_s + restart_s, Event::Restart(global));
    }

    /// The copy a crashed consumer was processing goes back to the head of
    /// its queue as a new copy; the old one becomes a zombie. The crashed
    /// consumer's server stays taken (it is down).
    fn redeliver(&mut self, copy: CopyId) {
        let (q, class, failures, origin) = {
            let c = self.store.copies.get(copy);
            (c.queue as usize, c.class as usize, c.failures, c.origin)
        };
        let again = self.store.duplicate(copy);
        self.store.copies.get_mut(again).failures = failures;
        if origin != ORPHAN {
            let o = self.store.origins.get_mut(origin);
            o.outstanding -= 1;
            if o.measured {
                self.outcomes.redelivered += 1;
            }
        }
        let zombie = self.store.copies.get_mut(copy);
        zombie.origin = ORPHAN;
        zombie.consumer = ZOMBIE;
        self.release(q, 1);
        self.pool_busy[self.queues[q].pool] += 1;
        self.queues[q].buffer.push_next(again, class);
        self.update_in_queue(q);
    }

    /// Consumer `global` is back: it takes waiting work and fails again
    /// after an exponential time.
    pub(super) fn restart(&mut self, global: u32) {
        let (pool, k) = self.member_of(global);
        let down_since_s = self.crash_state(pool).members[k].down_since_s;
        self.count_down_time(down_since_s, self.now_s);
        self.crash_state(pool).members[k].up = true;
        self.pool_busy[pool] -= 1;
        let at_s = self.next_failure_s(pool);
        self.calendar.schedule(at_s, Event::Crash(global));
        self.try_start(self.model.pools[pool].queues[0]);
    }

    /// Adds the measured part of a consumer's time down, `from_s` to `to_s`.
    fn count_down_time(&mut self, from_s: f64, to_s: f64) {
        let overlap_s = to_s.min(self.end_s) - from_s.max(self.warmup_s);
        if overlap_s > 0.0 {
            self.outcomes.consumer_down_s += overlap_s;
        }
    }

    /// At the end of the run: the consumers still down count until then.
    pub(super) fn count_consumers_still_down(&mut self) {
        let down: Vec<f64> = (self.crashes.iter().flatten())
            .flat_map(|s| s.members.iter().filter(|m| !m.up).map(|m| m.down_since_s))
            .collect();
        for since_s in down {
            self.count_down_time(since_s, self.end_s);
        }
    }
}
