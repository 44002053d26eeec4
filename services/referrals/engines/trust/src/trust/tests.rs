//! Trust scenarios on a community of 20 seeds, 200 ordinary customers, an honest prospect and a
//! dense ring of fake accounts hanging on one edge: what PageRank, penalties and explanations do
//! together. Each module's own rules and properties are tested beside it.

use super::*;

/// A small deterministic generator, so test graphs are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const SEEDS: u32 = 20;
const ORDINARY: u32 = 200;
/// Honest prospect with two vouches from 10-year seeds.
const HONEST: NodeId = SEEDS + ORDINARY;
/// An ordinary customer of typical trust (the median of the 200) who vouches for one ring
/// member — fooled, or bribed.
const ATTACHER: NodeId = 74;
const RING_START: NodeId = HONEST + 1;
const RING: u32 = 50;
/// A prospect for the "extra vouch" and penalty tests.
const PROSPECT: NodeId = RING_START + RING;
const OTHER_PROSPECT: NodeId = PROSPECT + 1;
const NODES: usize = (OTHER_PROSPECT + 1) as usize;

fn tenure(node: NodeId) -> f64 {
    if node < SEEDS {
        2.0 + f64::from(node % 11)
    } else if node < HONEST {
        0.5 + f64::from(node % 9)
    } else {
        0.1
    }
}

fn seeds() -> Vec<NodeId> {
    (0..SEEDS).collect()
}

/// 20 seeds, 200 ordinary customers with referral and vouch edges among them, the honest
/// prospect, and a dense ring of 50 fake accounts hanging on one edge from `ATTACHER`.
fn community() -> GraphBuilder {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut graph = GraphBuilder::new(NODES);
    let add = |graph: &mut GraphBuilder, rng: &mut XorShift, from: NodeId, to: NodeId| {
        let kind = if rng.below(2) == 0 {
            EdgeKind::Referral
        } else {
            EdgeKind::Vouch {
                relationship: Relationship::ALL[rng.below(7) as usize],
                years_known: rng.below(15) as u32,
            }
        };
        graph.add_edge(from, to, edge_weight(&kind, tenure(from), 1.0));
    };
    // Seeds trust each other a little and brought in the first customers.
    for seed in 0..SEEDS {
        add(&mut graph, &mut rng, seed, (seed + 1) % SEEDS);
    }
    // Each ordinary customer was referred or vouched for by one to three earlier members.
    for customer in SEEDS..HONEST {
        let trusters = 1 + rng.below(3);
        let mut chosen = Vec::new();
        for _ in 0..trusters {
            let from = rng.below(u64::from(customer)) as NodeId;
            if !chosen.contains(&from) {
                chosen.push(from);
                add(&mut graph, &mut rng, from, customer);
            }
        }
    }
    // Some later customers referred earlier ones' friends back: cycles, as in real graphs.
    for _ in 0..100 {
        let from = SEEDS + rng.below(u64::from(ORDINARY)) as NodeId;
        let to = SEEDS + rng.below(u64::from(ORDINARY)) as NodeId;
        if from != to {
            add(&mut graph, &mut rng, from, to);
        }
    }
    let friend = EdgeKind::Vouch {
        relationship: Relationship::Friend,
        years_known: 10,
    };
    // Two 10-year seeds vouch for the honest prospect.
    graph.add_edge(2, HONEST, edge_weight(&friend, 10.0, 1.0));
    graph.add_edge(13, HONEST, edge_weight(&friend, 10.0, 1.0));
    // The ring: new accounts vouching for each other as "friends of 20 years" — lying as
    // well as they can — each to five others.
    let lying = EdgeKind::Vouch {
        relationship: Relationship::Friend,
        years_known: 20,
    };
    for i in 0..RING {
        for step in [1, 2, 5, 11, 17] {
            let to = RING_START + (i + step) % RING;
            graph.add_edge(RING_START + i, to, edge_weight(&lying, 0.1, 1.0));
        }
    }
    let acquaintance = EdgeKind::Vouch {
        relationship: Relationship::Acquaintance,
        years_known: 1,
    };
    graph.add_edge(
        ATTACHER,
        RING_START,
        edge_weight(&acquaintance, tenure(ATTACHER), 1.0),
    );
    // The prospect: one weak referral from an ordinary customer.
    graph.add_edge(
        141,
        PROSPECT,
        edge_weight(&EdgeKind::Referral, tenure(141), 1.0),
    );
    graph
}

fn scores_of(graph: &Graph) -> Scores {
    personalised_pagerank(graph, &seeds(), &TrustConfig::default())
}

#[test]
fn a_ring_hanging_on_one_edge_gets_a_small_fraction_of_an_honest_customers_trust() {
    let graph = community().build();
    let scores = scores_of(&graph);
    assert!(scores.converged);
    let honest = scores.raw(HONEST);
    let ring: Vec<f64> = (RING_START..RING_START + RING)
        .map(|m| scores.raw(m))
        .collect();
    let strongest = ring.iter().copied().fold(0.0, f64::max);
    assert!(
        strongest < 0.1 * honest,
        "ring member {strongest} vs honest {honest}"
    );
    // Looping trust around the ring gains its entry point little over the one real vouch:
    // the ring as a whole holds only what flows in, times 1/(1 − d), spread over 50.
    let direct = scores.passed_on(ATTACHER)
        * graph
            .trusters(RING_START)
            .find(|&(truster, _)| truster == ATTACHER)
            .map_or(0.0, |(_, weight)| weight);
    assert!(
        ring[0] < 1.15 * direct,
        "entry {} vs direct {direct}",
        ring[0]
    );
    let total: f64 = ring.iter().sum();
    assert!(total < (direct / (1.0 - 0.85)) * 1.01);
    // And the honest prospect is well above an average ordinary customer.
    let ordinary: f64 = (SEEDS..HONEST).map(|c| scores.raw(c)).sum::<f64>() / f64::from(ORDINARY);
    assert!(
        honest > ordinary,
        "honest {honest} vs ordinary mean {ordinary}"
    );
}

