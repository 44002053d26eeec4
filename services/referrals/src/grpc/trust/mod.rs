//! GetTrust: personalised PageRank over the graph of who referred and vouched for whom, seeded
//! from long-standing customers, with the strongest paths and the signals behind the score.
//!
//! Served from storage (issue 23, item 5): a batch ([`refresh`]) scores the whole graph and
//! stores every subject's answer with its `as_of` and the graph version it read; between
//! batches the worker updates the answers that a change moves ([`online`]); GetTrust reads one
//! row. It computes online only when nothing usable is stored for the subject, and says so.

pub(crate) mod online;
pub(crate) mod refresh;
mod snapshot;

use jiff::{SignedDuration, Timestamp};
use rapport_errors::Validation;
use rapport_proto::referrals::v1 as pb;
use rapport_reasons::{Reason, ReasonEffect};
use rapport_wire as wire;

use super::ReferralApi;
use crate::domain::standing::Standing;
use crate::error::ReferralsError;
use crate::store::trust::{Stored, StoredTrust, Versions};
use crate::store::{self, StoredReason};
pub use snapshot::MODEL_VERSION;
use snapshot::Snapshot;

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

/// How a stored answer relates to the graph now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// Nothing changed since it was computed, and no day turned nor standing lapsed: exactly
    /// what computing now would give.
    Exact,
    /// The graph changed (or time moved it) since, within the staleness allowed.
    Stale,
    /// Changed and older than the staleness allowed: compute online.
    Expired,
}

/// Whether a stored answer stamped `stored_version` may be served at `now`, with the graph at
/// `versions` ([`Versions::current`]: its own version, or covered by the online updates).
pub(crate) fn freshness(
    stored_version: i64,
    as_of: Timestamp,
    valid_until: Timestamp,
    versions: &Versions,
    now: Timestamp,
    max_staleness: SignedDuration,
) -> Freshness {
    if versions.current(stored_version) && now < valid_until {
        Freshness::Exact
    } else if now.duration_since(as_of) < max_staleness {
        Freshness::Stale
    } else {
        Freshness::Expired
    }
}

impl ReferralApi {
    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(subject_customer_id(&r)),
            prospect_id = super::traced_id(subject_prospect_id(&r)),
            served
        )
    )]
    pub(super) async fn trust(
        &self,
        r: pb::GetTrustRequest,
    ) -> Result<pb::GetTrustResponse, ReferralsError> {
        let now = self.now();
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
        let is_customer = matches!(
            &r.subject,
            Some(pb::get_trust_request::Subject::CustomerId(_))
        );

        let mut conn = self.storage.reader().acquire().await?;
        let subject = if is_customer {
            store::merges::resolve(&mut conn, subject).await?
        } else {
            subject
        };
        let versions = store::trust::versions(&mut conn).await?;
        if let Some(stored) = store::trust::get(&mut conn, subject).await? {
            let served = freshness(
                stored.graph_version,
                stored.as_of,
                stored.valid_until,
                &versions,
                now,
                self.trust.max_staleness(),
            );
            if served != Freshness::Expired {
                tracing::Span::current().record("served", "stored");
                return Ok(from_stored(stored, served == Freshness::Stale));
            }
        }

        // Nothing usable stored. An unknown subject is NOT_FOUND, not a trust of 0 (issue 16). A
        // customer referrals has not met yet is asked of profiles (UNAVAILABLE when profiles
        // cannot answer); a prospect exists only through the vouches for it.
        if is_customer {
            if store::members::get(&mut conn, subject).await?.is_none() {
                self.read_member(subject).await?;
            }
        } else if !store::vouches::prospect_known(&mut conn, subject).await? {
            return Err(ReferralsError::NotFound {
                entity: "prospect",
                id: subject.to_string(),
            });
        }
        // Nobody referred or vouched for them: the last batch's figures answer, no graph needed.
        if !store::trust::connected(&mut conn, subject).await?
            && let Some(run) = store::trust::latest_run(&mut conn).await?
        {
            let served = freshness(
                run.graph_version,
                run.as_of,
                run.valid_until,
                &versions,
                now,
                self.trust.max_staleness(),
            );
            if served != Freshness::Expired {
                tracing::Span::current().record("served", "unconnected");
                let trust = self.unconnected(&mut conn, subject, &run, now).await?;
                let stored = Stored {
                    subject_id: subject,
                    trust,
                    model_version: MODEL_VERSION.to_owned(),
                    graph_version: run.graph_version,
                    as_of: run.as_of,
                    valid_until: run.valid_until,
                };
                return Ok(from_stored(stored, served == Freshness::Stale));
            }
        }
        tracing::Span::current().record("served", "online");
        let snapshot = Snapshot::load(&mut conn, now, &self.rules).await?;
        let mut answer = snapshot.answer(subject);
        if snapshot.connected(&subject) {
            answer.reasons.push(online_reason());
        }
        Ok(response(answer, now))
    }
}

impl ReferralApi {
    /// The answer for a subject with no edge, from the last batch's counts and their standing.
    async fn unconnected(
        &self,
        conn: &mut store::Conn,
        subject: rapport_ids::Id,
        run: &store::trust::Run,
        now: Timestamp,
    ) -> Result<StoredTrust, ReferralsError> {
        let joined_by = snapshot::seed_joined_by(self.today(), &self.rules);
        let standing = match store::members::get(conn, subject).await? {
            Some(member) if member.customer_since <= joined_by => {
                let published = store::standings::get(conn, subject).await?;
                Some(Standing::of(
                    member.active,
                    member.inactive_since,
                    published.as_ref(),
                    now,
                ))
            }
            _ => None,
        };
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        let (signals, reasons) = snapshot::preamble(
            count(run.seeds),
            count(run.removed_seeds),
            self.rules.pretrusted_min_tenure_years,
            standing.as_ref(),
        );
        Ok(snapshot::unconnected(signals, reasons))
    }
}

