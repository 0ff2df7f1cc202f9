//! Quantities with units, as written in scenario files.
//!
//! Every quantity is converted to one base unit: durations to seconds, rates
//! to events per second, sizes to bytes and bandwidths to bytes per second.
//! A value may be a plain number (already in the base unit) or a string: a
//! number, optionally followed by a unit (`"250ms"`, `"900/s"`, `"4KiB"`,
//! `"1Gbit/s"`; spaces between number and unit are allowed).
//!
//! This module only converts. It does not check signs or ranges (scenario
//! validation does), but it rejects strings whose number is NaN or infinite.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Why a quantity could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// The text is not a number followed by a known unit.
    #[error("invalid {what} {text:?}: expected {expected}")]
    Invalid {
        /// What was being read ("duration", "rate", ...).
        what: &'static str,
        /// The text as given.
        text: String,
        /// The valid forms.
        expected: &'static str,
    },
    /// The number in the text is NaN or infinite.
    #[error("invalid {what} {text:?}: the number is not finite; expected {expected}")]
    NotFinite {
        /// What was being read ("duration", "rate", ...).
        what: &'static str,
        /// The text as given.
        text: String,
        /// The valid forms.
        expected: &'static str,
    },
}

/// A unit's scale: `value * mul / div` is the value in the base unit.
///
/// Dividing by powers of ten (rather than multiplying by their inexact
/// inverses) keeps `"250ms"` exactly equal to `0.25`.
type Scale = (f64, f64);

/// How one kind of quantity is read.
struct Reader {
    what: &'static str,
    expected: &'static str,
    scale: fn(&str) -> Option<Scale>,
}

const DURATION: Reader = Reader {
    what: "duration",
    expected: "seconds as a number or a string like \"250ms\", \"2s\", \"1.5m\" \
               (units: ns, us, ms, s, m, min, h)",
    scale: duration_scale,
};

const RATE: Reader = Reader {
    what: "rate",
    expected: "events per second as a number or a string like \"900/s\", \"54000/min\", \
               \"10/h\" (per: ns, us, ms, s, m, min, h)",
    scale: rate_scale,
};

const BYTES: Reader = Reader {
    what: "size",
    expected: "bytes as a number or a string like \"512B\", \"4KiB\", \"1MB\" \
               (units: B, kB, MB, GB, TB powers of 1000; KiB, MiB, GiB, TiB powers of 1024)",
    scale: bytes_scale,
};

const BANDWIDTH: Reader = Reader {
    what: "bandwidth",
    expected: "bytes per second as a number or a string like \"1Gbit/s\", \"100Mbit/s\", \
               \"125MB/s\" (units: bit/s, kbit/s, Mbit/s, Gbit/s, Tbit/s, also written bps, \
               kbps, ...; B/s, kB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s)",
    scale: bandwidth_scale,
};

const PLAIN: Reader = Reader {
    what: "number",
    expected: "a plain number without a unit",
    scale: plain_scale,
};

fn duration_scale(unit: &str) -> Option<Scale> {
    Some(match unit {
        "" | "s" => (1.0, 1.0),
        "ns" => (1.0, 1e9),
        "us" | "µs" => (1.0, 1e6),
        "ms" => (1.0, 1e3),
        "m" | "min" => (60.0, 1.0),
        "h" => (3600.0, 1.0),
        _ => return None,
    })
}

fn rate_scale(unit: &str) -> Option<Scale> {
    if unit.is_empty() {
        return Some((1.0, 1.0));
    }
    let per = unit.strip_prefix('/')?.trim_start();
    if per.is_empty() {
        return None;
    }
    duration_scale(per).map(|(mul, div)| (div, mul))
}

fn bytes_scale(unit: &str) -> Option<Scale> {
    let mul = match unit {
        "" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((mul, 1.0))
}

fn bandwidth_scale(unit: &str) -> Option<Scale> {
    if unit.is_empty() {
        return Some((1.0, 1.0));
    }
    if let Some(prefix) = unit
        .strip_suffix("bit/s")
        .or_else(|| unit.strip_suffix("bps"))
    {
        let bits = match prefix {
            "" => 1.0,
            "k" | "K" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            _ => return None,
        };
        return Some((bits, 8.0));
    }
    let size = unit.strip_suffix("/s")?;
    if size.is_empty() {
        return None;
    }
    bytes_scale(size)
}

fn plain_scale(unit: &str) -> Option<Scale> {
    unit.is_empty().then_some((1.0, 1.0))
}

/// Length of the leading decimal number in `text` (sign, digits, point and
/// exponent), without consuming a unit that merely starts with `e`.
fn number_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    i = digits(i);
    if bytes.get(i) == Some(&b'.') {
        i = digits(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = digits(j);
        }
    }
    i
}

fn parse(text: &str, reader: &Reader) -> Result<f64, UnitError> {
    let invalid = || UnitError::Invalid {
        what: reader.what,
        text: text.to_owned(),
        expected: reader.expected,
    };
    let not_finite = || UnitError::NotFinite {
        what: reader.what,
        text: text.to_owned(),
        expected: reader.expected,
    };
    let trimmed = text.trim();
    if trimmed.parse::<f64>().is_ok_and(|x| !x.is_finite()) {
        return Err(not_finite());
    }
    let split = number_len(trimmed);
    let value: f64 = trimmed[..split].parse().map_err(|_| invalid())?;
    if !value.is_finite() {
        return Err(not_finite());
    }
    let (mul, div) = (reader.scale)(trimmed[split..].trim_start()).ok_or_else(invalid)?;
    Ok(value * mul / div)
}

