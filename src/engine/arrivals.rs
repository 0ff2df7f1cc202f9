//! When producers publish: renewal gaps, on/off bursts, piecewise rates,
//! replayed traces, and the keys and routing keys messages carry.

use rand::RngExt;
use rand_distr::{Exp1, Zipf};

use super::rng::{StreamKind, StreamRng, stream};
use crate::model::{Arrivals, Keys, Model, NO_ROUTING_KEY, Producer, RoutingKeyId};

/// An exponential gap with the given rate, in seconds.
#[inline]
fn exponential_gap(rng: &mut StreamRng, rate_per_s: f64) -> f64 {
    let unit: f64 = rng.sample(Exp1);
    unit / rate_per_s
}

/// The arrival processes of every producer of `model` in replication
/// `replication`, each on its own streams.
pub fn producer_processes(model: &Model, replication: u32) -> Vec<ArrivalProcess> {
    let seed = model.simulation.seed;
    let rng = |kind, index| stream(seed, replication, kind, index);
    (model.producers.iter().enumerate())
        .map(|(i, p)| {
            ArrivalProcess::new(
                &p.arrivals,
                p.keys,
                rng(StreamKind::Interarrival, i),
                rng(StreamKind::Key, i),
            )
        })
        .collect()
}

/// The state of one producer's arrival process.
pub struct ArrivalProcess {
    rng: StreamRng,
    /// On/off: whether the current phase is on.
    on: bool,
    /// On/off: end of the current phase, seconds.
    phase_end_s: f64,
    /// Trace: index of the next timestamp.
    next_index: usize,
    key_rng: StreamRng,
    keys: Option<Zipf<f64>>,
}

impl ArrivalProcess {
    /// A process starting at time 0; an on/off process starts in its
    /// stationary phase.
    pub fn new(
        arrivals: &Arrivals,
        keys: Option<Keys>,
        mut rng: StreamRng,
        key_rng: StreamRng,
    ) -> Self {
        let (on, phase_end_s) = match *arrivals {
            Arrivals::OnOff {
                on_mean_s,
                off_mean_s,
                ..
            } => {
                let on = rng.random::<f64>() < on_mean_s / (on_mean_s + off_mean_s);
                let mean = if on { on_mean_s } else { off_mean_s };
                (on, exponential_gap(&mut rng, 1.0 / mean))
            }
            _ => (false, f64::INFINITY),
        };
        let keys = keys.map(|k| {
            Zipf::new(k.count as f64, k.skew)
                .expect("validated key counts and skews are valid Zipf parameters")
        });
        Self {
            rng,
            on,
            phase_end_s,
            next_index: 0,
            key_rng,
            keys,
        }
    }

    /// Time of the next publication after `now_s`, or `None` when the
    /// producer has nothing more to publish.
    ///
    /// Renewal gaps, drawn once per message, are drawn inline; the other
    /// processes behind a call.
    #[inline]
    pub fn next_after(&mut self, arrivals: &Arrivals, now_s: f64) -> Option<f64> {
        match arrivals {
            Arrivals::Renewal(dist) => Some(now_s + dist.sample(&mut self.rng)),
            _ => self.next_after_any(arrivals, now_s),
        }
    }

    /// [`Self::next_after`] behind a call, for any process.
    #[inline(never)]
    fn next_after_any(&mut self, arrivals: &Arrivals, now_s: f64) -> Option<f64> {
        match arrivals {
            Arrivals::Renewal(dist) => Some(now_s + dist.sample(&mut self.rng)),
            Arrivals::OnOff {
                on_mean_s,
                off_mean_s,
                rate_on_per_s,
                rate_off_per_s,
            } => {
                let mut t = now_s;
                loop {
                    let rate = if self.on {
                        *rate_on_per_s
                    } else {
                        *rate_off_per_s
                    };
                    if rate > 0.0 {
                        let next = t + exponential_gap(&mut self.rng, rate);
                        if next < self.phase_end_s {
                            return Some(next);
                        }
                    }
                    t = self.phase_end_s;
                    self.on = !self.on;
                    let mean = if self.on { *on_mean_s } else { *off_mean_s };
                    self.phase_end_s = t + exponential_gap(&mut self.rng, 1.0 / mean);
                }
            }
            Arrivals::Piecewise {
                times_s,
                rates_per_s,
            } => {
                let mut t = now_s;
                loop {
                    let segment = times_s.partition_point(|&start| start <= t);
                    let rate = segment.checked_sub(1).map_or(0.0, |i| rates_per_s[i]);
                    let end = times_s.get(segment).copied().unwrap_or(f64::INFINITY);
                    if rate > 0.0 {
                        let next = t + exponential_gap(&mut self.rng, rate);
                        if next < end {
                            return Some(next);
                        }
                    }
                    if end.is_infinite() {
                        return None;
                    }
                    t = end;
                }
            }
            Arrivals::Trace { times_s } => {
                let next = times_s.get(self.next_index).copied();
                self.next_index += 1;
                next
            }
        }
    }

