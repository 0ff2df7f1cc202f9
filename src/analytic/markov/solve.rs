//! Solvers for the balance equations `πQ = 0`, `Σπ = 1` on one closed
//! class: dense LU for small classes, Gauss–Seidel for large ones.

use nalgebra::{DMatrix, DVector};

use super::{DENSE_LIMIT, ITERATIVE_TOL, MAX_SWEEPS, MarkovError, SolveMethod};

/// How often (in sweeps) the iterative solver measures its imbalance.
const CHECK_EVERY: usize = 10;

/// A solution on the class, indexed like the class.
pub(super) struct Solution {
    pub pi: Vec<f64>,
    pub method: SolveMethod,
    pub iterations: usize,
    pub residual: f64,
}

/// Transitions restricted to one closed class, with local indices.
struct Local {
    /// `(from, rate)` into each state.
    incoming: Vec<Vec<(usize, f64)>>,
    /// Total exit rate `|qⱼⱼ|` of each state.
    exit: Vec<f64>,
}

/// Solves on `class` (closed: every transition of its states stays in it).
/// `out[i]` lists the positive off-diagonal transitions of state `i`.
pub(super) fn solve(out: &[Vec<(usize, f64)>], class: &[usize]) -> Result<Solution, MarkovError> {
    let m = class.len();
    let mut local_index = vec![usize::MAX; out.len()];
    for (l, &s) in class.iter().enumerate() {
        local_index[s] = l;
    }
    let scale = class
        .iter()
        .map(|&s| out[s].iter().map(|e| e.1).sum::<f64>())
        .fold(0.0, f64::max);
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let mut local = Local {
        incoming: vec![Vec::new(); m],
        exit: vec![0.0; m],
    };
    for (l, &s) in class.iter().enumerate() {
        for &(j, rate) in &out[s] {
            local.incoming[local_index[j]].push((l, rate / scale));
            local.exit[l] += rate / scale;
        }
    }
    if m <= DENSE_LIMIT {
        dense(&local)
    } else {
        gauss_seidel(&local)
    }
}

fn dense(local: &Local) -> Result<Solution, MarkovError> {
    let m = local.exit.len();
    // Row j of Qᵀ is the balance of state j: Σᵢ πᵢ qᵢⱼ − πⱼ |qⱼⱼ| = 0.
    let mut a = DMatrix::zeros(m, m);
    for (j, edges) in local.incoming.iter().enumerate() {
        for &(i, rate) in edges {
            a[(j, i)] += rate;
        }
        a[(j, j)] -= local.exit[j];
    }
    a.row_mut(m - 1).fill(1.0);
    let mut b = DVector::zeros(m);
    b[m - 1] = 1.0;
    let x = a.lu().solve(&b).ok_or(MarkovError::Singular)?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(MarkovError::Singular);
    }
    // Rounding can leave tiny negatives; π is a distribution.
    let mut pi: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
    normalise(&mut pi);
    Ok(Solution {
        residual: imbalance(local, &pi),
        pi,
        method: SolveMethod::DenseLu,
        iterations: 0,
    })
}

fn gauss_seidel(local: &Local) -> Result<Solution, MarkovError> {
    let m = local.exit.len();
    let mut pi = vec![1.0 / m as f64; m];
    let mut residual = f64::INFINITY;
    for sweep in 1..=MAX_SWEEPS {
        let update = |pi: &mut [f64], j: usize| {
            let inflow: f64 = local.incoming[j].iter().map(|&(i, r)| pi[i] * r).sum();
            pi[j] = inflow / local.exit[j];
        };
        if sweep % 2 == 1 {
            (0..m).for_each(|j| update(&mut pi, j));
        } else {
            (0..m).rev().for_each(|j| update(&mut pi, j));
        }
        normalise(&mut pi);
        if sweep % CHECK_EVERY == 0 {
            residual = imbalance(local, &pi);
            if residual <= ITERATIVE_TOL {
                return Ok(Solution {
                    pi,
                    method: SolveMethod::GaussSeidel,
                    iterations: sweep,
                    residual,
                });
            }
        }
    }
    Err(MarkovError::NotConverged {
        iterations: MAX_SWEEPS,
        residual,
    })
}

fn normalise(pi: &mut [f64]) {
    let total: f64 = pi.iter().sum();
    pi.iter_mut().for_each(|p| *p /= total);
}

/// `‖πQ‖₁ / Σⱼ πⱼ |qⱼⱼ|`, 0 when nothing flows (a single absorbing state).
fn imbalance(local: &Local, pi: &[f64]) -> f64 {
    let (mut error, mut flow) = (0.0, 0.0);
    for (j, edges) in local.incoming.iter().enumerate() {
        let inflow: f64 = edges.iter().map(|&(i, r)| pi[i] * r).sum();
        let outflow = pi[j] * local.exit[j];
        error += (inflow - outflow).abs();
        flow += outflow;
    }
    if flow > 0.0 { error / flow } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring of `n` states, clockwise rate 2, anticlockwise rate 1:
    /// doubly stochastic in rates, so π is uniform.
    fn ring(n: usize) -> Vec<Vec<(usize, f64)>> {
        (0..n)
            .map(|i| vec![((i + 1) % n, 2.0), ((i + n - 1) % n, 1.0)])
            .collect()
    }

    #[test]
    fn dense_and_iterative_agree_on_a_ring() {
        for n in [5, DENSE_LIMIT + 1] {
            let class: Vec<usize> = (0..n).collect();
            let s = solve(&ring(n), &class).unwrap();
            for p in &s.pi {
                assert!((p * n as f64 - 1.0).abs() < 1e-9, "{p}");
            }
            assert!(s.residual <= ITERATIVE_TOL);
        }
    }

    #[test]
    fn an_absorbing_state_has_no_flow() {
        let s = solve(&[Vec::new()], &[0]).unwrap();
        assert_eq!((s.pi, s.residual), (vec![1.0], 0.0));
    }
}
