//! End-to-end latency: the distribution function, and its tail (1 − F) on a
//! log scale so that p99 and p99.9 can be read off, with producers'
//! deadlines drawn as vertical lines.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::Figure;
use super::parts;
use super::style::{self, AXIS_PX, CAPTION_PX, LABEL_PX, LIMIT};
use crate::model::Model;
use crate::results::{QuantileRow, RunResult};

/// Lowest quantile shown in the tail view.
const TAIL_FROM: f64 = 0.5;

/// The latency CDF and tail plot (`latency_cdf.png` / `.svg`).
pub struct LatencyFigure<'a> {
    quantiles: &'a [QuantileRow],
    /// `(producer, deadline in seconds)` of producers that set one.
    deadlines: Vec<(&'a str, f64)>,
}

impl<'a> LatencyFigure<'a> {
    /// The figure of a run of `model`.
    pub fn new(model: &'a Model, result: &'a RunResult) -> Self {
        let deadlines = model
            .producers
            .iter()
            .filter_map(|p| p.deadline_s.map(|d| (p.name.as_str(), d)))
            .collect();
        Self {
            quantiles: &result.quantiles,
            deadlines,
        }
    }

    fn x_upper_s(&self) -> Option<f64> {
        style::upper(
            self.quantiles
                .iter()
                .map(|row| row.latency.mean + row.latency.ci95.max(0.0))
                .chain(self.deadlines.iter().map(|&(_, d)| d)),
        )
    }

    fn draw_cdf<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x_max_s: f64,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let mut chart = ChartBuilder::on(area)
            .caption("distribution", style::font(CAPTION_PX))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..x_max_s, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("end-to-end latency (s)")
            .y_desc("P(latency ≤ x)")
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        let rows = || self.quantiles.iter().filter(|r| r.latency.mean.is_finite());
        self.draw_band(&mut chart, rows().map(|r| (r, r.quantile)))?;
        parts::draw_curve(
            &mut chart,
            rows().map(|r| (r.latency.mean, r.quantile)),
            style::colour(0),
            "simulated (replications pooled)",
        )?;
        self.draw_deadlines(&mut chart, 0.0, (0.0, 1.0))?;
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }

    fn draw_tail<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x_max_s: f64,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let tail: Vec<&QuantileRow> = self
            .quantiles
            .iter()
            .filter(|r| r.quantile >= TAIL_FROM && r.latency.mean.is_finite())
            .collect();
        let lowest = tail
            .iter()
            .map(|r| 1.0 - r.quantile)
            .fold(1.0 - TAIL_FROM, f64::min);
        let x_min_s = tail.first().map_or(0.0, |r| r.latency.mean * 0.95);
        let mut chart = ChartBuilder::on(area)
            .caption("tail (log scale)", style::font(CAPTION_PX))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(
                x_min_s..x_max_s,
                (lowest * 0.5..1.0 - TAIL_FROM).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("end-to-end latency (s)")
            .y_desc("P(latency > x) = 1 − F")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        self.draw_band(&mut chart, tail.iter().map(|&r| (r, 1.0 - r.quantile)))?;
        parts::draw_curve(
            &mut chart,
            tail.iter().map(|r| (r.latency.mean, 1.0 - r.quantile)),
            style::colour(0),
            "simulated",
        )?;
        chart.draw_series(tail.iter().filter(|r| r.quantile >= 0.99).map(|r| {
            Circle::new(
                (r.latency.mean, 1.0 - r.quantile),
                4,
                style::colour(0).filled(),
            )
        }))?;
        self.draw_deadlines(&mut chart, x_min_s, (lowest * 0.5, 1.0 - TAIL_FROM))?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }

    /// The 95% confidence band around the curve: `(row, y)` points.
    fn draw_band<'r, DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
        points: impl Iterator<Item = (&'r QuantileRow, f64)> + Clone,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let defined = points.filter(|(r, _)| r.latency.ci95.is_finite());
        let lower = defined
            .clone()
            .map(|(r, y)| (r.latency.mean - r.latency.ci95, y));
        let upper: Vec<_> = defined
            .map(|(r, y)| (r.latency.mean + r.latency.ci95, y))
            .collect();
        let outline: Vec<(f64, f64)> = lower.chain(upper.into_iter().rev()).collect();
        if outline.len() < 3 {
            return Ok(());
        }
        let fill = style::colour(0).mix(0.2);
        chart
            .draw_series(std::iter::once(Polygon::new(outline, fill.filled())))?
            .label("95% confidence band")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill.filled()));
        Ok(())
    }

    fn draw_deadlines<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
        x_min_s: f64,
        (y_min, y_max): (f64, f64),
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let visible = self.deadlines.iter().filter(|&&(_, d)| d >= x_min_s);
        for &(producer, deadline_s) in visible {
            chart
                .draw_series(DashedLineSeries::new(
                    [(deadline_s, y_min), (deadline_s, y_max)],
                    8,
                    5,
                    LIMIT.stroke_width(2),
                ))?
                .label(format!(
                    "deadline {} ({producer})",
                    style::seconds(deadline_s)
                ))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], LIMIT.stroke_width(2)));
        }
        Ok(())
    }
}

/// Draws the legend of `chart` at `position`.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(style::font(LABEL_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .draw()
}

impl Figure for LatencyFigure<'_> {
    fn name(&self) -> &'static str {
        "latency_cdf"
    }

    fn title(&self) -> String {
        "End-to-end latency".to_string()
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let Some(x_max_s) = self.x_upper_s() else {
            return style::note(body, "no message was delivered: no latency to plot");
        };
        let (left, right) = body.split_horizontally(600);
        self.draw_cdf(&left, x_max_s)?;
        self.draw_tail(&right, x_max_s)
    }
}
