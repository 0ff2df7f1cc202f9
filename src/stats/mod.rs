//! Statistics in constant memory: streaming moments, time-weighted averages,
//! latency histograms, and confidence intervals across replications.
//!
//! Everything here grows with the number of distinct values kept (a
//! histogram's buckets, the number of replications), never with the number
//! of observations, so a run of 10^9 messages needs no more memory than a
//! run of 10^3.

mod estimate;
mod histogram;
mod tally;
mod time_weighted;
pub mod warmup;

pub use estimate::{Estimate, student_t_975};
pub use histogram::LatencyHistogram;
pub use tally::Tally;
pub use time_weighted::TimeWeighted;
