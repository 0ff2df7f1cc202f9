//! The names of the report's files and metrics, in one typed list: the CSV
//! writer takes its columns from here, and so do metric and SLO parsing,
//! sweep columns, plots and `merge`. A metric's name is its CSV column
//! (`p99_latency`); its 95% half-width is the column `NAME_ci95`.

use super::{NodeRow, SummaryRow};
use crate::results::Measure;
use crate::stats::Estimate;

/// The CSV files of a run's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFile {
    Summary,
    Nodes,
    Classes,
    LatencyQuantiles,
    Timeseries,
    Sinks,
    Events,
}

impl ReportFile {
    /// Every file, in the order the report writes them.
    pub const ALL: [Self; 7] = [
        Self::Summary,
        Self::Nodes,
        Self::Classes,
        Self::LatencyQuantiles,
        Self::Timeseries,
        Self::Sinks,
        Self::Events,
    ];

    /// The file's name, e.g. `summary.csv`.
    pub const fn file_name(self) -> &'static str {
        match self {
            Self::Summary => "summary.csv",
            Self::Nodes => "nodes.csv",
            Self::Classes => "classes.csv",
            Self::LatencyQuantiles => "latency_quantiles.csv",
            Self::Timeseries => "timeseries.csv",
            Self::Sinks => "sinks.csv",
            Self::Events => "events.csv",
        }
    }

    /// The file named `name`, if it is one of a run's.
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.file_name() == name)
    }
}

/// What kind of number a metric is, for showing it with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Messages or events per replication (a mean over replications).
    Count,
    /// A duration in seconds.
    Seconds,
    /// Per second.
    PerSecond,
    /// A fraction or a time-average number (utilization, ratios, backlog).
    Plain,
}

impl Quantity {
    /// The kind of the metric named `name`: a summary metric, or
    /// `queue.metric` for a queue's; plain when unknown.
    pub fn of_metric(name: &str) -> Self {
        if let Some(metric) = SummaryMetric::parse(name) {
            return metric.quantity();
        }
        let column = name.rsplit_once('.').map_or(name, |(_, column)| column);
        NodeMetric::parse(column).map_or(Self::Plain, NodeMetric::quantity)
    }
}

/// The estimate columns of `summary.csv`: the metrics of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryMetric {
    Produced,
    Delivered,
    Lost,
    InFlight,
    SuccessRatio,
    MeanLatency,
    P50Latency,
    P95Latency,
    P99Latency,
    P999Latency,
    Throughput,
    Unroutable,
    ConsumerSeconds,
    Redelivered,
    PeakBacklog,
    Unavailable,
}

impl SummaryMetric {
    /// Every metric, in column order.
    pub const ALL: [Self; 16] = [
        Self::Produced,
        Self::Delivered,
        Self::Lost,
        Self::InFlight,
        Self::SuccessRatio,
        Self::MeanLatency,
        Self::P50Latency,
        Self::P95Latency,
        Self::P99Latency,
        Self::P999Latency,
        Self::Throughput,
        Self::Unroutable,
        Self::ConsumerSeconds,
        Self::Redelivered,
        Self::PeakBacklog,
        Self::Unavailable,
    ];

    /// How many of [`Self::ALL`] come before the `replications` column of
    /// `summary.csv` (and before the queues' metrics in `sweep.csv` and
    /// `compare.csv`); the rest were added later and follow, so that the
    /// older columns keep their places.
    pub const BEFORE_REPLICATIONS: usize = 11;

    /// The latency percentiles, in column order.
    pub const PERCENTILES: [Self; 4] = [
        Self::P50Latency,
        Self::P95Latency,
        Self::P99Latency,
        Self::P999Latency,
    ];

    /// The column name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Produced => "produced",
            Self::Delivered => "delivered",
            Self::Lost => "lost",
            Self::InFlight => "in_flight",
            Self::SuccessRatio => "success_ratio",
            Self::MeanLatency => "mean_latency",
            Self::P50Latency => "p50_latency",
            Self::P95Latency => "p95_latency",
            Self::P99Latency => "p99_latency",
            Self::P999Latency => "p999_latency",
            Self::Throughput => "throughput",
            Self::Unroutable => "unroutable",
            Self::ConsumerSeconds => "consumer_seconds",
            Self::Redelivered => "redelivered",
            Self::PeakBacklog => "peak_backlog",
            Self::Unavailable => "unavailable",
        }
    }

    /// The metric whose column is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The unit of its values: `s`, `/s`, or empty for counts per
    /// replication and ratios.
    pub const fn unit(self) -> &'static str {
        match self {
            Self::MeanLatency
            | Self::P50Latency
            | Self::P95Latency
            | Self::P99Latency
            | Self::P999Latency => "s",
            Self::Throughput => "/s",
            _ => "",
        }
    }

    /// The kind of number the metric is.
    pub const fn quantity(self) -> Quantity {
        match self {
            Self::SuccessRatio => Quantity::Plain,
            Self::MeanLatency
            | Self::P50Latency
            | Self::P95Latency
            | Self::P99Latency
            | Self::P999Latency
            | Self::ConsumerSeconds => Quantity::Seconds,
            Self::Throughput => Quantity::PerSecond,
            _ => Quantity::Count,
        }
    }

    /// For a latency percentile, its level (`p99_latency`: 0.99).
    pub const fn level(self) -> Option<f64> {
        match self {
            Self::P50Latency => Some(0.5),
            Self::P95Latency => Some(0.95),
            Self::P99Latency => Some(0.99),
            Self::P999Latency => Some(0.999),
            _ => None,
        }
    }

    /// The metric's estimate in `row`.
    pub fn of(self, row: &SummaryRow) -> Estimate {
        match self {
            Self::Produced => row.produced,
            Self::Delivered => row.delivered,
            Self::Lost => row.lost,
            Self::InFlight => row.in_flight,
            Self::SuccessRatio => row.success_ratio,
            Self::MeanLatency => row.mean_latency,
            Self::P50Latency => row.p50_latency,
            Self::P95Latency => row.p95_latency,
            Self::P99Latency => row.p99_latency,
            Self::P999Latency => row.p999_latency,
            Self::Throughput => row.throughput,
            Self::Unroutable => row.unroutable,
            Self::ConsumerSeconds => row.consumer_seconds,
            Self::Redelivered => row.redelivered,
            Self::PeakBacklog => row.peak_backlog,
            Self::Unavailable => row.unavailable,
        }
    }
}

