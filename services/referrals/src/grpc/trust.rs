//! GetTrust: personalised PageRank over the graph of who referred and vouched for whom, seeded
//! from long-standing customers, with the strongest paths and the signals behind the score.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::referrals::v1 as pb;
use rapport_reasons::{Reason, ReasonEffect};
use rapport_wire as wire;

use super::ReferralApi;
use crate::domain::standing;
use crate::domain::trust::{self, EdgeKind, GraphBuilder, Relationship, TrustConfig};
use crate::error::ReferralsError;
use crate::store;

/// The trust model's version, returned with every score.
pub const MODEL_VERSION: &str = "ppr-d0.85-v1";

fn relationship(r: pb::Relationship) -> Relationship {
    match r {
        pb::Relationship::Family => Relationship::Family,
        pb::Relationship::Friend => Relationship::Friend,
        pb::Relationship::Colleague => Relationship::Colleague,
        pb::Relationship::Neighbour => Relationship::Neighbour,
        pb::Relationship::Business => Relationship::Business,
        pb::Relationship::Acquaintance => Relationship::Acquaintance,
        _ => Relationship::Other,
    }
}

/// The customer whose trust is asked for, for the span (empty when the subject is a prospect).
fn subject_customer_id(r: &pb::GetTrustRequest) -> &str {
    match &r.subject {
        Some(pb::get_trust_request::Subject::CustomerId(id)) => id,
        _ => "",
    }
}

/// The prospect whose trust is asked for, for the span (empty when the subject is a customer).
fn subject_prospect_id(r: &pb::GetTrustRequest) -> &str {
    match &r.subject {
        Some(pb::get_trust_request::Subject::ProspectId(id)) => id,
        _ => "",
    }
}

