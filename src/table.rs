//! Tables of text cells, the form every CSV file of a report, a shard and a
//! merge takes: below both the results that fill them and the writers
//! that print them.

/// A rendered table: header and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Cells, one vector per row.
    pub rows: Vec<Vec<String>>,
}

/// Formats a number for a CSV cell: shortest round-trip form, empty for NaN.
pub fn number(value: f64) -> String {
    if value.is_nan() {
        String::new()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_and_nan_is_empty() {
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(f64::NAN), "");
    }
}
