//! The linear traffic equations `x = γ + Mᵀ x` on a sparse graph.
//!
//! `M[i][j] >= 0` is the mean number of messages node `i` sends to node `j`
//! per message it receives (a probability for a split, 1 for each copy of
//! a fanout), `γ` the external rates. The graph is cut into strongly
//! connected components (Tarjan), solved source first:
//!
//! - a node on no cycle takes what flows in: one exact pass, so an acyclic
//!   network costs `O(nodes + edges)`;
//! - a node whose only cycle is a self-loop `m` (retries, feedback to
//!   itself) takes `inflow / (1 − m)`, exactly;
//! - a cycle of at most [`DENSE_LIMIT`] nodes is solved by LU on its own
//!   block;
//! - a larger cycle by Gauss–Seidel, started at 0 (the iterates then rise
//!   monotonically to the least non-negative solution), until the
//!   estimated remaining error is below [`REL_TOL`] of the largest rate.
//!
//! A component that receives traffic has a finite non-negative solution
//! exactly when the spectral radius of its block of `M` is below 1;
//! otherwise copies multiply without bound, or traffic is trapped in a
//! loop with no exit, and the solve reports [`FlowError::Unbounded`].

use nalgebra::{DMatrix, DVector};

/// Largest cycle solved by a dense LU; larger ones are iterated.
pub const DENSE_LIMIT: usize = 200;
/// Relative accuracy of an iterated cycle: the estimated error over the
/// largest rate in the cycle.
pub const REL_TOL: f64 = 1e-13;
/// Most Gauss–Seidel sweeps over one cycle.
pub const MAX_SWEEPS: usize = 100_000;

/// Why the traffic equations have no usable solution.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum FlowError {
    /// Traffic reaching `node` grows without bound: its loop copies or
    /// keeps messages faster than they leave (spectral radius >= 1).
    #[error("traffic through node {node} grows without bound in a routing loop")]
    Unbounded {
        /// A node of the loop.
        node: usize,
    },
    /// The loop through `node` converges too slowly to reach [`REL_TOL`]
    /// in [`MAX_SWEEPS`] sweeps (it is within a hair of instability).
    #[error(
        "the traffic equations did not converge in {sweeps} sweeps over the loop through \
         node {node} (estimated relative error {error:e}): it is nearly unstable"
    )]
    NotConverged {
        /// A node of the loop.
        node: usize,
        /// Sweeps made.
        sweeps: usize,
        /// Estimated relative error when stopped.
        error: f64,
    },
}

/// A routing graph in compressed sparse form, cut into strongly connected
/// components in topological order, ready to solve for any `γ`.
#[derive(Debug, Clone)]
pub struct FlowGraph {
    /// Outgoing edges of node `i`: `out[out_start[i]..out_start[i + 1]]`.
    out_start: Vec<usize>,
    out: Vec<(usize, f64)>,
    /// Incoming edges of node `i`, the same way (for Gauss–Seidel).
    in_start: Vec<usize>,
    inc: Vec<(usize, f64)>,
    /// Components, sources first.
    components: Vec<Vec<usize>>,
    /// Component of each node (index into `components`).
    component_of: Vec<usize>,
    /// Position of each node in its component's member list.
    position: Vec<usize>,
}

