//! The look shared by every plot: fonts, colours, axis ranges.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Font family registered from DejaVu Sans.
pub const FAMILY: &str = "sans-serif";
/// Size of a plot's title, pixels.
pub const TITLE_PX: u32 = 26;
/// Size of a panel's caption, pixels.
pub const CAPTION_PX: u32 = 20;
/// Size of axis descriptions, pixels.
pub const AXIS_PX: u32 = 17;
/// Size of tick labels and legend entries, pixels.
pub const LABEL_PX: u32 = 15;

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// Colour of deadlines, SLOs and capacities: limits, not data.
pub const LIMIT: RGBColor = RGBColor(200, 30, 30);

/// The `i`-th series colour (cycling).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Registers DejaVu Sans (regular and bold), embedded by the `dejavu`
/// crate, as plotters' [`FAMILY`], once per process.
///
/// # Errors
///
/// What to tell the user when the font renderer rejects the embedded font.
pub(crate) fn register_fonts() -> Result<(), &'static str> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font was rejected by the font renderer")
    }
}

/// Text style of a given size.
pub fn font(px: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, f64::from(px)).into_font())
}

/// The plot's title drawn at the top of `root`; returns the area below it.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> Result<DrawingArea<DB, plotters::coord::Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let style = TextStyle::from(
        (FAMILY, f64::from(TITLE_PX))
            .into_font()
            .style(FontStyle::Bold),
    );
    root.titled(title, style)
}

/// A note written in the middle of an empty panel.
pub fn note<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let style = font(AXIS_PX).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(text, &style, (w as i32 / 2, h as i32 / 2))
}

/// Upper end of an axis that shows every finite value of `values`
/// (with 5% headroom); `None` when no value is finite and positive.
pub fn upper(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(None, |acc: Option<f64>, v| {
            Some(acc.map_or(v, |a| a.max(v)))
        })
        .map(|max| max * 1.05)
}

/// A time in seconds, short, for legends: `100 ms`, `2.5 s`.
pub fn seconds(value_s: f64) -> String {
    if value_s < 1.0 {
        format!("{} ms", trimmed(value_s * 1e3))
    } else {
        format!("{} s", trimmed(value_s))
    }
}

/// At most three decimals, without trailing zeros.
fn trimmed(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_ignores_undefined_values_and_adds_headroom() {
        assert_eq!(upper([1.0, f64::NAN, 2.0]), Some(2.1));
        assert_eq!(upper([f64::NAN, 0.0]), None);
    }

    #[test]
    fn seconds_switch_to_milliseconds_below_one() {
        assert_eq!(seconds(0.1), "100 ms");
        assert_eq!(seconds(2.5), "2.5 s");
    }
}
