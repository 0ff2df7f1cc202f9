//! Queue lengths at the event engine's sampling instants, counted on the
//! fast path as differences and summed into rows at the end.

use crate::engine::observe::Sample;

/// Queue lengths at the sampling instants, as differences: an interval in
/// queue, in service or unacknowledged adds one from its first instant to
/// its last.
pub(super) struct SeriesCounts {
    pub(super) in_queue: Vec<i32>,
    pub(super) in_service: Vec<i32>,
    /// Empty where the unacknowledged messages are those in service (no
    /// prefetch window).
    pub(super) unacked: Vec<i32>,
    /// For a topic's partition: the oldest unprocessed record's arrival
    /// at each instant (NaN when there is none).
    pub(super) oldest: Option<OldestUnprocessed>,
}

/// When the oldest unprocessed record of a partition arrived, instant by
/// instant. A partition is served in arrival order, so a record is the
/// oldest at every instant it covers that no earlier record covered.
pub(super) struct OldestUnprocessed {
    arrival_s: Vec<f64>,
    /// Instants before this one have their oldest record.
    claimed: usize,
}

impl OldestUnprocessed {
    pub(super) fn new(instants: usize) -> Self {
        Self {
            arrival_s: vec![f64::NAN; instants],
            claimed: 0,
        }
    }

    /// A record that arrived at `arrival_s` was unprocessed at the
    /// instants `first..past`; records are noted in arrival order.
    pub(super) fn note(&mut self, arrival_s: f64, first: usize, past: usize) {
        let from = first.max(self.claimed);
        if from < past {
            self.arrival_s[from..past].fill(arrival_s);
            self.claimed = past;
        }
    }

    /// Its age at each instant of `times`, 0 where nothing was unprocessed.
    pub(super) fn ages_s(&self, times: &SampleTimes) -> Vec<f64> {
        (times.times_s.iter().zip(&self.arrival_s))
            .map(|(&t, &arrival_s)| {
                if arrival_s.is_nan() {
                    0.0
                } else {
                    t - arrival_s
                }
            })
            .collect()
    }
}

/// The sampling instants of the event engine, with index lookups.
pub(super) struct SampleTimes {
    pub(super) times_s: Vec<f64>,
    pub(super) every_s: f64,
}

impl SampleTimes {
    /// Instants 0, every, 2 every… up to `end_s`, summed as the event engine does.
    pub(super) fn new(every_s: f64, end_s: f64) -> Self {
        let mut times_s = vec![0.0];
        let mut t = 0.0;
        loop {
            t += every_s;
            if t > end_s {
                break;
            }
            times_s.push(t);
        }
        Self { times_s, every_s }
    }

    /// Index of the first instant at or after `t_s` (`len` when none).
    pub(super) fn first_at_or_after(&self, t_s: f64) -> usize {
        let len = self.times_s.len();
        let mut k = ((t_s / self.every_s).ceil().max(0.0) as usize).min(len);
        while k > 0 && self.times_s[k - 1] >= t_s {
            k -= 1;
        }
        while k < len && self.times_s[k] < t_s {
            k += 1;
        }
        k
    }

    /// [`Self::first_at_or_after`] for a `t_s` known to lie at or after
    /// instant `from`'s predecessor: a few steps forward, else a lookup.
    #[inline]
    pub(super) fn first_from(&self, from: usize, t_s: f64) -> usize {
        let len = self.times_s.len();
        let mut k = from;
        for _ in 0..4 {
            if k == len || self.times_s[k] >= t_s {
                return k;
            }
            k += 1;
        }
        self.first_at_or_after(t_s).max(k)
    }
}

/// Adds one to the instants `first..past` of `counts`.
#[inline]
pub(super) fn count_interval(counts: &mut [i32], first: usize, past: usize) {
    if first < past {
        counts[first] += 1;
        counts[past] -= 1;
    }
}

/// The partitions' lag ages in the order of their rows in [`samples`].
pub(super) fn lag_ages(times: &SampleTimes, series: &[SeriesCounts]) -> Vec<f64> {
    let per_partition: Vec<Vec<f64>> = (series.iter())
        .filter_map(|s| s.oldest.as_ref())
        .map(|o| o.ages_s(times))
        .collect();
    (0..times.times_s.len())
        .flat_map(|k| per_partition.iter().map(move |ages| ages[k]))
        .collect()
}

/// The queue-length rows, instant by instant, from the per-queue
/// differences; `consumers` per queue, which never change on the fast path.
pub(super) fn samples(
    times: &SampleTimes,
    series: &[SeriesCounts],
    consumers: &[u32],
) -> Vec<Sample> {
    let mut rows = Vec::with_capacity(times.times_s.len() * series.len());
    let mut levels = vec![(0i32, 0i32, 0i32); series.len()];
    for (k, &time_s) in times.times_s.iter().enumerate() {
        for (q, (counts, level)) in series.iter().zip(&mut levels).enumerate() {
            level.0 += counts.in_queue[k];
            level.1 += counts.in_service[k];
            let unacked = match counts.unacked.get(k) {
                Some(change) => {
                    level.2 += change;
                    level.2
                }
                None => level.1,
            };
            rows.push(Sample {
                time_s,
                queue: q as u32,
                in_queue: level.0 as u32,
                in_service: level.1 as u32,
                unacked: unacked as u32,
                consumers: consumers[q],
            });
        }
    }
    rows
}
