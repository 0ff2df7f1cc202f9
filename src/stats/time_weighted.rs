//! Time averages of piecewise-constant quantities such as a queue length.

/// Integral over time of a piecewise-constant level, with its maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeWeighted {
    level: f64,
    since_s: f64,
    start_s: f64,
    area: f64,
    max: f64,
}

impl TimeWeighted {
    /// A level of 0 observed from time `start_s`.
    pub fn new(start_s: f64) -> Self {
        Self {
            level: 0.0,
            since_s: start_s,
            start_s,
            area: 0.0,
            max: 0.0,
        }
    }

    /// Observations over `[start_s, end_s]` already integrated elsewhere:
    /// `area` under the level, the `level` at `end_s` and its `max`.
    pub fn from_area(start_s: f64, end_s: f64, area: f64, level: f64, max: f64) -> Self {
        Self {
            level,
            since_s: end_s,
            start_s,
            area,
            max,
        }
    }

    /// The level changes to `level` at time `now_s`.
    #[inline]
    pub fn set(&mut self, now_s: f64, level: f64) {
        self.area += self.level * (now_s - self.since_s);
        self.since_s = now_s;
        self.level = level;
        if level > self.max {
            self.max = level;
        }
    }

    /// Forgets the past: the average restarts at `now_s` from the current level.
    pub fn restart(&mut self, now_s: f64) {
        self.area = 0.0;
        self.since_s = now_s;
        self.start_s = now_s;
        self.max = self.level;
    }

    /// Current level.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// Time average from the (re)start to `now_s`; NaN over an empty interval.
    pub fn mean(&self, now_s: f64) -> f64 {
        let span = now_s - self.start_s;
        if span <= 0.0 {
            return f64::NAN;
        }
        (self.area + self.level * (now_s - self.since_s)) / span
    }

    /// Largest level since the (re)start.
    pub fn max(&self) -> f64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_weights_levels_by_duration() {
        let mut tw = TimeWeighted::new(0.0);
        tw.set(1.0, 2.0); // 0 during [0,1)
        tw.set(3.0, 1.0); // 2 during [1,3)
        assert!((tw.mean(4.0) - 5.0 / 4.0).abs() < 1e-12); // 1 during [3,4)
        assert_eq!(tw.max(), 2.0);
    }

    #[test]
    fn restart_discards_the_past_but_keeps_the_level() {
        let mut tw = TimeWeighted::new(0.0);
        tw.set(1.0, 5.0);
        tw.restart(2.0);
        assert!((tw.mean(4.0) - 5.0).abs() < 1e-12);
        assert_eq!(tw.max(), 5.0);
    }
}
