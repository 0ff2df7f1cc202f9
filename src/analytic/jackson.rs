//! Open Jackson networks: Poisson external arrivals, exponential M/M/c
//! nodes, probabilistic routing after each service.

use nalgebra::DMatrix;
use serde::Serialize;

use super::traffic::{FlowError, FlowGraph};
use super::{AnalyticError, QueueMetrics, mmc, non_negative, positive, servers};

/// Tolerance on routing probabilities and row sums.
const ROUTING_TOL: f64 = 1e-9;

/// Steady state of an open Jackson network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JacksonResult {
    /// Total arrival rate λᵢ into each node (external plus routed),
    /// messages per second.
    pub arrival_rates: Vec<f64>,
    /// Mean number of visits to each node per external message, `λᵢ / Σγ`.
    pub visits: Vec<f64>,
    /// M/M/c metrics of each node, fed with `arrival_rates[i]`.
    pub nodes: Vec<QueueMetrics>,
    /// Sum of the external arrival rates Σγ, messages per second.
    pub total_external_rate: f64,
    /// Mean number of messages in the whole network, `Σ Lᵢ`.
    pub mean_in_system: f64,
    /// End-to-end mean time in the network per external message, seconds.
    pub mean_sojourn_s: f64,
    /// Index of the node with the highest utilization.
    pub bottleneck: usize,
}

/// A node offered more work than its servers can do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saturation {
    /// Index of the node.
    pub node: usize,
    /// Offered load per server `λᵢ / (cᵢ μᵢ)`, `>= 1`.
    pub utilization: f64,
    /// Arrival rate above the service capacity, `λᵢ − cᵢ μᵢ`, per second.
    pub excess_rate: f64,
}

/// Exact steady state of an open Jackson network of M/M/c nodes.
///
/// Node `i` receives external Poisson traffic at rate `external_rates[i]`,
/// has `servers[i]` exponential servers of rate `service_rates[i]` each and
/// an infinite FIFO queue. After service a message moves to node `j` with
/// probability `routing[(i, j)]` and leaves the network with probability
/// `1 − Σⱼ routing[(i, j)]`. Retries that re-join the same queue are the
/// diagonal entries.
///
/// # Formula
///
/// Solve the traffic equations on the sparse routing graph
/// ([`crate::analytic::traffic::FlowGraph`]: exact on acyclic networks,
/// LU or Gauss–Seidel on each loop)
///
/// ```text
/// λ = γ + Pᵀ λ      i.e.  (I − Pᵀ) λ = γ
/// ```
///
/// then, by Jackson's theorem, each node behaves as an independent M/M/cᵢ
/// queue with arrival rate λᵢ (see [`mmc`]). End to end, by Little's law,
///
/// ```text
/// T = Σᵢ Lᵢ / Σᵢ γᵢ
/// ```
///
/// Nodes that no traffic reaches get `λᵢ = 0`, so an idle closed cycle
/// does not make the system singular.
///
/// # Errors
///
/// - [`AnalyticError::LengthMismatch`] when the slices and the matrix do
///   not all describe the same number of nodes;
/// - [`AnalyticError::InvalidParameter`] for a negative or non-finite
///   rate, a routing entry outside `[0, 1]`, a routing row summing to more
///   than 1, no external traffic at all, or a node without servers;
/// - [`AnalyticError::NoExit`] when traffic reaches a node from which no
///   route leads out of the network;
/// - [`AnalyticError::UnstableNodes`] listing **every** node whose
///   utilization is `>= 1`, with its excess rate.
pub fn jackson(
    external_rates: &[f64],
    routing: &DMatrix<f64>,
    service_rates: &[f64],
    servers_per_node: &[u32],
) -> Result<JacksonResult, AnalyticError> {
    let n = external_rates.len();
    check_len("routing rows", n, routing.nrows())?;
    check_len("routing columns", n, routing.ncols())?;
    let routes: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| (i, j, routing[(i, j)]))
        .filter(|&(_, _, p)| p != 0.0)
        .collect();
    jackson_routes(external_rates, &routes, service_rates, servers_per_node)
}