impl FlowGraph {
    /// The graph on nodes `0..n` with edges `(from, to, m)`; parallel edges
    /// are added up, edges with `m == 0` dropped.
    ///
    /// # Panics
    ///
    /// If an edge names a node `>= n` or has a negative or non-finite `m`.
    pub fn new(n: usize, edges: impl IntoIterator<Item = (usize, usize, f64)>) -> Self {
        let mut list: Vec<(usize, usize, f64)> = edges.into_iter().filter(|e| e.2 != 0.0).collect();
        for &(from, to, m) in &list {
            assert!(from < n && to < n, "edge {from} -> {to} outside 0..{n}");
            assert!(
                m.is_finite() && m > 0.0,
                "edge {from} -> {to} has multiplier {m}"
            );
        }
        list.sort_unstable_by_key(|&(from, to, _)| (from, to));
        list.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                kept.2 += later.2;
            }
            same
        });
        let (out_start, out) = compress(n, list.iter().map(|&(f, t, m)| (f, t, m)));
        let mut reversed: Vec<(usize, usize, f64)> =
            list.iter().map(|&(f, t, m)| (t, f, m)).collect();
        reversed.sort_unstable_by_key(|&(to, from, _)| (to, from));
        let (in_start, inc) = compress(n, reversed.into_iter());
        let mut graph = Self {
            out_start,
            out,
            in_start,
            inc,
            components: Vec::new(),
            component_of: Vec::new(),
            position: Vec::new(),
        };
        graph.components = graph.strong_components();
        graph.component_of = vec![0; n];
        graph.position = vec![0; n];
        for (c, members) in graph.components.iter().enumerate() {
            for (k, &i) in members.iter().enumerate() {
                graph.component_of[i] = c;
                graph.position[i] = k;
            }
        }
        graph
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.out_start.len() - 1
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Edges leaving node `i`, as `(to, m)`, by increasing `to`.
    pub fn successors(&self, i: usize) -> &[(usize, f64)] {
        &self.out[self.out_start[i]..self.out_start[i + 1]]
    }

    fn predecessors(&self, i: usize) -> &[(usize, f64)] {
        &self.inc[self.in_start[i]..self.in_start[i + 1]]
    }

    /// The least non-negative solution `x` of `x = γ + Mᵀ x`.
    ///
    /// # Errors
    ///
    /// [`FlowError`] when a loop that receives traffic has no finite
    /// solution, or its iteration does not converge.
    ///
    /// # Panics
    ///
    /// If `gamma` does not have one entry per node.
    pub fn solve(&self, gamma: &[f64]) -> Result<Vec<f64>, FlowError> {
        assert_eq!(gamma.len(), self.len(), "one external rate per node");
        // Holds the inflow of a node until its component is solved, then its rate.
        let mut x = gamma.to_vec();
        for (c, members) in self.components.iter().enumerate() {
            if members.iter().all(|&i| x[i] == 0.0) {
                continue;
            }
            self.solve_component(c, members, &mut x)?;
            for &i in members {
                for &(j, m) in self.successors(i) {
                    if self.component_of[j] != c {
                        x[j] += m * x[i];
                    }
                }
            }
        }
        Ok(x)
    }

    /// Replaces the inflows of one component's nodes by their rates.
    fn solve_component(&self, c: usize, members: &[usize], x: &mut [f64]) -> Result<(), FlowError> {
        let unbounded = FlowError::Unbounded { node: members[0] };
        if let [i] = *members {
            let m = self.self_loop(i);
            if m >= 1.0 {
                return Err(unbounded);
            }
            x[i] /= 1.0 - m;
            return if x[i].is_finite() {
                Ok(())
            } else {
                Err(unbounded)
            };
        }
        let inflow: Vec<f64> = members.iter().map(|&i| x[i]).collect();
        let rates = if members.len() <= DENSE_LIMIT {
            self.dense_block(c, members, &inflow).ok_or(unbounded)?
        } else {
            self.gauss_seidel(c, members, &inflow)?
        };
        let scale = inflow.iter().fold(1.0_f64, |a, &b| a.max(b));
        if rates.iter().any(|&v| !v.is_finite() || v < -1e-9 * scale) {
            return Err(unbounded);
        }
        members
            .iter()
            .zip(rates)
            .for_each(|(&i, v)| x[i] = v.max(0.0));
        Ok(())
    }

    fn self_loop(&self, i: usize) -> f64 {
        let edges = self.successors(i);
        edges
            .binary_search_by_key(&i, |&(j, _)| j)
            .map_or(0.0, |k| edges[k].1)
    }

    /// Solves `(I − Mᵀ) y = inflow` on the block of component `c` by LU.
    fn dense_block(&self, c: usize, members: &[usize], inflow: &[f64]) -> Option<Vec<f64>> {
        let k = members.len();
        let mut system = DMatrix::<f64>::identity(k, k);
        for (col, &i) in members.iter().enumerate() {
            for &(j, m) in self.successors(i) {
                if self.component_of[j] == c {
                    system[(self.position[j], col)] -= m;
                }
            }
        }
        let y = system.lu().solve(&DVector::from_column_slice(inflow))?;
        Some(y.iter().copied().collect())
    }

    /// Iterates `y_i = (inflow_i + Σ_{j ≠ i} m_ji y_j) / (1 − m_ii)` over
    /// the component from `y = 0`.
    fn gauss_seidel(
        &self,
        c: usize,
        members: &[usize],
        inflow: &[f64],
    ) -> Result<Vec<f64>, FlowError> {
        let node = members[0];
        let mut keep = Vec::with_capacity(members.len());
        for &i in members {
            let m = self.self_loop(i);
            if m >= 1.0 {
                return Err(FlowError::Unbounded { node: i });
            }
            keep.push(1.0 / (1.0 - m));
        }
        // Sweeps whose change does not shrink before the loop is called
        // unbounded: long enough for traffic to travel round the loop.
        let patience = 10 + members.len().min(1_000);
        let mut y = vec![0.0; members.len()];
        let mut last_change = f64::INFINITY;
        let mut rising = 0;
        for sweep in 1..=MAX_SWEEPS {
            let mut change = 0.0_f64;
            for (k, &i) in members.iter().enumerate() {
                let mut sum = inflow[k];
                for &(j, m) in self.predecessors(i) {
                    if j != i && self.component_of[j] == c {
                        sum += m * y[self.position[j]];
                    }
                }
                let next = sum * keep[k];
                change = change.max((next - y[k]).abs());
                y[k] = next;
            }
            let largest = y.iter().fold(0.0_f64, |a, &b| a.max(b));
            if !largest.is_finite() {
                return Err(FlowError::Unbounded { node });
            }
            if change <= 8.0 * f64::EPSILON * largest {
                return Ok(y);
            }
            // Changes shrink by `ratio` per sweep: the error left is about
            // change · ratio / (1 − ratio), bounded here by change / (1 − ratio).
            let ratio = change / last_change;
            last_change = change;
            rising = if ratio >= 1.0 { rising + 1 } else { 0 };
            if rising > patience {
                return Err(FlowError::Unbounded { node });
            }
            let error = change / (1.0 - ratio.min(1.0)).max(f64::EPSILON);
            if sweep > 1 && error <= REL_TOL * largest {
                return Ok(y);
            }
            if sweep == MAX_SWEEPS {
                return Err(FlowError::NotConverged {
                    node,
                    sweeps: sweep,
                    error: error / largest,
                });
            }
        }
        unreachable!("the loop returns at its last sweep")
    }

    /// Strongly connected components, sources first (Tarjan's algorithm,
    /// iterative so that long chains cannot overflow the stack).
    fn strong_components(&self) -> Vec<Vec<usize>> {
        let n = self.len();
        const UNSEEN: usize = usize::MAX;
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut components = Vec::new();
        let mut counter = 0;
        for root in 0..n {
            if index[root] != UNSEEN {
                continue;
            }
            // (node, next edge to look at)
            let mut path = vec![(root, 0)];
            index[root] = counter;
            low[root] = counter;
            counter += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut e)) = path.last_mut() {
                if let Some(&(w, _)) = self.successors(v).get(*e) {
                    *e += 1;
                    if index[w] == UNSEEN {
                        index[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        path.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                path.pop();
                if let Some(&(parent, _)) = path.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut members = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        members.push(w);
                        if w == v {
                            break;
                        }
                    }
                    members.reverse();
                    components.push(members);
                }
            }
        }
        components.reverse();
        components
    }
}

/// Compressed rows of `(row, column, value)` triples sorted by row.
fn compress(
    n: usize,
    sorted: impl Iterator<Item = (usize, usize, f64)>,
) -> (Vec<usize>, Vec<(usize, f64)>) {
    let mut start = vec![0; n + 1];
    let mut entries = Vec::new();
    for (row, col, m) in sorted {
        start[row + 1] += 1;
        entries.push((col, m));
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    (start, entries)
}
