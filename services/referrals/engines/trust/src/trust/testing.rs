//! Random graphs and the textbook reference solve, shared by the property tests of the solver,
//! the incremental updates and the path search.

use proptest::prelude::*;

use super::{Graph, GraphBuilder, TrustConfig};

pub(super) fn graph_strategy(
    max_nodes: usize,
) -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>, Vec<u32>)> {
    (2..=max_nodes).prop_flat_map(|n| {
        let node = 0..n as u32;
        (
            Just(n),
            prop::collection::vec((node.clone(), node.clone(), 0.0..=1.0f64), 0..(4 * n)),
            prop::collection::vec(node, 1..=3),
        )
    })
}

pub(super) fn build(n: usize, edges: &[(u32, u32, f64)]) -> Graph {
    let mut graph = GraphBuilder::new(n);
    for &(from, to, weight) in edges {
        if from != to {
            graph.add_edge(from, to, weight);
        }
    }
    graph.build()
}

/// The fixed point by plain Jacobi iteration on the textbook formula, to check the solver.
pub(super) fn reference(graph: &Graph, seeds: &[u32], config: &TrustConfig) -> Vec<f64> {
    let n = graph.node_count();
    let mut seeds = seeds.to_vec();
    seeds.sort_unstable();
    seeds.dedup();
    let mut rank = vec![0.0; n];
    for &s in &seeds {
        rank[s as usize] = 1.0 / seeds.len() as f64;
    }
    for _ in 0..5000 {
        let mut next = vec![0.0; n];
        for (i, slot) in next.iter_mut().enumerate() {
            for (j, w) in graph.trusters(i as u32) {
                let out = (config.damping * rank[j as usize]).min(config.influence_cap);
                *slot += out * w;
            }
        }
        // Whatever did not travel along an edge returns to the seeds.
        let returned = rank.iter().sum::<f64>() - next.iter().sum::<f64>();
        for &s in &seeds {
            next[s as usize] += returned / seeds.len() as f64;
        }
        rank = next;
    }
    rank
}
