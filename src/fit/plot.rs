//! The QQ plot of `queuesim fit --plot`: quantiles of the measured values
//! against those of the best fit, as SVG. Points on the diagonal mean the
//! fit describes the values; a tail bending away shows where it does not.
//!
//! Text is set in DejaVu Sans from the `dejavu` crate, registered with
//! plotters' `ab_glyph` renderer, so no system font is needed.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FitError, FitReport};
use crate::report::plots::style::{FAMILY, register_fonts};

/// Size of the SVG in pixels, (width, height).
const SIZE: (u32, u32) = (760, 640);
/// Most quantiles drawn (evenly spaced probabilities), to keep the file small.
const MAX_POINTS: usize = 200;
/// Colour of the quantile points (Okabe–Ito blue).
const POINT: RGBColor = RGBColor(0, 114, 178);

/// The QQ plot of `values` against the best fit of `report`, as an SVG
/// document; `source` names the values in the title.
///
/// # Errors
///
/// When the embedded font is rejected or plotters fails to draw.
pub fn qq_svg(report: &FitReport, values: &[f64], source: &str) -> Result<String, FitError> {
    register_fonts().map_err(|message| FitError::Plot {
        message: message.into(),
    })?;
    let best = report.best();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let count = MAX_POINTS.min(sorted.len());
    let points: Vec<(f64, f64)> = (0..count)
        .map(|j| {
            let p = (j as f64 + 0.5) / count as f64;
            (
                best.quantile_s(p),
                FitReport::empirical_quantile(&sorted, p),
            )
        })
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let upper = points
        .iter()
        .fold(f64::MIN_POSITIVE, |m, &(x, y)| m.max(x).max(y))
        * 1.05;
    let title = format!("{source}: QQ plot against the {} fit", best.family.name());
    let x_desc = format!("{} quantile (s)", best.family.name());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, &title, &x_desc, &points, upper)
            .and_then(|()| root.present())
            .map_err(|e| FitError::Plot {
                message: e.to_string(),
            })?;
    }
    Ok(svg)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    points: &[(f64, f64)],
    upper: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..upper, 0f64..upper)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("measured quantile (s)")
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()?;
    let diagonal = BLACK.mix(0.6);
    chart
        .draw_series(LineSeries::new([(0.0, 0.0), (upper, upper)], diagonal))?
        .label("perfect fit (y = x)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], diagonal));
    chart
        .draw_series(
            points
                .iter()
                .map(|&point| Circle::new(point, 3, POINT.filled())),
        )?
        .label("quantiles of the values")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, POINT.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::fit::{Kind, fit};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn draws_an_svg_with_title_axes_and_points() {
        let dist = Dist::with_mean_cv("lognormal", 0.01, 1.2).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let values: Vec<f64> = (0..1_000).map(|_| dist.sample(&mut rng)).collect();
        let report = fit(&values, Kind::Service).unwrap();
        let svg = qq_svg(&report, &values, "t.csv").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("t.csv: QQ plot against the lognormal fit"));
        assert!(svg.contains("measured quantile (s)"));
        assert_eq!(svg.matches("<circle").count(), MAX_POINTS + 1);
    }
}
