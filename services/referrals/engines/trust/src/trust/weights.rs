//! Edge weights: how much one vouch or referral passes on, from its kind, the relationship, the
//! voucher's tenure, years known and the voucher's penalty, with the reasons behind each weight.

use super::{REFERRAL_BASE_WEIGHT, Signal, codes};

/// How a voucher knows the prospect (`RespondToVouch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relationship {
    Family,
    Friend,
    Colleague,
    Neighbour,
    Business,
    Acquaintance,
    Other,
}

impl Relationship {
    pub const ALL: [Self; 7] = [
        Self::Family,
        Self::Friend,
        Self::Colleague,
        Self::Neighbour,
        Self::Business,
        Self::Acquaintance,
        Self::Other,
    ];

    /// Base weight of a vouch. A friend's word counts most; family counts less than a friend
    /// because family vouch out of loyalty more than knowledge of how someone handles money.
    pub fn base_weight(self) -> f64 {
        match self {
            Self::Family => 0.6,
            Self::Friend => 0.8,
            Self::Colleague => 0.7,
            Self::Neighbour => 0.6,
            Self::Business => 0.5,
            Self::Acquaintance => 0.3,
            Self::Other => 0.3,
        }
    }

    /// Plain words for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Family => "family",
            Self::Friend => "a friend",
            Self::Colleague => "a colleague",
            Self::Neighbour => "a neighbour",
            Self::Business => "a business contact",
            Self::Acquaintance => "an acquaintance",
            Self::Other => "someone they know",
        }
    }
}

/// What an edge stands for. Edges point from the truster to the trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// Referrer → referee.
    Referral,
    /// Voucher → prospect, as answered in `RespondToVouch`.
    Vouch {
        relationship: Relationship,
        years_known: u32,
    },
}

/// `min(1, 0.25 + years/4)`: a brand-new customer's word counts a quarter, full weight from three
/// years (DESIGN.md: "reward long tenure"). Negative or NaN tenure counts as none.
pub fn tenure_factor(tenure_years: f64) -> f64 {
    let years = if tenure_years.is_nan() {
        0.0
    } else {
        tenure_years.max(0.0)
    };
    (0.25 + years / 4.0).min(1.0)
}

/// `min(1, 0.5 + years/10)`: knowing someone for five years counts fully.
pub fn years_known_factor(years_known: u32) -> f64 {
    (0.5 + f64::from(years_known) / 10.0).min(1.0)
}

/// The voucher penalty clamped to [0, 1]; NaN counts as 0 (no trust passes), the cautious reading
/// of a history the caller could not compute.
fn penalty_factor(voucher_penalty: f64) -> f64 {
    if voucher_penalty.is_nan() {
        0.0
    } else {
        voucher_penalty.clamp(0.0, 1.0)
    }
}

/// The factors of one edge's weight, shared by [`edge_weight`] and [`explain_edge_weight`] so the
/// figure and its explanation cannot drift apart.
struct EdgeFactors {
    base: f64,
    tenure: f64,
    years_known: Option<f64>,
    penalty: f64,
}

impl EdgeFactors {
    fn of(kind: &EdgeKind, voucher_tenure_years: f64, voucher_penalty: f64) -> Self {
        let (base, years_known) = match *kind {
            EdgeKind::Referral => (REFERRAL_BASE_WEIGHT, None),
            EdgeKind::Vouch {
                relationship,
                years_known,
            } => (
                relationship.base_weight(),
                Some(years_known_factor(years_known)),
            ),
        };
        Self {
            base,
            tenure: tenure_factor(voucher_tenure_years),
            years_known,
            penalty: penalty_factor(voucher_penalty),
        }
    }

    fn weight(&self) -> f64 {
        self.base * self.tenure * self.years_known.unwrap_or(1.0) * self.penalty
    }
}

/// Weight of a referral or vouch edge, in [0, 1]: base by kind and relationship × tenure factor ×
/// years-known factor (vouches) × penalty.
///
/// `voucher_tenure_years` is the truster's tenure. `voucher_penalty` is in [0, 1], 1.0 = none; the
/// caller derives it from the voucher's history (the service uses `0.5^n`, n = customers they
/// referred or vouched for who fell out of good standing before this vouch was made). It changes
/// only the edges out of the voucher, never the voucher's own score or accounts.
pub fn edge_weight(kind: &EdgeKind, voucher_tenure_years: f64, voucher_penalty: f64) -> f64 {
    EdgeFactors::of(kind, voucher_tenure_years, voucher_penalty).weight()
}

