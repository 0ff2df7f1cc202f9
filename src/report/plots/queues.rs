//! Queue length over time: one panel per queue with its waiting (ready)
//! and in-service messages from `timeseries.csv`, and its capacity where
//! the scenario sets one.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Figure;
use super::latency::legend;
use super::parts;
use super::style::{self, AXIS_PX, CAPTION_PX, LABEL_PX, LIMIT};
use crate::model::Model;
use crate::results::{RunResult, TimeseriesRow};

/// Most panels in one image; a larger system shows its first queues.
const MAX_PANELS: usize = 12;
/// A capacity is drawn when it is at most this many times the largest
/// sample; a higher one would flatten the curves against the axis.
const CAPACITY_ZOOM: f64 = 4.0;
/// Height of one panel, pixels.
const PANEL_PX: u32 = 260;
/// Height of the title band, pixels.
const TITLE_BAND_PX: u32 = 50;

/// A curve of a panel: legend label and the sampled value it follows.
type Series = (&'static str, fn(&TimeseriesRow) -> f64);

/// One queue's panel.
struct Panel<'a> {
    name: &'a str,
    capacity: Option<u64>,
    rows: Vec<&'a TimeseriesRow>,
}

/// The queue-length plot (`queue_length.png` / `.svg`).
pub struct QueueLengthFigure<'a> {
    panels: Vec<Panel<'a>>,
    queues: usize,
}

impl<'a> QueueLengthFigure<'a> {
    /// The figure of a run of `model`.
    pub fn new(model: &'a Model, result: &'a RunResult) -> Self {
        let panels = model
            .queues
            .iter()
            .take(MAX_PANELS)
            .map(|queue| Panel {
                name: &queue.name,
                capacity: queue.capacity,
                rows: result
                    .timeseries
                    .iter()
                    .filter(|row| row.node == queue.name)
                    .collect(),
            })
            .collect();
        Self {
            panels,
            queues: model.queues.len(),
        }
    }
}

impl Panel<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (Some(first), Some(last)) = (self.rows.first(), self.rows.last()) else {
            return style::note(area, &format!("{}: no samples", self.name));
        };
        let data_max =
            style::upper(self.rows.iter().flat_map(|r| [r.in_queue, r.in_service])).unwrap_or(1.0);
        let capacity = self
            .capacity
            .filter(|&c| c as f64 <= data_max * CAPACITY_ZOOM);
        let caption = match (self.capacity, capacity) {
            (Some(c), None) => format!("{} (capacity {c}, far above the scale)", self.name),
            _ => self.name.to_string(),
        };
        let y_max = capacity.map_or(data_max, |c| data_max.max(c as f64 * 1.05));
        let x_range = first.time..last.time.max(first.time + f64::EPSILON);
        let mut chart = ChartBuilder::on(area)
            .caption(caption, style::font(CAPTION_PX))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range.clone(), 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc("messages")
            .axis_desc_style(style::font(AXIS_PX))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        let series: [Series; 2] = [
            ("waiting (ready), mean of replications", |r| r.in_queue),
            ("in service, mean of replications", |r| r.in_service),
        ];
        for (i, (label, value)) in series.into_iter().enumerate() {
            let points = self.rows.iter().map(|r| (r.time, value(r)));
            parts::draw_curve(&mut chart, points, style::colour(i), label)?;
        }
        if let Some(capacity) = capacity {
            let level = capacity as f64;
            chart
                .draw_series(DashedLineSeries::new(
                    [(x_range.start, level), (x_range.end, level)],
                    8,
                    5,
                    LIMIT.stroke_width(2),
                ))?
                .label(format!("capacity {capacity}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], LIMIT.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

impl Figure for QueueLengthFigure<'_> {
    fn name(&self) -> &'static str {
        "queue_length"
    }

    fn title(&self) -> String {
        if self.queues > self.panels.len() {
            format!(
                "Queue length over time (first {} of {} queues)",
                self.panels.len(),
                self.queues
            )
        } else {
            "Queue length over time".to_string()
        }
    }

    fn size(&self) -> (u32, u32) {
        (
            1200,
            TITLE_BAND_PX + PANEL_PX * self.panels.len().max(1) as u32,
        )
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if self.panels.is_empty() {
            return style::note(body, "no queue to plot");
        }
        let areas = body.split_evenly((self.panels.len(), 1));
        for (panel, area) in self.panels.iter().zip(&areas) {
            panel.draw(area)?;
        }
        Ok(())
    }
}
