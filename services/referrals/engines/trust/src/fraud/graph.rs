//! The referral graph, built once and asked about many nodes: its strongly connected
//! components, and the two signals found in it, cycles ([`cycle`]) and dense rings ([`ring`]).

mod cycle;
mod ring;

pub use ring::DenseRingRule;

use super::Finding;
use cycle::cycle_finding;
use ring::ring_finding;

/// Cycle nodes and ring members listed in evidence.
const LISTED_NODES: usize = 50;

/// Cycles and dense rings around `node` in the referral graph (`edges`: referrer → referee, dense
/// ids; `trusted`: the pre-trusted customers), with the default [`DenseRingRule`].
///
/// Cycle: `node` lies on a directed cycle (A refers B refers … refers A) → Strong.
/// DenseRing: `node` belongs to a strongly connected component, or a dense cluster around it, of
/// at least 5 untrusted accounts with at least 30% of the possible links among them, into which
/// trusted customers have at most 2 links → Strong.
///
/// Builds the graph each call, O(V + E); to ask about many nodes build a [`ReferralGraph`] once.
pub fn graph_findings(edges: &[(u32, u32)], trusted: &[u32], node: u32) -> Vec<Finding> {
    ReferralGraph::new(edges, trusted).findings(node, &DenseRingRule::default())
}

/// Adjacency in compressed sparse rows: the neighbours of `v` are
/// `targets[offsets[v]..offsets[v + 1]]`, sorted.
#[derive(Debug, Clone)]
struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    /// From pairs sorted by source (then target).
    fn from_sorted(nodes: usize, pairs: impl Iterator<Item = (u32, u32)>) -> Self {
        let mut offsets = vec![0; nodes + 1];
        let mut targets = Vec::new();
        for (from, to) in pairs {
            offsets[from as usize + 1] += 1;
            targets.push(to);
        }
        for v in 0..nodes {
            offsets[v + 1] += offsets[v];
        }
        Self { offsets, targets }
    }

    fn of(&self, v: u32) -> &[u32] {
        let v = v as usize;
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&start), Some(&end)) => &self.targets[start..end],
            _ => &[],
        }
    }
}

/// The referral graph, built once and asked about many nodes. Duplicate edges count once;
/// a self-loop (an account referring itself) is a cycle of one.
#[derive(Debug, Clone)]
pub struct ReferralGraph {
    successors: Adjacency,
    predecessors: Adjacency,
    trusted: Vec<bool>,
    self_loop: Vec<bool>,
    /// Strongly connected component of each node.
    component: Vec<u32>,
    /// Nodes grouped by component.
    members: Adjacency,
    /// Per component: untrusted members, links among them, and links from trusted nodes into them.
    untrusted_members: Vec<usize>,
    internal_links: Vec<usize>,
    trusted_links: Vec<usize>,
}

impl ReferralGraph {
    pub fn new(edges: &[(u32, u32)], trusted: &[u32]) -> Self {
        let nodes = edges
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .chain(trusted.iter().copied())
            .max()
            .map_or(0, |max| max as usize + 1);
        let mut self_loop = vec![false; nodes];
        let mut forward: Vec<(u32, u32)> = Vec::with_capacity(edges.len());
        for &(from, to) in edges {
            if from == to {
                self_loop[from as usize] = true;
            } else {
                forward.push((from, to));
            }
        }
        forward.sort_unstable();
        forward.dedup();
        let successors = Adjacency::from_sorted(nodes, forward.iter().copied());
        let mut backward: Vec<(u32, u32)> = forward.iter().map(|&(a, b)| (b, a)).collect();
        drop(forward);
        backward.sort_unstable();
        let predecessors = Adjacency::from_sorted(nodes, backward.into_iter());

        let mut is_trusted = vec![false; nodes];
        for &t in trusted {
            is_trusted[t as usize] = true;
        }
        let component = strongly_connected_components(&successors);
        let components = component.iter().max().map_or(0, |&c| c as usize + 1);
        let mut by_component: Vec<(u32, u32)> = component
            .iter()
            .enumerate()
            .map(|(v, &c)| (c, v as u32))
            .collect();
        by_component.sort_unstable();
        let members = Adjacency::from_sorted(components, by_component.into_iter());

        let mut untrusted_members = vec![0; components];
        let mut internal_links = vec![0; components];
        let mut trusted_links = vec![0; components];
        for v in 0..nodes {
            if !is_trusted[v] {
                untrusted_members[component[v] as usize] += 1;
            }
        }
        for from in 0..nodes as u32 {
            for &to in successors.of(from) {
                let (f, t) = (from as usize, to as usize);
                if is_trusted[t] {
                    continue;
                }
                if is_trusted[f] {
                    trusted_links[component[t] as usize] += 1;
                } else if component[f] == component[t] {
                    internal_links[component[t] as usize] += 1;
                }
            }
        }
        Self {
            successors,
            predecessors,
            trusted: is_trusted,
            self_loop,
            component,
            members,
            untrusted_members,
            internal_links,
            trusted_links,
        }
    }