#[test]
fn a_vouch_from_a_long_tenure_customer_raises_a_prospects_trust() {
    let before = scores_of(&community().build());
    let mut builder = community();
    let vouch = EdgeKind::Vouch {
        relationship: Relationship::Colleague,
        years_known: 6,
    };
    // A long-tenure voucher (10 years, past the tenure cap): full weight.
    builder.add_edge(30, PROSPECT, edge_weight(&vouch, 10.0, 1.0));
    let after = scores_of(&builder.build());
    assert!(after.raw(PROSPECT) > before.raw(PROSPECT));
    assert!(after.score(PROSPECT) > before.score(PROSPECT));
}

#[test]
fn scores_are_bitwise_stable_across_runs_and_converge() {
    let config = TrustConfig::default();
    let first = personalised_pagerank(&community().build(), &seeds(), &config);
    let second = personalised_pagerank(&community().build(), &seeds(), &config);
    assert!(first.converged);
    assert!(first.iterations < config.max_iterations);
    assert_eq!(first.iterations, second.iterations);
    let bits = |s: &Scores| {
        s.raw_scores()
            .iter()
            .map(|r| r.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&first), bits(&second));
    // Seeds in another order and repeated give the same result.
    let mut shuffled: Vec<NodeId> = seeds().into_iter().rev().collect();
    shuffled.push(3);
    let third = personalised_pagerank(&community().build(), &shuffled, &config);
    assert_eq!(bits(&first), bits(&third));
}

#[test]
fn a_voucher_penalty_lowers_their_prospects_not_the_voucher() {
    let voucher: NodeId = 45;
    let friend = EdgeKind::Vouch {
        relationship: Relationship::Friend,
        years_known: 8,
    };
    let with_penalty = |penalty: f64| {
        let mut builder = community();
        for prospect in [PROSPECT, OTHER_PROSPECT] {
            builder.add_edge(
                voucher,
                prospect,
                edge_weight(&friend, tenure(voucher), penalty),
            );
        }
        scores_of(&builder.build())
    };
    let clean = with_penalty(1.0);
    let penalised = with_penalty(0.25);
    for prospect in [PROSPECT, OTHER_PROSPECT] {
        assert!(penalised.raw(prospect) < 0.5 * clean.raw(prospect));
    }
    // The penalty changes no edge into the voucher. Their raw trust moves only by the global
    // redistribution any edge change causes (here their other referees gain a little, the
    // seeds a little less): well under 0.1 %.
    let moved = (penalised.raw(voucher) - clean.raw(voucher)).abs() / clean.raw(voucher);
    assert!(moved < 1e-3, "voucher moved by {moved}");
}

#[test]
fn the_explanation_names_the_sources_and_the_path() {
    let graph = community().build();
    let scores = scores_of(&graph);
    let honest = explain(&graph, &scores, HONEST, 3, 4);
    let codes_of = |e: &TrustExplanation| e.signals.iter().map(|s| s.code).collect::<Vec<_>>();
    assert_eq!(
        codes_of(&honest),
        [
            codes::TRUSTED_BY,
            codes::LARGEST_DIRECT_SOURCE,
            codes::INFLUENCE_CAPPED,
            codes::STRONGEST_PATH
        ]
    );
    assert!((honest.signals[0].weight - 1.0).abs() < 1e-6);
    assert_eq!(honest.paths.len(), 2);
    assert!(honest.paths.iter().all(|p| p.nodes.len() == 2));

    let member = explain(&graph, &scores, RING_START + 7, 3, 3);
    assert!(codes_of(&member).contains(&codes::NO_TRUSTED_PATH));
    let seed = explain(&graph, &scores, 2, 3, 3);
    assert_eq!(seed.signals[0].code, codes::PRE_TRUSTED);
    let none = personalised_pagerank(&graph, &[], &TrustConfig::default());
    assert_eq!(
        codes_of(&explain(&graph, &none, HONEST, 3, 3)),
        [codes::NO_PRE_TRUSTED_CUSTOMERS]
    );
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let mut graph = GraphBuilder::new(3);
    assert_eq!(
        graph.try_add_edge(0, 3, 0.5),
        Err(TrustError::NodeOutOfRange { node: 3, nodes: 3 })
    );
    assert_eq!(
        graph.try_add_edge(1, 1, 0.5),
        Err(TrustError::SelfTrust { node: 1 })
    );
    assert!(matches!(
        graph.try_add_edge(0, 1, f64::NAN),
        Err(TrustError::InvalidWeight { .. })
    ));
    assert!(graph.try_add_edge(0, 1, -0.1).is_err());
    assert_eq!(graph.try_add_edge(0, 1, 0.0), Ok(()));
    let graph = graph.build();
    assert_eq!(graph.edge_count(), 0);
    let bad = TrustConfig {
        damping: 1.0,
        ..TrustConfig::default()
    };
    assert!(matches!(
        try_personalised_pagerank(&graph, &[0], &bad),
        Err(TrustError::InvalidConfig {
            field: "damping",
            ..
        })
    ));
    assert!(matches!(
        try_personalised_pagerank(&graph, &[7], &TrustConfig::default()),
        Err(TrustError::NodeOutOfRange { node: 7, .. })
    ));
}