/// The estimate columns of `nodes.csv`: the metrics of one queue, named
/// `queue.metric` where a metric of the whole run is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeMetric {
    Arrivals,
    Served,
    Dropped,
    Expired,
    DeadLettered,
    Retries,
    MeanWait,
    P99Wait,
    MeanSojourn,
    P99Sojourn,
    MeanInQueue,
    MaxInQueue,
    Utilization,
    Throughput,
    MeanUnacked,
    MaxUnacked,
    DeadLetteredMaxlen,
    DeadLetteredExpired,
    DeadLetteredRejected,
    MeanLag,
    MaxLag,
    P99Lag,
    Disconnects,
}

impl NodeMetric {
    /// Every metric, in column order.
    pub const ALL: [Self; 23] = [
        Self::Arrivals,
        Self::Served,
        Self::Dropped,
        Self::Expired,
        Self::DeadLettered,
        Self::Retries,
        Self::MeanWait,
        Self::P99Wait,
        Self::MeanSojourn,
        Self::P99Sojourn,
        Self::MeanInQueue,
        Self::MaxInQueue,
        Self::Utilization,
        Self::Throughput,
        Self::MeanUnacked,
        Self::MaxUnacked,
        Self::DeadLetteredMaxlen,
        Self::DeadLetteredExpired,
        Self::DeadLetteredRejected,
        Self::MeanLag,
        Self::MaxLag,
        Self::P99Lag,
        Self::Disconnects,
    ];

    /// How many of [`Self::ALL`] come before the `theory_*` columns of
    /// `nodes.csv`; the rest were added later and follow them, so that
    /// the older columns keep their places.
    pub const BEFORE_THEORY: usize = 14;

    /// Level of the percentile columns of a queue or a class (`p99_wait`).
    pub const LEVEL: f64 = 0.99;

    /// The column name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Arrivals => "arrivals",
            Self::Served => "served",
            Self::Dropped => "dropped",
            Self::Expired => "expired",
            Self::DeadLettered => "dead_lettered",
            Self::Retries => "retries",
            Self::MeanWait => "mean_wait",
            Self::P99Wait => "p99_wait",
            Self::MeanSojourn => "mean_sojourn",
            Self::P99Sojourn => "p99_sojourn",
            Self::MeanInQueue => "mean_in_queue",
            Self::MaxInQueue => "max_in_queue",
            Self::Utilization => "utilization",
            Self::Throughput => "throughput",
            Self::MeanUnacked => "mean_unacked",
            Self::MaxUnacked => "max_unacked",
            Self::DeadLetteredMaxlen => "dead_lettered_maxlen",
            Self::DeadLetteredExpired => "dead_lettered_expired",
            Self::DeadLetteredRejected => "dead_lettered_rejected",
            Self::MeanLag => "mean_lag",
            Self::MaxLag => "max_lag",
            Self::P99Lag => "p99_lag",
            Self::Disconnects => "disconnects",
        }
    }

    /// The metric whose column is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The kind of number the metric is.
    pub const fn quantity(self) -> Quantity {
        match self {
            Self::MeanWait | Self::P99Wait | Self::MeanSojourn | Self::P99Sojourn => {
                Quantity::Seconds
            }
            Self::Throughput => Quantity::PerSecond,
            Self::MeanInQueue | Self::Utilization | Self::MeanUnacked | Self::MeanLag => {
                Quantity::Plain
            }
            _ => Quantity::Count,
        }
    }

    /// For a percentile, what it measures (its level is [`Self::LEVEL`]).
    pub const fn measure(self) -> Option<Measure> {
        match self {
            Self::P99Wait => Some(Measure::Wait),
            Self::P99Sojourn => Some(Measure::Sojourn),
            _ => None,
        }
    }

    /// The metric's estimate in `row`.
    pub fn of(self, row: &NodeRow) -> Estimate {
        match self {
            Self::Arrivals => row.arrivals,
            Self::Served => row.served,
            Self::Dropped => row.dropped,
            Self::Expired => row.expired,
            Self::DeadLettered => row.dead_lettered,
            Self::Retries => row.retries,
            Self::MeanWait => row.mean_wait,
            Self::P99Wait => row.p99_wait,
            Self::MeanSojourn => row.mean_sojourn,
            Self::P99Sojourn => row.p99_sojourn,
            Self::MeanInQueue => row.mean_in_queue,
            Self::MaxInQueue => row.max_in_queue,
            Self::Utilization => row.utilization,
            Self::Throughput => row.throughput,
            Self::MeanUnacked => row.mean_unacked,
            Self::MaxUnacked => row.max_unacked,
            Self::DeadLetteredMaxlen => row.dead_lettered_maxlen,
            Self::DeadLetteredExpired => row.dead_lettered_expired,
            Self::DeadLetteredRejected => row.dead_lettered_rejected,
            Self::MeanLag => row.mean_lag,
            Self::MaxLag => row.max_lag,
            Self::P99Lag => row.p99_lag,
            Self::Disconnects => row.disconnects,
        }
    }
}
