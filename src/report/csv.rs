//! The CSV files of a run: wide tables, one header row, plain numbers.
//!
//! Each estimate is two columns, `metric` and `metric_ci95` (the half-width
//! of its 95% confidence interval). An undefined value (no observation, or
//! a confidence interval from a single replication) is an empty cell.

use crate::results::{
    ClassRow, EventRow, NodeMetric, NodeRow, QuantileRow, ReportFile, RunResult, SinkRow,
    SummaryMetric, SummaryRow, TimeseriesRow,
};
use crate::stats::Estimate;
use crate::table::{Table, number};

struct RowBuilder {
    header: Vec<String>,
    cells: Vec<String>,
}

impl RowBuilder {
    fn new() -> Self {
        Self {
            header: Vec::new(),
            cells: Vec::new(),
        }
    }

    fn text(mut self, name: &str, value: impl ToString) -> Self {
        self.header.push(name.to_string());
        self.cells.push(value.to_string());
        self
    }

    fn value(self, name: &str, value: f64) -> Self {
        self.text(name, number(value))
    }

    fn estimate(self, name: &str, estimate: Estimate) -> Self {
        self.value(name, estimate.mean)
            .value(&format!("{name}_ci95"), estimate.ci95)
    }
}

impl RowBuilder {
    /// The `theory_*` columns of `nodes.csv`: exact queueing theory beside
    /// the simulated values, empty cells where no exact result applies.
    fn theory(self, theory: Option<&crate::results::NodeTheory>) -> Self {
        let value = |f: fn(&crate::results::NodeTheory) -> f64| theory.map_or(f64::NAN, f);
        self.text("theory_model", theory.map_or("", |t| t.model.as_str()))
            .value("theory_mean_wait", value(|t| t.mean_wait_s))
            .value("theory_mean_sojourn", value(|t| t.mean_sojourn_s))
            .value("theory_utilization", value(|t| t.utilization))
            .value("theory_loss", value(|t| t.loss))
    }
}

fn table_of<T: Default>(rows: &[T], build: impl Fn(&T) -> RowBuilder) -> Table {
    Table {
        header: build(&T::default()).header,
        rows: rows.iter().map(|row| build(row).cells).collect(),
    }
}

fn summary_row(row: &SummaryRow) -> RowBuilder {
    let named = RowBuilder::new().text("scenario", &row.scenario);
    let (before, after) = SummaryMetric::ALL.split_at(SummaryMetric::BEFORE_REPLICATIONS);
    let estimate =
        |b: RowBuilder, metric: &SummaryMetric| b.estimate(metric.name(), metric.of(row));
    let counted = before
        .iter()
        .fold(named, estimate)
        .text("replications", row.replications);
    after.iter().fold(counted, estimate)
}

fn node_row(row: &NodeRow) -> RowBuilder {
    let named = RowBuilder::new().text("node", &row.node);
    let (before, after) = NodeMetric::ALL.split_at(NodeMetric::BEFORE_THEORY);
    let estimate = |b: RowBuilder, metric: &NodeMetric| b.estimate(metric.name(), metric.of(row));
    let with_theory = before
        .iter()
        .fold(named, estimate)
        .theory(row.theory.as_ref());
    after.iter().fold(with_theory, estimate)
}

fn class_row(row: &ClassRow) -> RowBuilder {
    RowBuilder::new()
        .text("node", &row.node)
        .text("priority", row.priority)
        .estimate("arrivals", row.arrivals)
        .estimate("served", row.served)
        .estimate("mean_wait", row.mean_wait)
        .estimate("p99_wait", row.p99_wait)
        .estimate("mean_sojourn", row.mean_sojourn)
}

fn quantile_row(row: &QuantileRow) -> RowBuilder {
    RowBuilder::new()
        .value("quantile", row.quantile)
        .estimate("latency", row.latency)
}

fn sink_row(row: &SinkRow) -> RowBuilder {
    RowBuilder::new()
        .text("sink", &row.sink)
        .estimate("delivered", row.delivered)
        .estimate("success_ratio", row.success_ratio)
        .estimate("mean_latency", row.mean_latency)
        .estimate("p50_latency", row.p50_latency)
        .estimate("p95_latency", row.p95_latency)
        .estimate("p99_latency", row.p99_latency)
        .estimate("p999_latency", row.p999_latency)
}

fn event_row(row: &EventRow) -> RowBuilder {
    let row_start = RowBuilder::new()
        .text("event", row.event)
        .text("what", &row.what)
        .value("start", row.start);
    let ended = match row.end.is_finite() {
        true => row_start.value("end", row.end),
        false => row_start.text("end", ""),
    };
    ended
        .estimate("backlog_before", row.backlog_before)
        .estimate("peak_backlog", row.peak_backlog)
        .estimate("drain_time", row.drain_time)
        .estimate("drained", row.drained)
        .estimate("p99_latency", row.p99_latency)
}

fn timeseries_row(row: &TimeseriesRow) -> RowBuilder {
    RowBuilder::new()
        .value("time", row.time)
        .text("node", &row.node)
        .value("in_queue", row.in_queue)
        .value("in_service", row.in_service)
        .value("unacked", row.unacked)
        .value("lag", row.lag)
        .value("lag_seconds", row.lag_seconds)
        .value("consumers", row.consumers)
}

/// The CSV files of a run, as `(file name, table)`, in [`ReportFile::ALL`]
/// order; `events.csv` only for a scenario with `[[events]]`.
pub fn tables(result: &RunResult) -> Vec<(&'static str, Table)> {
    (ReportFile::ALL.into_iter())
        .filter(|&file| file != ReportFile::Events || !result.scheduled.is_empty())
        .map(|file| (file.file_name(), table(result, file)))
        .collect()
}

/// The table of `file` in a run's report.
pub fn table(result: &RunResult, file: ReportFile) -> Table {
    match file {
        ReportFile::Summary => table_of(std::slice::from_ref(&result.summary), summary_row),
        ReportFile::Nodes => table_of(&result.nodes, node_row),
        ReportFile::Classes => table_of(&result.classes, class_row),
        ReportFile::LatencyQuantiles => table_of(&result.quantiles, quantile_row),
        ReportFile::Timeseries => table_of(&result.timeseries, timeseries_row),
        ReportFile::Sinks => table_of(&result.sinks, sink_row),
        ReportFile::Events => table_of(&result.scheduled, event_row),
    }
}

/// Serialises a table as CSV bytes.
pub fn to_csv(table: &Table) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(&table.header)
        .and_then(|()| {
            table
                .rows
                .iter()
                .try_for_each(|row| writer.write_record(row))
        })
        .expect("writing CSV to memory cannot fail");
    writer
        .into_inner()
        .expect("flushing CSV to memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_take_two_columns() {
        let row = RowBuilder::new().estimate(
            "mean_wait",
            Estimate {
                mean: 1.5,
                ci95: 0.25,
            },
        );
        assert_eq!(row.header, ["mean_wait", "mean_wait_ci95"]);
        assert_eq!(row.cells, ["1.5", "0.25"]);
    }
}
