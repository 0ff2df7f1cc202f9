//! How numbers read on a terminal: counts as integers with thousands
//! separators (`2,160,000`), times in the unit that suits their size with
//! the unit shown (`20.47 ± 0.13 ms`), rates per second (`450.0 /s`).
//! CSV files keep plain numbers in seconds ([`crate::table::number`]).

use crate::results::Quantity;

/// Significant digits of a mean.
const MEAN_DIGITS: i32 = 4;
/// Significant digits of a 95% half-width.
const CI_DIGITS: i32 = 2;

/// `value` of kind `quantity`, with its unit; `-` when undefined.
///
/// # Examples
///
/// ```
/// use queuesim::report::numbers::value;
/// use queuesim::results::Quantity;
/// assert_eq!(value(Quantity::Count, 2_160_000.0), "2,160,000");
/// assert_eq!(value(Quantity::Seconds, 0.02047), "20.47 ms");
/// ```
pub fn value(quantity: Quantity, value: f64) -> String {
    estimate(quantity, value, f64::NAN)
}

/// `mean ± ci95` of kind `quantity`, the unit shown once at the end
/// (`20.47 ± 0.13 ms`); the half-width is left out when undefined.
pub fn estimate(quantity: Quantity, mean: f64, ci95: f64) -> String {
    if mean.is_nan() {
        return "-".to_owned();
    }
    let (scale, unit) = unit_of(quantity, mean);
    let (mean, ci95) = (mean / scale, ci95 / scale);
    let count_decimals = count_decimals(mean);
    let number = |x: f64, digits: i32| match quantity {
        Quantity::Count => separated(&format!("{x:.count_decimals$}")),
        _ => significant(x, digits),
    };
    let text = if ci95.is_nan() {
        number(mean, MEAN_DIGITS)
    } else {
        format!(
            "{} ± {}",
            number(mean, MEAN_DIGITS),
            number(ci95, CI_DIGITS)
        )
    };
    if unit.is_empty() {
        text
    } else {
        format!("{text} {unit}")
    }
}

/// The factor to divide by and the unit to show for a value like `mean`.
fn unit_of(quantity: Quantity, mean: f64) -> (f64, &'static str) {
    match quantity {
        Quantity::Seconds => {
            let size = mean.abs();
            if size == 0.0 || size >= 1.0 || !size.is_finite() {
                (1.0, "s")
            } else if size >= 1e-3 {
                (1e-3, "ms")
            } else {
                (1e-6, "µs")
            }
        }
        Quantity::PerSecond => (1.0, "/s"),
        Quantity::Count | Quantity::Plain => (1.0, ""),
    }
}

/// A count: rounded to an integer with thousands separators from 10 on
/// (below that, a mean over replications keeps two decimals: `0.30`).
pub fn count(value: f64) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let decimals = count_decimals(value);
    separated(&format!("{value:.decimals$}"))
}

/// The decimals of a count like `mean` (and of its half-width).
fn count_decimals(mean: f64) -> usize {
    if mean.abs() >= 10.0 || mean.fract() == 0.0 {
        0
    } else {
        2
    }
}

/// `value` with `digits` significant digits in plain decimal notation and
/// thousands separators; an exponent only below 1e-4.
fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    if magnitude < -4 {
        return format!("{value:.prec$e}", prec = (digits - 1) as usize);
    }
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    separated(&format!("{value:.decimals$}"))
}

/// `digits` (an optional sign, digits, an optional fraction) with a comma
/// every three digits of its integer part.
fn separated(number: &str) -> String {
    let (sign, unsigned) = match number.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", number),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let mut grouped = String::new();
    for (i, digit) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_integers_with_separators() {
        assert_eq!(count(2_160_000.0), "2,160,000");
        assert_eq!(count(267.9), "268");
        assert_eq!(count(-1234.0), "-1,234");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(0.3), "0.30");
        assert_eq!(estimate(Quantity::Count, 270_028.0, 198.4), "270,028 ± 198");
        assert_eq!(estimate(Quantity::Count, 10.4, 3.979), "10 ± 4");
        assert_eq!(estimate(Quantity::Count, 0.3, 0.25), "0.30 ± 0.25");
    }

    #[test]
    fn times_take_the_unit_that_suits_their_size() {
        assert_eq!(
            estimate(Quantity::Seconds, 0.02047, 1.320e-4),
            "20.47 ± 0.13 ms"
        );
        assert_eq!(value(Quantity::Seconds, 32.9), "32.90 s");
        assert_eq!(value(Quantity::Seconds, 4800.0), "4,800 s");
        assert_eq!(value(Quantity::Seconds, 4.2e-5), "42.00 µs");
        assert_eq!(value(Quantity::Seconds, 0.0), "0 s");
        assert_eq!(value(Quantity::Seconds, f64::NAN), "-");
    }

    #[test]
    fn ratios_and_rates_avoid_exponents() {
        assert_eq!(
            estimate(Quantity::Plain, 0.9994, 2.1e-4),
            "0.9994 ± 0.00021"
        );
        assert_eq!(
            estimate(Quantity::PerSecond, 450.0, 0.3277),
            "450.0 ± 0.33 /s"
        );
        assert_eq!(value(Quantity::Plain, 1.5e-7), "1.500e-7");
    }
}
