//! DenseRing: the account belongs to a tightly knit cluster of untrusted accounts that hangs on
//! few links from trusted customers.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use super::{ReferralGraph, list_nodes};
use crate::fraud::{Finding, Signal};

/// When a cluster counts as a dense ring (defaults; configurable per jurisdiction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseRingRule {
    /// Fewer accounts than this is a family or a group of friends, not a ring.
    pub min_members: usize,
    /// Directed links present among the members, as a percentage of the n·(n − 1) possible.
    /// Integer so the threshold is exact (0.3 · 380 is not 114 in floating point).
    pub min_density_percent: u32,
    /// A ring "hangs on few links to the trusted part": at most this many edges from trusted
    /// customers into the cluster.
    pub max_trusted_links: usize,
}

impl Default for DenseRingRule {
    fn default() -> Self {
        Self {
            min_members: 5,
            min_density_percent: 30,
            max_trusted_links: 2,
        }
    }
}

impl DenseRingRule {
    fn is_dense(&self, members: usize, links: usize) -> bool {
        let possible = (members as u128) * (members.saturating_sub(1) as u128);
        members >= self.min_members
            && (links as u128) * 100 >= u128::from(self.min_density_percent) * possible
    }
}

/// The local search for a dense cluster looks at untrusted accounts within two links of the
/// node, nearest first, and at most this many (a referrer of thousands is a hub, not a ring).
const MAX_NEIGHBOURHOOD: usize = 5_000;

/// A cluster that may be a ring, as evidence describes it.
pub(super) struct Cluster {
    kind: &'static str,
    members: Vec<u32>,
    links: usize,
    trusted_links: usize,
}

impl ReferralGraph {
    /// The ring `node` belongs to, if any: first its strongly connected component, then the
    /// densest cluster the local search finds around it.
    pub(super) fn ring_around(&self, node: u32, rule: &DenseRingRule) -> Option<Cluster> {
        if self.is_trusted(node) {
            return None;
        }
        let c = self.component[node as usize] as usize;
        if rule.is_dense(self.untrusted_members[c], self.internal_links[c])
            && self.trusted_links[c] <= rule.max_trusted_links
        {
            let members: Vec<u32> = self
                .members
                .of(c as u32)
                .iter()
                .copied()
                .filter(|&v| !self.is_trusted(v))
                .collect();
            return Some(Cluster {
                kind: "strongly connected component",
                members,
                links: self.internal_links[c],
                trusted_links: self.trusted_links[c],
            });
        }
        let cluster = self.dense_cluster_around(node, rule)?;
        (cluster.trusted_links <= rule.max_trusted_links).then_some(cluster)
    }

