//! Producers' arrival processes: the Poisson `rate` shorthand, renewal
//! `interarrival` distributions, on/off and piecewise `pattern`s, trace
//! replay, and message `keys`.

use std::path::Path;
use std::sync::Arc;

use super::error::ErrorKind;
use super::raw::{RawKeys, RawPattern, RawProducer};
use super::validate::Validator;
use crate::dist::Dist;
use crate::model::{Arrivals, Keys};
use crate::units::QuantityKind;

type Result<T> = std::result::Result<T, super::ScenarioError>;

impl Validator<'_> {
    /// Exactly one of `rate`, `interarrival`, `pattern` or `trace`.
    pub(super) fn arrivals(&self, key: &str, p: &RawProducer) -> Result<Arrivals> {
        let given: Vec<&str> = [
            ("rate", p.rate.is_some()),
            ("interarrival", p.interarrival.is_some()),
            ("pattern", p.pattern.is_some()),
            ("trace", p.trace.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| *name)
        .collect();
        if given.len() > 1 {
            return Err(self.invalid(
                &format!("{key}.{}", given[1]),
                format!(
                    "set only one of `rate`, `interarrival`, `pattern` or `trace` (got {})",
                    given.join(" and ")
                ),
            ));
        }
        if let Some(rate) = &p.rate {
            let rate_key = format!("{key}.rate");
            let rate = self.quantity(&rate_key, rate, QuantityKind::Rate, true)?;
            let dist =
                Dist::exponential_rate(rate).map_err(|e| self.invalid(&rate_key, e.to_string()))?;
            return Ok(Arrivals::Renewal(dist));
        }
        if let Some(spec) = &p.interarrival {
            let dist = self.dist(&format!("{key}.interarrival"), spec, QuantityKind::Duration)?;
            return Ok(Arrivals::Renewal(dist));
        }
        if let Some(pattern) = &p.pattern {
            return self.pattern(&format!("{key}.pattern"), pattern);
        }
        if let Some(file) = &p.trace {
            return self.trace(&format!("{key}.trace"), file);
        }
        let hint = "; add `rate = 100` (Poisson, per second), `interarrival = { dist = \"...\", \
                    mean = ... }`, a `pattern` or a `trace`";
        Err(self.src.error(
            key,
            ErrorKind::MissingKey {
                key: "rate".into(),
                hint: hint.into(),
            },
        ))
    }

    fn pattern(&self, key: &str, pattern: &RawPattern) -> Result<Arrivals> {
        match pattern {
            RawPattern::Onoff {
                on,
                off,
                rate_on,
                rate_off,
            } => {
                let time = |name: &str, q| {
                    self.quantity(&format!("{key}.{name}"), q, QuantityKind::Duration, true)
                };
                let rate = |name: &str, q| {
                    self.quantity(&format!("{key}.{name}"), q, QuantityKind::Rate, false)
                };
                let rate_on_per_s = rate("rate_on", rate_on)?;
                let rate_off_per_s = rate_off.as_ref().map_or(Ok(0.0), |q| rate("rate_off", q))?;
                if rate_on_per_s + rate_off_per_s == 0.0 {
                    return Err(self.invalid(key, "publishes nothing: give `rate_on` > 0"));
                }
                Ok(Arrivals::OnOff {
                    on_mean_s: time("on", on)?,
                    off_mean_s: time("off", off)?,
                    rate_on_per_s,
                    rate_off_per_s,
                })
            }
            RawPattern::Piecewise { times, rates } => {
                if times.is_empty() || times.len() != rates.len() {
                    return Err(self.invalid(
                        key,
                        format!(
                            "`times` and `rates` must be non-empty and of equal length (got {} \
                             and {})",
                            times.len(),
                            rates.len()
                        ),
                    ));
                }
                let times_s = times
                    .iter()
                    .map(|t| {
                        self.quantity(&format!("{key}.times"), t, QuantityKind::Duration, false)
                    })
                    .collect::<Result<Vec<f64>>>()?;
                if times_s.windows(2).any(|w| w[1] <= w[0]) {
                    return Err(self.invalid(
                        &format!("{key}.times"),
                        "must be strictly increasing, e.g. [0, 3600, 7200]",
                    ));
                }
                let rates_per_s = rates
                    .iter()
                    .map(|r| self.quantity(&format!("{key}.rates"), r, QuantityKind::Rate, false))
                    .collect::<Result<Vec<f64>>>()?;
                if rates_per_s.iter().all(|&r| r == 0.0) {
                    return Err(
                        self.invalid(&format!("{key}.rates"), "are all 0: nothing is published")
                    );
                }
                Ok(Arrivals::Piecewise {
                    times_s,
                    rates_per_s,
                })
            }
        }
    }

    fn trace(&self, key: &str, file: &str) -> Result<Arrivals> {
        let path = self.base_dir.join(file);
        let times_s = read_trace(&path).map_err(|message| self.invalid(key, message))?;
        Ok(Arrivals::Trace {
            times_s: Arc::from(times_s),
        })
    }

    pub(super) fn keys(&self, key: &str, k: &RawKeys) -> Result<Keys> {
        if k.count == 0 {
            return Err(self.invalid(&format!("{key}.count"), "must be at least 1"));
        }
        if k.count > 10_000_000 {
            return Err(self.invalid(
                &format!("{key}.count"),
                format!(
                    "at most 10000000 distinct keys are supported (got {})",
                    k.count
                ),
            ));
        }
        let skew = self.number(&format!("{key}.skew"), k.skew.unwrap_or(0.0), false)?;
        Ok(Keys {
            count: k.count,
            skew,
        })
    }
}

/// Reads the `time` column of a trace file: finite, non-negative, sorted.
fn read_trace(path: &Path) -> std::result::Result<Vec<f64>, String> {
    let shown = path.display();
    let input = crate::input::open(path, crate::input::MAX_INPUT_BYTES)
        .map_err(|e| format!("cannot read trace file {shown}: {e}"))?;
    let mut reader = csv::Reader::from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| format!("{shown}: {e}"))?
        .clone();
    let column = headers
        .iter()
        .position(|h| h.trim() == "time")
        .ok_or_else(|| {
            format!("{shown} has no `time` column: its first line must be a CSV header naming one")
        })?;
    let mut times = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("{shown}:{line}: {e}"))?;
        let cell = record.get(column).unwrap_or("").trim();
        let time: f64 = cell
            .parse()
            .map_err(|_| format!("{shown}:{line}: the `time` cell is not a time in seconds"))?;
        if !time.is_finite() || time < 0.0 {
            return Err(format!(
                "{shown}:{line}: time must be finite and >= 0 (got {time})"
            ));
        }
        if times.last().is_some_and(|&last| time < last) {
            return Err(format!(
                "{shown}:{line}: times must be sorted ({time} comes after a later time)"
            ));
        }
        times.push(time);
    }
    if times.is_empty() {
        return Err(format!("{shown} has no rows"));
    }
    Ok(times)
}
