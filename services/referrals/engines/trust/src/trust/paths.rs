//! The strongest chains of trust from pre-trusted customers to a target, searched backwards.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::{Graph, MAX_PATH_DEPTH, NodeId, PATH_SEARCH_BUDGET};

/// A chain of trust from a pre-trusted customer (first) to the target (last).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub nodes: Vec<NodeId>,
    /// Product of the normalised edge weights along the chain, in (0, 1].
    pub strength: f64,
}

const NO_STEP: u32 = u32::MAX;

/// A partial path, grown backwards from the target; `next` points one step nearer the target.
#[derive(Debug, Clone, Copy)]
struct Step {
    local: u32,
    next: u32,
    depth: u32,
    strength: f64,
}

/// A heap entry: highest priority first, ties by creation order, so the search is deterministic.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    priority: f64,
    step: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.step.cmp(&self.step))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The `max_paths` strongest simple paths of at most `max_depth` edges from any seed to `target`,
/// strongest first; strength is the product of normalised edge weights (as in the PageRank).
///
/// A path starts at a seed and passes through no other seed: trust is explained from the nearest
/// pre-trusted customer. A target that is itself a seed gets the one-node path of strength 1.
/// `max_depth` is clamped to [`MAX_PATH_DEPTH`]. Unknown ids yield no paths.
///
/// Method: a backward breadth-first search collects the nodes within `max_depth` of the target;
/// a dynamic programme over them gives, per node and hop budget, the strongest walk from a seed
/// (an upper bound for any simple path); an A* search from the target, ordered by strength so far
/// × that bound, then completes paths in order of strength, so the first `max_paths` found are the
/// answer. If the search creates [`PATH_SEARCH_BUDGET`] partial paths it stops and returns the
/// paths found so far, which are still the strongest ones.
pub fn strongest_paths(
    graph: &Graph,
    seeds: &[NodeId],
    target: NodeId,
    max_paths: usize,
    max_depth: usize,
) -> Vec<Path> {
    let mut seeds = seeds.to_vec();
    seeds.sort_unstable();
    seeds.dedup();
    let is_seed = |node: NodeId| seeds.binary_search(&node).is_ok();
    if target as usize >= graph.node_count() || max_paths == 0 {
        return Vec::new();
    }
    if is_seed(target) {
        return vec![Path {
            nodes: vec![target],
            strength: 1.0,
        }];
    }
    let max_depth = max_depth.min(MAX_PATH_DEPTH);
    if max_depth == 0 {
        return Vec::new();
    }

    // Backward BFS; ball-local edges (local truster, weight) per expanded node.
    // Looked up, never iterated, so a hash map keeps the search deterministic; it is faster than
    // a B-tree on the thousands of nodes a six-link ball holds (the batch explains everyone).
    let mut local_of: HashMap<NodeId, u32> = HashMap::new();
    let mut ball: Vec<NodeId> = vec![target];
    let mut distance: Vec<usize> = vec![0];
    let mut edge_offsets: Vec<usize> = vec![0];
    let mut edges: Vec<(u32, f64)> = Vec::new();
    local_of.insert(target, 0);
    let mut head = 0;
    while head < ball.len() {
        let node = ball[head];
        let hops = distance[head];
        head += 1;
        if hops < max_depth && !is_seed(node) {
            for (truster, weight) in graph.trusters(node) {
                let local = *local_of.entry(truster).or_insert_with(|| {
                    ball.push(truster);
                    distance.push(hops + 1);
                    (ball.len() - 1) as u32
                });
                edges.push((local, weight));
            }
        }
        edge_offsets.push(edges.len());
    }
    let size = ball.len();
    let seed_local: Vec<bool> = ball.iter().map(|&node| is_seed(node)).collect();
    let in_edges = |local: usize| &edges[edge_offsets[local]..edge_offsets[local + 1]];

    // bound[h·size + v]: strongest walk from a seed to v with at most h edges.
    let mut bound = vec![0f64; (max_depth + 1) * size];
    for (v, &seed) in seed_local.iter().enumerate() {
        if seed {
            bound[v] = 1.0;
        }
    }
    for hops in 1..=max_depth {
        let (done, current) = bound.split_at_mut(hops * size);
        let previous = &done[(hops - 1) * size..];
        for v in 0..size {
            current[v] = if seed_local[v] {
                1.0
            } else {
                in_edges(v)
                    .iter()
                    .map(|&(u, weight)| previous[u as usize] * weight)
                    .fold(0.0, f64::max)
            };
        }
    }

    let mut steps = vec![Step {
        local: 0,
        next: NO_STEP,
        depth: 0,
        strength: 1.0,
    }];
    let mut frontier = BinaryHeap::new();
    let start = bound[max_depth * size];
    if start > 0.0 {
        frontier.push(Candidate {
            priority: start,
            step: 0,
        });
    }
    let mut paths = Vec::new();
    'search: while let Some(candidate) = frontier.pop() {
        let step = steps[candidate.step as usize];
        if seed_local[step.local as usize] {
            let mut nodes = Vec::with_capacity(step.depth as usize + 1);
            let mut at = candidate.step;
            while at != NO_STEP {
                let on_path = steps[at as usize];
                nodes.push(ball[on_path.local as usize]);
                at = on_path.next;
            }
            paths.push(Path {
                nodes,
                strength: step.strength,
            });
            if paths.len() == max_paths {
                break;
            }
            continue;
        }
        let depth = step.depth as usize;
        if depth >= max_depth {
            continue;
        }
        let remaining = max_depth - depth - 1;
        for &(truster, weight) in in_edges(step.local as usize) {
            if on_chain(&steps, candidate.step, truster) {
                continue;
            }
            let strength = step.strength * weight;
            let priority = strength * bound[remaining * size + truster as usize];
            if priority > 0.0 {
                if steps.len() >= PATH_SEARCH_BUDGET {
                    break 'search;
                }
                frontier.push(Candidate {
                    priority,
                    step: steps.len() as u32,
                });
                steps.push(Step {
                    local: truster,
                    next: candidate.step,
                    depth: step.depth + 1,
                    strength,
                });
            }
        }
    }
    // Already in order up to rounding between the bound and the strength products; a stable sort
    // makes "strongest first" exact without reordering ties.
    paths.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    paths
}

