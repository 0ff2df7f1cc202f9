//! Overlays of compared scenarios: every scenario's end-to-end latency
//! distribution on one chart, and per-queue utilization bars side by side
//! with 95% CI whiskers.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::latency::legend;
use super::parts;
use super::style::{self, AXIS_PX, LABEL_PX};
use super::{Figure, Plot, PlotError, render, with_fonts};
use crate::results::RunResult;
use crate::stats::Estimate;

/// Width of one queue's group of bars, in slots (one slot per queue).
const GROUP_WIDTH: f64 = 0.8;
/// Half-width of a whisker's end caps, pixels.
const CAP_PX: i32 = 5;

/// The overlay plots (`compare_latency_cdf`, `compare_utilization`) of
/// compared runs, baseline first.
///
/// # Errors
///
/// [`PlotError`] when the font or a backend fails.
pub fn render_compare(runs: &[RunResult]) -> Result<Vec<Plot>, PlotError> {
    with_fonts()?;
    Ok(vec![
        render(&LatencyOverlay { runs })?,
        render(&UtilizationBars::new(runs))?,
    ])
}

/// The latency CDF of every scenario on one chart.
pub struct LatencyOverlay<'a> {
    runs: &'a [RunResult],
}

impl Figure for LatencyOverlay<'_> {
    fn name(&self) -> &'static str {
        "compare_latency_cdf"
    }

    fn title(&self) -> String {
        "End-to-end latency by scenario".to_owned()
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let x_max_s = style::upper(
            self.runs
                .iter()
                .flat_map(|r| r.quantiles.iter().map(|q| q.latency.mean)),
        );
        let Some(x_max_s) = x_max_s else {
            return style::note(body, "no message was delivered: no latency to plot");
        };
        let mut chart = ChartBuilder::on(body)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max_s, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("end-to-end latency (s)")
            .y_desc("P(latency ≤ x)")
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        for (i, run) in self.runs.iter().enumerate() {
            let points = run
                .quantiles
                .iter()
                .filter(|q| q.latency.mean.is_finite())
                .map(|q| (q.latency.mean, q.quantile));
            parts::draw_curve(&mut chart, points, style::colour(i), &run.summary.scenario)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// Utilization per queue, one bar per scenario in each queue's group.
pub struct UtilizationBars<'a> {
    runs: &'a [RunResult],
    /// Queue names of every run, in order of first appearance.
    queues: Vec<&'a str>,
}

impl<'a> UtilizationBars<'a> {
    fn new(runs: &'a [RunResult]) -> Self {
        let mut queues: Vec<&str> = Vec::new();
        for node in runs.iter().flat_map(|r| &r.nodes) {
            if !queues.contains(&node.node.as_str()) {
                queues.push(&node.node);
            }
        }
        Self { runs, queues }
    }

    /// `(x centre of the bar, estimate)` of every bar of run `i`.
    fn bars(&self, i: usize) -> Vec<(f64, Estimate)> {
        let width = GROUP_WIDTH / self.runs.len() as f64;
        self.runs[i]
            .nodes
            .iter()
            .filter(|n| n.utilization.mean.is_finite())
            .filter_map(|n| {
                let slot = self.queues.iter().position(|q| *q == n.node)?;
                let x = slot as f64 - GROUP_WIDTH / 2.0 + width * (i as f64 + 0.5);
                Some((x, n.utilization))
            })
            .collect()
    }
}

impl Figure for UtilizationBars<'_> {
    fn name(&self) -> &'static str {
        "compare_utilization"
    }

    fn title(&self) -> String {
        "Utilization per queue by scenario".to_owned()
    }

    fn size(&self) -> (u32, u32) {
        (1200, 520)
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.queues.is_empty() {
            return style::note(body, "no queue to plot");
        }
        let all: Vec<Vec<(f64, Estimate)>> = (0..self.runs.len()).map(|i| self.bars(i)).collect();
        let y_max = style::upper(
            all.iter()
                .flatten()
                .map(|(_, e)| e.mean + e.ci95.max(0.0))
                .chain([1.0 / 1.05]),
        )
        .unwrap_or(1.0);
        let label = |x: &f64| {
            let i = x.round();
            let at_group = (x - i).abs() < 1e-6 && i >= 0.0;
            match self.queues.get(i as usize) {
                Some(name) if at_group => (*name).to_owned(),
                _ => String::new(),
            }
        };
        let mut chart = ChartBuilder::on(body)
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..self.queues.len() as f64 - 0.5, 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.queues.len())
            .x_label_formatter(&label)
            .x_desc("queue")
            .y_desc("busy fraction of consumers")
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        let half = GROUP_WIDTH / self.runs.len() as f64 * 0.45;
        for (i, (run, bars)) in self.runs.iter().zip(&all).enumerate() {
            let fill = style::colour(i).mix(0.75);
            chart
                .draw_series(bars.iter().map(|&(x, e)| {
                    Rectangle::new([(x - half, 0.0), (x + half, e.mean)], fill.filled())
                }))?
                .label(run.summary.scenario.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill.filled()));
        }
        parts::draw_whiskers(&mut chart, all.iter().flatten().copied(), CAP_PX)?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