impl ReferralApi {
    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(subject_customer_id(&r)),
            prospect_id = super::traced_id(subject_prospect_id(&r))
        )
    )]
    pub(super) async fn trust(
        &self,
        r: pb::GetTrustRequest,
    ) -> Result<pb::GetTrustResponse, ReferralsError> {
        let now = self.now();
        let today = self.today();
        let mut v = Validation::new();
        let subject = match &r.subject {
            Some(pb::get_trust_request::Subject::CustomerId(id)) => {
                wire::id("customer_id", id, &mut v)
            }
            Some(pb::get_trust_request::Subject::ProspectId(id)) => {
                wire::id("prospect_id", id, &mut v)
            }
            None => {
                v.add("subject", "give customer_id or prospect_id");
                None
            }
        };
        v.clone().finish()?;
        let subject = subject.ok_or(ReferralsError::Invalid(v))?;

        let mut conn = self.storage.reader().acquire().await?;
        let subject = match &r.subject {
            Some(pb::get_trust_request::Subject::CustomerId(_)) => {
                store::merges::resolve(&mut conn, subject).await?
            }
            _ => subject,
        };
        let referrals = store::referrals::all(&mut conn).await?;
        let vouches = store::vouches::vouched(&mut conn).await?;
        let known = super::seeds::Standings::read(&mut conn, now).await?;
        // An unknown subject is NOT_FOUND, not a trust of 0 (issue 16). A customer referrals has
        // not met yet is asked of profiles (UNAVAILABLE when profiles cannot answer); a prospect
        // exists only through the vouches for it.
        match &r.subject {
            Some(pb::get_trust_request::Subject::CustomerId(_)) => {
                if !known.tenure.contains_key(&subject) {
                    self.read_member(subject).await?;
                }
            }
            _ => {
                if !store::vouches::prospect_known(&mut conn, subject).await? {
                    return Err(ReferralsError::NotFound {
                        entity: "prospect",
                        id: subject.to_string(),
                    });
                }
            }
        }
        let tenure = &known.tenure;
        let standing_lost_at: BTreeMap<Id, Timestamp> = known
            .standing
            .iter()
            .filter_map(|(id, s)| s.lost_at().map(|at| (*id, at)))
            .collect();
        let joined_by = self.seed_joined_by();
        // The pre-trusted seeds: in good standing and customers since `joined_by` or before.
        let trusted: Vec<Id> = known.seeds(joined_by);
        let removed = known.removed_seeds(joined_by);

        // Dense node ids in a fixed order, so the computation is deterministic.
        let mut nodes: BTreeMap<Id, u32> = BTreeMap::new();
        let mut edges: Vec<(Id, Id, EdgeKind)> = Vec::new();
        for referral in &referrals {
            if let Some(referee) = referral.referee_id {
                edges.push((referral.referrer_id, referee, EdgeKind::Referral));
            }
        }
        for vouch in &vouches {
            let to = vouch.prospect_customer_id.unwrap_or(vouch.prospect_id);
            edges.push((
                vouch.voucher_id,
                to,
                EdgeKind::Vouch {
                    relationship: relationship(vouch.relationship),
                    years_known: vouch.years_known,
                },
            ));
        }
        // A referral or vouch from a customer to itself exists only after profiles merged the
        // two ends: it carries no trust (its fraud flag, MERGED_SELF_REFERRAL, says why).
        edges.retain(|(from, to, _)| from != to);
        for (from, to, _) in &edges {
            for id in [from, to] {
                let next = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
                nodes.entry(*id).or_insert(next);
            }
        }
        let years = |id: &Id| {
            tenure.get(id).map_or(0.0, |since| {
                f64::from((today - *since).get_days().max(0)) / 365.25
            })
        };
        // Issue 6: a customer someone referred or vouched for who later falls out of good
        // standing halves the weight of that person's *later* vouches (each such customer again).
        // Vouches made before stay as they were, and the voucher's own trust (the edges into
        // them) is never touched.
        // Per truster, each customer they referred or vouched for who fell behind, and when (a
        // customer both referred and vouched for by the same person counts once).
        let mut fell_behind: BTreeMap<Id, BTreeMap<Id, Timestamp>> = BTreeMap::new();
        for (from, to, _) in &edges {
            if let Some(at) = standing_lost_at.get(to) {
                fell_behind.entry(*from).or_default().insert(*to, *at);
            }
        }
        let vouched_at: BTreeMap<(Id, Id), Timestamp> = vouches
            .iter()
            .filter_map(|v| {
                let to = v.prospect_customer_id.unwrap_or(v.prospect_id);
                Some(((v.voucher_id, to), v.responded_at?))
            })
            .collect();
        let penalty = |from: &Id, to: &Id, kind: &EdgeKind| match kind {
            EdgeKind::Vouch { .. } => {
                let made = vouched_at.get(&(*from, *to));
                let before = fell_behind.get(from).map_or(0, |lost| {
                    lost.values()
                        .filter(|at| made.is_none_or(|made| *at < made))
                        .count()
                });
                0.5_f64.powi(i32::try_from(before).unwrap_or(i32::MAX))
            }
            EdgeKind::Referral => 1.0,
        };
        let mut builder = GraphBuilder::new(nodes.len());
        for (from, to, kind) in &edges {
            builder.add_edge(
                nodes[from],
                nodes[to],
                trust::edge_weight(kind, years(from), penalty(from, to, kind)),
            );
        }
        let graph = builder.build();
        let seeds: Vec<u32> = trusted
            .iter()
            .filter_map(|id| nodes.get(id).copied())
            .collect();
        let mut signals = vec![pb::TrustSignal {
            code: "PRETRUSTED_SEEDS".into(),
            description: format!(
                "{} customers of at least {} years in good standing anchor the graph.",
                seeds.len(),
                self.rules.pretrusted_min_tenure_years
            ),
            effect: 0.0,
        }];
        // Standing decides who anchors trust: say whom it kept out, and why for the subject.
        let removed_in_graph = removed
            .iter()
            .filter(|(id, _)| *id != subject && nodes.contains_key(id))
            .count();
        if removed_in_graph > 0 {
            signals.push(pb::TrustSignal {
                code: "SEEDS_REMOVED_BY_STANDING".into(),
                description: format!(
                    "{removed_in_graph} customers of at least {} years in this graph are not anchors while they are out of good standing.",
                    self.rules.pretrusted_min_tenure_years
                ),
                effect: -(removed_in_graph as f64),
            });
        }
        let mut subject_reasons = Vec::new();
        let long_standing = tenure
            .get(&subject)
            .is_some_and(|since| *since <= joined_by);
        if let Some(standing) = known.standing.get(&subject).filter(|_| long_standing) {
            let (code, description, effect) = if !standing.good {
                (
                    "NOT_A_SEED_NOT_IN_GOOD_STANDING",
                    format!(
                        "A customer of at least {} years, but not a trust anchor while out of good standing: {}",
                        self.rules.pretrusted_min_tenure_years,
                        standing.why_not()
                    ),
                    ReasonEffect::Opposes,
                )
            } else if let Some(note) = standing.notes.iter().find(|n| n.code == "KEEPING_PLAN") {
                (
                    "SEED_KEEPING_PLAN",
                    format!(
                        "In arrears but keeping an agreed plan, so in good standing and a trust anchor: {}",
                        note.message
                    ),
                    ReasonEffect::Supports,
                )
            } else {
                ("", String::new(), ReasonEffect::Neutral)
            };
            if !code.is_empty() {
                signals.push(pb::TrustSignal {
                    code: code.into(),
                    description: description.clone(),
                    effect: if effect == ReasonEffect::Opposes {
                        -1.0
                    } else {
                        0.0
                    },
                });
                subject_reasons.push(wire::reason_to_pb(&Reason::new(
                    code,
                    effect,
                    format!(
                        "DESIGN.md: trust seeds are customers of ≥ 2 years in good standing; {}",
                        standing::RULE
                    ),
                    description,
                )));
            }
        }
        let Some(&target) = nodes.get(&subject) else {
            signals.push(pb::TrustSignal {
                code: "NO_CONNECTIONS".into(),
                description: "Nobody has referred or vouched for them yet.".into(),
                effect: 0.0,
            });
            return Ok(response(0.0, Vec::new(), signals, subject_reasons, now));
        };
        if seeds.is_empty() {
            signals.push(pb::TrustSignal {
                code: "NO_SEEDS".into(),
                description: if removed_in_graph > 0 {
                    "No long-standing customer in good standing is connected yet.".into()
                } else {
                    "No long-standing customer is connected yet.".into()
                },
                effect: 0.0,
            });
            return Ok(response(0.0, Vec::new(), signals, subject_reasons, now));
        }
        let scores = trust::personalised_pagerank(&graph, &seeds, &TrustConfig::default());
        let score = if seeds.contains(&target) {
            1.0_f64.max(scores.score(target))
        } else {
            scores.score(target)
        };
        let by_index: BTreeMap<u32, Id> = nodes.iter().map(|(id, index)| (*index, *id)).collect();
        let paths = trust::strongest_paths(&graph, &seeds, target, 3, 6)
            .into_iter()
            .map(|path| pb::TrustPath {
                edges: path
                    .nodes
                    .windows(2)
                    .map(|pair| {
                        let (from, to) = (by_index[&pair[0]], by_index[&pair[1]]);
                        let kind = edges
                            .iter()
                            .find(|(f, t, _)| *f == from && *t == to)
                            .map(|(_, _, k)| k);
                        pb::TrustEdge {
                            from_id: from.to_string(),
                            to_id: to.to_string(),
                            kind: match kind {
                                Some(EdgeKind::Referral) => pb::TrustEdgeKind::Referral,
                                _ => pb::TrustEdgeKind::Vouch,
                            } as i32,
                            weight: kind.map_or(0.0, |k| {
                                trust::edge_weight(k, years(&from), penalty(&from, &to, k))
                            }),
                        }
                    })
                    .collect(),
                contribution: path.strength,
            })
            .collect();
        if let Some(lost) = fell_behind.get(&subject) {
            let count = lost.len();
            signals.push(pb::TrustSignal {
                code: "VOUCHED_FOR_CUSTOMERS_FELL_BEHIND".into(),
                description: format!("{count} customers they vouched for or referred are no longer in good standing; their vouches since count for less."),
                effect: -(count as f64),
            });
        }
        let vouches_in = vouches
            .iter()
            .filter(|v| v.prospect_customer_id.unwrap_or(v.prospect_id) == subject)
            .count();
        signals.push(pb::TrustSignal {
            code: "VOUCHES_RECEIVED".into(),
            description: format!("{vouches_in} customers vouched for them."),
            effect: f64::from(u32::try_from(vouches_in).unwrap_or(u32::MAX)),
        });
        signals.push(pb::TrustSignal {
            code: "CONVERGENCE".into(),
            description: format!(
                "Computed in {} iterations{}.",
                scores.iterations,
                if scores.converged {
                    ""
                } else {
                    " (not fully converged)"
                }
            ),
            effect: 0.0,
        });
        Ok(response(score, paths, signals, subject_reasons, now))
    }
}

fn response(
    score: f64,
    paths: Vec<pb::TrustPath>,
    signals: Vec<pb::TrustSignal>,
    subject_reasons: Vec<common::Reason>,
    now: Timestamp,
) -> pb::GetTrustResponse {
    let mut reasons = vec![wire::reason_to_pb(&Reason::new(
        "PERSONALISED_PAGERANK",
        ReasonEffect::Neutral,
        "DESIGN.md: trust = personalised PageRank from pre-trusted customers, damping 0.85, bounded influence per node",
        "Trust flows from long-standing customers in good standing through the people they referred and vouched for; \
         no single account can pass on more than a bounded share.",
    ))];
    reasons.extend(subject_reasons);
    pb::GetTrustResponse {
        score: score.clamp(0.0, 1.0),
        reasons,
        paths,
        signals,
        computed_at: Some(wire::timestamp_to_pb(now)),
        model_version: MODEL_VERSION.to_owned(),
    }
}
