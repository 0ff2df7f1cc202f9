//! Queueing theory: exact closed forms, approximations, open Jackson
//! networks and Markov-chain steady states.
//!
//! This module is the "theory" half of queuesim: every function answers
//! instantly what a simulation run estimates, so the two can be compared.
//! Conventions used throughout:
//!
//! - rates are per second, times are in seconds;
//! - `c` is the number of parallel servers (consumers) of a queue;
//! - `k` is the **system** capacity (waiting *and* in service), as in
//!   Kendall's M/M/c/K. A queuesim queue's `capacity` counts only waiting
//!   messages, so convert it with [`system_capacity`] first;
//! - functions validate their parameters and return
//!   [`AnalyticError::InvalidParameter`] for NaN, infinite, negative or
//!   otherwise meaningless inputs, and [`AnalyticError::Unstable`] where an
//!   infinite-capacity queue has utilization `>= 1` (no steady state).
//!
//! Exact results: [`mm1`], [`mmc`], [`erlang_b`], [`erlang_c`], [`mm1k`],
//! [`mmck`], [`mg1`], [`md1`], [`mm1_feedback`],
//! [`priority_mg1_nonpreemptive`], [`jackson()`] and the sojourn-time
//! distributions. Approximations (labelled as such): [`kingman_gg1`],
//! [`allen_cunneen_ggc`]. Markov chains live in [`markov`]; [`scenario`]
//! applies all of these to a whole scenario, whose mean rates come from the
//! sparse traffic equations of [`traffic`].

mod abandonment;
mod approx;
mod jackson;
pub mod markov;
mod multi;
mod priority;
pub mod scenario;
mod single;
pub mod traffic;

pub use abandonment::mm1_ttl_expired_fraction;
pub use approx::{allen_cunneen_ggc, kingman_gg1};
pub use jackson::{JacksonResult, Saturation, jackson, jackson_routes};
pub use multi::{
    erlang_b, erlang_c, mmc, mmc_sojourn_cdf, mmc_sojourn_quantile, mmck, system_capacity,
};
pub use priority::{ClassMetrics, PriorityClass, priority_mg1_nonpreemptive};
pub use single::{md1, mg1, mm1, mm1_feedback, mm1_sojourn_quantile, mm1k, round_robin_em1};

use serde::Serialize;

/// Steady-state performance of one queue (or one node of a network).
///
/// Means are time averages (`mean_in_queue`, `mean_in_system`) or averages
/// over *accepted* messages (`mean_wait_s`, `mean_sojourn_s`); they are tied
/// by Little's law on the accepted traffic: `L = throughput · W`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueMetrics {
    /// Offered arrival rate λ, messages per second.
    pub arrival_rate: f64,
    /// Accepted (and, in steady state, completed) rate, messages per second.
    pub throughput: f64,
    /// Fraction of time each server is busy, in `[0, 1]`.
    pub utilization: f64,
    /// Probability that an arriving message is rejected (finite capacity).
    pub loss_probability: f64,
    /// Mean time from arrival to start of service, seconds.
    pub mean_wait_s: f64,
    /// Mean time from arrival to end of service, seconds.
    pub mean_sojourn_s: f64,
    /// Mean number of messages waiting (Lq).
    pub mean_in_queue: f64,
    /// Mean number of messages waiting or in service (L).
    pub mean_in_system: f64,
}

impl QueueMetrics {
    /// The metrics of a stable queue that rejects nothing: all of the
    /// arrival rate λ is served, and the mean numbers follow from the mean
    /// times by Little's law, `Lq = λ · W_q` and `L = λ · W`.
    pub(crate) fn lossless(
        arrival_rate: f64,
        utilization: f64,
        mean_wait_s: f64,
        mean_sojourn_s: f64,
    ) -> Self {
        Self {
            arrival_rate,
            throughput: arrival_rate,
            utilization,
            loss_probability: 0.0,
            mean_wait_s,
            mean_sojourn_s,
            mean_in_queue: arrival_rate * mean_wait_s,
            mean_in_system: arrival_rate * mean_sojourn_s,
        }
    }
}