/// [`jackson()`] with the routing given sparsely, as `(from, to,
/// probability)` triples (parallel entries add up): the form for large
/// networks, in time and memory linear in nodes and routes when the
/// network is acyclic (see [`crate::analytic::traffic`]).
///
/// # Errors
///
/// As [`jackson()`]; a route naming a node `>= external_rates.len()` is
/// an [`AnalyticError::InvalidParameter`].
pub fn jackson_routes(
    external_rates: &[f64],
    routes: &[(usize, usize, f64)],
    service_rates: &[f64],
    servers_per_node: &[u32],
) -> Result<JacksonResult, AnalyticError> {
    let n = external_rates.len();
    check_len("service_rates", n, service_rates.len())?;
    check_len("servers", n, servers_per_node.len())?;
    for (&gamma, (&mu, &c)) in external_rates
        .iter()
        .zip(service_rates.iter().zip(servers_per_node))
    {
        non_negative("external_rates", gamma)?;
        positive("service_rates", mu)?;
        servers("servers", c)?;
    }
    let row_sums = validate_routing(n, routes)?;
    let total_external: f64 = external_rates.iter().sum();
    if total_external <= 0.0 {
        return Err(AnalyticError::InvalidParameter {
            name: "external_rates",
            value: total_external,
            expected: "some node with external traffic (a sum > 0)",
        });
    }

    let arrival_rates = solve_traffic(external_rates, routes, &row_sums)?;
    let saturated: Vec<Saturation> = (0..n)
        .filter_map(|i| {
            let capacity = f64::from(servers_per_node[i]) * service_rates[i];
            let utilization = arrival_rates[i] / capacity;
            (utilization >= 1.0).then(|| Saturation {
                node: i,
                utilization,
                excess_rate: arrival_rates[i] - capacity,
            })
        })
        .collect();
    if !saturated.is_empty() {
        return Err(AnalyticError::UnstableNodes { nodes: saturated });
    }
    let nodes = (0..n)
        .map(|i| mmc(arrival_rates[i], service_rates[i], servers_per_node[i]))
        .collect::<Result<Vec<_>, _>>()?;
    let mean_in_system: f64 = nodes.iter().map(|m| m.mean_in_system).sum();
    let bottleneck = (0..n)
        .max_by(|&a, &b| nodes[a].utilization.total_cmp(&nodes[b].utilization))
        .unwrap_or(0);
    Ok(JacksonResult {
        visits: arrival_rates.iter().map(|l| l / total_external).collect(),
        arrival_rates,
        nodes,
        total_external_rate: total_external,
        mean_in_system,
        mean_sojourn_s: mean_in_system / total_external,
        bottleneck,
    })
}

fn check_len(name: &'static str, expected: usize, found: usize) -> Result<(), AnalyticError> {
    if expected == found {
        Ok(())
    } else {
        Err(AnalyticError::LengthMismatch {
            name,
            expected,
            found,
        })
    }
}

/// Checks every probability and row sum; returns the row sums.
fn validate_routing(n: usize, routes: &[(usize, usize, f64)]) -> Result<Vec<f64>, AnalyticError> {
    let mut row_sums = vec![0.0; n];
    for &(from, to, p) in routes {
        if from >= n || to >= n {
            return Err(AnalyticError::InvalidParameter {
                name: "routing",
                value: from.max(to) as f64,
                expected: "routes between nodes 0..n (one external rate per node)",
            });
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(AnalyticError::InvalidParameter {
                name: "routing",
                value: p,
                expected: "probabilities in [0, 1]",
            });
        }
        row_sums[from] += p;
    }
    for &sum in &row_sums {
        if sum > 1.0 + ROUTING_TOL {
            return Err(AnalyticError::InvalidParameter {
                name: "routing",
                value: sum,
                expected: "each row to sum to at most 1 (the rest leaves the network)",
            });
        }
    }
    Ok(row_sums)
}

