//! Multi-server queues: Erlang B and C, M/M/c, M/M/c/K, and the FIFO M/M/c
//! sojourn-time distribution.
//!
//! Everything here is computed without factorials or powers that could
//! overflow: Erlang B by its recursion, M/M/c/K state probabilities as
//! ratios rescaled on the fly, so `c` in the thousands and `K` in the
//! millions are fine.

use super::single::quantile_level;
use super::{AnalyticError, QueueMetrics, non_negative, positive, servers, stable};

/// Kendall's system capacity `K` (waiting *plus* in service) of a queuesim
/// queue with `servers` consumers and `capacity` = `waiting_capacity`
/// ready messages: `K = waiting_capacity + servers`, saturating at
/// `u64::MAX`.
pub fn system_capacity(servers: u32, waiting_capacity: u64) -> u64 {
    waiting_capacity.saturating_add(u64::from(servers))
}

/// Erlang B: the probability that an arrival finds all `c` servers busy in
/// the M/M/c/c loss system with offered load `a = λ/μ` (in Erlangs).
///
/// # Formula
///
/// ```text
/// B(c, a) = (aᶜ / c!) / Σ_{k=0..c} aᵏ / k!
/// ```
///
/// evaluated by the stable recursion `B(0) = 1`,
/// `B(k) = a B(k−1) / (k + a B(k−1))`, whose terms never overflow.
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `a >= 0` is finite.
pub fn erlang_b(c: u32, offered_load: f64) -> Result<f64, AnalyticError> {
    let a = non_negative("offered_load", offered_load)?;
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    Ok(b)
}

/// Erlang C: the probability that an arrival has to wait in the M/M/c queue
/// with offered load `a = λ/μ < c`.
///
/// # Formula
///
/// With `ρ = a/c` and `B = B(c, a)` from [`erlang_b`]:
///
/// ```text
/// C(c, a) = B / (1 − ρ (1 − B))
/// ```
///
/// which equals the textbook `(aᶜ/c!)/(1−ρ) / (Σ_{k<c} aᵏ/k! + (aᶜ/c!)/(1−ρ))`
/// without its overflowing terms.
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `c >= 1` and `a >= 0` is
/// finite; [`AnalyticError::Unstable`] when `a >= c`.
///
/// # Examples
///
/// ```
/// // 500 agents, 490 Erlangs: no overflow, about one call in two waits.
/// let c = queuesim::analytic::erlang_c(500, 490.0).unwrap();
/// assert!((c - 0.546_673).abs() < 1e-6);
/// ```
pub fn erlang_c(c: u32, offered_load: f64) -> Result<f64, AnalyticError> {
    let c = servers("c", c)?;
    let a = non_negative("offered_load", offered_load)?;
    let rho = stable(a / f64::from(c))?;
    let b = erlang_b(c, a)?;
    Ok(b / (1.0 - rho * (1.0 - b)))
}

