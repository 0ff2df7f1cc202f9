//! `KEY=RANGE` arguments of `sweep --set` and `plan --vary`.
//!
//! A RANGE is one of
//!
//! - `a..b`: the integers from `a` to `b`, **both included** (`1..4` is
//!   1, 2, 3, 4);
//! - `a..b:step`: `a`, `a + step`, … up to `b` included; integers when all
//!   three are integers, otherwise decimal numbers (`0.5..1:0.25`);
//! - `[v1,v2,...]`: the listed values in the order given, each read like a
//!   `--set` value (numbers, or strings such as `30s` or `fifo`).
//!
//! Anything else is a plain value: a fixed override, not an axis.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One swept key and its values, in order, as `--set` value texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted scenario key, as for `--set` (`queues.orders.consumers.count`).
    pub key: String,
    /// The values, as they are passed to `--set KEY=VALUE`.
    pub values: Vec<String>,
}

/// A `KEY=...` argument: either an axis to sweep or a fixed override.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// `KEY=RANGE`: a key taking several values.
    Axis(Axis),
    /// `KEY=VALUE`: an ordinary override, passed on unchanged.
    Fixed(String),
}

/// A `KEY=RANGE` argument that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "bad range `{arg}`: {reason}; write a..b (integers, both ends included), a..b:step or [v1,v2,...]"
)]
pub struct RangeError {
    /// The argument as given.
    pub arg: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Most points a single range may expand to (a guard against typos such as `1..1e9`).
pub const MAX_VALUES: usize = 100_000;

/// Reads a `KEY=RANGE` or `KEY=VALUE` argument.
///
/// # Errors
///
/// [`RangeError`] when `=` or the key is missing, or the value looks like a
/// range (`..` or `[`) but is malformed, empty, decreasing or too long.
pub fn parse_setting(arg: &str) -> Result<Setting, RangeError> {
    let bad = |reason: &str| RangeError {
        arg: arg.to_owned(),
        reason: reason.to_owned(),
    };
    let (key, value) = arg
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=RANGE"))?;
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err(bad("the KEY before `=` is empty"));
    }
    let values = if let Some(inner) = value.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| bad("a list must end with `]`"))?;
        list(inner).map_err(|r| bad(&r))?
    } else if value.contains("..") {
        span(value).map_err(|r| bad(&r))?
    } else {
        return Ok(Setting::Fixed(arg.to_owned()));
    };
    Ok(Setting::Axis(Axis {
        key: key.to_owned(),
        values,
    }))
}

/// Reads an argument that must be a range (`plan --vary`).
///
/// # Errors
///
/// As [`parse_setting`], and when the value is a single plain value.
pub fn parse_axis(arg: &str) -> Result<Axis, RangeError> {
    match parse_setting(arg)? {
        Setting::Axis(axis) => Ok(axis),
        Setting::Fixed(_) => Err(RangeError {
            arg: arg.to_owned(),
            reason: "expected several values, not one".to_owned(),
        }),
    }
}

fn list(inner: &str) -> Result<Vec<String>, String> {
    let values: Vec<String> = inner
        .split(',')
        .map(|v| v.trim().trim_matches('"').to_owned())
        .collect();
    if values.iter().any(String::is_empty) {
        return Err("the list is empty or has an empty element".to_owned());
    }
    Ok(values)
}

fn span(value: &str) -> Result<Vec<String>, String> {
    let (bounds, step) = match value.split_once(':') {
        Some((bounds, step)) => (bounds, Some(step.trim())),
        None => (value, None),
    };
    let (start, end) = bounds
        .split_once("..")
        .ok_or_else(|| "missing `..`".to_owned())?;
    let (start, end) = (start.trim(), end.trim());
    match (start.parse::<i64>(), end.parse::<i64>(), step) {
        (Ok(a), Ok(b), None) => integers(a, b, 1),
        (Ok(a), Ok(b), Some(s)) if s.parse::<i64>().is_ok() => {
            integers(a, b, s.parse().unwrap_or(1))
        }
        (_, _, None) => Err("a..b without a step needs integers".to_owned()),
        (_, _, Some(s)) => decimals(number(start)?, number(end)?, number(s)?),
    }
}

fn number(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))
}

fn check_order(increasing: bool, positive_step: bool, count: f64) -> Result<(), String> {
    if !positive_step {
        return Err("the step must be > 0".to_owned());
    }
    if !increasing {
        return Err("the end is below the start".to_owned());
    }
    if count > MAX_VALUES as f64 {
        return Err(format!("more than {MAX_VALUES} values"));
    }
    Ok(())
}

