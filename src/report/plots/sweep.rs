//! Sweep curves: p50 and p99 latency, success ratio and the busiest queue's
//! utilization against the first swept key, each with its 95% confidence
//! band. With several swept keys there is one curve per combination of the
//! other keys' values.
//!
//! The figure is drawn from `sweep.csv` as it is written (its [`Table`]),
//! so the plot shows exactly the numbers of the file next to it.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::latency::legend;
use super::parts;
use super::style::{self, AXIS_PX, CAPTION_PX, LABEL_PX};
use super::{Figure, Plot, PlotError, render, with_fonts};
use crate::experiment::sweep::{Layout, describe_point};
use crate::results::SummaryMetric::{P50Latency, P99Latency, SuccessRatio};
use crate::stats::Estimate;
use crate::table::Table;

/// Suffix of a queue's utilization metric in `sweep.csv`.
const UTILIZATION: &str = ".utilization";
/// Top of a ratio's value axis (a panel not drawn from zero is a ratio).
const RATIO_MAX: f64 = 1.0;

/// The sweep plot (`sweep_curves.png` / `.svg`) of a sweep's table.
///
/// # Errors
///
/// [`PlotError`] when the font or a backend fails.
pub fn render_sweep(layout: &Layout, table: &Table) -> Result<Vec<Plot>, PlotError> {
    with_fonts()?;
    Ok(vec![render(&SweepFigure::new(layout, table))?])
}

/// One panel: a metric at every point.
struct Panel {
    caption: String,
    axis: &'static str,
    /// Whether the value axis starts at zero (otherwise the panel is a
    /// ratio and the axis spans its data, up to 1).
    from_zero: bool,
    /// Per point, in table row order.
    estimates: Vec<Estimate>,
}

/// Where the points sit on the horizontal axis.
enum XAxis {
    /// Every value of the first key is a number.
    Numeric(Vec<f64>),
    /// Text values: the `i`-th distinct value sits at `i`.
    Categories {
        /// Slot of each point.
        slots: Vec<f64>,
        /// Distinct values in order of first appearance.
        labels: Vec<String>,
    },
}

impl XAxis {
    fn new(values: &[&str]) -> Self {
        let numbers: Option<Vec<f64>> = values.iter().map(|v| v.trim().parse().ok()).collect();
        if let Some(numbers) = numbers {
            return Self::Numeric(numbers);
        }
        let mut labels: Vec<String> = Vec::new();
        let slots = values
            .iter()
            .map(|v| {
                let slot = labels.iter().position(|l| l == v).unwrap_or_else(|| {
                    labels.push((*v).to_owned());
                    labels.len() - 1
                });
                slot as f64
            })
            .collect();
        Self::Categories { slots, labels }
    }

    fn x(&self, point: usize) -> f64 {
        match self {
            Self::Numeric(xs) => xs[point],
            Self::Categories { slots, .. } => slots[point],
        }
    }

    /// The axis range, with a little room on both sides.
    fn range(&self) -> (f64, f64) {
        match self {
            Self::Numeric(xs) => {
                let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = if hi > lo {
                    (hi - lo) * 0.05
                } else {
                    lo.abs().max(1.0) * 0.1
                };
                (lo - pad, hi + pad)
            }
            Self::Categories { labels, .. } => (-0.5, labels.len() as f64 - 0.5),
        }
    }
}

/// The sweep curves figure.
pub struct SweepFigure {
    key: String,
    /// The other swept keys, named in the title.
    others: Vec<String>,
    x_axis: XAxis,
    /// `(label, point indices)` of each curve, in order of first appearance.
    curves: Vec<(String, Vec<usize>)>,
    panels: Vec<Panel>,
}