/// Exact steady state of the M/M/c queue: `c` exponential servers of rate
/// `μ` each, one infinite FIFO queue.
///
/// # Formula
///
/// With `a = λ/μ`, `ρ = a/c < 1` and `C = C(c, a)` from [`erlang_c`]:
///
/// ```text
/// Wq = C / (c μ − λ)      W = Wq + 1/μ      Lq = λ Wq      L = λ W
/// ```
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0`, `μ > 0` are finite
/// and `c >= 1`; [`AnalyticError::Unstable`] when `ρ >= 1`.
pub fn mmc(lambda: f64, mu: f64, c: u32) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let c = servers("c", c)?;
    let cf = f64::from(c);
    let rho = stable(lambda / (cf * mu))?;
    let wait = erlang_c(c, lambda / mu)? / (cf * mu - lambda);
    let sojourn = wait + 1.0 / mu;
    Ok(QueueMetrics::lossless(lambda, rho, wait, sojourn))
}

/// Exact steady state of the M/M/c/K queue: `c` exponential servers and at
/// most `k >= c` messages in the system; arrivals that find `k` present are
/// lost. Valid for any load, also `λ >= c μ`.
///
/// For a queuesim queue with `c` consumers and `capacity` ready messages,
/// pass `k = system_capacity(c, capacity)`.
///
/// # Formula
///
/// With `a = λ/μ` and `ρ = a/c`, the state probabilities are
///
/// ```text
/// p_n = p_0 aⁿ / n!              0 <= n <= c
/// p_n = p_c ρ^(n−c)              c <  n <= K
/// loss = p_K      throughput = λ (1 − p_K) = μ Σ min(n, c) p_n
/// utilization = throughput / (c μ)
/// Lq = Σ_{n>c} (n − c) p_n      L = Lq + throughput/μ
/// Wq = Lq / throughput          W = L / throughput     (Little, accepted traffic)
/// ```
///
/// The weights are built as running ratios rescaled to avoid overflow and
/// normalised by their maximum; the geometric tail is summed from its
/// largest end and stopped once the rest is below 1e-17 of the total, so
/// the cost is `O(c)` plus at most `O(K − c)`.
///
/// # Errors
///
/// [`AnalyticError::InvalidParameter`] unless `λ >= 0`, `μ > 0` are finite,
/// `c >= 1` and `k >= c`.
pub fn mmck(lambda: f64, mu: f64, c: u32, k: u64) -> Result<QueueMetrics, AnalyticError> {
    let lambda = non_negative("lambda", lambda)?;
    let mu = positive("mu", mu)?;
    let c = servers("c", c)?;
    if k < u64::from(c) {
        return Err(AnalyticError::InvalidParameter {
            name: "k",
            value: k as f64,
            expected: "a system capacity k >= c (it counts messages in service too)",
        });
    }
    let a = lambda / mu;
    let cf = f64::from(c);
    let ln_r = (a / cf).ln();
    let tail_len = k - u64::from(c);

    // Head weights ∝ aⁿ/n!, rescaled whenever they grow large.
    let mut head = Vec::with_capacity(c as usize + 1);
    let mut w = 1.0_f64;
    head.push(w);
    for n in 1..=c {
        w *= a / f64::from(n);
        if w > 1e250 {
            head.iter_mut().for_each(|h| *h *= 1e-250);
            w *= 1e-250;
        }
        head.push(w);
    }
    let head_max = head.iter().copied().fold(0.0, f64::max);
    let ln_wc = (w / head_max).ln(); // ln of w_c relative to the head's maximum
    // Shift so that the largest weight of all is 1.
    let shift = if ln_r > 0.0 {
        (ln_wc + tail_len as f64 * ln_r).max(0.0)
    } else {
        0.0
    };
    let head_scale = (-shift).exp() / head_max;
    let (mut total, mut busy) = (0.0, 0.0);
    for (n, h) in head.iter().enumerate() {
        let p = h * head_scale;
        total += p;
        busy += n as f64 * p;
    }
    let ln_first = ln_wc - shift;
    let (tail0, tail1) = tail_sums(ln_first, ln_r, tail_len);
    total += tail0;
    busy += cf * tail0;
    let last = if tail_len == 0 {
        w * head_scale
    } else {
        (ln_first + tail_len as f64 * ln_r).exp()
    };

    let loss = last / total;
    let throughput = mu * busy / total;
    let in_queue = tail1 / total;
    let in_system = in_queue + busy / total;
    let (wait, sojourn) = if throughput > 0.0 {
        (in_queue / throughput, in_system / throughput)
    } else {
        (0.0, 1.0 / mu)
    };
    Ok(QueueMetrics {
        arrival_rate: lambda,
        throughput,
        utilization: busy / total / cf,
        loss_probability: loss,
        mean_wait_s: wait,
        mean_sojourn_s: sojourn,
        mean_in_queue: in_queue,
        mean_in_system: in_system,
    })
}

