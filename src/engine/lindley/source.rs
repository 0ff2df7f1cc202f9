//! A producer on the fast path: its next publication time, keys and sizes,
//! drawn in the order the event engine draws them.

use super::message::{Clock, Message, SOLE};
use crate::engine::arrivals::ArrivalProcess;
use crate::engine::outcomes::Outcomes;
use crate::engine::rng::StreamRng;
use crate::model::Producer;

/// A producer on the fast path.
pub(super) struct Source {
    pub(super) process: ArrivalProcess,
    pub(super) size_rng: StreamRng,
    /// When it publishes next (infinite once it has nothing more to publish).
    pub(super) next_s: f64,
}

impl Source {
    /// Whether the producer's messages have no deadline, key or size:
    /// nothing to draw or compute but the time.
    pub(super) fn publishes_plain(&self, producer: &Producer) -> bool {
        producer.deadline_s.is_none() && !self.process.draws_keys() && producer.size_bytes.is_none()
    }

    /// Publishes the next message of `producer` (due now) and draws when
    /// the one after is due; `PLAIN` as [`Self::publishes_plain`] says.
    #[inline(always)]
    pub(super) fn publish<const PLAIN: bool>(
        &mut self,
        producer: &Producer,
        clock: Clock,
        outcomes: &mut Outcomes,
    ) -> Message {
        let now_s = self.next_s;
        outcomes.events += 1;
        if clock.measured(now_s) {
            outcomes.produced += 1;
        }
        let message = if PLAIN {
            Message {
                at_s: now_s,
                created_s: now_s,
                due_s: f64::INFINITY,
                key: 0,
                size_bytes: 0.0,
                origin: SOLE,
            }
        } else {
            Message {
                at_s: now_s,
                created_s: now_s,
                due_s: now_s + producer.deadline_s.unwrap_or(f64::INFINITY),
                // Validation allows at most 10,000,000 distinct keys.
                key: self.process.next_key() as u32,
                size_bytes: (producer.size_bytes.as_ref())
                    .map_or(0.0, |size| size.sample(&mut self.size_rng)),
                origin: SOLE,
            }
        };
        self.next_s = (self.process.next_after(&producer.arrivals, now_s)).unwrap_or(f64::INFINITY);
        message
    }
}
