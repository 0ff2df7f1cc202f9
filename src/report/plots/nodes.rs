//! Utilization and loss per queue: bars at the mean over replications,
//! whiskers at its 95% confidence interval. A system with more than
//! [`MAX_BARS`] queues shows its busiest ones (highest mean utilization),
//! in scenario order; `nodes.csv` has every queue.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::Figure;
use super::latency::legend;
use super::parts;
use super::style::{self, AXIS_PX, CAPTION_PX, LABEL_PX};
use crate::results::{NodeRow, NodeTheory, RunResult};
use crate::stats::Estimate;

/// Most queues drawn, so that a large system's plot stays legible.
pub const MAX_BARS: usize = 40;
/// Half-width of a bar, in slots (one slot per queue).
const BAR_HALF_WIDTH: f64 = 0.35;
/// Half-width of a whisker's end caps, pixels.
const CAP_PX: i32 = 8;
/// Where theory's marker sits, in slots right of the bar's centre.
const THEORY_OFFSET: f64 = 0.42;

/// The utilization and loss plot (`node_utilization_loss.png` / `.svg`).
pub struct NodeFigure<'a> {
    /// The queues drawn, in scenario order.
    nodes: Vec<&'a NodeRow>,
    /// Queues in the run.
    total: usize,
}

/// One panel: a metric of every queue.
struct Metric {
    caption: &'static str,
    axis: &'static str,
    /// Smallest upper end of the value axis.
    at_least: f64,
    value: fn(&NodeRow) -> Estimate,
    /// Theory's value, drawn beside the bar where an exact result applies.
    theory: fn(&NodeTheory) -> f64,
}

const METRICS: [Metric; 2] = [
    Metric {
        caption: "utilization",
        axis: "busy fraction of consumers",
        at_least: 1.0,
        value: |n| n.utilization,
        theory: |t| t.utilization,
    },
    Metric {
        caption: "loss",
        axis: "lost / arrivals at the queue",
        at_least: 0.01,
        value: |n| n.loss_ratio,
        theory: |t| t.loss,
    },
];

impl<'a> NodeFigure<'a> {
    /// The figure of a run.
    pub fn new(result: &'a RunResult) -> Self {
        let mut order: Vec<usize> = (0..result.nodes.len()).collect();
        if order.len() > MAX_BARS {
            let busy = |i: usize| result.nodes[i].utilization.mean;
            // Busiest first (NaN, a parking queue, last), then scenario order.
            order.sort_by(|&a, &b| {
                let (x, y) = (busy(a), busy(b));
                (x.is_nan().cmp(&y.is_nan()))
                    .then(y.total_cmp(&x))
                    .then(a.cmp(&b))
            });
            order.truncate(MAX_BARS);
            order.sort_unstable();
        }
        Self {
            nodes: order.into_iter().map(|i| &result.nodes[i]).collect(),
            total: result.nodes.len(),
        }
    }

    fn draw_metric<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        metric: &Metric,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let estimates: Vec<Estimate> = self.nodes.iter().map(|&n| (metric.value)(n)).collect();
        let theory: Vec<(usize, f64)> = self
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((i, (metric.theory)(n.theory.as_ref()?))))
            .filter(|(_, v)| v.is_finite())
            .collect();
        let y_max = style::upper(
            estimates
                .iter()
                .map(|e| e.mean + e.ci95.max(0.0))
                .chain(theory.iter().map(|&(_, v)| v))
                .chain([metric.at_least / 1.05]),
        )
        .unwrap_or(metric.at_least);
        let names: Vec<&str> = self.nodes.iter().map(|n| n.node.as_str()).collect();
        let label = |x: &f64| {
            let i = x.round();
            let at_bar = (x - i).abs() < 1e-6 && i >= 0.0;
            match names.get(i as usize) {
                Some(name) if at_bar => name.to_string(),
                _ => String::new(),
            }
        };
        let mut chart = ChartBuilder::on(area)
            .caption(metric.caption, style::font(CAPTION_PX))
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..self.nodes.len() as f64 - 0.5, 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.nodes.len())
            .x_label_formatter(&label)
            .x_desc("queue")
            .y_desc(metric.axis)
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        let bar = style::colour(0).mix(0.7);
        let defined = || {
            estimates
                .iter()
                .enumerate()
                .filter(|(_, e)| e.mean.is_finite())
        };
        chart
            .draw_series(defined().map(|(i, e)| {
                let x = i as f64;
                Rectangle::new(
                    [(x - BAR_HALF_WIDTH, 0.0), (x + BAR_HALF_WIDTH, e.mean)],
                    bar.filled(),
                )
            }))?
            .label("mean of replications")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], bar.filled()));
        parts::draw_whiskers(&mut chart, defined().map(|(i, e)| (i as f64, *e)), CAP_PX)?;
        draw_theory(&mut chart, &theory)?;
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// Theory's `(queue slot, value)` as triangles beside the bars; a legend
/// entry only when theory applies to some queue.
fn draw_theory<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    theory: &[(usize, f64)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if theory.is_empty() {
        return Ok(());
    }
    let colour = style::colour(1);
    chart
        .draw_series(theory.iter().map(|&(i, value)| {
            TriangleMarker::new((i as f64 + THEORY_OFFSET, value), 7, colour.filled())
        }))?
        .label("theory")
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, colour.filled()));
    Ok(())
}

impl Figure for NodeFigure<'_> {
    fn name(&self) -> &'static str {
        "node_utilization_loss"
    }

    fn title(&self) -> String {
        if self.nodes.len() < self.total {
            format!(
                "Utilization and loss: the {} busiest of {} queues",
                self.nodes.len(),
                self.total
            )
        } else {
            "Utilization and loss per queue".to_string()
        }
    }

    fn size(&self) -> (u32, u32) {
        (1200, 520)
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.nodes.is_empty() {
            return style::note(body, "no queue to plot");
        }
        let (left, right) = body.split_horizontally(600);
        self.draw_metric(&left, &METRICS[0])?;
        self.draw_metric(&right, &METRICS[1])
    }
}