/// An edge weight with the reasons behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeWeight {
    pub weight: f64,
    pub signals: Vec<Signal>,
}

/// [`edge_weight`] with one [`Signal`] per factor (the penalty only when it applies), for the
/// explanation of a vouch or referral.
pub fn explain_edge_weight(
    kind: &EdgeKind,
    voucher_tenure_years: f64,
    voucher_penalty: f64,
) -> EdgeWeight {
    let factors = EdgeFactors::of(kind, voucher_tenure_years, voucher_penalty);
    let mut signals = Vec::with_capacity(4);
    signals.push(match *kind {
        EdgeKind::Referral => Signal::new(
            codes::EDGE_BASE,
            factors.base,
            "A referral counts for half of a full-strength word of trust.",
        ),
        EdgeKind::Vouch { relationship, .. } => Signal::new(
            codes::EDGE_BASE,
            factors.base,
            format!(
                "A vouch from {} counts for {:.0}% of a full-strength word of trust.",
                relationship.label(),
                factors.base * 100.0
            ),
        ),
    });
    signals.push(Signal::new(
        codes::VOUCHER_TENURE,
        factors.tenure,
        format!(
            "The voucher has been with us {:.1} years; their word counts {:.0}% (full from 3 years).",
            voucher_tenure_years.max(0.0),
            factors.tenure * 100.0
        ),
    ));
    if let (EdgeKind::Vouch { years_known, .. }, Some(factor)) = (kind, factors.years_known) {
        signals.push(Signal::new(
            codes::YEARS_KNOWN,
            factor,
            format!(
                "They have known each other {years_known} years; this counts {:.0}% (full from 5 years).",
                factor * 100.0
            ),
        ));
    }
    if factors.penalty < 1.0 {
        signals.push(Signal::new(
            codes::VOUCHER_PENALTY,
            factors.penalty,
            format!(
                "Some people this voucher recommended before later fell behind, so new vouches \
                 from them count {:.0}%. This does not affect the voucher's own standing.",
                factors.penalty * 100.0
            ),
        ));
    }
    EdgeWeight {
        weight: factors.weight(),
        signals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::codes;
    use proptest::prelude::*;

    #[test]
    fn edge_weights_follow_the_rules() {
        let friend = |years_known| EdgeKind::Vouch {
            relationship: Relationship::Friend,
            years_known,
        };
        assert!((edge_weight(&friend(10), 10.0, 1.0) - 0.8).abs() < 1e-12);
        assert!((edge_weight(&EdgeKind::Referral, 0.0, 1.0) - 0.125).abs() < 1e-12);
        // 0.7 × (0.25 + 1/4) × (0.5 + 2/10) × 0.5
        let colleague = EdgeKind::Vouch {
            relationship: Relationship::Colleague,
            years_known: 2,
        };
        assert!((edge_weight(&colleague, 1.0, 0.5) - 0.7 * 0.5 * 0.7 * 0.5).abs() < 1e-12);
        assert_eq!(edge_weight(&friend(3), -4.0, f64::NAN), 0.0);
        let explained = explain_edge_weight(&colleague, 1.0, 0.5);
        assert_eq!(explained.weight, edge_weight(&colleague, 1.0, 0.5));
        let codes: Vec<_> = explained.signals.iter().map(|s| s.code).collect();
        assert_eq!(
            codes,
            [
                codes::EDGE_BASE,
                codes::VOUCHER_TENURE,
                codes::YEARS_KNOWN,
                codes::VOUCHER_PENALTY
            ]
        );
    }

    proptest! {
        #[test]
        fn edge_weights_stay_in_range_and_reward_tenure(
            relationship in 0..7usize,
            years_known in 0..40u32,
            tenure in 0.0..30.0f64,
            penalty in 0.0..=1.0f64,
        ) {
            let kind = EdgeKind::Vouch { relationship: Relationship::ALL[relationship], years_known };
            let weight = edge_weight(&kind, tenure, penalty);
            prop_assert!((0.0..=1.0).contains(&weight));
            prop_assert!(edge_weight(&kind, tenure + 1.0, penalty) >= weight);
            prop_assert!(edge_weight(&kind, tenure, penalty * 0.5) <= weight);
        }
    }
}
