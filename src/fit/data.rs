//! Reading the measured times to fit: one column of a CSV file with a
//! header row.

use std::path::Path;

use super::FitError;

pub use crate::dist::Column;

/// Reads column `column` of the CSV file at `path` (header row, cells
/// trimmed; empty cells skipped and counted).
///
/// # Errors
///
/// An unreadable file or ragged row (naming the file and line), a missing
/// column (listing the available ones), or a cell that is not a positive
/// finite number (naming its line and column).
pub fn read_column(path: &Path, column: &str) -> Result<Column, FitError> {
    let reject = |value: f64| {
        if value < 0.0 {
            Some("is negative; times must be > 0")
        } else if value == 0.0 {
            Some("is zero; the fitted families need times > 0 (is the clock too coarse?)")
        } else {
            None
        }
    };
    Ok(crate::dist::column::read(path, column, reject)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(content: &str, column: &str) -> Result<Column, FitError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("times.csv");
        std::fs::write(&path, content).unwrap();
        read_column(&path, column)
    }

    fn error(content: &str) -> String {
        read(content, "time").unwrap_err().to_string()
    }

    #[test]
    fn reads_a_column_skipping_empty_cells() {
        let column = read("id,time\na,0.1\nb, 0.3\nc,\n", "time").unwrap();
        assert_eq!(column.values, [0.1, 0.3]);
        assert_eq!(column.empty_cells, 1);
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let missing = error("id,latency\n1,0.5\n");
        assert!(
            missing.ends_with(r#"has no column "time"; available columns: "id", "latency""#),
            "{missing}"
        );
        assert!(
            error("time\n0.1\nfast\n")
                .ends_with(r#"line 3, column "time": "fast" is not a number"#)
        );
        assert!(error("time\n-0.1\n").contains(r#"line 2, column "time": "-0.1" is negative"#));
        assert!(
            error("time\n0.1\ninf\n").contains(r#"line 3, column "time": "inf" is not a finite"#)
        );
        assert!(error("time\n0\n").contains(r#"line 2, column "time": "0" is zero"#));
        assert!(error("id,time\n1,0.1\n2\n").starts_with("cannot read"));
        let absent = read_column(Path::new("/nonexistent/t.csv"), "time").unwrap_err();
        assert!(
            absent
                .to_string()
                .starts_with("cannot read /nonexistent/t.csv")
        );
    }
}
