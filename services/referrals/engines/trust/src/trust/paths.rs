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

/// A partial path, grown backwards from the target; `next` points one step nearer the target;
/// `local` is the node in the search space's numbering.
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
///
/// For one target. To explain many targets of one graph, [`PathBounds`] computes the bounds once
/// for every node and gives the same answers.
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
    let max_depth = max_depth.min(MAX_PATH_DEPTH);
    if let Some(trivial) = trivial(graph, is_seed(target), target, max_paths, max_depth) {
        return trivial;
    }

    // Backward BFS; ball-local edges (local truster, weight) per expanded node.
    // Looked up, never iterated, so a hash map keeps the search deterministic; it is faster than
    // a B-tree on the thousands of nodes a six-link ball holds.
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
    let seed_local: Vec<bool> = ball.iter().map(|&node| is_seed(node)).collect();
    let bound = strongest_walks(&seed_local, max_depth, |local, previous| {
        edges[edge_offsets[local]..edge_offsets[local + 1]]
            .iter()
            .map(|&(u, weight)| previous[u as usize] * weight)
            .fold(0.0, f64::max)
    });
    let space = Ball {
        ball: &ball,
        seed_local: &seed_local,
        edges: &edges,
        edge_offsets: &edge_offsets,
        bound: &bound,
    };
    search(&space, 0, max_paths, max_depth)
}

/// The bounds of [`strongest_paths`] computed once for every node of a graph, for a batch that
/// explains every subject: the per-target search then only walks back from its target, instead
/// of first collecting and scoring every node within `max_depth` of it (thousands on a six-link
/// ball of a bank-sized graph; explaining a million subjects took most of an hour that way).
///
/// The answers are those of [`strongest_paths`], path for path and bit for bit: for a node at
/// distance `d` from the target, a walk of at most `max_depth - d` edges to it only passes nodes
/// within `max_depth` of the target, so the bound over the whole graph equals the bound over the
/// target's ball wherever the search reads it, and the search makes the same moves in the same
/// order (`paths::tests::bounds_for_the_whole_graph_give_the_same_paths`).
///
/// Memory: `(max_depth + 1) × nodes` numbers, 56 MB at a million nodes and six links.
#[derive(Debug, Clone)]
pub struct PathBounds {
    is_seed: Vec<bool>,
    max_depth: usize,
    /// `bound[h · nodes + v]`: the strongest walk from a seed to `v` with at most `h` edges.
    bound: Vec<f64>,
}

impl PathBounds {
    /// The bounds of `graph` for paths from `seeds` of at most `max_depth` edges (clamped to
    /// [`MAX_PATH_DEPTH`]): `max_depth` passes over every edge.
    pub fn new(graph: &Graph, seeds: &[NodeId], max_depth: usize) -> Self {
        let mut is_seed = vec![false; graph.node_count()];
        for &seed in seeds {
            if let Some(slot) = is_seed.get_mut(seed as usize) {
                *slot = true;
            }
        }
        let max_depth = max_depth.min(MAX_PATH_DEPTH);
        let bound = strongest_walks(&is_seed, max_depth, |node, previous| {
            graph
                .trusters(node as NodeId)
                .map(|(u, weight)| previous[u as usize] * weight)
                .fold(0.0, f64::max)
        });
        Self {
            is_seed,
            max_depth,
            bound,
        }
    }

    /// [`strongest_paths`]`(graph, seeds, target, max_paths, max_depth)` with the seeds and depth
    /// these bounds were computed for; `graph` must be the one they were computed from.
    pub fn strongest_paths(&self, graph: &Graph, target: NodeId, max_paths: usize) -> Vec<Path> {
        debug_assert_eq!(graph.node_count(), self.is_seed.len());
        let seed = self.is_seed.get(target as usize).copied().unwrap_or(false);
        if let Some(trivial) = trivial(graph, seed, target, max_paths, self.max_depth) {
            return trivial;
        }
        let space = Whole {
            graph,
            bounds: self,
        };
        search(&space, target, max_paths, self.max_depth)
    }
}

/// The answers that need no search: none for an unknown target, no paths asked for or no links
/// allowed; the one-node path for a seed.
fn trivial(
    graph: &Graph,
    target_is_seed: bool,
    target: NodeId,
    max_paths: usize,
    max_depth: usize,
) -> Option<Vec<Path>> {
    if target as usize >= graph.node_count() || max_paths == 0 {
        return Some(Vec::new());
    }
    if target_is_seed {
        return Some(vec![Path {
            nodes: vec![target],
            strength: 1.0,
        }]);
    }
    (max_depth == 0).then(Vec::new)
}

/// `bound[h · n + v]` for `h` in `0..=max_depth` over `n = is_seed.len()` nodes: 1 at a seed,
/// else the best of `best_in(v, bound of h - 1)` (its trusters' bounds times their weights).
fn strongest_walks(
    is_seed: &[bool],
    max_depth: usize,
    best_in: impl Fn(usize, &[f64]) -> f64,
) -> Vec<f64> {
    let size = is_seed.len();
    let mut bound = vec![0f64; (max_depth + 1) * size];
    for (v, &seed) in is_seed.iter().enumerate() {
        if seed {
            bound[v] = 1.0;
        }
    }
    for hops in 1..=max_depth {
        let (done, current) = bound.split_at_mut(hops * size);
        let previous = &done[(hops - 1) * size..];
        for (v, slot) in current[..size].iter_mut().enumerate() {
            *slot = if is_seed[v] {
                1.0
            } else {
                best_in(v, previous)
            };
        }
    }
    bound
}

