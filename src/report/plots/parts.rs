//! Series drawn the same way in several plots: curves with a line legend
//! entry, and 95% CI whiskers over bars.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::stats::Estimate;

/// Width of curves and whiskers, pixels.
const STROKE_PX: u32 = 2;

/// A curve through `points` in `colour`, with a short line as its legend
/// entry `label`.
pub fn draw_curve<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    points: impl IntoIterator<Item = (f64, f64)>,
    colour: RGBColor,
    label: impl Into<String>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let stroke = colour.stroke_width(STROKE_PX);
    chart
        .draw_series(LineSeries::new(points, stroke))?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], stroke));
    Ok(())
}

/// 95% CI whiskers, with end caps `cap_px` pixels each side, on every
/// `(x centre, estimate)` bar whose interval is defined.
pub fn draw_whiskers<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    bars: impl IntoIterator<Item = (f64, Estimate)>,
    cap_px: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let whisker = BLACK.stroke_width(STROKE_PX);
    let intervals: Vec<(f64, f64, f64)> = bars
        .into_iter()
        .filter(|(_, e)| e.ci95.is_finite())
        .map(|(x, e)| (x, e.mean - e.ci95, e.mean + e.ci95))
        .collect();
    chart
        .draw_series(
            intervals
                .iter()
                .map(|&(x, low, high)| PathElement::new([(x, low), (x, high)], whisker)),
        )?
        .label("95% confidence interval")
        .legend(move |(x, y)| PathElement::new([(x + 10, y - 6), (x + 10, y + 6)], whisker));
    chart.draw_series(
        intervals
            .iter()
            .flat_map(|&(x, low, high)| [(x, low), (x, high)])
            .map(|end| {
                EmptyElement::at(end) + PathElement::new([(-cap_px, 0), (cap_px, 0)], whisker)
            }),
    )?;
    Ok(())
}
