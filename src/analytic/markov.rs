//! Finite Markov chains: validation, classification (irreducible,
//! periodic) and stationary distributions of discrete-time chains
//! (transition matrix `P`) and continuous-time chains (generator `Q`),
//! plus a reader for chains stored as CSV or TOML.
//!
//! # Limits
//!
//! - Chains with at most [`DENSE_LIMIT`] states in their closed class are
//!   solved exactly by a dense LU decomposition (`O(n³)` time, `O(n²)`
//!   memory).
//! - Larger ones are solved by symmetric Gauss–Seidel (alternating forward
//!   and backward sweeps) over the sparse transitions (`O(nnz)` per sweep),
//!   starting from the uniform distribution, until the flow imbalance falls
//!   below [`ITERATIVE_TOL`] or [`MAX_SWEEPS`] sweeps have run
//!   ([`MarkovError::NotConverged`]). It converges fast on well-mixing
//!   chains but needs about as many sweeps as the chain is *long* on
//!   birth–death-like chains (a 3001-state M/M/1/K chain takes ~5000
//!   sweeps, a fraction of a second), and is slow on nearly decomposable
//!   chains; 10⁵ states is the practical limit.
//! - [`stationary_dtmc`] and [`stationary_ctmc`] take dense matrices, so
//!   their input alone needs `8 n²` bytes; for state spaces of 10⁴ states and
//!   more, build the generator as a list of rates and call
//!   [`stationary_ctmc_sparse`].
//!
//! States are numbered from 0 in all errors and results.

mod classify;
mod read;
mod solve;

use std::fmt;
use std::path::PathBuf;

use nalgebra::DMatrix;
use serde::Serialize;

pub use read::read_chain;

/// Tolerance on row sums: `|Σⱼ pᵢⱼ − 1|` for a DTMC, and `|Σⱼ qᵢⱼ|`
/// relative to the row's largest entry (at least 1) for a CTMC.
pub const ROW_SUM_TOL: f64 = 1e-9;

/// Largest closed class solved by dense LU; larger ones are iterated.
pub const DENSE_LIMIT: usize = 2000;

/// Convergence threshold of the iterative solver on the relative flow
/// imbalance (see [`Stationary::residual`]).
pub const ITERATIVE_TOL: f64 = 1e-13;

/// Sweep limit of the iterative solver.
pub const MAX_SWEEPS: usize = 100_000;

/// Discrete or continuous time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    /// Discrete time, transition matrix `P` (rows sum to 1).
    Dtmc,
    /// Continuous time, generator `Q` (rows sum to 0).
    Ctmc,
}

impl ChainKind {
    /// What each row of the matrix must sum to.
    pub fn row_sum(self) -> f64 {
        match self {
            ChainKind::Dtmc => 1.0,
            ChainKind::Ctmc => 0.0,
        }
    }
}

impl fmt::Display for ChainKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainKind::Dtmc => "DTMC",
            ChainKind::Ctmc => "CTMC",
        })
    }
}

/// A chain read from a file by [`read_chain`].
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// Discrete (`P`) or continuous (`Q`) time.
    pub kind: ChainKind,
    /// One name per state: from the file, or `"0"`, `"1"`, … by default.
    pub states: Vec<String>,
    /// The transition matrix or generator, validated.
    pub matrix: DMatrix<f64>,
}

impl Chain {
    /// The stationary distribution, by [`stationary_dtmc`] or
    /// [`stationary_ctmc`] according to `kind`.
    ///
    /// # Errors
    ///
    /// As those functions.
    pub fn stationary(&self) -> Result<Stationary, MarkovError> {
        match self.kind {
            ChainKind::Dtmc => stationary_dtmc(&self.matrix),
            ChainKind::Ctmc => stationary_ctmc(&self.matrix),
        }
    }
}

/// How the stationary distribution was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolveMethod {
    /// Dense LU with one balance equation replaced by `Σπ = 1`.
    DenseLu,
    /// Symmetric Gauss–Seidel sweeps over the sparse transitions.
    GaussSeidel,
}