/// Why a queueing formula could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyticError {
    /// The offered load needs at least all of the servers: an infinite
    /// queue grows without bound and has no steady state.
    #[error(
        "unstable: utilization {utilization:.4} >= 1, the queue grows without bound; \
         add servers, serve faster or bound the queue"
    )]
    Unstable {
        /// Offered load per server, `λ / (c μ)`.
        utilization: f64,
    },
    /// A parameter is NaN, infinite or outside its domain.
    #[error("invalid parameter `{name}` = {value}: expected {expected}")]
    InvalidParameter {
        /// Name of the parameter, as in the function signature.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// Two inputs that describe the same nodes or classes disagree in length.
    #[error("`{name}` has {found} entries, expected {expected} (one per node)")]
    LengthMismatch {
        /// Name of the parameter that has the wrong length.
        name: &'static str,
        /// Number of entries required.
        expected: usize,
        /// Number of entries given.
        found: usize,
    },
    /// Traffic reaches `node`, from which no chain of routes leads out of
    /// the network: the traffic equations `λ = γ + Pᵀλ` have no solution.
    #[error(
        "routing has no exit: traffic reaching node {node} can never leave the network; \
         give some node on its cycle a route out (a row of the routing matrix summing to < 1)"
    )]
    NoExit {
        /// A node that receives traffic but cannot reach an exit.
        node: usize,
    },
    /// One or more nodes of a network are offered more than they can serve.
    #[error("unstable network: {}", describe_saturated(.nodes))]
    UnstableNodes {
        /// Every saturated node, in index order.
        nodes: Vec<Saturation>,
    },
}

fn describe_saturated(nodes: &[Saturation]) -> String {
    nodes
        .iter()
        .map(|s| {
            format!(
                "node {} has utilization {:.4} ({:.4}/s more than it can serve)",
                s.node, s.utilization, s.excess_rate
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Accepts a finite rate or time `>= 0`.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64, AnalyticError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(AnalyticError::InvalidParameter {
            name,
            value,
            expected: "a finite number >= 0",
        })
    }
}

/// Accepts a finite number `> 0`.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, AnalyticError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(AnalyticError::InvalidParameter {
            name,
            value,
            expected: "a finite number > 0",
        })
    }
}

/// Accepts a server count `>= 1`.
pub(crate) fn servers(name: &'static str, c: u32) -> Result<u32, AnalyticError> {
    if c >= 1 {
        Ok(c)
    } else {
        Err(AnalyticError::InvalidParameter {
            name,
            value: f64::from(c),
            expected: "at least 1 server",
        })
    }
}

/// Rejects an infinite queue whose per-server load `rho` is `>= 1`.
pub(crate) fn stable(rho: f64) -> Result<f64, AnalyticError> {
    if rho < 1.0 {
        Ok(rho)
    } else {
        Err(AnalyticError::Unstable { utilization: rho })
    }
}

/// Shared helpers for the unit tests of this module.
#[cfg(test)]
pub(crate) mod testutil {
    /// Relative tolerance for closed forms against hand-computed values.
    pub const REL_TOL: f64 = 1e-9;

    /// Asserts `|actual - expected| <= tol · |expected|`.
    #[track_caller]
    pub fn assert_rel(actual: f64, expected: f64, tol: f64) {
        let err = (actual - expected).abs();
        assert!(
            err <= tol * expected.abs(),
            "actual {actual:e} vs expected {expected:e}: relative error {:e} > {tol:e}",
            err / expected.abs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_reject_nan_infinite_and_out_of_domain() {
        assert!(non_negative("lambda", f64::NAN).is_err());
        assert!(non_negative("lambda", -1.0).is_err());
        assert_eq!(non_negative("lambda", 0.0), Ok(0.0));
        assert!(positive("mu", 0.0).is_err());
        assert!(positive("mu", f64::INFINITY).is_err());
        assert!(servers("c", 0).is_err());
        assert_eq!(
            stable(1.0),
            Err(AnalyticError::Unstable { utilization: 1.0 })
        );
    }

    #[test]
    fn error_messages_name_the_parameter_and_the_fix() {
        let err = positive("mu", -2.0).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid parameter `mu` = -2: expected a finite number > 0"
        );
        let err = stable(1.25).unwrap_err().to_string();
        assert!(
            err.contains("1.2500") && err.contains("add servers"),
            "{err}"
        );
    }
}
