//! `queuesim fit`: fit distributions to measured times in one CSV column,
//! print the ranking and the TOML line to paste, optionally a QQ plot.

use std::fs;
use std::path::Path;

use super::{Failure, print_stdout};
use queuesim::fit::{self, FitReport, Kind};

/// What `--json` prints: the report and where its values came from.
#[derive(serde::Serialize)]
struct Output<'a> {
    file: String,
    column: &'a str,
    /// Rows of the file whose cell in the column was empty (skipped).
    empty_cells: usize,
    #[serde(flatten)]
    report: &'a FitReport,
}

/// Fits `column` of the CSV `file` and prints the result (text or JSON);
/// writes a QQ plot to `plot` if given.
pub(crate) fn fit_file(
    file: &Path,
    column: &str,
    kind: Kind,
    json: bool,
    plot: Option<&Path>,
) -> Result<(), Failure> {
    let data = fit::data::read_column(file, column).map_err(|e| Failure::Input(e.to_string()))?;
    let source = format!("{}, column {column:?}", file.display());
    let report =
        fit::fit(&data.values, kind).map_err(|e| Failure::Input(format!("{source}: {e}")))?;
    if let Some(path) = plot {
        let svg = fit::plot::qq_svg(&report, &data.values, &source)
            .map_err(|e| Failure::Run(e.to_string()))?;
        fs::write(path, svg)
            .map_err(|e| Failure::Run(format!("cannot write {}: {e}", path.display())))?;
    }
    if json {
        let output = Output {
            file: file.display().to_string(),
            column,
            empty_cells: data.empty_cells,
            report: &report,
        };
        let text = serde_json::to_string_pretty(&output)
            .map_err(|e| Failure::Run(format!("cannot serialise results: {e}")))?;
        print_stdout(&format!("{text}\n"));
        return Ok(());
    }
    let mut text = fit::text::render(&report, &source);
    if data.empty_cells > 0 {
        text.push_str(&format!("\nSkipped {} empty cells.\n", data.empty_cells));
    }
    if let Some(path) = plot {
        text.push_str(&format!("\nwrote QQ plot to {}\n", path.display()));
    }
    print_stdout(&text);
    Ok(())
}
