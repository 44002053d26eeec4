//! A trust figure with the reasons behind it: pre-trust, direct sources, capped influence and the
//! strongest path.

use super::{Graph, MAX_PATH_DEPTH, NodeId, Path, Scores, Signal, codes, strongest_paths};

/// A trust figure and the reasons behind it (`GetTrust`: score, paths, signals).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustExplanation {
    pub node: NodeId,
    /// [`Scores::score`]: relative to the best-trusted customer.
    pub score: f64,
    /// The strongest chains from pre-trusted customers, strongest first.
    pub paths: Vec<Path>,
    pub signals: Vec<Signal>,
}

/// Explains `node`'s trust: where its trust comes from (pre-trusted status, direct trusters,
/// capped trusters), the strongest paths to it ([`strongest_paths`] with `max_paths` and
/// `max_depth`), and whether the computation settled. Shares are of the node's own trust and add
/// up to 1 at convergence.
pub fn explain(
    graph: &Graph,
    scores: &Scores,
    node: NodeId,
    max_paths: usize,
    max_depth: usize,
) -> TrustExplanation {
    let raw = scores.raw(node);
    let share = |part: f64| {
        if raw > 0.0 {
            (part / raw).min(1.0)
        } else {
            0.0
        }
    };
    let percent = |weight: f64| weight * 100.0;
    let mut signals = Vec::new();
    if scores.seeds().is_empty() {
        signals.push(Signal::new(
            codes::NO_PRE_TRUSTED_CUSTOMERS,
            0.0,
            "No long-standing customers in good standing are available to start trust from yet, \
             so no one has a trust score.",
        ));
        return TrustExplanation {
            node,
            score: 0.0,
            paths: Vec::new(),
            signals,
        };
    }
    if scores.is_seed(node) {
        let weight = share(scores.seed_share);
        signals.push(Signal::new(
            codes::PRE_TRUSTED,
            weight,
            format!(
                "A long-standing customer in good standing, trusted from the start; this accounts \
                 for {:.1}% of their trust.",
                percent(weight)
            ),
        ));
    }

    let mut direct = 0usize;
    let mut from_trusters = 0.0;
    let mut largest = 0.0f64;
    let mut capped = 0usize;
    let mut from_capped = 0.0;
    for (truster, weight) in graph.trusters(node) {
        let inflow = scores.passed_on(truster) * weight;
        if inflow <= 0.0 {
            continue;
        }
        direct += 1;
        from_trusters += inflow;
        largest = largest.max(inflow);
        if scores.is_capped(truster) {
            capped += 1;
            from_capped += inflow;
        }
    }
    if direct > 0 {
        let weight = share(from_trusters);
        signals.push(Signal::new(
            codes::TRUSTED_BY,
            weight,
            format!(
                "Vouched for or referred by {direct} {}; this accounts for {:.1}% of their trust.",
                if direct == 1 { "person" } else { "people" },
                percent(weight)
            ),
        ));
        let weight = share(largest);
        signals.push(Signal::new(
            codes::LARGEST_DIRECT_SOURCE,
            weight,
            format!(
                "The largest single source of trust accounts for {:.1}% of it.",
                percent(weight)
            ),
        ));
    }
    if capped > 0 {
        let weight = share(from_capped);
        signals.push(Signal::new(
            codes::INFLUENCE_CAPPED,
            weight,
            format!(
                "Trust from {capped} of these people is capped at {:.1}% of all trust per person, \
                 so no single person decides this score.",
                percent(scores.influence_cap)
            ),
        ));
    }

    let paths = strongest_paths(graph, scores.seeds(), node, max_paths, max_depth);
    match paths.first() {
        Some(best) if best.nodes.len() > 1 => {
            let links = best.nodes.len() - 1;
            signals.push(Signal::new(
                codes::STRONGEST_PATH,
                best.strength,
                format!(
                    "The strongest chain of trust from a long-standing customer has {links} {} \
                     (strength {:.3}).",
                    if links == 1 { "link" } else { "links" },
                    best.strength
                ),
            ));
        }
        Some(_) => {}
        None => signals.push(Signal::new(
            codes::NO_TRUSTED_PATH,
            0.0,
            format!(
                "No chain of vouches or referrals of at most {} links reaches them from a \
                 long-standing customer in good standing.",
                max_depth.min(MAX_PATH_DEPTH)
            ),
        )),
    }
    if !scores.converged {
        signals.push(Signal::new(
            codes::NOT_CONVERGED,
            0.0,
            format!(
                "The calculation stopped after {} rounds before it fully settled; the figure is \
                 close but approximate.",
                scores.iterations
            ),
        ));
    }
    TrustExplanation {
        node,
        score: scores.score(node),
        paths,
        signals,
    }
}