impl SweepFigure {
    /// The figure of a sweep whose `sweep.csv` is `table`.
    pub fn new(layout: &Layout, table: &Table) -> Self {
        let keys = layout.keys();
        let points: Vec<Vec<String>> = (0..layout.point_count())
            .map(|point| layout.values(point))
            .collect();
        let first: Vec<&str> = points.iter().map(|p| p[0].as_str()).collect();
        let mut curves: Vec<(String, Vec<usize>)> = Vec::new();
        for (point, values) in points.iter().enumerate() {
            let label = describe_point(&keys[1..], &values[1..]);
            match curves.iter_mut().find(|(l, _)| *l == label) {
                Some((_, points)) => points.push(point),
                None => curves.push((label, vec![point])),
            }
        }
        let mut panels = vec![
            panel(table, P50Latency.name(), "p50 latency", "latency (s)", true),
            panel(table, P99Latency.name(), "p99 latency", "latency (s)", true),
            panel(
                table,
                SuccessRatio.name(),
                "success ratio",
                "on time / (delivered + lost)",
                false,
            ),
        ];
        if let Some(node) = busiest(layout, table) {
            panels.push(panel(
                table,
                &format!("{node}{UTILIZATION}"),
                &format!("utilization of {node} (busiest queue)"),
                "busy fraction of consumers",
                true,
            ));
        }
        Self {
            key: keys[0].clone(),
            others: keys[1..].to_vec(),
            x_axis: XAxis::new(&first),
            curves,
            panels: panels.into_iter().flatten().collect(),
        }
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        with_legend: bool,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (x_lo, x_hi) = self.x_axis.range();
        let (y_lo, y_hi) = y_range(panel);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.caption, style::font(CAPTION_PX))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        let category = |x: &f64| match &self.x_axis {
            XAxis::Categories { labels, .. } if (x - x.round()).abs() < 1e-6 && *x >= 0.0 => {
                labels.get(x.round() as usize).cloned().unwrap_or_default()
            }
            XAxis::Categories { .. } => String::new(),
            XAxis::Numeric(_) => format!("{x}"),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.key.as_str())
            .y_desc(panel.axis)
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX));
        if let XAxis::Categories { labels, .. } = &self.x_axis {
            mesh.disable_x_mesh()
                .x_labels(labels.len())
                .x_label_formatter(&category);
        }
        mesh.draw()?;
        for (i, (label, points)) in self.curves.iter().enumerate() {
            let defined: Vec<(f64, Estimate)> = points
                .iter()
                .map(|&p| (self.x_axis.x(p), panel.estimates[p]))
                .filter(|(_, e)| e.mean.is_finite())
                .collect();
            draw_band(&mut chart, &defined, i)?;
            let colour = style::colour(i);
            let name = if label.is_empty() {
                "mean of replications"
            } else {
                label
            };
            let points = defined.iter().map(|&(x, e)| (x, e.mean));
            parts::draw_curve(&mut chart, points, colour, name)?;
            chart.draw_series(
                defined
                    .iter()
                    .map(|&(x, e)| Circle::new((x, e.mean), 3, colour.filled())),
            )?;
        }
        if with_legend {
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    }
}

/// The panel of metric `column` of `table`; `None` when the table lacks it.
fn panel(
    table: &Table,
    column: &str,
    caption: &str,
    axis: &'static str,
    from_zero: bool,
) -> Option<Panel> {
    let mean = table.header.iter().position(|h| h == column)?;
    let ci = table
        .header
        .iter()
        .position(|h| *h == format!("{column}_ci95"))?;
    let cell = |row: &[String], i: usize| row[i].parse().unwrap_or(f64::NAN);
    Some(Panel {
        caption: caption.to_owned(),
        axis,
        from_zero,
        estimates: table
            .rows
            .iter()
            .map(|row| Estimate {
                mean: cell(row, mean),
                ci95: cell(row, ci),
            })
            .collect(),
    })
}

