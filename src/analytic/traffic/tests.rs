//! Unit tests of the sparse traffic solver against hand-solved networks.

use super::*;
use crate::analytic::testutil::assert_rel;

/// Tolerance of the exact (acyclic, LU) paths.
const EXACT: f64 = 1e-12;

#[test]
fn jackson_feedback_network_matches_its_exact_solution() {
    // 0 → 1; 1 → 0 w.p. 0.3, 1 → 2 w.p. 0.7; γ = (1, 0, 0):
    // λ₀ = 1 + 0.3 λ₁, λ₁ = λ₀, so λ = (10/7, 10/7, 1).
    let graph = FlowGraph::new(3, [(0, 1, 1.0), (1, 0, 0.3), (1, 2, 0.7)]);
    let x = graph.solve(&[1.0, 0.0, 0.0]).unwrap();
    assert_rel(x[0], 10.0 / 7.0, EXACT);
    assert_rel(x[1], 10.0 / 7.0, EXACT);
    assert_rel(x[2], 1.0, EXACT);
}

#[test]
fn fanout_dag_adds_copies_in_one_pass() {
    // 0 copies to 1 and 2; 1 sends 0.25 to 3, 2 sends all to 3; 3 splits
    // 0.5 / 0.5 to 4 and 5, parallel routes 3 → 4 adding up.
    // γ₀ = 8: x = (8, 8, 8, 2 + 8, 5, 5).
    let edges = [
        (0, 1, 1.0),
        (0, 2, 1.0),
        (1, 3, 0.25),
        (2, 3, 1.0),
        (3, 4, 0.25),
        (3, 4, 0.25),
        (3, 5, 0.5),
    ];
    let graph = FlowGraph::new(6, edges);
    let x = graph.solve(&[8.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    assert_eq!(x, vec![8.0, 8.0, 8.0, 10.0, 5.0, 5.0]);
}

#[test]
fn self_loops_are_exact_retries() {
    // A queue that re-joins itself w.p. 0.2 (retries) then forwards.
    let graph = FlowGraph::new(2, [(0, 0, 0.2), (0, 1, 0.8)]);
    let x = graph.solve(&[100.0, 0.0]).unwrap();
    assert_rel(x[0], 125.0, EXACT);
    assert_rel(x[1], 100.0, EXACT);
}

/// A ring of `n` nodes, each passing `q` of its traffic on, `γ₀ = 1`:
/// `x_k = q^k / (1 − q^n)`.
fn ring(n: usize, q: f64) -> (FlowGraph, Vec<f64>) {
    let graph = FlowGraph::new(n, (0..n).map(|i| (i, (i + 1) % n, q)));
    let exact = (0..n)
        .map(|k| q.powi(k as i32) / (1.0 - q.powi(n as i32)))
        .collect();
    (graph, exact)
}

#[test]
fn large_loops_iterate_to_the_exact_solution() {
    let n = 3 * DENSE_LIMIT;
    let (graph, exact) = ring(n, 0.999);
    let mut gamma = vec![0.0; n];
    gamma[0] = 1.0;
    let x = graph.solve(&gamma).unwrap();
    for (k, (&got, &want)) in x.iter().zip(&exact).enumerate() {
        assert!(
            (got - want).abs() <= 1e-11 * want,
            "node {k}: {got} vs {want}"
        );
    }
    let (small, exact) = ring(5, 0.9);
    let x = small.solve(&[1.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    x.iter()
        .zip(&exact)
        .for_each(|(&g, &w)| assert_rel(g, w, EXACT));
}

#[test]
fn copies_multiplying_in_a_loop_are_unbounded() {
    // Two copies back into the loop per message: spectral radius 2.
    let small = FlowGraph::new(3, [(0, 1, 1.0), (1, 0, 1.0), (1, 0, 1.0), (1, 2, 1.0)]);
    assert!(matches!(
        small.solve(&[1.0, 0.0, 0.0]),
        Err(FlowError::Unbounded { .. })
    ));
    let n = 2 * DENSE_LIMIT;
    let big = FlowGraph::new(n, (0..n).map(|i| (i, (i + 1) % n, 1.01)));
    let mut gamma = vec![0.0; n];
    gamma[0] = 1.0;
    assert!(matches!(
        big.solve(&gamma),
        Err(FlowError::Unbounded { .. })
    ));
    let itself = FlowGraph::new(1, [(0, 0, 1.0)]);
    assert_eq!(itself.solve(&[1.0]), Err(FlowError::Unbounded { node: 0 }));
}

#[test]
fn loops_without_traffic_are_left_at_zero() {
    let graph = FlowGraph::new(3, [(1, 2, 2.0), (2, 1, 2.0)]);
    assert_eq!(graph.solve(&[1.0, 0.0, 0.0]).unwrap(), vec![1.0, 0.0, 0.0]);
}

#[test]
fn long_chains_do_not_overflow_the_stack() {
    let n = 200_000;
    let graph = FlowGraph::new(n, (1..n).map(|i| (i - 1, i, 1.0)));
    let mut gamma = vec![0.0; n];
    gamma[0] = 3.0;
    assert!(graph.solve(&gamma).unwrap().iter().all(|&v| v == 3.0));
}
