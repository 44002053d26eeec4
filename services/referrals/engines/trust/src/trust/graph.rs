//! The trust graph: edges gathered by [`GraphBuilder`], merged and normalised per truster, kept
//! as incoming edges in CSR form.

use std::fmt;

use super::{MAX_EDGES, MAX_NODES, NodeId, TrustError};

#[derive(Debug, Clone, Copy)]
struct PendingEdge {
    from: NodeId,
    to: NodeId,
    weight: f32,
}

/// Collects edges, then builds the compact [`Graph`] once (batch recomputation).
#[derive(Clone)]
pub struct GraphBuilder {
    nodes: usize,
    edges: Vec<PendingEdge>,
}

impl fmt::Debug for GraphBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphBuilder")
            .field("nodes", &self.nodes)
            .field("edges", &self.edges.len())
            .finish()
    }
}

impl GraphBuilder {
    /// # Panics
    /// If `nodes` exceeds [`MAX_NODES`] (ids would not fit a [`NodeId`]).
    pub fn new(nodes: usize) -> Self {
        Self::with_capacity(nodes, 0)
    }

    /// As [`GraphBuilder::new`], reserving room for `edges` so a large batch does not reallocate
    /// (which would briefly double the builder's memory).
    ///
    /// # Panics
    /// If `nodes` exceeds [`MAX_NODES`].
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        assert!(
            nodes <= MAX_NODES,
            "a trust graph holds at most {MAX_NODES} nodes"
        );
        Self {
            nodes,
            edges: Vec::with_capacity(edges.min(MAX_EDGES)),
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Edges added so far (before duplicates are merged).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Adds `from` → `to` (truster → trusted) with a weight from [`edge_weight`](super::edge_weight).
    ///
    /// A zero weight is accepted and passes no trust (a fully penalised voucher). Repeated edges
    /// between the same pair are summed at build time (a referral and a vouch for the same person
    /// both count), and [`Graph`] normalisation keeps the total a node passes on bounded.
    pub fn try_add_edge(
        &mut self,
        from: NodeId,
        to: NodeId,
        weight: f64,
    ) -> Result<(), TrustError> {
        for node in [from, to] {
            if node as usize >= self.nodes {
                return Err(TrustError::NodeOutOfRange {
                    node,
                    nodes: self.nodes,
                });
            }
        }
        if from == to {
            return Err(TrustError::SelfTrust { node: from });
        }
        if !weight.is_finite() || weight < 0.0 {
            return Err(TrustError::InvalidWeight { from, to, weight });
        }
        if self.edges.len() >= MAX_EDGES {
            return Err(TrustError::TooManyEdges { max: MAX_EDGES });
        }
        // f32 keeps the graph at 8 bytes an edge; weights are products of a few factors and need
        // no more than its 7 significant digits.
        let weight = weight as f32;
        if weight > 0.0 {
            self.edges.push(PendingEdge { from, to, weight });
        }
        Ok(())
    }

    /// [`GraphBuilder::try_add_edge`] for ids and weights the caller has already checked.
    ///
    /// # Panics
    /// On what `try_add_edge` refuses: an id out of range, a self-loop, a negative or non-finite
    /// weight, more than [`MAX_EDGES`] edges — all programming errors at this layer.
    pub fn add_edge(&mut self, from: NodeId, to: NodeId, weight: f64) {
        if let Err(error) = self.try_add_edge(from, to, weight) {
            panic!("{error}");
        }
    }

    /// Every distinct pair with its merged weight, ascending by (truster, trusted): repeats are
    /// summed in the order added, as [`GraphBuilder::build`] sums them (same `f32` result).
    pub fn merged_edges(&self) -> Vec<(NodeId, NodeId, f32)> {
        let mut edges = self.edges.clone();
        edges.sort_by_key(|e| (e.from, e.to));
        let mut merged: Vec<(NodeId, NodeId, f32)> = Vec::with_capacity(edges.len());
        let mut k = 0;
        while k < edges.len() {
            let (from, to) = (edges[k].from, edges[k].to);
            let mut sum = 0f64;
            while k < edges.len() && (edges[k].from, edges[k].to) == (from, to) {
                sum += f64::from(edges[k].weight);
                k += 1;
            }
            merged.push((from, to, sum as f32));
        }
        merged
    }

    /// Builds the incoming-edge CSR: a stable counting sort by target, then each row sorted by
    /// source with duplicates merged (a stable sort, so the summation order — and the result — is
    /// the same on every run), then the weights normalised per source.
    pub fn build(self) -> Graph {
        let nodes = self.nodes;
        let mut offsets = vec![0u32; nodes + 1];
        for edge in &self.edges {
            offsets[edge.to as usize + 1] += 1;
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        let edge_count = self.edges.len();
        let mut sources = vec![0 as NodeId; edge_count];
        let mut weights = vec![0f32; edge_count];
        {
            let mut cursor = offsets[..nodes].to_vec();
            for edge in &self.edges {
                let slot = &mut cursor[edge.to as usize];
                sources[*slot as usize] = edge.from;
                weights[*slot as usize] = edge.weight;
                *slot += 1;
            }
        }
        drop(self.edges);

        let mut row: Vec<(NodeId, f32)> = Vec::new();
        let mut write = 0usize;
        let mut start = 0usize;
        for node in 0..nodes {
            let end = offsets[node + 1] as usize;
            row.clear();
            row.extend(
                sources[start..end]
                    .iter()
                    .copied()
                    .zip(weights[start..end].iter().copied()),
            );
            row.sort_by_key(|&(source, _)| source);
            // `write` never passes `start`, so compacting in place is safe.
            offsets[node] = write as u32;
            let mut k = 0;
            while k < row.len() {
                let source = row[k].0;
                let mut sum = 0f64;
                while k < row.len() && row[k].0 == source {
                    sum += f64::from(row[k].1);
                    k += 1;
                }
                sources[write] = source;
                weights[write] = sum as f32;
                write += 1;
            }
            start = end;
        }
        offsets[nodes] = write as u32;
        sources.truncate(write);
        weights.truncate(write);
        sources.shrink_to_fit();
        weights.shrink_to_fit();

        // Normalise by max(1, Σ out-weights); see the module docs for why not by Σ alone.
        let mut per_node = vec![0f64; nodes];
        for (&source, &weight) in sources.iter().zip(&weights) {
            per_node[source as usize] += f64::from(weight);
        }
        for total in &mut per_node {
            *total = 1.0 / total.max(1.0);
        }
        for (&source, weight) in sources.iter().zip(weights.iter_mut()) {
            *weight = (f64::from(*weight) * per_node[source as usize]) as f32;
        }
        // The share each node passes along its edges, summed from the stored (rounded) weights so
        // that what the solver sends along edges and what it returns to the seeds add up exactly.
        per_node.fill(0.0);
        for (&source, &weight) in sources.iter().zip(&weights) {
            per_node[source as usize] += f64::from(weight);
        }
        Graph {
            offsets,
            sources,
            weights,
            edge_share: per_node,
        }
    }
}

/// The trust graph: incoming edges in CSR form, weights normalised per truster. Built once by
/// [`GraphBuilder`], read by any number of computations.
#[derive(Clone)]
pub struct Graph {
    /// `offsets[i]..offsets[i + 1]` indexes node i's incoming edges.
    offsets: Vec<u32>,
    /// Trusters, ascending within each row.
    sources: Vec<NodeId>,
    /// Normalised weights ŵ(source → node).
    weights: Vec<f32>,
    /// Σₖ ŵ(node → k), in [0, 1] up to f32 rounding: the share of what a node passes on that
    /// travels along edges (0 for a node that trusts no one).
    pub(super) edge_share: Vec<f64>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .finish()
    }
}

impl Graph {
    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Distinct truster → trusted pairs.
    pub fn edge_count(&self) -> usize {
        self.sources.len()
    }

