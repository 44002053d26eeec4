//! Cycle: the account lies on a directed cycle of referrals (A refers B refers … refers A), or
//! referred itself.

use std::collections::HashMap;

use super::{Adjacency, ReferralGraph, list_nodes};
use crate::fraud::{Finding, Signal};

impl ReferralGraph {
    /// A short directed cycle through `node`, as the nodes along it (first = last = node).
    ///
    /// Searches forward along the referrals and backward against them at once, level by level,
    /// always widening the smaller side, within the node's component (which holds every cycle
    /// through it). In a large component each side then explores roughly the square root of what
    /// a one-sided search would.
    pub(super) fn cycle_through(&self, node: u32) -> Option<Vec<u32>> {
        if self.self_loop[node as usize] {
            return Some(vec![node, node]);
        }
        if self.members.of(self.component[node as usize]).len() < 2 {
            return None;
        }
        // Each side's parent pointers lead back to `node`, the root of both.
        let mut forward: HashMap<u32, u32> = HashMap::new();
        let mut backward: HashMap<u32, u32> = HashMap::new();
        let (mut forward_frontier, mut backward_frontier) = (vec![node], vec![node]);
        while !forward_frontier.is_empty() && !backward_frontier.is_empty() {
            if forward_frontier.len() <= backward_frontier.len() {
                let level = &self.successors;
                match self.widen(node, &forward_frontier, level, &mut forward, &backward) {
                    Ok(next) => forward_frontier = next,
                    // v → node closes the cycle.
                    Err(Meeting::Closes(v)) => {
                        let mut cycle = path_to_root(&forward, v);
                        cycle.reverse();
                        cycle.push(node);
                        return Some(cycle);
                    }
                    Err(Meeting::At(w)) => return Some(join_at(&forward, &backward, w)),
                }
            } else {
                let level = &self.predecessors;
                match self.widen(node, &backward_frontier, level, &mut backward, &forward) {
                    Ok(next) => backward_frontier = next,
                    // node → v closes the cycle.
                    Err(Meeting::Closes(v)) => {
                        let mut cycle = vec![node];
                        cycle.extend(path_to_root(&backward, v));
                        return Some(cycle);
                    }
                    Err(Meeting::At(w)) => return Some(join_at(&forward, &backward, w)),
                }
            }
        }
        None
    }

    /// One level of one side of the cycle search: the next frontier, or where the sides met.
    fn widen(
        &self,
        node: u32,
        frontier: &[u32],
        adjacency: &Adjacency,
        seen: &mut HashMap<u32, u32>,
        other_side: &HashMap<u32, u32>,
    ) -> Result<Vec<u32>, Meeting> {
        let component = self.component[node as usize];
        let mut next = Vec::new();
        for &v in frontier {
            for &w in adjacency.of(v) {
                if w == node {
                    return Err(Meeting::Closes(v));
                }
                if self.component[w as usize] != component || seen.contains_key(&w) {
                    continue;
                }
                seen.insert(w, v);
                if other_side.contains_key(&w) {
                    return Err(Meeting::At(w));
                }
                next.push(w);
            }
        }
        Ok(next)
    }
}

/// Where the two sides of the cycle search met.
enum Meeting {
    /// The side reached `node` again from this account.
    Closes(u32),
    /// Both sides reached this account.
    At(u32),
}

/// The account, its parent, … up to the search's root.
fn path_to_root(parents: &HashMap<u32, u32>, from: u32) -> Vec<u32> {
    let mut path = vec![from];
    let mut at = from;
    while let Some(&parent) = parents.get(&at) {
        path.push(parent);
        at = parent;
    }
    path
}

/// The cycle root → … → `meeting` → … → root.
fn join_at(forward: &HashMap<u32, u32>, backward: &HashMap<u32, u32>, meeting: u32) -> Vec<u32> {
    let mut cycle = path_to_root(forward, meeting);
    cycle.reverse();
    cycle.extend(path_to_root(backward, meeting).into_iter().skip(1));
    cycle
}

pub(super) fn cycle_finding(cycle: &[u32]) -> Finding {
    let length = cycle.len() - 1;
    let message = if length == 1 {
        "The account referred itself.".to_owned()
    } else {
        format!(
            "The account lies on a cycle of {length} referrals: accounts that referred each other round to where they started."
        )
    };
    Finding::new(
        Signal::Cycle,
        message,
        vec![
            ("cycle_length".to_owned(), length.to_string()),
            ("cycle".to_owned(), list_nodes(cycle, " → ")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::fraud::graph::graph_findings;
    use crate::fraud::testing::has;
    use proptest::prelude::*;

    #[test]
    fn a_three_cycle_is_detected_for_each_member() {
        // 0 → 1 → 2 → 0; 2 also referred 3, who is not on the cycle.
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3)];
        for node in 0..3 {
            let findings = graph_findings(&edges, &[], node);
            assert!(has(&findings, Signal::Cycle), "node {node}");
            let cycle = findings
                .iter()
                .find(|f| f.signal == Signal::Cycle)
                .expect("cycle");
            assert_eq!(cycle.evidence("cycle_length"), Some("3"));
        }
        assert_eq!(
            graph_findings(&edges, &[], 0)[0].evidence("cycle"),
            Some("0 → 1 → 2 → 0")
        );
        assert!(graph_findings(&edges, &[], 3).is_empty());
        assert!(
            graph_findings(&[(0, 1), (1, 2)], &[], 1).is_empty(),
            "a chain is no cycle"
        );
        assert!(
            graph_findings(&edges, &[], 99).is_empty(),
            "an unknown account"
        );
    }

    #[test]
    fn referring_oneself_is_a_cycle_of_one() {
        let findings = graph_findings(&[(4, 4)], &[], 4);
        assert!(has(&findings, Signal::Cycle));
        assert_eq!(findings[0].evidence("cycle_length"), Some("1"));
    }

    proptest! {
        #[test]
        fn cycles_are_found_exactly_where_they_exist(
            edges in prop::collection::vec((0u32..12, 0u32..12), 0..40),
        ) {
            let graph = ReferralGraph::new(&edges, &[]);
            let nodes = graph.component.len() as u32;
            let reaches = |from: u32, to: u32| {
                let mut seen = HashSet::from([from]);
                let mut stack = vec![from];
                while let Some(v) = stack.pop() {
                    for &w in graph.successors.of(v) {
                        if w == to {
                            return true;
                        }
                        if seen.insert(w) {
                            stack.push(w);
                        }
                    }
                }
                false
            };
            for node in 0..nodes {
                let on_cycle = edges.contains(&(node, node)) || reaches(node, node);
                let cycle = graph.cycle_through(node);
                prop_assert_eq!(cycle.is_some(), on_cycle, "node {}", node);
                if let Some(cycle) = cycle {
                    prop_assert_eq!(cycle.first(), Some(&node));
                    prop_assert_eq!(cycle.last(), Some(&node));
                    for pair in cycle.windows(2) {
                        prop_assert!(edges.contains(&(pair[0], pair[1])), "{:?} is not an edge", pair);
                    }
                }
                for other in 0..nodes {
                    let same = graph.component[node as usize] == graph.component[other as usize];
                    prop_assert_eq!(same, node == other || (reaches(node, other) && reaches(other, node)));
                }
            }
        }
    }
}
