//! The plots of a run, each drawn twice from the same code: as SVG (inlined
//! in `report.html`) and as PNG (for slides and chat).
//!
//! Text is laid out with DejaVu Sans, embedded in the binary by the `dejavu`
//! crate and registered with plotters' pure-Rust `ab_glyph` renderer, so a
//! plot looks the same on every machine and needs no system font library.
//! The SVG files name the generic `sans-serif` family, so a browser shows
//! them with its own sans-serif font.

mod compare;
mod latency;
mod nodes;
mod parts;
mod queues;
pub(crate) mod style;
mod sweep;
mod waits;

pub use compare::render_compare;
pub use sweep::render_sweep;

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::model::Model;
use crate::results::RunResult;

/// One plot, rendered in both formats.
#[derive(Debug, Clone)]
pub struct Plot {
    /// File stem: the plot is written as `<name>.svg` and `<name>.png`.
    pub name: &'static str,
    /// Title drawn at the top of the plot (also its caption in the report).
    pub title: String,
    /// Size in pixels, `(width, height)`, of both renderings.
    pub size: (u32, u32),
    /// The SVG document.
    pub svg: String,
    /// The PNG file's bytes.
    pub png: Vec<u8>,
}

impl Plot {
    /// The plot's two files, `(file name, bytes)`: SVG, then PNG.
    pub fn files(&self) -> [(String, Vec<u8>); 2] {
        [
            (format!("{}.svg", self.name), self.svg.clone().into_bytes()),
            (format!("{}.png", self.name), self.png.clone()),
        ]
    }
}

/// A plot could not be drawn or encoded.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Drawing failed (a backend or font error).
    #[error("cannot draw plot {plot}: {message}")]
    Draw {
        /// Plot file stem.
        plot: &'static str,
        /// What the drawing library said.
        message: String,
    },
    /// The PNG encoder could not write or read back its scratch file.
    #[error("cannot encode plot {plot} as PNG via {}: {source}", path.display())]
    Encode {
        /// Plot file stem.
        plot: &'static str,
        /// Scratch file in the system's temporary directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Ctrl-C or a termination signal arrived between two plots.
    #[error("interrupted while drawing the plots")]
    Interrupted,
}

/// A plot that can draw itself on any plotters backend.
trait Figure {
    /// File stem of the plot.
    fn name(&self) -> &'static str;
    /// Title drawn at the top.
    fn title(&self) -> String;
    /// Size in pixels; 1200 × 560 unless the figure needs another.
    fn size(&self) -> (u32, u32) {
        (1200, 560)
    }
    /// Draws the plot's content on `body`, the area below the title.
    fn draw_body<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
    /// Draws the whole plot on `root`: the title, then the content.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let body = style::titled(root, &self.title())?;
        self.draw_body(&body)
    }
}

/// Every plot of a run of `model`, in a fixed order.
pub fn render_all(model: &Model, result: &RunResult) -> Result<Vec<Plot>, PlotError> {
    with_fonts()?;
    let figures: [&dyn Fn() -> Result<Plot, PlotError>; 4] = [
        &|| render(&latency::LatencyFigure::new(model, result)),
        &|| render(&queues::QueueLengthFigure::new(model, result)),
        &|| render(&nodes::NodeFigure::new(result)),
        &|| render(&waits::WaitFigure::new(result)),
    ];
    figures
        .iter()
        .map(|figure| {
            if crate::engine::stop_requested() {
                return Err(PlotError::Interrupted);
            }
            figure()
        })
        .collect()
}

/// Registers the embedded font, as every set of plots needs first.
fn with_fonts() -> Result<(), PlotError> {
    style::register_fonts().map_err(|message| PlotError::Draw {
        plot: "fonts",
        message: message.into(),
    })
}

fn render<F: Figure>(figure: &F) -> Result<Plot, PlotError> {
    let name = figure.name();
    let draw_error = |e: &dyn std::fmt::Display| PlotError::Draw {
        plot: name,
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        figure.draw(&root).map_err(|e| draw_error(&e))?;
        root.present().map_err(|e| draw_error(&e))?;
    }
    Ok(Plot {
        name,
        title: figure.title(),
        size: figure.size(),
        svg,
        png: render_png(figure)?,
    })
}

/// Draws `figure` as PNG. plotters encodes PNG only into a file, so the
/// image goes through a uniquely named scratch file that is read back and
/// removed (by a second Ctrl-C too); the report itself is still written
/// all-or-nothing.
fn render_png<F: Figure>(figure: &F) -> Result<Vec<u8>, PlotError> {
    static SCRATCH: AtomicU64 = AtomicU64::new(0);
    let name = figure.name();
    let path = std::env::temp_dir().join(format!(
        "queuesim-{}-{}-{name}.png",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    ));
    super::with_scratch_file(&path, |path| {
        let drawn = {
            let root = BitMapBackend::new(path, figure.size()).into_drawing_area();
            figure
                .draw(&root)
                .and_then(|()| root.present())
                .map_err(|e| PlotError::Draw {
                    plot: name,
                    message: e.to_string(),
                })
        };
        drawn.and_then(|()| {
            fs::read(path).map_err(|source| PlotError::Encode {
                plot: name,
                path: path.to_path_buf(),
                source,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{engine, results, scenario};
    use std::path::Path;

    const TINY: &str = r#"
        name = "tiny"
        [simulation]
        duration = 20
        warmup = 2
        replications = 3
        seed = 1
        [[producers]]
        name = "p"
        to = "q"
        rate = 50
        deadline = "100ms"
        [[queues]]
        name = "q"
        capacity = 5
        [queues.consumers]
        count = 1
        service = { dist = "exponential", mean = 0.015 }
    "#;

    fn tiny_plots() -> Vec<Plot> {
        let model = scenario::from_str(TINY, Path::new("tiny.toml"), &[]).unwrap();
        let result = results::summarize(&model, &engine::run(&model));
        render_all(&model, &result).unwrap()
    }

    #[test]
    fn every_plot_is_drawn_in_both_formats_with_its_title() {
        let plots = tiny_plots();
        let names: Vec<_> = plots.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "latency_cdf",
                "queue_length",
                "node_utilization_loss",
                "wait_cdf"
            ]
        );
        for plot in &plots {
            assert!(
                plot.svg.contains(&plot.title),
                "{} lacks its title",
                plot.name
            );
            assert!(plot.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", plot.name);
        }
    }
}
