//! Reading one column of numbers from a CSV file with a header row: the
//! values of an `empirical` distribution and the times `queuesim fit` fits.
//! Each caller adds its own rule for which finite numbers it accepts.

use std::path::Path;

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The values, in file order.
    pub values: Vec<f64>,
    /// Rows whose cell was empty (skipped, e.g. a request that timed out).
    pub empty_cells: usize,
}

/// Why a column of a CSV file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ColumnError {
    /// The file could not be read as CSV with a header row.
    #[error("cannot read {file}: {error}")]
    Csv {
        /// The file.
        file: String,
        /// The reader's error (with its line where known).
        error: csv::Error,
    },
    /// The CSV file has no such column.
    #[error("{file} has no column {column:?}; available columns: {available}")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column asked for.
        column: String,
        /// The header of the file.
        available: String,
    },
    /// A cell of the column is not a number the caller accepts.
    #[error("{file}, line {line}, column {column:?}: {value:?} {reason}")]
    BadValue {
        /// The file.
        file: String,
        /// The 1-based line.
        line: u64,
        /// The column.
        column: String,
        /// The cell as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Reads column `column` of the CSV file at `path` (header row, cells
/// trimmed; empty cells skipped and counted). A cell must be a finite
/// number, and `reject` gives the reason a finite value is not accepted.
pub(crate) fn read(
    path: &Path,
    column: &str,
    reject: impl Fn(f64) -> Option<&'static str>,
) -> Result<Column, ColumnError> {
    let file = path.display().to_string();
    let csv_error = |error| ColumnError::Csv {
        file: file.clone(),
        error,
    };
    let input = crate::input::open(path, crate::input::MAX_INPUT_BYTES)
        .map_err(|e| csv_error(csv::Error::from(e)))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let Some(index) = headers.iter().position(|h| h == column) else {
        return Err(ColumnError::MissingColumn {
            file,
            column: column.to_owned(),
            available: headers
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let mut values = Vec::new();
    let mut empty_cells = 0;
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let cell = record.get(index).unwrap_or_default();
        if cell.is_empty() {
            empty_cells += 1;
            continue;
        }
        let bad = |reason| ColumnError::BadValue {
            file: file.clone(),
            line: record.position().map_or(0, csv::Position::line),
            column: column.to_owned(),
            value: cell.to_owned(),
            reason,
        };
        let value: f64 = cell.parse().map_err(|_| bad("is not a number"))?;
        if !value.is_finite() {
            return Err(bad("is not a finite number"));
        }
        if let Some(reason) = reject(value) {
            return Err(bad(reason));
        }
        values.push(value);
    }
    Ok(Column {
        values,
        empty_cells,
    })
}