/// Said when the answer was computed for this call: no batch has stored one for the subject
/// yet (or the stored one is older than `trust.max_staleness_seconds`).
fn online_reason() -> StoredReason {
    stored_reason(
        "TRUST_COMPUTED_ONLINE",
        "No stored trust for them that may be served (none yet, or the graph changed since and it \
         is older than allowed), so it was computed from the whole graph for this answer; the next \
         batch stores it.",
    )
}

fn stored_reason(code: &'static str, message: impl Into<String>) -> StoredReason {
    let reason = Reason::new(
        code,
        ReasonEffect::Neutral,
        "Issue 23: trust is computed in batch and served with its as_of",
        message,
    );
    StoredReason {
        code: reason.code.to_string(),
        message: reason.message,
        rule_ref: reason.rule_ref.to_string(),
        effect: "NEUTRAL".into(),
    }
}

fn from_stored(stored: Stored, stale: bool) -> pb::GetTrustResponse {
    let mut answer = stored.trust;
    if stale {
        answer.reasons.push(stored_reason(
            "TRUST_GRAPH_CHANGED_SINCE",
            format!(
                "Computed at {} from the graph as it was then; it has changed since, and the next batch brings this up to date.",
                stored.as_of
            ),
        ));
    }
    let mut response = response(answer, stored.as_of);
    response.model_version = stored.model_version;
    response
}

fn response(answer: StoredTrust, as_of: Timestamp) -> pb::GetTrustResponse {
    pb::GetTrustResponse {
        score: answer.score.clamp(0.0, 1.0),
        reasons: answer
            .reasons
            .iter()
            .map(super::convert::reason_to_pb)
            .collect(),
        paths: answer
            .paths
            .into_iter()
            .map(|path| pb::TrustPath {
                edges: path
                    .edges
                    .into_iter()
                    .map(|edge| pb::TrustEdge {
                        from_id: edge.from_id,
                        to_id: edge.to_id,
                        kind: match edge.kind.as_str() {
                            "REFERRAL" => pb::TrustEdgeKind::Referral,
                            _ => pb::TrustEdgeKind::Vouch,
                        } as i32,
                        weight: edge.weight,
                    })
                    .collect(),
                contribution: path.contribution,
            })
            .collect(),
        signals: answer
            .signals
            .into_iter()
            .map(|s| pb::TrustSignal {
                code: s.code,
                description: s.description,
                effect: s.effect,
            })
            .collect(),
        computed_at: Some(wire::timestamp_to_pb(as_of)),
        as_of: Some(wire::timestamp_to_pb(as_of)),
        model_version: MODEL_VERSION.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a valid instant")
    }

    #[test]
    fn a_stored_answer_is_exact_until_the_graph_changes_or_its_day_ends_then_stale_for_a_while() {
        let as_of = at("2026-03-02T09:00:00Z");
        let midnight = at("2026-03-03T00:00:00Z");
        let hour = SignedDuration::from_hours(1);
        let at_version = |version| Versions {
            version,
            anchor: -1,
            settled: -1,
        };
        let f =
            |version, now: &str| freshness(7, as_of, midnight, &at_version(version), at(now), hour);
        assert_eq!(f(7, "2026-03-02T23:59:59Z"), Freshness::Exact);
        assert_eq!(f(8, "2026-03-02T09:30:00Z"), Freshness::Stale);
        assert_eq!(f(8, "2026-03-02T09:59:59Z"), Freshness::Stale);
        assert_eq!(f(8, "2026-03-02T10:00:00Z"), Freshness::Expired);
        assert_eq!(f(7, "2026-03-03T00:00:00Z"), Freshness::Expired);
        // No staleness allowed: only an exact answer is served, even at the same instant.
        let strict = freshness(
            7,
            as_of,
            midnight,
            &at_version(8),
            as_of,
            SignedDuration::ZERO,
        );
        assert_eq!(strict, Freshness::Expired);
        let exact = freshness(
            8,
            as_of,
            midnight,
            &at_version(8),
            as_of,
            SignedDuration::ZERO,
        );
        assert_eq!(exact, Freshness::Exact);
    }

    #[test]
    fn an_answer_the_online_updates_did_not_rewrite_is_exact_while_they_keep_up() {
        let as_of = at("2026-03-02T09:00:00Z");
        let midnight = at("2026-03-03T00:00:00Z");
        let strict = |versions: Versions, stored| {
            freshness(
                stored,
                as_of,
                midnight,
                &versions,
                as_of,
                SignedDuration::ZERO,
            )
        };
        let caught_up = Versions {
            version: 9,
            anchor: 7,
            settled: 9,
        };
        assert_eq!(
            strict(caught_up, 7),
            Freshness::Exact,
            "the anchoring batch's"
        );
        assert_eq!(
            strict(caught_up, 8),
            Freshness::Exact,
            "an earlier update's"
        );
        assert_eq!(
            strict(caught_up, 6),
            Freshness::Expired,
            "before the anchor"
        );
        let behind = Versions {
            settled: 8,
            ..caught_up
        };
        assert_eq!(
            strict(behind, 8),
            Freshness::Expired,
            "a change not settled yet"
        );
        assert_eq!(strict(behind, 9), Freshness::Exact);
    }
}