    /// The largest dense cluster holding `node` that greedy peeling finds in its untrusted
    /// neighbourhood (within two links). Peeling repeatedly removes the member with the fewest
    /// links inside (Charikar's densest-subgraph heuristic), never `node`; the first set that is
    /// dense and in which `node` links to at least the same share of the others is the cluster.
    /// Taking the first (largest) such set matters: an honest, well-connected group must not be
    /// peeled down to a corner that happens to have few trusted links.
    fn dense_cluster_around(&self, node: u32, rule: &DenseRingRule) -> Option<Cluster> {
        let region = self.untrusted_neighbourhood(node);
        if region.len() < rule.min_members {
            return None;
        }
        let local: HashMap<u32, usize> = region.iter().enumerate().map(|(i, &v)| (v, i)).collect();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); region.len()];
        let mut into: Vec<Vec<usize>> = vec![Vec::new(); region.len()];
        let mut links = 0usize;
        for (i, &v) in region.iter().enumerate() {
            for w in self.successors.of(v) {
                if let Some(&j) = local.get(w) {
                    out[i].push(j);
                    into[j].push(i);
                    links += 1;
                }
            }
        }
        let mut degree: Vec<usize> = (0..region.len())
            .map(|i| out[i].len() + into[i].len())
            .collect();
        // The node is local index 0 (the search starts there).
        let node_neighbours: HashSet<usize> = out[0].iter().chain(&into[0]).copied().collect();
        let mut node_links = node_neighbours.len();
        let mut removed = vec![false; region.len()];
        let mut size = region.len();
        let mut heap: BinaryHeap<Reverse<(usize, usize)>> =
            (1..region.len()).map(|i| Reverse((degree[i], i))).collect();

        loop {
            let others = size - 1;
            if rule.is_dense(size, links)
                && (node_links as u128) * 100
                    >= u128::from(rule.min_density_percent) * others as u128
            {
                let members: Vec<u32> = (0..region.len())
                    .filter(|&i| !removed[i])
                    .map(|i| region[i])
                    .collect();
                let trusted_links = members
                    .iter()
                    .map(|&v| {
                        self.predecessors
                            .of(v)
                            .iter()
                            .filter(|&&p| self.is_trusted(p))
                            .count()
                    })
                    .sum();
                return Some(Cluster {
                    kind: "dense cluster around the account",
                    members,
                    links,
                    trusted_links,
                });
            }
            if size <= rule.min_members {
                return None;
            }
            let Reverse((d, i)) = heap.pop()?;
            if removed[i] || d != degree[i] {
                continue; // a stale entry
            }
            removed[i] = true;
            size -= 1;
            for &j in out[i].iter().chain(&into[i]) {
                if !removed[j] {
                    links -= 1;
                    if j != 0 {
                        degree[j] -= 1;
                        heap.push(Reverse((degree[j], j)));
                    }
                }
            }
            if node_neighbours.contains(&i) {
                node_links -= 1;
            }
        }
    }

    /// `node` and the untrusted accounts within two links of it (either direction), nearest
    /// first, at most [`MAX_NEIGHBOURHOOD`]. Paths do not pass through trusted customers: they
    /// are the anchor a ring hangs on, not part of it.
    fn untrusted_neighbourhood(&self, node: u32) -> Vec<u32> {
        let mut seen: HashSet<u32> = HashSet::from([node]);
        let mut region = vec![node];
        let mut frontier = vec![node];
        for _hop in 0..2 {
            let mut next = Vec::new();
            for &v in &frontier {
                for &w in self.successors.of(v).iter().chain(self.predecessors.of(v)) {
                    if region.len() >= MAX_NEIGHBOURHOOD {
                        return region;
                    }
                    if !self.is_trusted(w) && seen.insert(w) {
                        region.push(w);
                        next.push(w);
                    }
                }
            }
            frontier = next;
        }
        region
    }
}