/// Reads a duration in seconds: `"0.5"`, `"250ms"`, `"2s"`, `"1.5m"`, `"100us"`.
///
/// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m` or `min`, `h`.
///
/// # Examples
///
/// ```
/// use queuesim::units::parse_duration_s;
///
/// assert_eq!(parse_duration_s("250ms")?, 0.25);
/// assert_eq!(parse_duration_s("1.5m")?, 90.0);
/// assert!(parse_duration_s("5 parsecs").is_err());
/// # Ok::<(), queuesim::units::UnitError>(())
/// ```
///
/// # Errors
///
/// [`UnitError::Invalid`] for an unknown unit or a malformed number,
/// [`UnitError::NotFinite`] for NaN or infinity.
pub fn parse_duration_s(text: &str) -> Result<f64, UnitError> {
    parse(text, &DURATION)
}

/// Reads a rate in events per second: `"900"`, `"900/s"`, `"54000/min"`, `"5/ms"`.
///
/// The denominator is any duration unit of [`parse_duration_s`].
///
/// # Errors
///
/// As [`parse_duration_s`].
pub fn parse_rate_per_s(text: &str) -> Result<f64, UnitError> {
    parse(text, &RATE)
}

/// Reads a size in bytes: `"512"`, `"512B"`, `"1kB"`, `"1MB"`, `"4KiB"`, `"2GiB"`.
///
/// SI prefixes (`kB`, `MB`, `GB`, `TB`; `KB` is read as `kB`) are powers of
/// 1000, IEC prefixes (`KiB`, `MiB`, `GiB`, `TiB`) powers of 1024.
///
/// # Errors
///
/// As [`parse_duration_s`].
pub fn parse_bytes(text: &str) -> Result<f64, UnitError> {
    parse(text, &BYTES)
}

/// Reads a bandwidth in bytes per second: `"1Gbit/s"`, `"100Mbit/s"`, `"125MB/s"`.
///
/// Bit rates (`bit/s`, `kbit/s`, `Mbit/s`, `Gbit/s`, `Tbit/s`, or `bps`,
/// `kbps`, `Mbps`, ...) use powers of 1000 and are divided by 8; byte rates
/// are any size unit of [`parse_bytes`] followed by `/s`.
///
/// # Errors
///
/// As [`parse_duration_s`].
pub fn parse_bandwidth_bytes_per_s(text: &str) -> Result<f64, UnitError> {
    parse(text, &BANDWIDTH)
}

/// Which unit family a [`Quantity`] is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityKind {
    /// Seconds.
    Duration,
    /// Events per second.
    Rate,
    /// Bytes.
    Bytes,
    /// A dimensionless number; strings are rejected.
    Plain,
}

/// A number as written in a scenario file: a TOML integer or float, or a
/// string with a unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    /// A bare number, already in the base unit.
    Number(f64),
    /// A string such as `"250ms"`, read according to the expected kind.
    Text(String),
}

impl Quantity {
    fn read(&self, reader: &Reader) -> Result<f64, UnitError> {
        match self {
            Quantity::Number(x) => Ok(*x),
            Quantity::Text(text) => parse(text, reader),
        }
    }

    /// The value in seconds (see [`parse_duration_s`]).
    ///
    /// # Errors
    ///
    /// When the text is not a duration.
    pub fn to_seconds(&self) -> Result<f64, UnitError> {
        self.read(&DURATION)
    }

    /// The value in events per second (see [`parse_rate_per_s`]).
    ///
    /// # Errors
    ///
    /// When the text is not a rate.
    pub fn to_rate_per_s(&self) -> Result<f64, UnitError> {
        self.read(&RATE)
    }

    /// The value in bytes (see [`parse_bytes`]).
    ///
    /// # Errors
    ///
    /// When the text is not a size.
    pub fn to_bytes(&self) -> Result<f64, UnitError> {
        self.read(&BYTES)
    }

    /// The value in bytes per second (see [`parse_bandwidth_bytes_per_s`]).
    ///
    /// # Errors
    ///
    /// When the text is not a bandwidth.
    pub fn to_bandwidth_bytes_per_s(&self) -> Result<f64, UnitError> {
        self.read(&BANDWIDTH)
    }

    /// The value of a dimensionless number.
    ///
    /// # Errors
    ///
    /// [`UnitError::Invalid`] for any string, even one holding a number.
    pub fn to_plain(&self) -> Result<f64, UnitError> {
        match self {
            Quantity::Number(x) => Ok(*x),
            Quantity::Text(text) => Err(UnitError::Invalid {
                what: PLAIN.what,
                text: text.clone(),
                expected: PLAIN.expected,
            }),
        }
    }

    /// The value in the base unit of `kind`.
    ///
    /// # Errors
    ///
    /// When the text is not a quantity of that kind.
    pub fn to_base(&self, kind: QuantityKind) -> Result<f64, UnitError> {
        match kind {
            QuantityKind::Duration => self.to_seconds(),
            QuantityKind::Rate => self.to_rate_per_s(),
            QuantityKind::Bytes => self.to_bytes(),
            QuantityKind::Plain => self.to_plain(),
        }
    }
}

impl From<f64> for Quantity {
    fn from(value: f64) -> Self {
        Quantity::Number(value)
    }
}

impl From<&str> for Quantity {
    fn from(text: &str) -> Self {
        Quantity::Text(text.to_owned())
    }
}

/// Shows the quantity as written: `0.25` or `250ms` (strings without quotes).
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Number(x) => write!(f, "{x}"),
            Quantity::Text(text) => f.write_str(text),
        }
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string with a unit such as \"250ms\"")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::Number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity::Number(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        Ok(Quantity::Number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Ok(Quantity::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Quantity, E> {
        Ok(Quantity::Text(v))
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

#[cfg(test)]
mod tests;