/// Whether `local` is already on the partial path ending at `step` (paths must be simple).
fn on_chain(steps: &[Step], mut step: u32, local: u32) -> bool {
    while step != NO_STEP {
        let on_path = steps[step as usize];
        if on_path.local == local {
            return true;
        }
        step = on_path.next;
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::trust::GraphBuilder;
    use crate::trust::testing::{build, graph_strategy};
    use proptest::prelude::*;

    /// Seeds 0 and 1. Out-weights sum to at most 1 everywhere, so normalised = raw weights.
    fn diamond() -> Graph {
        let mut graph = GraphBuilder::new(8);
        graph.add_edge(0, 2, 0.9);
        graph.add_edge(2, 5, 0.9); // 0→2→5: 0.81
        graph.add_edge(1, 3, 0.3);
        graph.add_edge(3, 5, 0.8); // 1→3→5: 0.24
        graph.add_edge(0, 4, 0.1);
        graph.add_edge(4, 5, 0.9); // 0→4→5: 0.09
        graph.add_edge(1, 6, 0.3);
        graph.add_edge(6, 7, 0.9);
        graph.add_edge(7, 5, 0.9); // 1→6→7→5: 0.243
        graph.add_edge(5, 2, 0.5); // a cycle back, which paths must not use
        graph.add_edge(1, 0, 0.4); // seed to seed: paths start at the nearest seed
        graph.build()
    }

    #[test]
    fn strongest_paths_are_found_strongest_first() {
        let graph = diamond();
        let paths = strongest_paths(&graph, &[0, 1], 5, 10, 6);
        let found: Vec<(Vec<NodeId>, f64)> = paths
            .iter()
            .map(|p| (p.nodes.clone(), p.strength))
            .collect();
        let expected = [
            (vec![0, 2, 5], 0.81),
            (vec![1, 6, 7, 5], 0.243),
            (vec![1, 3, 5], 0.24),
            (vec![0, 4, 5], 0.09),
        ];
        assert_eq!(found.len(), expected.len(), "{found:?}");
        for ((nodes, strength), (want_nodes, want)) in found.iter().zip(&expected) {
            assert_eq!(nodes, want_nodes);
            assert!((strength - want).abs() < 1e-6, "{strength} vs {want}");
        }
        // Two paths; depth 2 drops the three-link chain.
        let short = strongest_paths(&graph, &[0, 1], 5, 2, 2);
        assert_eq!(short.len(), 2);
        assert_eq!(short[0].nodes, vec![0, 2, 5]);
        assert_eq!(short[1].nodes, vec![1, 3, 5]);
        // A seed explains itself; a node nobody reaches has no path.
        assert_eq!(strongest_paths(&graph, &[0, 1], 1, 3, 4)[0].nodes, vec![1]);
        assert!(strongest_paths(&graph, &[0], 3, 3, 4).is_empty());
        assert!(strongest_paths(&graph, &[0, 1], 99, 3, 4).is_empty());
    }

    /// Every simple path from a seed (and through no other seed) to the target, by brute force.
    fn all_paths(graph: &Graph, seeds: &[u32], target: u32, max_depth: usize) -> Vec<f64> {
        fn walk(
            graph: &Graph,
            seeds: &[u32],
            chain: &mut Vec<u32>,
            strength: f64,
            max_depth: usize,
            out: &mut Vec<f64>,
        ) {
            let head = *chain.last().unwrap();
            if seeds.contains(&head) {
                out.push(strength);
                return;
            }
            if chain.len() > max_depth {
                return;
            }
            for (truster, weight) in graph.trusters(head) {
                if !chain.contains(&truster) && weight > 0.0 {
                    chain.push(truster);
                    walk(graph, seeds, chain, strength * weight, max_depth, out);
                    chain.pop();
                }
            }
        }
        let mut out = Vec::new();
        walk(graph, seeds, &mut vec![target], 1.0, max_depth, &mut out);
        out.sort_by(|a, b| b.total_cmp(a));
        out
    }

    proptest! {
        #[test]
        fn strongest_paths_match_brute_force(
            (n, edges, seeds) in graph_strategy(9),
            target in 0..9u32,
            max_paths in 1..6usize,
            max_depth in 1..6usize,
        ) {
            let graph = build(n, &edges);
            let target = target % n as u32;
            let mut seeds = seeds;
            seeds.sort_unstable();
            seeds.dedup();
            let paths = strongest_paths(&graph, &seeds, target, max_paths, max_depth);
            if seeds.contains(&target) {
                prop_assert_eq!(paths.len(), 1);
                return Ok(());
            }
            let expected = all_paths(&graph, &seeds, target, max_depth);
            prop_assert_eq!(paths.len(), expected.len().min(max_paths));
            for (path, want) in paths.iter().zip(&expected) {
                prop_assert!((path.strength - want).abs() < 1e-12, "{} vs {}", path.strength, want);
                prop_assert!(seeds.contains(&path.nodes[0]));
                prop_assert_eq!(*path.nodes.last().unwrap(), target);
                prop_assert!(path.nodes.len() <= max_depth + 1);
                let mut product = 1.0;
                for pair in path.nodes.windows(2) {
                    let weight = graph.trusters(pair[1]).find(|&(t, _)| t == pair[0]).map(|(_, w)| w);
                    prop_assert!(weight.is_some());
                    product *= weight.unwrap_or(0.0);
                }
                prop_assert!((product - path.strength).abs() < 1e-12);
            }
        }
    }
}
