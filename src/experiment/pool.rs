//! Pooling the report tables of single replications into the report of a
//! run: how `queuesim merge` rebuilds a sharded `run`.
//!
//! Every cell of a run's CSV tables is one of: a key (`node`, `time`, …,
//! and the `theory_*` columns, which depend on the model alone: the same
//! in every replication), the number of replications, a mean with
//! its 95% CI over per-replication values (`metric`, `metric_ci95`), a
//! quantile of the pooled histograms with its sectioning CI over
//! per-replication quantiles (see [`crate::results::quantile_cell`]), or a
//! plain mean over replications (`timeseries.csv`). The table of one
//! replication alone holds exactly those per-replication values, written
//! in shortest round-trip form, and the shards carry their histograms, so
//! pooling the tables of replications `0..R` in order recomputes the very
//! numbers, and bytes, of a run of `0..R`.

use crate::results::{PooledHistograms, ReportFile, quantile_cell};
use crate::stats::Estimate;
use crate::table::{Table, number};

/// The key columns of each CSV table of a run.
const KEYS: &[(&str, &[&str])] = &[
    (ReportFile::Summary.file_name(), &["scenario"]),
    (ReportFile::Nodes.file_name(), &["node"]),
    (ReportFile::Classes.file_name(), &["node", "priority"]),
    (ReportFile::LatencyQuantiles.file_name(), &["quantile"]),
    (ReportFile::Timeseries.file_name(), &["time", "node"]),
    (ReportFile::Sinks.file_name(), &["sink"]),
    (
        ReportFile::Events.file_name(),
        &["event", "what", "start", "end"],
    ),
];

/// The key columns of table `name`, or `None` for a table this module does
/// not know how to pool.
pub fn key_columns(name: &str) -> Option<&'static [&'static str]> {
    KEYS.iter().find(|(n, _)| *n == name).map(|(_, keys)| *keys)
}

/// Tables of single replications that cannot be pooled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    /// No key columns are known for this table.
    #[error(
        "table {0} cannot be merged (known tables: summary.csv, nodes.csv, classes.csv, latency_quantiles.csv, timeseries.csv)"
    )]
    UnknownTable(String),
    /// Replications disagree on the rows or columns of a table.
    #[error("table {table}: replication {replication} {reason}")]
    Mismatch {
        /// The table.
        table: String,
        /// The replication that differs from the first.
        replication: u32,
        /// How it differs.
        reason: String,
    },
}

enum Column {
    Key,
    Count,
    Estimate,
    HalfWidth(usize),
    Mean,
}

fn classify(name: &str, header: &[String]) -> Result<Vec<Column>, PoolError> {
    let keys = key_columns(name).ok_or_else(|| PoolError::UnknownTable(name.to_owned()))?;
    Ok(header
        .iter()
        .map(|column| {
            let ci = format!("{column}_ci95");
            if keys.contains(&column.as_str()) || column.starts_with("theory_") {
                Column::Key
            } else if column == "replications" {
                Column::Count
            } else if header.contains(&ci) {
                Column::Estimate
            } else if let Some(base) = column
                .strip_suffix("_ci95")
                .and_then(|b| header.iter().position(|h| h == b))
            {
                Column::HalfWidth(base)
            } else {
                Column::Mean
            }
        })
        .collect())
}

/// Pools `tables`, one per replication in increasing replication order
/// (`(replication, table)`), into the table of a run of all of them, whose
/// histograms pooled are `histograms`.
///
/// # Errors
///
/// [`PoolError`] for an unknown table, or replications whose headers, row
/// counts or keys differ.
pub fn pool(
    name: &str,
    tables: &[(u32, Table)],
    histograms: &PooledHistograms,
) -> Result<Table, PoolError> {
    let Some((_, first)) = tables.first() else {
        return Err(PoolError::UnknownTable(name.to_owned()));
    };
    let columns = classify(name, &first.header)?;
    for (replication, table) in tables {
        let mismatch = |reason: &str| PoolError::Mismatch {
            table: name.to_owned(),
            replication: *replication,
            reason: reason.to_owned(),
        };
        if table.header != first.header || table.rows.len() != first.rows.len() {
            return Err(mismatch("has other columns or rows than the first"));
        }
        for (row, reference) in table.rows.iter().zip(&first.rows) {
            let keys_differ = columns
                .iter()
                .zip(row.iter().zip(reference))
                .any(|(c, (a, b))| matches!(c, Column::Key) && a != b);
            if keys_differ {
                return Err(mismatch("has other keys than the first"));
            }
        }
    }
    let rows = (0..first.rows.len())
        .map(|r| pool_row(name, &columns, tables, r, histograms))
        .collect();
    Ok(Table {
        header: first.header.clone(),
        rows,
    })
}

fn pool_row(
    name: &str,
    columns: &[Column],
    tables: &[(u32, Table)],
    row: usize,
    histograms: &PooledHistograms,
) -> Vec<String> {
    let values = |c: usize| {
        tables
            .iter()
            .map(move |(_, t)| t.rows[row][c].parse::<f64>().unwrap_or(f64::NAN))
    };
    let first = &tables[0].1;
    let estimate = |c: usize| match quantile_cell(name, &first.header, &first.rows[row], c) {
        Some((key, level)) => Estimate::sectioned(histograms.quantile(&key, level), values(c)),
        None => Estimate::from_replications(values(c)),
    };
    columns
        .iter()
        .enumerate()
        .map(|(c, column)| match column {
            Column::Key => tables[0].1.rows[row][c].clone(),
            Column::Count => tables.len().to_string(),
            Column::Estimate => number(estimate(c).mean),
            Column::HalfWidth(base) => number(estimate(*base).ci95),
            Column::Mean => number(values(c).sum::<f64>() / tables.len() as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cells: &[&str]) -> Table {
        Table {
            header: ["time", "node", "in_queue", "x", "x_ci95", "replications"]
                .map(String::from)
                .to_vec(),
            rows: vec![cells.iter().map(|c| c.to_string()).collect()],
        }
    }

    #[test]
    fn pools_each_kind_of_column() {
        let pooled = pool(
            "timeseries.csv",
            &[
                (0, table(&["1", "q", "2", "1", "", "1"])),
                (1, table(&["1", "q", "3", "", "", "1"])),
                (2, table(&["1", "q", "4", "3", "", "1"])),
            ],
            &PooledHistograms::default(),
        )
        .unwrap();
        let expected_ci = number(Estimate::from_replications([1.0, 3.0]).ci95);
        assert_eq!(pooled.rows[0], ["1", "q", "3", "2", &expected_ci, "3"]);
    }

    #[test]
    fn differing_keys_and_unknown_tables_are_refused() {
        let err = pool(
            "timeseries.csv",
            &[
                (0, table(&["1", "q", "2", "1", "", "1"])),
                (1, table(&["2", "q", "2", "1", "", "1"])),
            ],
            &PooledHistograms::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("replication 1"), "{err}");
        let none = PooledHistograms::default();
        let err = pool("plot.csv", &[(0, table(&["1"; 6]))], &none).unwrap_err();
        assert!(err.to_string().contains("cannot be merged"), "{err}");
    }
}