    /// Heap memory held by the graph, for capacity planning.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<u32>()
            + self.sources.capacity() * size_of::<NodeId>()
            + self.weights.capacity() * size_of::<f32>()
            + self.edge_share.capacity() * size_of::<f64>()
    }

    /// Who trusts `node` directly, with the normalised weight of each edge, ascending by id.
    /// Empty for an id out of range.
    pub fn trusters(&self, node: NodeId) -> impl Iterator<Item = (NodeId, f64)> + '_ {
        let (sources, weights) = if (node as usize) < self.node_count() {
            self.row(node as usize)
        } else {
            (&[][..], &[][..])
        };
        sources
            .iter()
            .zip(weights)
            .map(|(&source, &weight)| (source, f64::from(weight)))
    }

    pub(super) fn row(&self, node: usize) -> (&[NodeId], &[f32]) {
        let range = self.offsets[node] as usize..self.offsets[node + 1] as usize;
        (&self.sources[range.clone()], &self.weights[range])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_edges_are_merged_and_busy_nodes_split_their_trust() {
        let mut graph = GraphBuilder::new(4);
        graph.add_edge(0, 1, 0.3);
        graph.add_edge(0, 1, 0.2); // a referral and a vouch: 0.5 together
        graph.add_edge(0, 2, 0.75);
        graph.add_edge(3, 2, 0.25); // Σ < 1: kept as is
        let graph = graph.build();
        assert_eq!(graph.edge_count(), 3);
        let into = |node| graph.trusters(node).collect::<Vec<_>>();
        let close = |got: Vec<(NodeId, f64)>, want: &[(NodeId, f64)]| {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(g, w)| g.0 == w.0 && (g.1 - w.1).abs() < 1e-6)
        };
        assert!(close(into(1), &[(0, 0.4)])); // 0.5 / 1.25
        assert!(close(into(2), &[(0, 0.6), (3, 0.25)])); // 0.75 / 1.25
    }
}
