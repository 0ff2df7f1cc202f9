//! Structure of a chain's transition graph: communicating classes
//! (Tarjan's strongly connected components), which of them are closed, and
//! the period of a closed class of a discrete-time chain.

use std::collections::VecDeque;

/// Marks a state that Tarjan's algorithm has not reached yet.
const UNVISITED: usize = usize::MAX;

/// The closed communicating classes (no transition leaves them), each
/// sorted, ordered by their smallest state. `out[i]` lists the positive
/// off-diagonal transitions `(j, rate)` of state `i`.
pub(super) fn closed_classes(out: &[Vec<(usize, f64)>]) -> Vec<Vec<usize>> {
    let (component, count) = components(out);
    let mut closed = vec![true; count];
    for (i, edges) in out.iter().enumerate() {
        for &(j, _) in edges {
            if component[i] != component[j] {
                closed[component[i]] = false;
            }
        }
    }
    let mut members = vec![Vec::new(); count];
    for (state, &c) in component.iter().enumerate() {
        if closed[c] {
            members[c].push(state);
        }
    }
    let mut classes: Vec<Vec<usize>> = members.into_iter().filter(|m| !m.is_empty()).collect();
    classes.sort_by_key(|c| c[0]);
    classes
}

/// Strongly connected component of each state and the number of
/// components: Tarjan's algorithm with an explicit stack (no recursion, so
/// 10⁵ states are fine).
fn components(out: &[Vec<(usize, f64)>]) -> (Vec<usize>, usize) {
    let n = out.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNVISITED; n];
    let (mut next_index, mut count) = (0, 0);
    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        let mut calls = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(v, edge)) = calls.last() {
            if let Some(&(w, _)) = out[v].get(edge) {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if index[w] == UNVISITED {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = count;
                    if w == v {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    (component, count)
}

/// Period of a closed class of a DTMC: the gcd of the lengths of its
/// cycles, computed from breadth-first levels as
/// `gcd over edges u → v of |level(u) + 1 − level(v)|`. A self-loop makes
/// it 1.
pub(super) fn period(out: &[Vec<(usize, f64)>], self_loop: &[bool], class: &[usize]) -> u32 {
    if class.iter().any(|&s| self_loop[s]) || class.len() < 2 {
        return 1;
    }
    let mut level = vec![UNVISITED; out.len()];
    let mut queue = VecDeque::from([class[0]]);
    level[class[0]] = 0;
    let mut g = 0;
    while let Some(u) = queue.pop_front() {
        for &(v, _) in &out[u] {
            if level[v] == UNVISITED {
                level[v] = level[u] + 1;
                queue.push_back(v);
            } else {
                g = gcd(g, (level[u] + 1).abs_diff(level[v]));
            }
        }
    }
    u32::try_from(g.max(1)).unwrap_or(u32::MAX)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(usize, usize)], n: usize) -> Vec<Vec<(usize, f64)>> {
        let mut out = vec![Vec::new(); n];
        for &(i, j) in edges {
            out[i].push((j, 1.0));
        }
        out
    }

    #[test]
    fn closed_classes_of_a_reducible_graph() {
        // 0 → 1 ⇄ 2, 0 → 3 ⇄ 4, 5 alone: closed {1, 2}, {3, 4}, {5}.
        let out = graph(&[(0, 1), (1, 2), (2, 1), (0, 3), (3, 4), (4, 3)], 6);
        assert_eq!(closed_classes(&out), vec![vec![1, 2], vec![3, 4], vec![5]]);
    }

    #[test]
    fn a_long_cycle_is_one_class_without_deep_recursion() {
        let n = 200_000;
        let edges: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        let out = graph(&edges, n);
        let classes = closed_classes(&out);
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].len(), n);
        assert_eq!(period(&out, &vec![false; n], &classes[0]), n as u32);
    }

    #[test]
    fn periods() {
        // Cycles of lengths 2 and 3 through state 0: gcd 1.
        let out = graph(&[(0, 1), (1, 0), (1, 2), (2, 0)], 3);
        assert_eq!(period(&out, &[false; 3], &[0, 1, 2]), 1);
        // Bipartite 4-cycle with a chord keeping parity: period 2.
        let out = graph(&[(0, 1), (1, 2), (2, 3), (3, 0), (2, 1)], 4);
        assert_eq!(period(&out, &[false; 4], &[0, 1, 2, 3]), 2);
        assert_eq!(period(&out, &[false, false, true, false], &[0, 1, 2, 3]), 1);
        assert_eq!(gcd(12, 18), 6);
    }
}