pub(super) fn ring_finding(ring: &Cluster, rule: &DenseRingRule) -> Finding {
    let n = ring.members.len();
    let possible = n * n.saturating_sub(1);
    let density_percent = (ring.links * 100).checked_div(possible).unwrap_or(0);
    Finding::new(
        Signal::DenseRing,
        format!(
            "The account belongs to a dense ring of {n} accounts ({density_percent}% of the possible links among them) that hangs on {} link(s) from trusted customers (at most {} for a ring).",
            ring.trusted_links, rule.max_trusted_links
        ),
        vec![
            ("cluster".to_owned(), ring.kind.to_owned()),
            ("members".to_owned(), n.to_string()),
            ("internal_links".to_owned(), ring.links.to_string()),
            ("density_percent".to_owned(), density_percent.to_string()),
            (
                "min_density_percent".to_owned(),
                rule.min_density_percent.to_string(),
            ),
            (
                "links_from_trusted".to_owned(),
                ring.trusted_links.to_string(),
            ),
            (
                "max_links_from_trusted".to_owned(),
                rule.max_trusted_links.to_string(),
            ),
            ("member_ids".to_owned(), list_nodes(&ring.members, ", ")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fraud::graph::graph_findings;
    use crate::fraud::testing::has;

    /// `count` accounts from `first`, each linked to the next `reach` (wrapping round): a ring
    /// where everyone vouches for or refers their neighbours.
    fn ring(first: u32, count: u32, reach: u32) -> Vec<(u32, u32)> {
        (0..count)
            .flat_map(|i| (1..=reach).map(move |k| (first + i, first + (i + k) % count)))
            .collect()
    }

    #[test]
    fn a_ring_of_20_on_one_trusted_link_is_a_dense_ring() {
        // Trusted customer 0 links to account 1 of the ring 1..=20 (each linked to its next 7:
        // 140 of 380 possible links, 36%).
        let mut edges = ring(1, 20, 7);
        edges.push((0, 1));
        let graph = ReferralGraph::new(&edges, &[0]);
        for node in 1..=20 {
            let findings = graph.findings(node, &DenseRingRule::default());
            assert!(
                has(&findings, Signal::DenseRing),
                "node {node}: {findings:?}"
            );
        }
        let findings = graph_findings(&edges, &[0], 5);
        let ring = findings
            .iter()
            .find(|f| f.signal == Signal::DenseRing)
            .expect("ring");
        assert_eq!(ring.evidence("members"), Some("20"));
        assert_eq!(ring.evidence("links_from_trusted"), Some("1"));
        assert_eq!(ring.evidence("density_percent"), Some("36"));
        assert!(
            graph_findings(&edges, &[0], 0)
                .iter()
                .all(|f| f.signal != Signal::DenseRing),
            "the trusted anchor is no member"
        );
    }

    #[test]
    fn an_honest_cluster_with_many_trusted_links_is_not_a_ring() {
        // The same shape, but ten trusted customers (100..110) each referred someone in it.
        let mut edges = ring(1, 20, 7);
        let trusted: Vec<u32> = (100..110).collect();
        for (k, &t) in trusted.iter().enumerate() {
            edges.push((t, 1 + 2 * k as u32));
        }
        for node in 1..=20 {
            let findings = graph_findings(&edges, &trusted, node);
            assert!(
                findings.iter().all(|f| f.signal != Signal::DenseRing),
                "node {node}: {findings:?}"
            );
        }
    }

    #[test]
    fn a_sparse_loop_is_a_cycle_but_not_a_dense_ring() {
        // 20 accounts in one loop: 20 of 380 links (5%).
        let edges = ring(1, 20, 1);
        let findings = graph_findings(&edges, &[], 7);
        assert!(has(&findings, Signal::Cycle));
        assert!(findings.iter().all(|f| f.signal != Signal::DenseRing));
        assert_eq!(findings[0].evidence("cycle_length"), Some("20"));
    }

    #[test]
    fn a_dense_cluster_without_cycles_is_still_a_ring() {
        // Six accounts where each earlier one vouched for every later one: 15 of 30 links, no
        // cycle, hanging on one link from trusted customer 0.
        let mut edges: Vec<(u32, u32)> = (1..=6)
            .flat_map(|a| (a + 1..=6).map(move |b| (a, b)))
            .collect();
        edges.push((0, 1));
        let findings = graph_findings(&edges, &[0], 4);
        assert!(!has(&findings, Signal::Cycle));
        let ring = findings
            .iter()
            .find(|f| f.signal == Signal::DenseRing)
            .expect("ring");
        assert_eq!(
            ring.evidence("cluster"),
            Some("dense cluster around the account")
        );
        assert_eq!(ring.evidence("members"), Some("6"));
    }

    #[test]
    fn referring_one_member_of_a_ring_does_not_make_you_one() {
        // Account 50 referred ring member 1 and two other people; the ring hangs on trusted 0.
        let mut edges = ring(1, 10, 9);
        edges.extend([(0, 1), (50, 1), (50, 51), (50, 52)]);
        assert!(has(&graph_findings(&edges, &[0], 1), Signal::DenseRing));
        assert!(graph_findings(&edges, &[0], 50).is_empty());
    }

    #[test]
    fn the_ring_rule_is_configurable() {
        let mut edges = ring(1, 20, 7);
        edges.extend([(0, 1), (0, 2), (0, 3)]);
        let graph = ReferralGraph::new(&edges, &[0]);
        assert!(
            !has(
                &graph.findings(1, &DenseRingRule::default()),
                Signal::DenseRing
            ),
            "3 trusted links"
        );
        let lenient = DenseRingRule {
            max_trusted_links: 3,
            ..DenseRingRule::default()
        };
        assert!(has(&graph.findings(1, &lenient), Signal::DenseRing));
    }
}