/// `(Σ_{j=1..m} t_j, Σ_{j=1..m} j t_j)` for `t_j = exp(ln_first + j ln_r)`,
/// summed from the largest term and stopped once the remainder is
/// negligible (below 1e-17 of both sums).
fn tail_sums(ln_first: f64, ln_r: f64, m: u64) -> (f64, f64) {
    const NEGLIGIBLE: f64 = 1e-17;
    let term = |j: u64| (ln_first + j as f64 * ln_r).exp();
    let (mut s0, mut s1) = (0.0, 0.0);
    if ln_r <= 0.0 {
        let r = ln_r.exp();
        for j in 1..=m {
            let t = term(j);
            s0 += t;
            s1 += j as f64 * t;
            let rest0 = t * r / (1.0 - r);
            let rest1 = t * (j as f64 * r / (1.0 - r) + r / ((1.0 - r) * (1.0 - r)));
            if t == 0.0 || (rest0 <= NEGLIGIBLE * s0 && rest1 <= NEGLIGIBLE * s1) {
                break;
            }
        }
    } else {
        let excess = ln_r.exp() - 1.0;
        for j in (1..=m).rev() {
            let t = term(j);
            s0 += t;
            s1 += j as f64 * t;
            if t / excess <= NEGLIGIBLE * s0 && j as f64 * t / excess <= NEGLIGIBLE * s1 {
                break;
            }
        }
    }
    (s0, s1)
}

/// Probability that the FIFO M/M/c sojourn time (wait plus service) is at
/// most `t` seconds.
///
/// # Formula
///
/// The wait is 0 with probability `1 − C` and otherwise exponential with
/// rate `θ = c μ − λ` (`C` from [`erlang_c`]); service is exponential with
/// rate `μ`. With `lo = min(θ, μ)`, `hi = max(θ, μ)` and
/// `g(x) = (1 − e^{−x})/x`, `g(0) = 1`:
///
/// ```text
/// P(T > t) = (1 − C) e^{−μt} + C e^{−lo·t} (1 + lo·t·g((hi − lo) t))
/// ```
///
/// which is the usual `(θ e^{−μt} − μ e^{−θt})/(θ − μ)` for the sum of the
/// two exponentials, rewritten to stay exact when `θ = μ` (where it is
/// `(1 + μt) e^{−μt}`) and accurate when `θ ≈ μ`.
///
/// # Errors
///
/// As [`mmc`], and `t` must not be NaN.
pub fn mmc_sojourn_cdf(lambda: f64, mu: f64, c: u32, t: f64) -> Result<f64, AnalyticError> {
    if t.is_nan() {
        return Err(AnalyticError::InvalidParameter {
            name: "t",
            value: t,
            expected: "a time in seconds",
        });
    }
    Ok(1.0 - SojournTail::new(lambda, mu, c)?.survival(t))
}

