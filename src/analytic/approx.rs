//! Approximations for queues with general arrivals and service, where no
//! exact closed form exists. Every result here is an **approximation**:
//! exact only in special cases (noted per function), otherwise typically
//! within 10–20 % in heavy traffic and worse in light traffic.

use super::{AnalyticError, QueueMetrics, erlang_c, non_negative, positive, servers, stable};

/// **Approximate** mean behaviour of the G/G/1 queue: Kingman's
/// heavy-traffic formula. `ca2` and `cs2` are the squared coefficients of
/// variation of the inter-arrival and service times (1 for exponential,
/// 0 for constant).
///
/// Exact for M/M/1 (`ca2 = cs2 = 1`) and for M/G/1 (`ca2 = 1`, where it is
/// Pollaczek–Khinchine); an approximation otherwise.
///
/// # Formula
///
/// With `ρ = λ E[S] < 1`:
///
/// ```text
/// Wq ≈ (ρ / (1 − ρ)) · ((ca² + cs²) / 2) · E[S]
/// W ≈ Wq + E[S]       Lq ≈ λ Wq       L ≈ λ W
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0`, `ca2 >= 0`,
/// `cs2 >= 0` and `E[S] > 0` are finite; [`AnalyticError::Unstable`] when
/// `ρ >= 1`.
pub fn kingman_gg1(
    lambda: f64,
    ca2: f64,
    mean_service_s: f64,
    cs2: f64,
) -> Result<QueueMetrics, AnalyticError> {
    allen_cunneen_ggc(lambda, ca2, mean_service_s, cs2, 1)
}

/// **Approximate** mean behaviour of the G/G/c queue: the Allen–Cunneen
/// formula, which scales the exact M/M/c wait by the variability factor.
/// With one server it is [`kingman_gg1`].
///
/// Exact for M/M/c (`ca2 = cs2 = 1`); an approximation otherwise.
///
/// # Formula
///
/// With `a = λ E[S]`, `ρ = a/c < 1` and `C = C(c, a)` (Erlang C):
///
/// ```text
/// Wq ≈ (C / (c/E[S] − λ)) · ((ca² + cs²) / 2)
/// W ≈ Wq + E[S]       Lq ≈ λ Wq       L ≈ λ W
/// ```
///
/// # Errors
///
/// As [`kingman_gg1`], and `c >= 1`.
pub fn allen_cunneen_ggc(
    lambda: f64,
    ca2: f64,
    mean_service_s: f64,
    cs2: f64,
    c: u32,
) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let ca2 = non_negative("ca2", ca2)?;
    let mean = positive("mean_service_s", mean_service_s)?;
    let cs2 = non_negative("cs2", cs2)?;
    let c = servers("c", c)?;
    let cf = f64::from(c);
    let rho = stable(lambda * mean / cf)?;
    let wait = erlang_c(c, lambda * mean)? / (cf / mean - lambda) * (ca2 + cs2) / 2.0;
    let sojourn = wait + mean;
    Ok(QueueMetrics::lossless(lambda, rho, wait, sojourn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::testutil::{REL_TOL, assert_rel};
    use crate::analytic::{md1, mg1, mm1, mmc};

    #[test]
    fn kingman_is_exact_for_mm1() {
        let k = kingman_gg1(8.0, 1.0, 0.1, 1.0).unwrap();
        let m = mm1(8.0, 10.0).unwrap();
        assert_rel(k.mean_wait_s, m.mean_wait_s, REL_TOL);
        assert_rel(k.mean_in_system, m.mean_in_system, REL_TOL);
    }

    #[test]
    fn kingman_is_pollaczek_khinchine_for_poisson_arrivals() {
        // M/D/1: cs2 = 0; M/G/1 with cs2 = 2 has E[S²] = 3 E[S]².
        assert_rel(
            kingman_gg1(7.0, 1.0, 0.1, 0.0).unwrap().mean_wait_s,
            md1(7.0, 0.1).unwrap().mean_wait_s,
            REL_TOL,
        );
        assert_rel(
            kingman_gg1(0.5, 1.0, 1.0, 2.0).unwrap().mean_wait_s,
            mg1(0.5, 1.0, 3.0).unwrap().mean_wait_s,
            REL_TOL,
        );
    }

    #[test]
    fn kingman_by_hand() {
        // λ = 0.8, E[S] = 1, ca² = 0.5, cs² = 0.25:
        // Wq = (0.8/0.2)·(0.75/2)·1 = 1.5.
        assert_rel(
            kingman_gg1(0.8, 0.5, 1.0, 0.25).unwrap().mean_wait_s,
            1.5,
            REL_TOL,
        );
    }

    #[test]
    fn allen_cunneen_scales_mmc() {
        let exact = mmc(9.0, 1.0, 10).unwrap();
        let same = allen_cunneen_ggc(9.0, 1.0, 1.0, 1.0, 10).unwrap();
        assert_rel(same.mean_wait_s, exact.mean_wait_s, REL_TOL);
        let smooth = allen_cunneen_ggc(9.0, 0.5, 1.0, 0.0, 10).unwrap();
        assert_rel(smooth.mean_wait_s, exact.mean_wait_s * 0.25, REL_TOL);
        assert!(allen_cunneen_ggc(10.0, 1.0, 1.0, 1.0, 10).is_err());
    }
}