/// The stationary distribution of a chain with one closed class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stationary {
    /// Discrete or continuous time.
    pub kind: ChainKind,
    /// Stationary probability of each state; sums to 1.
    pub pi: Vec<f64>,
    /// The period `d > 1` of a periodic DTMC (`None` if aperiodic, and
    /// always for a CTMC). A periodic chain still has this unique `π`, the
    /// long-run fraction of time in each state, but `Pⁿ` does not converge
    /// to it.
    pub periodic: Option<u32>,
    /// Transient states (`π = 0`): non-empty when the chain is reducible
    /// with a single closed class, which then carries all of `π`.
    pub transient: Vec<usize>,
    /// Solver used.
    pub method: SolveMethod,
    /// Gauss–Seidel sweeps run (0 for dense LU).
    pub iterations: usize,
    /// Relative flow imbalance `‖πQ‖₁ / Σⱼ πⱼ |qⱼⱼ|` (with `Q = P − I` for a
    /// DTMC): 0 for an exact solution.
    pub residual: f64,
}

/// Why a chain was rejected or could not be solved.
#[derive(Debug, thiserror::Error)]
pub enum MarkovError {
    /// The matrix has no states.
    #[error("the matrix is empty: a chain needs at least one state")]
    Empty,
    /// The matrix is not square.
    #[error("the matrix has {rows} rows and {cols} columns; it must be square")]
    NotSquare {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// An entry is NaN or infinite.
    #[error("entry (row {row}, column {col}) is {value}; expected a finite number")]
    NonFinite {
        /// Row (state from), from 0.
        row: usize,
        /// Column (state to), from 0.
        col: usize,
        /// The entry.
        value: f64,
    },
    /// A probability, or an off-diagonal rate, is negative.
    #[error(
        "entry (row {row}, column {col}) is {value}; transition probabilities \
         and off-diagonal rates must be >= 0"
    )]
    Negative {
        /// Row (state from), from 0.
        row: usize,
        /// Column (state to), from 0.
        col: usize,
        /// The entry.
        value: f64,
    },
    /// A row does not sum to 1 (DTMC) or 0 (CTMC).
    #[error("row {row} sums to {sum}, but every row of a {kind} must sum to {}", kind.row_sum())]
    RowSum {
        /// Row, from 0.
        row: usize,
        /// Its sum.
        sum: f64,
        /// The kind of chain it was checked as.
        kind: ChainKind,
    },
    /// A sparse transition names a state outside `0..states`, or a diagonal.
    #[error("transition {from} -> {to} is invalid for a chain of {states} states")]
    BadTransition {
        /// State from.
        from: usize,
        /// State to.
        to: usize,
        /// Number of states.
        states: usize,
    },
    /// More than one closed class: the stationary distribution is not
    /// unique (it depends on the initial state).
    #[error(
        "the chain is reducible with {} closed classes {}; each has its own \
         stationary distribution, solve them separately",
        closed_classes.len(), format_classes(closed_classes)
    )]
    Reducible {
        /// The closed communicating classes, each sorted, ordered by their
        /// smallest state.
        closed_classes: Vec<Vec<usize>>,
    },
    /// The iterative solver hit [`MAX_SWEEPS`].
    #[error(
        "the iterative solver stopped after {iterations} sweeps with relative \
         imbalance {residual:e} (> {ITERATIVE_TOL:e})"
    )]
    NotConverged {
        /// Sweeps run.
        iterations: usize,
        /// Imbalance reached.
        residual: f64,
    },
    /// The linear system could not be solved (numerically singular).
    #[error("the balance equations are numerically singular")]
    Singular,
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid chain description.
    #[error("{}: {message}", location(path, *line))]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line (from 1), where known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The matrix in a file failed validation.
    #[error("{}: {source}", location(path, Some(*line)))]
    InFile {
        /// The file.
        path: PathBuf,
        /// Line (from 1) of the offending row.
        line: usize,
        /// The validation error.
        source: Box<MarkovError>,
    },
}

fn location(path: &std::path::Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}, line {line}", path.display()),
        None => path.display().to_string(),
    }
}