fn integers(start: i64, end: i64, step: i64) -> Result<Vec<String>, String> {
    check_order(
        end >= start,
        step > 0,
        (end as f64 - start as f64) / step.max(1) as f64,
    )?;
    let step = usize::try_from(step).map_err(|_| "the step is too large".to_owned())?;
    Ok((start..=end).step_by(step).map(|v| v.to_string()).collect())
}

fn decimals(start: f64, end: f64, step: f64) -> Result<Vec<String>, String> {
    check_order(end >= start, step > 0.0, (end - start) / step)?;
    // Values are computed as start + i * step (no accumulated error); the
    // tolerance keeps an end that is a whole number of steps away.
    let count = ((end - start) / step + 1e-9).floor() as usize;
    Ok((0..=count)
        .map(|i| Fixed(start + i as f64 * step).to_string())
        .collect())
}

/// A decimal printed without binary noise: `0.30000000000000004` as `0.3`.
struct Fixed(f64);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded: f64 = format!("{:.12}", self.0).parse().unwrap_or(self.0);
        write!(f, "{rounded}")
    }
}

/// Number of points of the grid of `axes` (the product of their lengths,
/// saturated): 1 for no axes.
pub fn grid_len(axes: &[Axis]) -> u128 {
    axes.iter()
        .fold(1u128, |n, a| n.saturating_mul(a.values.len() as u128))
}

/// The value index of each axis at point `index` of the grid of `axes`:
/// points are every combination, the first axis varying slowest, so the
/// indices are `index` written in the mixed radix of the axes' lengths.
/// Nothing is stored per point.
pub fn grid_point(axes: &[Axis], mut index: usize) -> Vec<usize> {
    let mut indices = vec![0; axes.len()];
    for (slot, axis) in indices.iter_mut().zip(axes).rev() {
        let len = axis.values.len().max(1);
        *slot = index % len;
        index /= len;
    }
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(arg: &str) -> Vec<String> {
        match parse_setting(arg).unwrap() {
            Setting::Axis(axis) => axis.values,
            Setting::Fixed(f) => panic!("fixed {f}"),
        }
    }

    #[test]
    fn integer_spans_include_both_ends() {
        assert_eq!(values("a=1..4"), ["1", "2", "3", "4"]);
        assert_eq!(values("a=2..10:4"), ["2", "6", "10"]);
        assert_eq!(values("a=3..3"), ["3"]);
        assert_eq!(values("a=-2..0"), ["-2", "-1", "0"]);
    }

    #[test]
    fn decimal_steps_have_no_binary_noise() {
        assert_eq!(
            values("a=0.1..0.5:0.1"),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        assert_eq!(values("a=1..2:0.4"), ["1", "1.4", "1.8"]);
    }

    #[test]
    fn lists_keep_their_order_and_text() {
        assert_eq!(values("a=[1,2,4,8]"), ["1", "2", "4", "8"]);
        assert_eq!(values("q.ttl=[ 30s, \"1m\" ]"), ["30s", "1m"]);
    }

    #[test]
    fn plain_values_are_fixed_overrides() {
        assert_eq!(
            parse_setting("simulation.duration=60").unwrap(),
            Setting::Fixed("simulation.duration=60".into())
        );
        assert!(parse_axis("simulation.duration=60").is_err());
    }

    #[test]
    fn malformed_ranges_say_why() {
        for (arg, reason) in [
            ("a=5..1", "below the start"),
            ("a=1..5:0", "step must be > 0"),
            ("a=1..5:-1", "step must be > 0"),
            ("a=0.5..2", "needs integers"),
            ("a=x..2:1", "`x` is not a number"),
            ("a=[1,2", "must end with `]`"),
            ("a=[]", "empty"),
            ("a=1..1000000000", "more than"),
            ("=1..2", "KEY"),
            ("a", "expected KEY=RANGE"),
        ] {
            let err = parse_setting(arg).unwrap_err().to_string();
            assert!(err.contains(reason), "{arg}: {err}");
            assert!(err.contains("a..b:step"), "{err}");
        }
    }

    #[test]
    fn grid_varies_the_last_axis_fastest() {
        let axes = [
            Axis {
                key: "a".into(),
                values: vec!["1".into(), "2".into()],
            },
            Axis {
                key: "b".into(),
                values: vec!["x".into(), "y".into(), "z".into()],
            },
        ];
        assert_eq!(grid_len(&axes), 6);
        assert_eq!(grid_point(&axes, 0), [0, 0]);
        assert_eq!(grid_point(&axes, 1), [0, 1]);
        assert_eq!(grid_point(&axes, 3), [1, 0]);
        assert_eq!(grid_point(&axes, 5), [1, 2]);
        assert_eq!(grid_len(&[]), 1);
        assert_eq!(grid_point(&[], 0), Vec::<usize>::new());
    }
}
