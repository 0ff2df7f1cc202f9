//! queuesim: a discrete-event simulator and latency/QoS analyzer for
//! message-queue systems.

pub mod analytic;
pub mod dist;
pub mod model;
pub mod scenario;
pub mod units;