fn format_classes(classes: &[Vec<usize>]) -> String {
    classes
        .iter()
        .map(|c| {
            let states: Vec<String> = c.iter().map(usize::to_string).collect();
            format!("{{{}}}", states.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Stationary distribution of a discrete-time chain: the `π >= 0` with
/// `πP = π` and `Σπ = 1`.
///
/// # Formula
///
/// Solve `(P − I)ᵀ πᵀ = 0` with the last equation replaced by `Σᵢ πᵢ = 1`
/// (dense LU), restricted to the chain's closed class. The diagonal of
/// `P − I` is taken as `−Σ_{j≠i} pᵢⱼ`, exact for a stochastic row.
///
/// # Errors
///
/// [`MarkovError::Empty`], [`MarkovError::NotSquare`],
/// [`MarkovError::NonFinite`], [`MarkovError::Negative`] or
/// [`MarkovError::RowSum`] (naming the row) for an invalid matrix;
/// [`MarkovError::Reducible`] listing the closed classes when there are
/// several. A reducible chain with **one** closed class is solved, with its
/// transient states listed in [`Stationary::transient`]; a periodic chain
/// is solved and flagged in [`Stationary::periodic`].
pub fn stationary_dtmc(p: &DMatrix<f64>) -> Result<Stationary, MarkovError> {
    validate(p, ChainKind::Dtmc)?;
    let n = p.nrows();
    let mut out = vec![Vec::new(); n];
    let mut self_loop = vec![false; n];
    for i in 0..n {
        for j in 0..n {
            let v = p[(i, j)];
            if i == j {
                self_loop[i] = v > 0.0;
            } else if v > 0.0 {
                out[i].push((j, v));
            }
        }
    }
    stationary(ChainKind::Dtmc, &out, Some(&self_loop))
}

/// Stationary distribution of a continuous-time chain: the `π >= 0` with
/// `πQ = 0` and `Σπ = 1`.
///
/// # Formula
///
/// Solve `Qᵀ πᵀ = 0` with the last equation replaced by `Σᵢ πᵢ = 1` (dense
/// LU, after scaling `Q` by its largest exit rate), restricted to the
/// chain's closed class; the diagonal is taken as `qᵢᵢ = −Σ_{j≠i} qᵢⱼ`.
///
/// # Errors
///
/// As [`stationary_dtmc`], with off-diagonal entries `>= 0` and rows
/// summing to 0. CTMCs are never periodic.
pub fn stationary_ctmc(q: &DMatrix<f64>) -> Result<Stationary, MarkovError> {
    validate(q, ChainKind::Ctmc)?;
    let n = q.nrows();
    let out: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i && q[(i, j)] > 0.0)
                .map(|j| (j, q[(i, j)]))
                .collect()
        })
        .collect();
    stationary(ChainKind::Ctmc, &out, None)
}

/// Stationary distribution of a continuous-time chain given by its
/// off-diagonal transition rates `(from, to, rate)`, for large sparse state
/// spaces (such as the CTMC of a finite-capacity queueing model). Repeated
/// pairs add up; the diagonal is implied.
///
/// # Formula
///
/// As [`stationary_ctmc`]; chains whose closed class has more than
/// [`DENSE_LIMIT`] states are solved by symmetric Gauss–Seidel sweeps
/// `πⱼ ← Σ_{i≠j} πᵢ qᵢⱼ / Σ_{k≠j} qⱼₖ`, renormalised after each sweep
/// (limits in the [module docs](self)).
///
/// # Errors
///
/// [`MarkovError::Empty`] for `states == 0`; [`MarkovError::BadTransition`]
/// for an index out of range or on the diagonal;
/// [`MarkovError::NonFinite`] / [`MarkovError::Negative`] for a bad rate;
/// then as [`stationary_ctmc`], and [`MarkovError::NotConverged`].
pub fn stationary_ctmc_sparse(
    states: usize,
    rates: &[(usize, usize, f64)],
) -> Result<Stationary, MarkovError> {
    if states == 0 {
        return Err(MarkovError::Empty);
    }
    let mut out = vec![Vec::new(); states];
    for &(from, to, rate) in rates {
        if from >= states || to >= states || from == to {
            return Err(MarkovError::BadTransition { from, to, states });
        }
        check_entry(from, to, rate, true)?;
        if rate > 0.0 {
            out[from].push((to, rate));
        }
    }
    stationary(ChainKind::Ctmc, &out, None)
}

/// Classifies, then solves on the single closed class.
fn stationary(
    kind: ChainKind,
    out: &[Vec<(usize, f64)>],
    self_loop: Option<&[bool]>,
) -> Result<Stationary, MarkovError> {
    let mut closed = classify::closed_classes(out);
    if closed.len() > 1 {
        return Err(MarkovError::Reducible {
            closed_classes: closed,
        });
    }
    let class = closed.pop().unwrap_or_default();
    let periodic = self_loop
        .map(|loops| classify::period(out, loops, &class))
        .filter(|&d| d > 1);
    let solution = solve::solve(out, &class)?;
    let n = out.len();
    let mut pi = vec![0.0; n];
    for (&state, &p) in class.iter().zip(&solution.pi) {
        pi[state] = p;
    }
    let mut in_class = vec![false; n];
    class.iter().for_each(|&s| in_class[s] = true);
    Ok(Stationary {
        kind,
        pi,
        periodic,
        transient: (0..n).filter(|&s| !in_class[s]).collect(),
        method: solution.method,
        iterations: solution.iterations,
        residual: solution.residual,
    })
}

/// Checks shape, entries and row sums of a dense `P` or `Q`.
fn validate(m: &DMatrix<f64>, kind: ChainKind) -> Result<(), MarkovError> {
    let (rows, cols) = m.shape();
    if rows == 0 {
        return Err(MarkovError::Empty);
    }
    if rows != cols {
        return Err(MarkovError::NotSquare { rows, cols });
    }
    for row in 0..rows {
        for col in 0..cols {
            let off_diagonal = kind == ChainKind::Dtmc || row != col;
            check_entry(row, col, m[(row, col)], off_diagonal)?;
        }
        let entries: Vec<f64> = m.row(row).iter().copied().collect();
        if !row_sum_ok(kind, &entries) {
            return Err(MarkovError::RowSum {
                row,
                sum: entries.iter().sum(),
                kind,
            });
        }
    }
    Ok(())
}

/// Rejects non-finite entries, and negative ones where `must_be_non_negative`.
fn check_entry(
    row: usize,
    col: usize,
    value: f64,
    must_be_non_negative: bool,
) -> Result<(), MarkovError> {
    if !value.is_finite() {
        Err(MarkovError::NonFinite { row, col, value })
    } else if must_be_non_negative && value < 0.0 {
        Err(MarkovError::Negative { row, col, value })
    } else {
        Ok(())
    }
}

/// Whether a row sums to what `kind` requires, within [`ROW_SUM_TOL`].
fn row_sum_ok(kind: ChainKind, row: &[f64]) -> bool {
    let sum: f64 = row.iter().sum();
    let scale = match kind {
        ChainKind::Dtmc => 1.0,
        ChainKind::Ctmc => row.iter().fold(1.0_f64, |m, v| m.max(v.abs())),
    };
    (sum - kind.row_sum()).abs() <= ROW_SUM_TOL * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::mm1k;
    use crate::analytic::testutil::assert_rel;

    fn matrix(n: usize, entries: &[f64]) -> DMatrix<f64> {
        DMatrix::from_row_slice(n, n, entries)
    }

    #[test]
    fn three_state_chain_by_hand() {
        // π = (31, 29, 13)/73, checked by substitution into πP:
        // 0.5·31 + 0.4·29 + 0.3·13 = 31, 0.3·31 + 0.5·29 + 0.4·13 = 29,
        // 0.2·31 + 0.1·29 + 0.3·13 = 13.
        let p = matrix(3, &[0.5, 0.3, 0.2, 0.4, 0.5, 0.1, 0.3, 0.4, 0.3]);
        let s = stationary_dtmc(&p).unwrap();
        for (got, want) in s.pi.iter().zip([31.0 / 73.0, 29.0 / 73.0, 13.0 / 73.0]) {
            assert_rel(*got, want, 1e-12);
        }
        assert_eq!(s.periodic, None);
        assert!(s.transient.is_empty());
        assert_eq!(s.method, SolveMethod::DenseLu);
        assert!(s.residual < 1e-14);
    }

    /// Generator of the M/M/1/K queue length: births λ, deaths μ.
    fn birth_death(lambda: f64, mu: f64, k: usize) -> Vec<(usize, usize, f64)> {
        (0..k)
            .flat_map(|n| [(n, n + 1, lambda), (n + 1, n, mu)])
            .collect()
    }

    #[test]
    fn birth_death_ctmc_is_mm1k() {
        let (lambda, mu, k) = (8.0, 10.0, 5);
        let mut q = DMatrix::zeros(k + 1, k + 1);
        for (i, j, r) in birth_death(lambda, mu, k) {
            q[(i, j)] = r;
            q[(i, i)] -= r;
        }
        let s = stationary_ctmc(&q).unwrap();
        let m = mm1k(lambda, mu, k as u64).unwrap();
        assert_rel(s.pi[k], m.loss_probability, 1e-12);
        let mean: f64 = s.pi.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert_rel(mean, m.mean_in_system, 1e-12);
        assert_eq!(s.periodic, None);
    }

    #[test]
    fn large_sparse_chain_is_iterated() {
        // 3001 states > DENSE_LIMIT: Gauss–Seidel against the closed form.
        let (lambda, mu, k) = (5.0, 10.0, 3000);
        let s = stationary_ctmc_sparse(k + 1, &birth_death(lambda, mu, k)).unwrap();
        assert_eq!(s.method, SolveMethod::GaussSeidel);
        let m = mm1k(lambda, mu, k as u64).unwrap();
        let mean: f64 = s.pi.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert_rel(mean, m.mean_in_system, 1e-9);
        assert_rel(s.pi[0], 1.0 - m.utilization, 1e-9);
    }

    #[test]
    fn two_state_flip_is_periodic() {
        let s = stationary_dtmc(&matrix(2, &[0.0, 1.0, 1.0, 0.0])).unwrap();
        assert_eq!(s.periodic, Some(2));
        assert_eq!(s.pi, vec![0.5, 0.5]);
    }

    #[test]
    fn reducible_chains() {
        // Two absorbing states: no unique π.
        let p = matrix(3, &[1.0, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 0.0, 1.0]);
        let err = stationary_dtmc(&p).unwrap_err();
        let MarkovError::Reducible { closed_classes } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(closed_classes, &vec![vec![0], vec![2]]);
        assert!(err.to_string().contains("{0} and {2}"), "{err}");
        // One closed class {1, 2} and a transient state 0.
        let p = matrix(3, &[0.5, 0.5, 0.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.5]);
        let s = stationary_dtmc(&p).unwrap();
        assert_eq!(s.transient, vec![0]);
        assert_eq!(s.pi, vec![0.0, 0.5, 0.5]);
    }

    #[test]
    fn invalid_matrices_name_the_problem() {
        let err = stationary_dtmc(&matrix(2, &[0.5, 0.5, 0.3, 0.6])).unwrap_err();
        assert!(matches!(err, MarkovError::RowSum { row: 1, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "row 1 sums to 0.8999999999999999, but every row of a DTMC must sum to 1"
        );
        let err = stationary_dtmc(&matrix(2, &[1.5, -0.5, 0.0, 1.0])).unwrap_err();
        assert!(matches!(err, MarkovError::Negative { row: 0, col: 1, .. }));
        let err = stationary_ctmc(&matrix(2, &[-1.0, 1.0, 2.0, -1.0])).unwrap_err();
        assert!(matches!(
            err,
            MarkovError::RowSum {
                row: 1,
                kind: ChainKind::Ctmc,
                ..
            }
        ));
        let err = stationary_ctmc(&DMatrix::from_row_slice(1, 2, &[0.0, 0.0])).unwrap_err();
        assert!(matches!(err, MarkovError::NotSquare { rows: 1, cols: 2 }));
        assert!(matches!(
            stationary_ctmc_sparse(2, &[(0, 2, 1.0)]),
            Err(MarkovError::BadTransition { to: 2, .. })
        ));
    }

    #[test]
    fn single_state_chains() {
        let s = stationary_dtmc(&matrix(1, &[1.0])).unwrap();
        assert_eq!((s.pi, s.periodic), (vec![1.0], None));
        let s = stationary_ctmc(&matrix(1, &[0.0])).unwrap();
        assert_eq!(s.pi, vec![1.0]);
    }
}