/// Solves `λ = γ + Pᵀ λ` with the sparse solver, after checking that every
/// node traffic reaches can reach an exit (which makes the system regular).
fn solve_traffic(
    gamma: &[f64],
    routes: &[(usize, usize, f64)],
    row_sums: &[f64],
) -> Result<Vec<f64>, AnalyticError> {
    let n = gamma.len();
    let graph = FlowGraph::new(n, routes.iter().copied());
    // Forward reachability from the nodes with external traffic.
    let mut active: Vec<bool> = gamma.iter().map(|&g| g > 0.0).collect();
    let mut stack: Vec<usize> = (0..n).filter(|&i| active[i]).collect();
    while let Some(i) = stack.pop() {
        for &(j, _) in graph.successors(i) {
            if !std::mem::replace(&mut active[j], true) {
                stack.push(j);
            }
        }
    }
    // Backward reachability from the nodes that let traffic out.
    let mut predecessors = vec![Vec::new(); n];
    for i in 0..n {
        graph
            .successors(i)
            .iter()
            .for_each(|&(j, _)| predecessors[j].push(i));
    }
    let mut exits: Vec<bool> = row_sums.iter().map(|&s| s < 1.0 - ROUTING_TOL).collect();
    let mut stack: Vec<usize> = (0..n).filter(|&i| exits[i]).collect();
    while let Some(j) = stack.pop() {
        for &i in &predecessors[j] {
            if !std::mem::replace(&mut exits[i], true) {
                stack.push(i);
            }
        }
    }
    if let Some(node) = (0..n).find(|&i| active[i] && !exits[i]) {
        return Err(AnalyticError::NoExit { node });
    }
    let lambda = graph.solve(gamma).map_err(|e| match e {
        FlowError::Unbounded { node } | FlowError::NotConverged { node, .. } => {
            AnalyticError::NoExit { node }
        }
    })?;
    Ok(lambda)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic::mm1_feedback;
    use crate::analytic::testutil::{REL_TOL, assert_rel};

    #[test]
    fn tandem_adds_the_sojourns() {
        // γ = 2 into node 0, then node 1: M/M/1 sojourns 1/(4−2) and 1/(5−2).
        let routing = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 0.0, 0.0]);
        let r = jackson(&[2.0, 0.0], &routing, &[4.0, 5.0], &[1, 1]).unwrap();
        assert_eq!(r.arrival_rates, vec![2.0, 2.0]);
        assert_rel(r.nodes[0].mean_sojourn_s, 0.5, REL_TOL);
        assert_rel(r.nodes[1].mean_sojourn_s, 1.0 / 3.0, REL_TOL);
        assert_rel(r.mean_sojourn_s, 5.0 / 6.0, REL_TOL);
        assert_eq!(r.bottleneck, 0);
    }

    #[test]
    fn self_feedback_is_mm1_with_feedback() {
        let routing = DMatrix::from_element(1, 1, 0.5);
        let r = jackson(&[2.0], &routing, &[10.0], &[1]).unwrap();
        let f = mm1_feedback(2.0, 10.0, 0.5).unwrap();
        assert_rel(r.arrival_rates[0], 4.0, REL_TOL);
        assert_rel(r.mean_sojourn_s, f.mean_sojourn_s, REL_TOL);
        assert_rel(r.visits[0], 2.0, REL_TOL);
    }

    #[test]
    fn feedback_network_by_hand() {
        // 0 → 1; 1 → 0 w.p. 0.3, 1 → 2 w.p. 0.7; 2 exits. γ = (1, 0, 0):
        // λ = (10/7, 10/7, 1). μ = (4, 1.5, 3), c = (1, 2, 1).
        // python3 with fractions.Fraction: node 0 L = (10/7)/(4 − 10/7) = 5/9,
        // node 1 M/M/2 (a = 20/21, ρ = 10/21): L = 2ρ/(1 − ρ²) = 420/341,
        // node 2 L = 1/2; T = (5/9 + 420/341 + 1/2)/1 = 14039/6138.
        let routing = DMatrix::from_row_slice(3, 3, &[0.0, 1.0, 0.0, 0.3, 0.0, 0.7, 0.0, 0.0, 0.0]);
        let r = jackson(&[1.0, 0.0, 0.0], &routing, &[4.0, 1.5, 3.0], &[1, 2, 1]).unwrap();
        assert_rel(r.arrival_rates[0], 10.0 / 7.0, REL_TOL);
        assert_rel(r.arrival_rates[2], 1.0, REL_TOL);
        assert_rel(r.nodes[0].mean_in_system, 5.0 / 9.0, REL_TOL);
        assert_rel(r.nodes[1].mean_in_system, 420.0 / 341.0, REL_TOL);
        assert_rel(r.mean_sojourn_s, 14039.0 / 6138.0, REL_TOL);
        assert_eq!(r.bottleneck, 1);
    }

    #[test]
    fn every_saturated_node_is_named() {
        let routing = DMatrix::from_row_slice(3, 3, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let err = jackson(&[3.0, 0.0, 0.0], &routing, &[2.0, 5.0, 2.5], &[1, 1, 1]).unwrap_err();
        let AnalyticError::UnstableNodes { nodes } = &err else {
            panic!("{err:?}")
        };
        let named: Vec<usize> = nodes.iter().map(|s| s.node).collect();
        assert_eq!(named, vec![0, 2]);
        assert_rel(nodes[0].utilization, 1.5, REL_TOL);
        assert_rel(nodes[1].excess_rate, 0.5, REL_TOL);
        let text = err.to_string();
        assert!(text.contains("node 0") && text.contains("node 2"), "{text}");
    }

    #[test]
    fn trapped_traffic_and_bad_shapes_are_rejected() {
        let cycle = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]);
        assert_eq!(
            jackson(&[1.0, 0.0], &cycle, &[5.0, 5.0], &[1, 1]),
            Err(AnalyticError::NoExit { node: 0 })
        );
        // An idle closed cycle (nodes 1, 2) next to a working node is fine.
        let idle = DMatrix::from_row_slice(3, 3, &[0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let r = jackson(&[1.0, 0.0, 0.0], &idle, &[2.0, 1.0, 1.0], &[1, 1, 1]).unwrap();
        assert_eq!(r.arrival_rates, vec![1.0, 0.0, 0.0]);
        assert!(matches!(
            jackson(&[1.0], &cycle, &[5.0, 5.0], &[1, 1]),
            Err(AnalyticError::LengthMismatch { .. })
        ));
        let over = DMatrix::from_row_slice(2, 2, &[0.6, 0.6, 0.0, 0.0]);
        assert!(jackson(&[1.0, 0.0], &over, &[5.0, 5.0], &[1, 1]).is_err());
        let none = DMatrix::zeros(2, 2);
        assert!(jackson(&[0.0, 0.0], &none, &[5.0, 5.0], &[1, 1]).is_err());
    }
}