/// The queue with the highest utilization averaged over the points.
fn busiest(layout: &Layout, table: &Table) -> Option<String> {
    let average = |node: &str| {
        panel(table, &format!("{node}{UTILIZATION}"), "", "", true).map_or(f64::NAN, |p| {
            let defined: Vec<f64> = p
                .estimates
                .iter()
                .map(|e| e.mean)
                .filter(|m| m.is_finite())
                .collect();
            defined.iter().sum::<f64>() / defined.len() as f64
        })
    };
    layout
        .names
        .iter()
        .filter_map(|n| n.strip_suffix(UTILIZATION))
        .map(|node| (node, average(node)))
        .filter(|(_, u)| u.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(node, _)| node.to_owned())
}

/// The value axis of a panel: from zero (or, for a ratio, the lowest lower
/// CI end) to the highest upper CI end, with headroom; a ratio's axis stops
/// at 1.
fn y_range(panel: &Panel) -> (f64, f64) {
    let ends = || {
        panel
            .estimates
            .iter()
            .filter(|e| e.mean.is_finite())
            .map(|e| {
                let half = if e.ci95.is_finite() { e.ci95 } else { 0.0 };
                (e.mean - half, e.mean + half)
            })
    };
    let hi = ends().map(|(_, h)| h).fold(f64::NEG_INFINITY, f64::max);
    let lo = ends().map(|(l, _)| l).fold(f64::INFINITY, f64::min);
    if !hi.is_finite() {
        return (0.0, 1.0);
    }
    if panel.from_zero {
        return (0.0, style::upper([hi]).unwrap_or(1.0));
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    ((lo - 2.0 * pad).max(0.0), (hi + pad).min(RATIO_MAX))
}

/// The 95% confidence band of curve `i`: the area between mean ± ci95.
fn draw_band<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: &[(f64, Estimate)],
    i: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let with_ci: Vec<&(f64, Estimate)> =
        points.iter().filter(|(_, e)| e.ci95.is_finite()).collect();
    if with_ci.len() < 2 {
        return Ok(());
    }
    let outline: Vec<(f64, f64)> = with_ci
        .iter()
        .map(|(x, e)| (*x, e.mean - e.ci95))
        .chain(with_ci.iter().rev().map(|(x, e)| (*x, e.mean + e.ci95)))
        .collect();
    let fill = style::colour(i).mix(0.2);
    let band = chart.draw_series(std::iter::once(Polygon::new(outline, fill.filled())))?;
    if i == 0 {
        band.label("95% confidence band")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill.filled()));
    }
    Ok(())
}

impl Figure for SweepFigure {
    fn name(&self) -> &'static str {
        "sweep_curves"
    }

    fn title(&self) -> String {
        if self.others.is_empty() {
            format!("Sweep over {}", self.key)
        } else {
            format!(
                "Sweep over {} (one curve per {})",
                self.key,
                self.others.join(", ")
            )
        }
    }

    fn size(&self) -> (u32, u32) {
        (1200, 900)
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let areas = body.split_evenly((2, 2));
        for (i, (panel, area)) in self.panels.iter().zip(&areas).enumerate() {
            self.draw_panel(area, panel, i == 0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_become_categories_in_order_of_appearance() {
        let XAxis::Categories { slots, labels } = XAxis::new(&["lifo", "fifo", "lifo"]) else {
            panic!("text values are categories");
        };
        assert_eq!(slots, [0.0, 1.0, 0.0]);
        assert_eq!(labels, ["lifo", "fifo"]);
        assert!(matches!(XAxis::new(&["1", "2.5"]), XAxis::Numeric(_)));
    }

    #[test]
    fn a_ratio_axis_stops_at_one_and_latency_starts_at_zero() {
        let estimate = |mean, ci95| Estimate { mean, ci95 };
        let mut panel = Panel {
            caption: String::new(),
            axis: "",
            from_zero: false,
            estimates: vec![
                estimate(1.0, 0.0),
                estimate(0.9, 0.05),
                estimate(f64::NAN, 0.1),
            ],
        };
        let (lo, hi) = y_range(&panel);
        assert_eq!(hi, 1.0);
        assert!(lo < 0.85 && lo > 0.8, "{lo}");
        panel.from_zero = true;
        assert_eq!(y_range(&panel).0, 0.0);
    }
}
