//! Service-level objectives: `p99_latency<=0.2`, `orders.mean_wait<=0.05`.
//!
//! An SLO bounds one metric (a summary metric or `node.metric`, see
//! [`super::metrics`]) from above (`<=`, `<`) or below (`>=`, `>`). Against
//! a simulated estimate it is decided only when the whole 95% confidence
//! interval lies on one side of the threshold.

use std::fmt;

use crate::stats::Estimate;

/// Which side of the threshold is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The metric must not exceed the threshold (`<=` or `<`).
    AtMost,
    /// The metric must reach the threshold (`>=` or `>`).
    AtLeast,
}

/// One objective on one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Metric name.
    pub metric: String,
    /// Direction of the bound.
    pub bound: Bound,
    /// Threshold, in the metric's unit (seconds for times).
    pub threshold: f64,
}

/// What an estimate says about an SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The whole confidence interval meets the objective.
    Met,
    /// The whole confidence interval misses it (or the metric is undefined).
    Missed,
    /// The interval straddles the threshold.
    Unclear,
}

/// An SLO that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SloError {
    /// Not of the form `metric<=number`.
    #[error("bad SLO `{text}`: expected METRIC<=NUMBER or METRIC>=NUMBER, for example p99_latency<=0.2; metrics: {}", .valid.join(", "))]
    Syntax {
        /// The SLO as given.
        text: String,
        /// The metrics of the scenario.
        valid: Vec<String>,
    },
    /// The metric does not exist in the scenario.
    #[error("bad SLO `{text}`: unknown metric `{metric}`; metrics: {}", .valid.join(", "))]
    UnknownMetric {
        /// The SLO as given.
        text: String,
        /// The metric named in it.
        metric: String,
        /// The metrics of the scenario.
        valid: Vec<String>,
    },
}

impl Slo {
    /// Reads `text` (`metric<=number`), accepting only metrics in `valid`.
    ///
    /// # Errors
    ///
    /// [`SloError`] listing the valid metrics.
    pub fn parse(text: &str, valid: &[String]) -> Result<Self, SloError> {
        let syntax = || SloError::Syntax {
            text: text.to_owned(),
            valid: valid.to_vec(),
        };
        let (metric, bound, threshold) = [
            ("<=", Bound::AtMost),
            (">=", Bound::AtLeast),
            ("<", Bound::AtMost),
            (">", Bound::AtLeast),
        ]
        .iter()
        .find_map(|(op, bound)| {
            text.split_once(op)
                .map(|(metric, number)| (metric.trim(), *bound, number.trim()))
        })
        .ok_or_else(syntax)?;
        let threshold: f64 = threshold
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or_else(syntax)?;
        if metric.is_empty() {
            return Err(syntax());
        }
        if !valid.iter().any(|v| v == metric) {
            return Err(SloError::UnknownMetric {
                text: text.to_owned(),
                metric: metric.to_owned(),
                valid: valid.to_vec(),
            });
        }
        Ok(Slo {
            metric: metric.to_owned(),
            bound,
            threshold,
        })
    }

    /// Whether a value (for example a theoretical one) meets the objective.
    pub fn holds(&self, value: f64) -> bool {
        match self.bound {
            Bound::AtMost => value <= self.threshold,
            Bound::AtLeast => value >= self.threshold,
        }
    }

    /// Decides the objective from a mean and its 95% CI half-width.
    pub fn decide(&self, estimate: Estimate) -> Decision {
        if estimate.mean.is_nan() {
            return Decision::Missed;
        }
        if estimate.ci95.is_nan() {
            return Decision::Unclear;
        }
        let (low, high) = (estimate.mean - estimate.ci95, estimate.mean + estimate.ci95);
        let (worst, best) = match self.bound {
            Bound::AtMost => (high, low),
            Bound::AtLeast => (low, high),
        };
        if self.holds(worst) {
            Decision::Met
        } else if !self.holds(best) {
            Decision::Missed
        } else {
            Decision::Unclear
        }
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.bound {
            Bound::AtMost => "<=",
            Bound::AtLeast => ">=",
        };
        write!(f, "{}{op}{}", self.metric, self.threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Vec<String> {
        ["p99_latency", "success_ratio", "orders.mean_wait"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn parses_summary_and_node_metrics() {
        let slo = Slo::parse("p99_latency<=0.2", &valid()).unwrap();
        assert_eq!(slo.bound, Bound::AtMost);
        assert_eq!(slo.threshold, 0.2);
        let slo = Slo::parse(" orders.mean_wait < 5e-2 ", &valid()).unwrap();
        assert_eq!(slo.metric, "orders.mean_wait");
        let slo = Slo::parse("success_ratio>=0.999", &valid()).unwrap();
        assert_eq!(slo.to_string(), "success_ratio>=0.999");
    }

    #[test]
    fn errors_list_the_valid_metrics() {
        for text in [
            "p99_latency=0.2",
            "p99_latency<=fast",
            "<=1",
            "p99_latency<=inf",
        ] {
            let err = Slo::parse(text, &valid()).unwrap_err().to_string();
            assert!(err.contains("expected METRIC<=NUMBER"), "{text}: {err}");
            assert!(err.contains("orders.mean_wait"), "{err}");
        }
        let err = Slo::parse("p98_latency<=1", &valid())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown metric `p98_latency`"), "{err}");
    }

    #[test]
    fn decisions_need_the_whole_interval_on_one_side() {
        let slo = Slo::parse("p99_latency<=1", &valid()).unwrap();
        let e = |mean, ci95| Estimate { mean, ci95 };
        assert_eq!(slo.decide(e(0.8, 0.1)), Decision::Met);
        assert_eq!(slo.decide(e(1.2, 0.1)), Decision::Missed);
        assert_eq!(slo.decide(e(0.95, 0.1)), Decision::Unclear);
        assert_eq!(slo.decide(e(0.5, f64::NAN)), Decision::Unclear);
        assert_eq!(slo.decide(e(f64::NAN, f64::NAN)), Decision::Missed);
        let floor = Slo::parse("success_ratio>=0.999", &valid()).unwrap();
        assert_eq!(floor.decide(e(1.0, 0.0)), Decision::Met);
    }
}
