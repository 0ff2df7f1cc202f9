//! Single-server queues: M/M/1, M/M/1/K, M/G/1 and M/D/1
//! (Pollaczek–Khinchine), M/M/1 with Bernoulli feedback, and the M/M/1
//! sojourn-time quantile.

use super::{AnalyticError, QueueMetrics, multi, non_negative, positive, stable};

/// Exact steady state of the M/M/1 queue (Poisson arrivals, one exponential
/// server, infinite FIFO queue).
///
/// # Formula
///
/// With `ρ = λ/μ < 1`:
///
/// ```text
/// L  = ρ / (1 − ρ)          Lq = ρ² / (1 − ρ)
/// W  = 1 / (μ − λ)          Wq = ρ / (μ − λ)
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0` and `μ > 0` are
/// finite; [`AnalyticError::Unstable`] when `ρ >= 1`.
///
/// # Examples
///
/// ```
/// let m = queuesim::analytic::mm1(8.0, 10.0).unwrap();
/// assert!((m.mean_sojourn_s - 0.5).abs() < 1e-12);
/// assert!((m.mean_in_system - 4.0).abs() < 1e-12);
/// ```
pub fn mm1(lambda: f64, mu: f64) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let rho = stable(lambda / mu)?;
    let wait = rho / (mu - lambda);
    let sojourn = 1.0 / (mu - lambda);
    Ok(QueueMetrics::lossless(lambda, rho, wait, sojourn))
}

/// Exact steady state of `k` single-server exponential queues fed in turn
/// from one Poisson stream of rate `lambda` (RabbitMQ consumers with an
/// unlimited prefetch window): each queue sees Erlang-`k` gaps of mean
/// `k/λ`, so it is an E_k/M/1 queue, a G/M/1 queue solved by its root.
///
/// # Formula
///
/// With `A*(s) = (λ/(λ + s))^k` the Laplace transform of the gap, `σ` is
/// the root in (0, 1) of `σ = A*(μ(1 − σ))`; then
///
/// ```text
/// ρ = λ/(kμ)        W_q = σ / (μ(1 − σ))        W = 1 / (μ(1 − σ))
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0`, `μ > 0` and
/// `k >= 1`; [`AnalyticError::Unstable`] when `ρ >= 1`.
pub fn round_robin_em1(lambda: f64, mu: f64, k: u32) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let servers = positive("k", f64::from(k))?;
    let rho = stable(lambda / (servers * mu))?;
    if lambda == 0.0 {
        return Ok(QueueMetrics::lossless(0.0, 0.0, 0.0, 1.0 / mu));
    }
    let gap_transform = |s: f64| (lambda / (lambda + s)).powf(servers);
    // g(σ) = A*(μ(1 − σ)) − σ is positive at 0 and, for ρ < 1, negative
    // just below 1 (its slope there is 1/ρ − 1 > 0 towards 1): bisect.
    let g = |sigma: f64| gap_transform(mu * (1.0 - sigma)) - sigma;
    let (mut low, mut high) = (0.0_f64, 1.0 - 1e-12);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if g(mid) > 0.0 {
            low = mid;
        } else {
            high = mid;
        }
    }
    let sigma = 0.5 * (low + high);
    let sojourn_s = 1.0 / (mu * (1.0 - sigma));
    Ok(QueueMetrics::lossless(
        lambda,
        rho,
        sojourn_s - 1.0 / mu,
        sojourn_s,
    ))
}

/// Exact steady state of the M/M/1/K queue: one exponential server and at
/// most `k` messages in the system (`k − 1` waiting plus one in service);
/// arrivals that find `k` present are lost. Valid for any `ρ`, also `>= 1`.
///
/// This is [`mmck`](super::mmck) with one server; see there for the
/// numerics. For a queuesim queue, `k = system_capacity(1, capacity)`.
///
/// # Formula
///
/// With `ρ = λ/μ`, `p_n = ρⁿ p_0` for `0 <= n <= K`, and for `ρ ≠ 1`
///
/// ```text
/// p_0 = (1 − ρ) / (1 − ρ^(K+1))      loss = p_K = (1 − ρ) ρ^K / (1 − ρ^(K+1))
/// throughput = λ (1 − p_K)          utilization = 1 − p_0
/// L = Σ n p_n        Lq = L − (1 − p_0)        W = L / throughput
/// ```
///
/// (for `ρ = 1`, `p_n = 1/(K+1)`).
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0` and `μ > 0` are
/// finite and `k >= 1`.
pub fn mm1k(lambda: f64, mu: f64, k: u64) -> Result<QueueMetrics, AnalyticError> {
    multi::mmck(lambda, mu, 1, k)
}

/// Exact mean behaviour of the M/G/1 queue (Poisson arrivals, one server
/// with a general service time `S`, infinite FIFO queue): the
/// Pollaczek–Khinchine formula.
///
/// # Formula
///
/// With `ρ = λ E[S] < 1`:
///
/// ```text
/// Wq = λ E[S²] / (2 (1 − ρ))       W = Wq + E[S]
/// Lq = λ Wq                         L = λ W
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0`, `E[S] > 0` and
/// `E[S²] >= E[S]²` (a non-negative variance) are finite;
/// [`AnalyticError::Unstable`] when `ρ >= 1`.
pub fn mg1(
    lambda: f64,
    mean_service_s: f64,
    second_moment_service: f64,
) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mean = positive("mean_service_s", mean_service_s)?;
    let second = second_moment(second_moment_service, mean)?;
    let rho = stable(lambda * mean)?;
    let wait = lambda * second / (2.0 * (1.0 - rho));
    let sojourn = wait + mean;
    Ok(QueueMetrics::lossless(lambda, rho, wait, sojourn))
}

/// Validates a second moment `E[S²]` against the mean: the variance
/// `E[S²] − E[S]²` must not be negative (up to rounding).
pub(crate) fn second_moment(value: f64, mean: f64) -> Result<f64, AnalyticError> {
    if value.is_finite() && value >= mean * mean * (1.0 - 1e-12) {
        Ok(value)
    } else {
        Err(AnalyticError::InvalidParameter {
            name: "second_moment_service",
            value,
            expected: "a finite E[S²] >= E[S]² (variance >= 0)",
        })
    }
}

/// Exact mean behaviour of the M/D/1 queue (constant service time `d`):
/// [`mg1`] with `E[S²] = d²`, whose wait is half that of M/M/1.
///
/// # Formula
///
/// With `ρ = λ d < 1`:
///
/// ```text
/// Wq = ρ d / (2 (1 − ρ))      W = Wq + d      Lq = λ Wq      L = λ W
/// ```
///
/// # Errors
///
/// As [`mg1`].
pub fn md1(lambda: f64, service_s: f64) -> Result<QueueMetrics, AnalyticError> {
    let d = positive("service_s", service_s)?;
    mg1(lambda, d, d * d)
}

