//! Experiments over scenarios: the capacity-planning half of queuesim.
//!
//! - [`compare`]: configurations side by side, paired by replication under
//!   common random numbers;
//! - [`sweep`]: a grid of configurations, one row of metrics per point;
//! - [`plan`]: the smallest value of a key that meets service-level
//!   objectives ([`slo`]), started from theory ([`theory`]) where it applies;
//! - [`precision`]: replications until a metric's CI is narrow enough;
//! - [`shard`]: splitting a run or sweep over machines and merging the
//!   pieces back byte for byte ([`pool`]).
//!
//! All of them work on the per-replication values of [`metrics`]: one value
//! per metric and replication, exactly what a run of that replication alone
//! reports, so every estimate here equals the one `queuesim run` prints.

pub mod compare;
pub mod metrics;
pub mod plan;
pub mod pool;
pub mod precision;
pub mod range;
pub mod shard;
pub mod slo;
pub mod sweep;
pub mod theory;
