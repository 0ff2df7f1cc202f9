//! queuesim: a discrete-event simulator and latency/QoS analyzer for
//! message-queue systems.

pub mod analytic;

pub mod dist;
pub mod engine;
pub mod experiment;
pub mod fit;
pub mod input;
pub mod model;
pub mod report;
pub mod results;
pub mod scenario;
pub mod stats;
pub mod units;
