//! Waiting-time distribution per queue: P(wait ≤ x), one curve per queue
//! with consumers, from the per-queue wait quantiles of the run (every
//! replication's waits pooled). A system with more than [`MAX_CURVES`] such
//! queues shows those with the longest p99 wait, in scenario order.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Figure;
use super::latency::legend;
use super::parts;
use super::style::{self, AXIS_PX, LABEL_PX};
use crate::results::{RunResult, WaitQuantileRow};

/// Most curves drawn, so that the plot and its legend stay legible.
pub const MAX_CURVES: usize = 12;
/// Smallest upper end of the wait axis, seconds (when nobody waited).
const MIN_AXIS_S: f64 = 1e-3;

/// The waiting-time plot (`wait_cdf.png` / `.svg`).
pub struct WaitFigure<'a> {
    /// Each queue with its quantile rows, in model order.
    queues: Vec<(&'a str, Vec<&'a WaitQuantileRow>)>,
    /// Queues with consumers in the run.
    total: usize,
}

impl<'a> WaitFigure<'a> {
    /// The figure of a run.
    pub fn new(result: &'a RunResult) -> Self {
        let mut queues: Vec<(&str, Vec<&WaitQuantileRow>)> = Vec::new();
        for row in &result.wait_quantiles {
            match queues.last_mut() {
                Some((node, rows)) if *node == row.node => rows.push(row),
                _ => queues.push((&row.node, vec![row])),
            }
        }
        let total = queues.len();
        if total > MAX_CURVES {
            let p99 = |rows: &[&WaitQuantileRow]| {
                let row = rows.iter().find(|r| r.quantile == 0.99);
                row.map_or(f64::NAN, |r| r.wait_s.mean)
            };
            let mut order: Vec<usize> = (0..total).collect();
            // Longest p99 first (NaN last), then scenario order.
            order.sort_by(|&a, &b| {
                let (x, y) = (p99(&queues[a].1), p99(&queues[b].1));
                (x.is_nan().cmp(&y.is_nan()))
                    .then(y.total_cmp(&x))
                    .then(a.cmp(&b))
            });
            order.truncate(MAX_CURVES);
            order.sort_unstable();
            let mut kept = vec![false; total];
            order.into_iter().for_each(|i| kept[i] = true);
            let mut i = 0;
            queues.retain(|_| {
                i += 1;
                kept[i - 1]
            });
        }
        Self { queues, total }
    }
}

impl Figure for WaitFigure<'_> {
    fn name(&self) -> &'static str {
        "wait_cdf"
    }

    fn title(&self) -> String {
        if self.queues.len() < self.total {
            format!(
                "Waiting time: the {} queues with the longest p99 wait, of {}",
                self.queues.len(),
                self.total
            )
        } else {
            "Waiting time per queue".to_string()
        }
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.queues.is_empty() {
            return style::note(body, "no queue with consumers");
        }
        let x_max_s = style::upper(
            self.queues
                .iter()
                .flat_map(|(_, rows)| rows.iter().map(|r| r.wait_s.mean)),
        )
        .unwrap_or(MIN_AXIS_S)
        .max(MIN_AXIS_S);
        let mut chart = ChartBuilder::on(body)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max_s, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("waiting time before service (s)")
            .y_desc("P(wait ≤ x), replications pooled")
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        for (i, (node, rows)) in self.queues.iter().enumerate() {
            let points = rows
                .iter()
                .filter(|r| r.wait_s.mean.is_finite())
                .map(|r| (r.wait_s.mean, r.quantile));
            parts::draw_curve(&mut chart, points, style::colour(i), *node)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}
