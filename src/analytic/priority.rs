//! Non-preemptive priority M/G/1 queue (Cobham's formula).

use serde::Serialize;

use super::single::second_moment;
use super::{AnalyticError, non_negative, positive, stable};

/// One priority class of an M/G/1 queue: Poisson arrivals and a general
/// service time with the given first two moments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PriorityClass {
    /// Arrival rate λᵢ, messages per second.
    pub arrival_rate: f64,
    /// Mean service time E\[Sᵢ\], seconds.
    pub mean_service_s: f64,
    /// Second moment of the service time E\[Sᵢ²\], seconds².
    pub second_moment_service: f64,
}

/// Steady-state means of one priority class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// Arrival rate λᵢ, messages per second.
    pub arrival_rate: f64,
    /// Share of the server's time spent on this class, `λᵢ E[Sᵢ]`.
    pub utilization: f64,
    /// Mean time from arrival to start of service, seconds.
    pub mean_wait_s: f64,
    /// Mean time from arrival to end of service, seconds.
    pub mean_sojourn_s: f64,
    /// Mean number of this class waiting.
    pub mean_in_queue: f64,
    /// Mean number of this class waiting or in service.
    pub mean_in_system: f64,
}

/// Exact mean waits of a single-server queue with non-preemptive priority
/// classes (FIFO within a class, a started service is never interrupted).
///
/// `classes` is ordered **highest priority first** (for queuesim's
/// `discipline = "priority"`, sort by descending `priority` value).
///
/// # Formula
///
/// Cobham (1954). With `ρᵢ = λᵢ E[Sᵢ]`, the mean residual work found by an
/// arrival `W₀ = Σᵢ λᵢ E[Sᵢ²] / 2` and `σₖ = Σ_{i<=k} ρᵢ` (`σ₀ = 0`):
///
/// ```text
/// Wq_k = W₀ / ((1 − σ_{k−1}) (1 − σ_k))      W_k = Wq_k + E[S_k]
/// Lq_k = λ_k Wq_k                            L_k = λ_k W_k
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] for an empty slice, a rate `< 0`, a
/// mean service `<= 0` or a second moment below the squared mean.
/// [`AnalyticError::Unstable`] when the total load `σ_n >= 1`, even though
/// the highest classes may still have a steady state then: the lowest
/// classes grow without bound and the residual work `W₀` seen by everyone
/// depends on how their backlog is served, which this formula does not
/// describe.
pub fn priority_mg1_nonpreemptive(
    classes: &[PriorityClass],
) -> Result<Vec<ClassMetrics>, AnalyticError> {
    if classes.is_empty() {
        return Err(AnalyticError::InvalidParameter {
            name: "classes",
            value: 0.0,
            expected: "at least one priority class",
        });
    }
    let mut residual = 0.0;
    let mut total_load = 0.0;
    for class in classes {
        let lambda = non_negative("arrival_rate", class.arrival_rate)?;
        let mean = positive("mean_service_s", class.mean_service_s)?;
        residual += lambda * second_moment(class.second_moment_service, mean)? / 2.0;
        total_load += lambda * mean;
    }
    stable(total_load)?;
    let mut above = 0.0; // σ_{k−1}
    Ok(classes
        .iter()
        .map(|class| {
            let load = class.arrival_rate * class.mean_service_s;
            let upto = above + load;
            let wait = residual / ((1.0 - above) * (1.0 - upto));
            above = upto;
            let sojourn = wait + class.mean_service_s;
            ClassMetrics {
                arrival_rate: class.arrival_rate,
                utilization: load,
                mean_wait_s: wait,
                mean_sojourn_s: sojourn,
                mean_in_queue: class.arrival_rate * wait,
                mean_in_system: class.arrival_rate * sojourn,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::mg1;
    use crate::analytic::testutil::{REL_TOL, assert_rel};

    fn exponential(arrival_rate: f64, mean: f64) -> PriorityClass {
        PriorityClass {
            arrival_rate,
            mean_service_s: mean,
            second_moment_service: 2.0 * mean * mean,
        }
    }

    #[test]
    fn cobham_two_classes_by_hand() {
        // λ₁ = 0.2, λ₂ = 0.3, exponential service of mean 1 (E[S²] = 2):
        // W₀ = (0.2·2 + 0.3·2)/2 = 0.5, σ₁ = 0.2, σ₂ = 0.5,
        // Wq₁ = 0.5/(1·0.8) = 0.625, Wq₂ = 0.5/(0.8·0.5) = 1.25.
        let m =
            priority_mg1_nonpreemptive(&[exponential(0.2, 1.0), exponential(0.3, 1.0)]).unwrap();
        assert_rel(m[0].mean_wait_s, 0.625, REL_TOL);
        assert_rel(m[1].mean_wait_s, 1.25, REL_TOL);
        assert_rel(m[0].mean_sojourn_s, 1.625, REL_TOL);
        assert_rel(m[1].mean_in_queue, 0.375, REL_TOL);
        // Work conservation: the rate-weighted mean wait is FIFO M/M/1's,
        // ρ/(μ − λ) = 0.5/0.5 = 1.
        let mean = (0.2 * m[0].mean_wait_s + 0.3 * m[1].mean_wait_s) / 0.5;
        assert_rel(mean, 1.0, REL_TOL);
    }

    #[test]
    fn one_class_is_mg1() {
        let class = PriorityClass {
            arrival_rate: 0.5,
            mean_service_s: 1.0,
            second_moment_service: 3.0,
        };
        let m = priority_mg1_nonpreemptive(&[class]).unwrap();
        assert_rel(
            m[0].mean_wait_s,
            mg1(0.5, 1.0, 3.0).unwrap().mean_wait_s,
            REL_TOL,
        );
    }

    #[test]
    fn total_overload_is_unstable() {
        let err = priority_mg1_nonpreemptive(&[exponential(0.5, 1.0), exponential(0.6, 1.0)]);
        assert!(matches!(err, Err(AnalyticError::Unstable { utilization }) if utilization > 1.0));
        assert!(priority_mg1_nonpreemptive(&[]).is_err());
    }
}