    fn is_trusted(&self, v: u32) -> bool {
        self.trusted.get(v as usize).copied().unwrap_or(false)
    }

    /// Cycle and DenseRing findings for `node`; none for an id the graph has never seen.
    pub fn findings(&self, node: u32, rule: &DenseRingRule) -> Vec<Finding> {
        if node as usize >= self.component.len() {
            return Vec::new();
        }
        let mut findings = Vec::new();
        findings.extend(self.cycle_through(node).map(|cycle| cycle_finding(&cycle)));
        findings.extend(
            self.ring_around(node, rule)
                .map(|ring| ring_finding(&ring, rule)),
        );
        findings
    }
}

/// Tarjan's strongly connected components, iterative (an explicit stack of frames instead of
/// recursion, so a referral chain of a million accounts cannot overflow the thread's stack).
/// Returns the component of each node.
fn strongly_connected_components(successors: &Adjacency) -> Vec<u32> {
    const UNVISITED: u32 = u32::MAX;
    let nodes = successors.offsets.len().saturating_sub(1);
    let mut index = vec![UNVISITED; nodes];
    let mut lowlink = vec![0u32; nodes];
    let mut on_stack = vec![false; nodes];
    let mut stack: Vec<u32> = Vec::new();
    let mut component = vec![UNVISITED; nodes];
    let mut next_index = 0u32;
    let mut next_component = 0u32;
    // Frames: the node, and the position of the next successor to look at.
    let mut frames: Vec<(u32, usize)> = Vec::new();

    for root in 0..nodes as u32 {
        if index[root as usize] != UNVISITED {
            continue;
        }
        index[root as usize] = next_index;
        lowlink[root as usize] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        frames.push((root, 0));

        while let Some(frame) = frames.last_mut() {
            let v = frame.0;
            if let Some(&w) = successors.of(v).get(frame.1) {
                frame.1 += 1;
                let (v, w) = (v as usize, w as usize);
                if index[w] == UNVISITED {
                    index[w] = next_index;
                    lowlink[w] = next_index;
                    next_index += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    frames.push((w as u32, 0));
                } else if on_stack[w] {
                    lowlink[v] = lowlink[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            let v = v as usize;
            if let Some(&(parent, _)) = frames.last() {
                let parent = parent as usize;
                lowlink[parent] = lowlink[parent].min(lowlink[v]);
            }
            if lowlink[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = next_component;
                    if w as usize == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

fn list_nodes(nodes: &[u32], separator: &str) -> String {
    let mut listed: Vec<String> = nodes
        .iter()
        .take(LISTED_NODES)
        .map(u32::to_string)
        .collect();
    if nodes.len() > LISTED_NODES {
        listed.push("…".to_owned());
    }
    listed.join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fraud::Signal;
    use crate::fraud::testing::has;

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        // A cycle through 300,000 accounts: recursive Tarjan would overflow a test thread.
        let n = 300_000u32;
        let edges: Vec<(u32, u32)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        let findings = graph_findings(&edges, &[], 0);
        assert!(has(&findings, Signal::Cycle));
        assert_eq!(findings[0].evidence("cycle_length"), Some("300000"));
        assert!(
            findings[0]
                .evidence("cycle")
                .is_some_and(|c| c.ends_with('…'))
        );
    }

    #[test]
    fn components_match_a_known_graph() {
        // {0,1,2} cycle, 3 alone, {4,5} cycle reached from 3.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 4)];
        let graph = ReferralGraph::new(&edges, &[]);
        let c = &graph.component;
        assert!(c[0] == c[1] && c[1] == c[2]);
        assert!(c[4] == c[5]);
        assert!(c[3] != c[0] && c[3] != c[4] && c[0] != c[4]);
    }
}