/// Exact mean behaviour of an M/M/1 queue with Bernoulli feedback: after
/// each service a message re-joins the tail of the queue with probability
/// `p` (a retry) and leaves with probability `1 − p`.
///
/// The times returned are **totals per message over all of its passes**
/// (what a user sees end to end); `throughput` is the external rate `λ`
/// leaving the queue and `utilization` counts every pass.
///
/// # Formula
///
/// A message makes `1/(1 − p)` passes on average, so the server sees
/// `Λ = λ/(1 − p)`; with `ρ = Λ/μ < 1`:
///
/// ```text
/// T  = (1/(1 − p)) / (μ − Λ)        total wait Wq = (1/(1 − p)) ρ / (μ − Λ)
/// L  = λ T = ρ / (1 − ρ)            Lq = λ Wq = ρ² / (1 − ρ)
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0` and `μ > 0` are
/// finite and `0 <= p < 1`; [`AnalyticError::Unstable`] when `ρ >= 1`.
pub fn mm1_feedback(lambda: f64, mu: f64, p_feedback: f64) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    if !(0.0..1.0).contains(&p_feedback) {
        return Err(AnalyticError::InvalidParameter {
            name: "p_feedback",
            value: p_feedback,
            expected: "a probability in [0, 1)",
        });
    }
    let visits = 1.0 / (1.0 - p_feedback);
    let total_rate = lambda * visits;
    let rho = stable(total_rate / mu)?;
    let wait = visits * rho / (mu - total_rate);
    let sojourn = visits / (mu - total_rate);
    Ok(QueueMetrics::lossless(lambda, rho, wait, sojourn))
}

/// Quantile `t_q` of the M/M/1 (FIFO) sojourn time, which is exponential
/// with rate `μ − λ`.
///
/// # Formula
///
/// ```text
/// P(T <= t) = 1 − e^{−(μ − λ) t}      t_q = −ln(1 − q) / (μ − λ)
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0`, `μ > 0` are finite
/// and `0 <= q < 1`; [`AnalyticError::Unstable`] when `λ >= μ`.
pub fn mm1_sojourn_quantile(lambda: f64, mu: f64, q: f64) -> Result<f64, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let q = quantile_level(q)?;
    stable(lambda / mu)?;
    Ok(-(-q).ln_1p() / (mu - lambda))
}

/// Accepts a quantile level `q` in `[0, 1)`.
pub(crate) fn quantile_level(q: f64) -> Result<f64, AnalyticError> {
    if (0.0..1.0).contains(&q) {
        Ok(q)
    } else {
        Err(AnalyticError::InvalidParameter {
            name: "q",
            value: q,
            expected: "a quantile level in [0, 1)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::testutil::{REL_TOL, assert_rel};

    #[test]
    fn round_robin_of_one_is_mm1_and_of_two_is_the_e2_m1_closed_form() {
        let one = round_robin_em1(8.0, 10.0, 1).unwrap();
        let mm1 = mm1(8.0, 10.0).unwrap();
        assert_rel(one.mean_sojourn_s, mm1.mean_sojourn_s, 1e-9);
        // E2/M/1 with stage rate λ: 1 − σ = (μ² − 2λμ + μ√(μ(μ + 4λ))) / (2μ²).
        let (lambda, mu) = (30.0_f64, 20.0_f64);
        let x = (mu * mu - 2.0 * lambda * mu + mu * (mu * (mu + 4.0 * lambda)).sqrt())
            / (2.0 * mu * mu);
        let two = round_robin_em1(lambda, mu, 2).unwrap();
        assert_rel(two.utilization, 0.75, REL_TOL);
        assert_rel(two.mean_sojourn_s, 1.0 / (mu * x), 1e-9);
        assert!(round_robin_em1(80.0, 20.0, 4).is_err());
    }

    #[test]
    fn mm1_matches_hand_computed_values() {
        // λ = 8, μ = 10: ρ = 0.8, W = 1/2, Wq = 0.8/2 = 0.4, L = 4, Lq = 3.2.
        let m = mm1(8.0, 10.0).unwrap();
        assert_rel(m.utilization, 0.8, REL_TOL);
        assert_rel(m.mean_sojourn_s, 0.5, REL_TOL);
        assert_rel(m.mean_wait_s, 0.4, REL_TOL);
        assert_rel(m.mean_in_system, 4.0, REL_TOL);
        assert_rel(m.mean_in_queue, 3.2, REL_TOL);
        assert_eq!(m.loss_probability, 0.0);
    }

    #[test]
    fn mm1_rejects_overload_and_bad_rates() {
        assert_eq!(
            mm1(10.0, 10.0),
            Err(AnalyticError::Unstable { utilization: 1.0 })
        );
        assert!(matches!(
            mm1(f64::NAN, 1.0),
            Err(AnalyticError::InvalidParameter { name: "lambda", .. })
        ));
        assert!(matches!(
            mm1(1.0, 0.0),
            Err(AnalyticError::InvalidParameter { name: "mu", .. })
        ));
    }

    #[test]
    fn mm1k_blocking_matches_the_textbook_formula() {
        // (1−ρ)ρ^K/(1−ρ^{K+1}) evaluated directly, for several ρ and K.
        for &(lambda, mu, k) in &[
            (8.0, 10.0, 5),
            (3.0, 2.0, 7),
            (0.5, 1.0, 1),
            (9.9, 10.0, 40),
        ] {
            let rho: f64 = lambda / mu;
            let textbook = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
            let m = mm1k(lambda, mu, k as u64).unwrap();
            assert_rel(m.loss_probability, textbook, REL_TOL);
            assert_rel(m.throughput, lambda * (1.0 - textbook), REL_TOL);
        }
    }

    #[test]
    fn mm1k_matches_hand_computed_means() {
        // λ = 8, μ = 10, K = 5, by python3 with fractions.Fraction:
        // p_n ∝ 0.8^n; L = Σ n p_n = 7180/3843, p_0 = 3125/11529.
        let m = mm1k(8.0, 10.0, 5).unwrap();
        let p0 = 3125.0 / 11529.0;
        let l = 7180.0 / 3843.0;
        assert_rel(m.mean_in_system, l, REL_TOL);
        assert_rel(m.mean_in_queue, l - (1.0 - p0), REL_TOL);
        assert_rel(m.utilization, 1.0 - p0, REL_TOL);
        assert_rel(m.mean_sojourn_s, l / m.throughput, REL_TOL);
    }

    #[test]
    fn mm1k_at_rho_one_is_uniform() {
        // p_n = 1/(K+1): loss 1/6, L = K/2 = 2.5.
        let m = mm1k(4.0, 4.0, 5).unwrap();
        assert_rel(m.loss_probability, 1.0 / 6.0, REL_TOL);
        assert_rel(m.mean_in_system, 2.5, REL_TOL);
    }

    #[test]
    fn mm1k_is_stable_for_huge_capacity_and_overload() {
        // ρ = 2, K = 10^6: p_K → 1 − 1/ρ = 0.5 and the number of free places
        // K − n is geometric with ratio 1/ρ, mean 1/(ρ − 1) = 1, so L → K − 1
        // (the neglected terms are below 2^-10^6).
        let m = mm1k(2.0, 1.0, 1_000_000).unwrap();
        assert_rel(m.loss_probability, 0.5, REL_TOL);
        assert_rel(m.mean_in_system, 1_000_000.0 - 1.0, REL_TOL);
        // ρ = 0.5, K = 10^6 is M/M/1: L = 1.
        let m = mm1k(0.5, 1.0, 1_000_000).unwrap();
        assert_rel(m.mean_in_system, 1.0, REL_TOL);
        assert!(m.loss_probability < 1e-300);
    }

    #[test]
    fn mg1_pollaczek_khinchine() {
        // λ = 0.5, E[S] = 1, E[S²] = 3 (cv² = 2): Wq = 0.5·3/(2·0.5) = 1.5,
        // W = 2.5, Lq = 0.75, L = 1.25.
        let m = mg1(0.5, 1.0, 3.0).unwrap();
        assert_rel(m.mean_wait_s, 1.5, REL_TOL);
        assert_rel(m.mean_sojourn_s, 2.5, REL_TOL);
        assert_rel(m.mean_in_queue, 0.75, REL_TOL);
        assert_rel(m.mean_in_system, 1.25, REL_TOL);
        assert!(mg1(0.5, 1.0, 0.5).is_err(), "negative variance");
    }

    #[test]
    fn md1_waits_half_as_long_as_mm1() {
        let d = md1(7.0, 0.1).unwrap();
        let m = mm1(7.0, 10.0).unwrap();
        assert_rel(d.mean_wait_s, m.mean_wait_s / 2.0, REL_TOL);
        // ρ = 0.7: Wq = 0.7·0.1/(2·0.3) = 7/60.
        assert_rel(d.mean_wait_s, 7.0 / 60.0, REL_TOL);
    }

    #[test]
    fn feedback_total_time_in_system() {
        // λ = 2, μ = 10, p = 0.5: Λ = 4, ρ = 0.4, T = 2/(10 − 4) = 1/3,
        // total wait = 2·0.4/6 = 2/15, L = 0.4/0.6 = 2/3 = λ T.
        let m = mm1_feedback(2.0, 10.0, 0.5).unwrap();
        assert_rel(m.mean_sojourn_s, 1.0 / 3.0, REL_TOL);
        assert_rel(m.mean_wait_s, 2.0 / 15.0, REL_TOL);
        assert_rel(m.mean_in_system, 2.0 / 3.0, REL_TOL);
        assert_rel(m.utilization, 0.4, REL_TOL);
        let plain = mm1(2.0, 10.0).unwrap();
        assert_eq!(mm1_feedback(2.0, 10.0, 0.0).unwrap(), plain);
        assert!(mm1_feedback(2.0, 10.0, 1.0).is_err());
        assert!(mm1_feedback(6.0, 10.0, 0.5).is_err(), "Λ = 12 > μ");
    }

    #[test]
    fn mm1_sojourn_quantile_is_exponential() {
        // λ = 8, μ = 10: p99 = ln(100)/2 = ln 10.
        let t = mm1_sojourn_quantile(8.0, 10.0, 0.99).unwrap();
        assert_rel(t, std::f64::consts::LN_10, REL_TOL);
        assert_eq!(mm1_sojourn_quantile(8.0, 10.0, 0.0), Ok(0.0));
        assert!(mm1_sojourn_quantile(8.0, 10.0, 1.0).is_err());
    }
}
