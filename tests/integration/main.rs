//! The integration tests of queuesim, in one test binary with one module per
//! area (as ripgrep does): one link step instead of one per file, and one
//! set of shared helpers in [`util`].
//!
//! Run one area with its module path as the filter, e.g.
//! `cargo test --release --test integration theory::`.

mod analyze;
mod big_model;
mod broker;
mod capacity;
mod cli;
mod coverage;
mod docs;
mod fast_path;
mod faults;
mod fit;
mod groups;
mod hostile;
mod interrupt;
mod invariants;
mod lag;
mod outages;
mod output;
mod polls;
mod prefetch;
mod redis;
mod regression;
mod report;
mod retries;
mod routing;
mod safety;
mod sinks;
mod sweeps;
mod theory;
mod topics;
mod util;
mod warmup;