    /// Whether the producer's messages carry keys.
    pub fn draws_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// Key of the next message (1-based), or 0 for a producer without keys.
    #[inline]
    pub fn next_key(&mut self) -> u64 {
        match &self.keys {
            Some(zipf) => self.key_rng.sample(zipf) as u64,
            None => 0,
        }
    }
}

/// The routing key of each message of one producer: drawn by weight, one
/// uniform draw of its own stream per message; a producer with one key
/// (or none) draws nothing.
pub struct RoutingKeyChoice {
    ids: Vec<RoutingKeyId>,
    /// Cumulative weights.
    cumulative: Vec<f64>,
    rng: StreamRng,
}

impl RoutingKeyChoice {
    /// The routing keys of `producer` in replication `replication` of `model`,
    /// number `index` among the producers.
    pub fn new(model: &Model, replication: u32, index: usize, producer: &Producer) -> Self {
        let seed = model.simulation.seed;
        let cumulative = (producer.routing_keys.iter())
            .scan(0.0, |sum, &(_, weight)| {
                *sum += weight;
                Some(*sum)
            })
            .collect();
        Self {
            ids: producer.routing_keys.iter().map(|&(id, _)| id).collect(),
            cumulative,
            rng: stream(seed, replication, StreamKind::RoutingKey, index),
        }
    }

    /// Routing key of the next message.
    #[inline]
    pub fn next_key(&mut self) -> RoutingKeyId {
        match self.ids.as_slice() {
            [] => NO_ROUTING_KEY,
            [only] => *only,
            ids => {
                let total = self.cumulative.last().copied().unwrap_or(1.0);
                let target = self.rng.random::<f64>() * total;
                let i = (self.cumulative.iter())
                    .position(|&c| target < c)
                    .unwrap_or(ids.len() - 1);
                ids[i]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{StreamKind, stream};

    fn process(arrivals: &Arrivals) -> ArrivalProcess {
        ArrivalProcess::new(
            arrivals,
            None,
            stream(1, 0, StreamKind::Interarrival, 0),
            stream(1, 0, StreamKind::Key, 0),
        )
    }

    fn count_until(arrivals: &Arrivals, horizon_s: f64) -> usize {
        let mut p = process(arrivals);
        let mut now = 0.0;
        let mut n = 0;
        while let Some(t) = p.next_after(arrivals, now) {
            if t > horizon_s {
                break;
            }
            now = t;
            n += 1;
        }
        n
    }

    #[test]
    fn piecewise_rates_give_the_expected_counts() {
        let arrivals = Arrivals::Piecewise {
            times_s: vec![0.0, 100.0],
            rates_per_s: vec![10.0, 100.0],
        };
        // 1000 expected in the first segment and 10000 in the second:
        // Poisson counts, so 4 standard deviations is about 4 * sqrt(11000).
        let n = count_until(&arrivals, 200.0) as f64;
        assert!((n - 11_000.0).abs() < 4.0 * 11_000f64.sqrt(), "{n}");
    }

    #[test]
    fn piecewise_rate_is_zero_before_the_first_time() {
        let arrivals = Arrivals::Piecewise {
            times_s: vec![50.0],
            rates_per_s: vec![10.0],
        };
        let first = process(&arrivals).next_after(&arrivals, 0.0).unwrap();
        assert!(first >= 50.0);
    }

    #[test]
    fn on_off_long_run_rate_is_the_phase_average() {
        let arrivals = Arrivals::OnOff {
            on_mean_s: 1.0,
            off_mean_s: 3.0,
            rate_on_per_s: 100.0,
            rate_off_per_s: 0.0,
        };
        let n = count_until(&arrivals, 20_000.0) as f64;
        let expected = arrivals.mean_rate_per_s(20_000.0) * 20_000.0;
        assert_eq!(expected, 500_000.0);
        // The count of an MMPP has variance far above Poisson's; 3% is
        // several standard deviations over 5000 on/off cycles.
        assert!((n - expected).abs() / expected < 0.03, "{n}");
    }

    #[test]
    fn trace_replays_its_times_and_stops() {
        let arrivals = Arrivals::Trace {
            times_s: vec![0.5, 1.0, 4.0].into(),
        };
        let mut p = process(&arrivals);
        let times: Vec<f64> = std::iter::from_fn(|| p.next_after(&arrivals, 0.0)).collect();
        assert_eq!(times, [0.5, 1.0, 4.0]);
    }
}
