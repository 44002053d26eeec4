//! Random graphs shared by the property tests of the solver and the path search.

use proptest::prelude::*;

use super::{Graph, GraphBuilder};

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