/// Quantile `t_q` of the FIFO M/M/c sojourn time: the smallest `t` with
/// `P(T <= t) >= q`.
///
/// # Formula
///
/// Solves `P(T > t) = 1 − q` with the survival function of
/// [`mmc_sojourn_cdf`], by bracketing (doubling) and bisection to a
/// relative width of 1e-15. Working on the survival function keeps far
/// tails (`q = 0.9999`) accurate.
///
/// # Errors
///
/// As [`mmc`], and `q` must lie in `[0, 1)`.
///
/// # Examples
///
/// ```
/// // 9 Erlangs on 10 servers of rate 1/s: p99 sojourn ≈ 6.25 s.
/// let p99 = queuesim::analytic::mmc_sojourn_quantile(9.0, 1.0, 10, 0.99).unwrap();
/// assert!((p99 - 6.25).abs() < 0.01);
/// ```
pub fn mmc_sojourn_quantile(lambda: f64, mu: f64, c: u32, q: f64) -> Result<f64, AnalyticError> {
    let tail = SojournTail::new(lambda, mu, c)?;
    let target = 1.0 - quantile_level(q)?;
    if q == 0.0 {
        return Ok(0.0);
    }
    let mut hi = 1.0 / mu;
    while tail.survival(hi) > target {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    while hi - lo > 1e-15 * hi {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if tail.survival(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// The parameters of the FIFO M/M/c sojourn-time survival function.
struct SojournTail {
    mu: f64,
    /// Probability of waiting (Erlang C).
    wait_prob: f64,
    /// Rate of the waiting-time exponential, `c μ − λ`.
    theta: f64,
}

impl SojournTail {
    fn new(lambda: f64, mu: f64, c: u32) -> Result<Self, AnalyticError> {
        let lambda = non_negative("lambda", lambda)?;
        let mu = positive("mu", mu)?;
        Ok(Self {
            mu,
            wait_prob: erlang_c(c, lambda / mu)?,
            theta: f64::from(c) * mu - lambda,
        })
    }

    /// `P(T > t)`.
    fn survival(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        let (lo, hi) = (self.theta.min(self.mu), self.theta.max(self.mu));
        let x = (hi - lo) * t;
        let g = if x == 0.0 { 1.0 } else { -(-x).exp_m1() / x };
        let both = (-lo * t).exp() * (1.0 + lo * t * g);
        (1.0 - self.wait_prob) * (-self.mu * t).exp() + self.wait_prob * both
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::mm1;
    use crate::analytic::testutil::{REL_TOL, assert_rel};

    #[test]
    fn erlang_b_small_case_by_hand() {
        // c = 2, a = 1: (1/2) / (1 + 1 + 1/2) = 1/5.
        assert_rel(erlang_b(2, 1.0).unwrap(), 0.2, REL_TOL);
        assert_eq!(erlang_b(0, 3.0), Ok(1.0));
        assert_eq!(erlang_b(4, 0.0), Ok(0.0));
    }

    #[test]
    fn erlang_c_small_case_by_hand() {
        // c = 2, a = 1, ρ = 1/2: C = (1/5)/(1 − (1/2)(4/5)) = 1/3.
        assert_rel(erlang_c(2, 1.0).unwrap(), 1.0 / 3.0, REL_TOL);
        assert!(matches!(
            erlang_c(2, 2.0),
            Err(AnalyticError::Unstable { .. })
        ));
    }

    #[test]
    fn erlang_c_500_servers() {
        // python3: exact rationals with fractions.Fraction,
        // S = Σ_{k<500} 490^k/k!, T = 490^500/500!/(1 − 490/500), C = T/(S + T).
        assert_rel(erlang_c(500, 490.0).unwrap(), ERLANG_C_500, REL_TOL);
    }

    #[test]
    fn erlang_c_5000_servers() {
        // As above with c = 5000, a = 4900 (ρ = 0.98), exact rationals.
        assert_rel(erlang_c(5000, 4900.0).unwrap(), ERLANG_C_5000, REL_TOL);
    }

    const ERLANG_C_500: f64 = 0.546_673_272_194_829;
    const ERLANG_C_5000: f64 = 0.099_937_877_234_487_66;

    #[test]
    fn mmc_with_one_server_is_mm1() {
        let a = mmc(8.0, 10.0, 1).unwrap();
        let b = mm1(8.0, 10.0).unwrap();
        assert_rel(a.mean_sojourn_s, b.mean_sojourn_s, 1e-14);
        assert_rel(a.mean_in_queue, b.mean_in_queue, 1e-14);
    }

    #[test]
    fn mmc_by_hand() {
        // λ = 1, μ = 1, c = 2: C = 1/3, Wq = (1/3)/(2 − 1) = 1/3, W = 4/3,
        // Lq = 1/3, L = 4/3, utilization 1/2.
        let m = mmc(1.0, 1.0, 2).unwrap();
        assert_rel(m.mean_wait_s, 1.0 / 3.0, REL_TOL);
        assert_rel(m.mean_sojourn_s, 4.0 / 3.0, REL_TOL);
        assert_rel(m.mean_in_system, 4.0 / 3.0, REL_TOL);
        assert_rel(m.utilization, 0.5, REL_TOL);
    }

    #[test]
    fn mmck_with_k_equal_c_is_erlang_b() {
        let m = mmck(490.0, 1.0, 500, 500).unwrap();
        assert_rel(m.loss_probability, erlang_b(500, 490.0).unwrap(), REL_TOL);
        assert_eq!(m.mean_in_queue, 0.0);
    }

    #[test]
    fn mmck_by_hand() {
        // λ = 3, μ = 1, c = 2, K = 4, python3 with fractions.Fraction:
        // weights 1, 3, 9/2, 27/4, 81/8 (sum 203/8);
        // loss = 81/203, L = Σ n w / Σ w = 582/203, Lq = (27/4 + 2·81/8)/(203/8) = 216/203.
        let m = mmck(3.0, 1.0, 2, 4).unwrap();
        assert_rel(m.loss_probability, 81.0 / 203.0, REL_TOL);
        assert_rel(m.mean_in_system, 582.0 / 203.0, REL_TOL);
        assert_rel(m.mean_in_queue, 216.0 / 203.0, REL_TOL);
        assert_rel(m.throughput, 3.0 * (1.0 - 81.0 / 203.0), REL_TOL);
        assert_rel(m.mean_sojourn_s, m.mean_in_system / m.throughput, REL_TOL);
    }

    #[test]
    fn mmck_with_large_k_tends_to_mmc() {
        let finite = mmck(490.0, 1.0, 500, 10_000_000).unwrap();
        let infinite = mmc(490.0, 1.0, 500).unwrap();
        assert_rel(finite.mean_wait_s, infinite.mean_wait_s, REL_TOL);
        assert_rel(finite.mean_in_system, infinite.mean_in_system, REL_TOL);
        assert!(mmck(1.0, 1.0, 3, 2).is_err(), "k < c");
    }

    #[test]
    fn mmck_without_traffic_is_empty() {
        let m = mmck(0.0, 2.0, 2, 5).unwrap();
        assert_eq!((m.loss_probability, m.mean_in_system), (0.0, 0.0));
        assert_eq!((m.mean_wait_s, m.mean_sojourn_s), (0.0, 0.5));
    }

    #[test]
    fn system_capacity_adds_the_servers() {
        assert_eq!(system_capacity(4, 10), 14);
        assert_eq!(system_capacity(1, u64::MAX), u64::MAX);
    }

    #[test]
    fn sojourn_quantiles_for_nine_erlangs() {
        // λ = 9, μ = 1; mpmath.findroot on the survival function at 50 digits.
        assert_rel(
            mmc_sojourn_quantile(9.0, 1.0, 10, 0.99).unwrap(),
            P99_C10,
            REL_TOL,
        );
        assert_rel(
            mmc_sojourn_quantile(9.0, 1.0, 11, 0.99).unwrap(),
            P99_C11,
            REL_TOL,
        );
    }

    const P99_C10: f64 = 6.249_876_698_854_015;
    const P99_C11: f64 = 4.961_063_042_371_173;

    #[test]
    fn sojourn_cdf_when_theta_equals_mu() {
        // c μ − λ = μ: λ = 1, μ = 1, c = 2, C = 1/3:
        // P(T > t) = (2/3) e^{−t} + (1/3)(1 + t) e^{−t}; at t = 2: (2/3 + 1) e^{−2}.
        let cdf = mmc_sojourn_cdf(1.0, 1.0, 2, 2.0).unwrap();
        assert_rel(cdf, 1.0 - (5.0 / 3.0) * (-2.0_f64).exp(), REL_TOL);
        // A nearby θ (λ = 1 + 1e-9) stays continuous.
        let near = mmc_sojourn_cdf(1.0 + 1e-9, 1.0, 2, 2.0).unwrap();
        assert!((near - cdf).abs() < 1e-8);
    }

    #[test]
    fn sojourn_of_mm1_is_exponential() {
        let q = mmc_sojourn_quantile(8.0, 10.0, 1, 0.99).unwrap();
        assert_rel(
            q,
            crate::analytic::mm1_sojourn_quantile(8.0, 10.0, 0.99).unwrap(),
            1e-12,
        );
        assert_eq!(mmc_sojourn_cdf(8.0, 10.0, 1, -1.0), Ok(0.0));
    }
}
