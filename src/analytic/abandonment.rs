//! Queues whose waiting messages give up: a message TTL is deterministic
//! patience (M/M/1+D).

use super::{AnalyticError, non_negative, positive};

/// Fraction of messages that expire in an M/M/1 queue whose waiting
/// messages expire after `ttl_s` seconds (FIFO, expiry only while waiting).
///
/// An expired message leaves without using the server, so a message expires
/// exactly when the work ahead of it on arrival (the virtual waiting time V)
/// exceeds the TTL. V is the workload of an M/M/1 in which arrivals that
/// find V > TTL add no work; solving its level-crossing equations gives the
/// result below, valid for any load (also ρ >= 1).
///
/// # Formula
///
/// With ρ = λ/μ and a = exp(−(μ − λ)·TTL):
///
/// P(expire) = ρ a (1 − ρ) / (1 − ρ² a), and at ρ = 1: P = 1 / (2 + μ·TTL).
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] for a negative or non-finite λ or
/// TTL, or a non-positive μ.
pub fn mm1_ttl_expired_fraction(lambda: f64, mu: f64, ttl_s: f64) -> Result<f64, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let ttl_s = non_negative("ttl_s", ttl_s)?;
    let rho = lambda / mu;
    if (rho - 1.0).abs() < 1e-12 {
        return Ok(1.0 / (2.0 + mu * ttl_s));
    }
    let a = (-(mu - lambda) * ttl_s).exp();
    Ok(rho * a * (1.0 - rho) / (1.0 - rho * rho * a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::testutil::{REL_TOL, assert_rel};

    #[test]
    fn zero_ttl_loses_every_message_that_would_wait() {
        // With TTL 0 only messages that find the server idle are served:
        // an M/M/1/1 loss system, blocking ρ / (1 + ρ).
        assert_rel(
            mm1_ttl_expired_fraction(0.8, 1.0, 0.0).unwrap(),
            0.8 / 1.8,
            REL_TOL,
        );
    }

    #[test]
    fn hand_computed_value() {
        // λ = 0.8, μ = 1, TTL = 2: a = e^-0.4, P = 0.16 a / (1 − 0.64 a),
        // evaluated with python3's math module.
        let expected = 0.187_832_074_419_825_02;
        assert_rel(
            mm1_ttl_expired_fraction(0.8, 1.0, 2.0).unwrap(),
            expected,
            REL_TOL,
        );
    }

    #[test]
    fn continuous_through_critical_load() {
        let at_one = mm1_ttl_expired_fraction(1.0, 1.0, 3.0).unwrap();
        let near = mm1_ttl_expired_fraction(1.0 + 1e-7, 1.0, 3.0).unwrap();
        assert_rel(at_one, 0.2, REL_TOL);
        assert!((near - at_one).abs() < 1e-6);
    }

    #[test]
    fn long_ttl_loses_nothing() {
        assert!(mm1_ttl_expired_fraction(0.5, 1.0, 200.0).unwrap() < 1e-40);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(mm1_ttl_expired_fraction(-1.0, 1.0, 1.0).is_err());
        assert!(mm1_ttl_expired_fraction(1.0, 0.0, 1.0).is_err());
        assert!(mm1_ttl_expired_fraction(1.0, 1.0, f64::NAN).is_err());
    }
}