/// What the A* search reads, in some numbering of the nodes: one target's ball ([`Ball`]) or the
/// whole graph ([`Whole`]).
trait SearchSpace {
    /// `at`'s trusters with their weights, in the graph's order.
    fn in_edges(&self, at: u32) -> impl Iterator<Item = (u32, f64)>;
    fn is_seed(&self, at: u32) -> bool;
    /// The strongest walk from a seed to `at` with at most `hops` edges.
    fn bound(&self, hops: usize, at: u32) -> f64;
    fn node(&self, at: u32) -> NodeId;
}

/// One target's ball, numbered by discovery (the target is 0).
struct Ball<'a> {
    ball: &'a [NodeId],
    seed_local: &'a [bool],
    edges: &'a [(u32, f64)],
    edge_offsets: &'a [usize],
    bound: &'a [f64],
}

impl SearchSpace for Ball<'_> {
    fn in_edges(&self, at: u32) -> impl Iterator<Item = (u32, f64)> {
        let at = at as usize;
        self.edges[self.edge_offsets[at]..self.edge_offsets[at + 1]]
            .iter()
            .copied()
    }
    fn is_seed(&self, at: u32) -> bool {
        self.seed_local[at as usize]
    }
    fn bound(&self, hops: usize, at: u32) -> f64 {
        self.bound[hops * self.ball.len() + at as usize]
    }
    fn node(&self, at: u32) -> NodeId {
        self.ball[at as usize]
    }
}

/// The whole graph, by node id.
struct Whole<'a> {
    graph: &'a Graph,
    bounds: &'a PathBounds,
}

impl SearchSpace for Whole<'_> {
    fn in_edges(&self, at: u32) -> impl Iterator<Item = (u32, f64)> {
        self.graph.trusters(at)
    }
    fn is_seed(&self, at: u32) -> bool {
        self.bounds.is_seed[at as usize]
    }
    fn bound(&self, hops: usize, at: u32) -> f64 {
        self.bounds.bound[hops * self.bounds.is_seed.len() + at as usize]
    }
    fn node(&self, at: u32) -> NodeId {
        at
    }
}

/// The A* search of [`strongest_paths`] from `target` (numbered as in `space`).
fn search(space: &impl SearchSpace, target: u32, max_paths: usize, max_depth: usize) -> Vec<Path> {
    let mut steps = vec![Step {
        local: target,
        next: NO_STEP,
        depth: 0,
        strength: 1.0,
    }];
    let mut frontier = BinaryHeap::new();
    let start = space.bound(max_depth, target);
    if start > 0.0 {
        frontier.push(Candidate {
            priority: start,
            step: 0,
        });
    }
    let mut paths = Vec::new();
    'search: while let Some(candidate) = frontier.pop() {
        let step = steps[candidate.step as usize];
        if space.is_seed(step.local) {
            let mut nodes = Vec::with_capacity(step.depth as usize + 1);
            let mut at = candidate.step;
            while at != NO_STEP {
                let on_path = steps[at as usize];
                nodes.push(space.node(on_path.local));
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
        for (truster, weight) in space.in_edges(step.local) {
            if on_chain(&steps, candidate.step, truster) {
                continue;
            }
            let strength = step.strength * weight;
            let priority = strength * space.bound(remaining, truster);
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

    /// The batch's search over whole-graph bounds against the one-target search, which the
    /// brute force above checks: the same paths, node for node and bit for bit.
    fn same_answers(graph: &Graph, seeds: &[u32], max_paths: usize, max_depth: usize) {
        let bounds = PathBounds::new(graph, seeds, max_depth);
        for target in 0..graph.node_count() as u32 + 1 {
            let one = strongest_paths(graph, seeds, target, max_paths, max_depth);
            let batch = bounds.strongest_paths(graph, target, max_paths);
            assert_eq!(one.len(), batch.len(), "target {target}");
            for (a, b) in one.iter().zip(&batch) {
                assert_eq!(a.nodes, b.nodes, "target {target}");
                assert_eq!(
                    a.strength.to_bits(),
                    b.strength.to_bits(),
                    "target {target}"
                );
            }
        }
    }

    /// A graph of a bank's shape, small: every node trusted by a few others at random weights,
    /// one in forty a seed, explained two, six and sixteen links deep.
    #[test]
    fn bounds_for_the_whole_graph_give_the_same_paths() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let nodes = 800u32;
        let mut graph = GraphBuilder::new(nodes as usize);
        for _ in 0..4_000 {
            let (from, to) = ((next() % 800) as u32, (next() % 800) as u32);
            // A few weights repeat exactly, so ties are searched too.
            let weight = (next() % 8 + 1) as f64 / 10.0;
            if from != to {
                graph.add_edge(from, to, weight);
            }
        }
        let graph = graph.build();
        let seeds: Vec<u32> = (0..nodes).step_by(40).collect();
        same_answers(&graph, &seeds, 3, 6);
        same_answers(&graph, &seeds, 1, 2);
        same_answers(&graph, &seeds, 10, MAX_PATH_DEPTH + 4);
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

        #[test]
        fn bounds_for_the_whole_graph_match_the_one_target_search(
            (n, edges, seeds) in graph_strategy(9),
            max_paths in 0..6usize,
            max_depth in 0..8usize,
        ) {
            same_answers(&build(n, &edges), &seeds, max_paths, max_depth);
        }
    }
}
