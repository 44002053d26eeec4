//! Vouching: asking an existing customer for their word on a prospect.

use jiff::SignedDuration;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::referrals::v1 as pb;
use rapport_wire as wire;

use super::convert::vouch_to_pb;
use super::{ReferralApi, commit, not_found};
use crate::domain::events::ReferralEvent;
use crate::error::ReferralsError;
use crate::store::referrals::Prospect;
use crate::store::vouches::Vouch;
use crate::store::{self};

/// The existing prospect a vouch is asked about, for the span (empty for a new prospect).
fn prospect_id(r: &pb::RequestVouchRequest) -> &str {
    match &r.prospect {
        Some(pb::request_vouch_request::Prospect::ProspectId(id)) => id,
        _ => "",
    }
}

/// The customer a vouch is asked about, for the span (empty when the prospect is not one).
fn prospect_customer_id(r: &pb::RequestVouchRequest) -> &str {
    match &r.prospect {
        Some(pb::request_vouch_request::Prospect::ProspectCustomerId(id)) => id,
        _ => "",
    }
}

impl ReferralApi {
    #[tracing::instrument(
        skip_all,
        fields(
            voucher_customer_id = super::traced_id(&r.voucher_customer_id),
            prospect_id = super::traced_id(prospect_id(&r)),
            prospect_customer_id = super::traced_id(prospect_customer_id(&r))
        )
    )]
    pub(super) async fn request_vouch(
        &self,
        r: pb::RequestVouchRequest,
    ) -> Result<pb::RequestVouchResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let voucher = wire::id("voucher_customer_id", &r.voucher_customer_id, &mut v);
        let requested_by = wire::actor("requested_by", r.requested_by.as_ref(), &mut v);
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        enum Subject {
            Prospect(Id),
            Customer(Id),
            New(pb::ProspectContact),
        }
        let subject = match &r.prospect {
            Some(pb::request_vouch_request::Prospect::ProspectId(id)) => {
                wire::id("prospect_id", id, &mut v).map(Subject::Prospect)
            }
            Some(pb::request_vouch_request::Prospect::ProspectCustomerId(id)) => {
                wire::id("prospect_customer_id", id, &mut v).map(Subject::Customer)
            }
            Some(pb::request_vouch_request::Prospect::NewProspect(contact)) => {
                Some(Subject::New(contact.clone()))
            }
            None => {
                v.add(
                    "prospect",
                    "name the prospect: prospect_id, prospect_customer_id or new_prospect",
                );
                None
            }
        };
        if let (Some(voucher), Some(Subject::Customer(prospect))) = (voucher, &subject)
            && voucher == *prospect
        {
            v.add(
                "prospect_customer_id",
                "is the voucher: nobody can vouch for themselves",
            );
        }
        v.clone().finish()?;
        let invalid = || ReferralsError::Invalid(v.clone());
        let voucher = voucher.ok_or_else(invalid)?;

        // A prospect named as a customer must be one profiles knows (issue 16).
        if let Some(Subject::Customer(prospect)) = &subject {
            self.read_member(*prospect).await?;
        }
        // DESIGN.md: a voucher is a customer of at least 6 months in good standing (good
        // standing as plans publishes it, with profiles' status: `domain::standing`).
        let member = self.member(voucher).await?;
        let months = member.tenure_months(self.today());
        if !member.good_standing()
            || months < i32::try_from(self.rules.voucher_min_tenure_months).unwrap_or(i32::MAX)
        {
            return Err(ReferralsError::FailedPrecondition(format!(
                "only customers of at least {} months in good standing can vouch (this one: {} months{})",
                self.rules.voucher_min_tenure_months,
                months.max(0),
                if member.good_standing() {
                    String::new()
                } else {
                    format!(", not in good standing: {}", member.standing.why_not())
                }
            )));
        }
        let mut tx = self.write().await?;
        if let Some(request_id) = &request_id
            && let Some(earlier) = store::vouches::by_request(&mut tx, request_id).await?
        {
            return Ok(pb::RequestVouchResponse {
                vouch: Some(vouch_to_pb(&earlier)),
            });
        }
        // DESIGN.md: at most K vouch requests per voucher per 30 days.
        let recent = store::vouches::requests_since(
            &mut tx,
            voucher,
            now - SignedDuration::from_hours(24 * 30),
        )
        .await?;
        if recent >= i64::from(self.rules.vouch_requests_per_30_days) {
            return Err(ReferralsError::FailedPrecondition(format!(
                "this customer was already asked {recent} times in 30 days (at most {}); we do not pester people who trust us",
                self.rules.vouch_requests_per_30_days
            )));
        }
        let (prospect_id, prospect_customer_id) = match subject.ok_or_else(invalid)? {
            Subject::Prospect(id) => {
                let prospect = store::referrals::prospect(&mut tx, id)
                    .await?
                    .ok_or_else(|| not_found("prospect", id))?;
                if prospect.customer_id == Some(voucher) {
                    return Err(Validation::single(
                        "prospect_id",
                        "is the voucher: nobody can vouch for themselves",
                    )
                    .into());
                }
                (id, prospect.customer_id)
            }
            Subject::Customer(id) => {
                let prospect = Prospect {
                    id: Id::new(),
                    name: String::new(),
                    email: String::new(),
                    phone: String::new(),
                    address: String::new(),
                    customer_id: Some(id),
                };
                store::referrals::insert_prospect(&mut tx, &prospect, now).await?;
                (prospect.id, Some(id))
            }
            Subject::New(contact) => {
                let prospect = Prospect {
                    id: Id::new(),
                    name: contact.name.clone(),
                    email: crate::domain::fraud::normalise_email(&contact.email)
                        .unwrap_or_default(),
                    phone: crate::domain::fraud::normalise_phone(&contact.phone)
                        .unwrap_or_default(),
                    address: String::new(),
                    customer_id: None,
                };
                store::referrals::insert_prospect(&mut tx, &prospect, now).await?;
                (prospect.id, None)
            }
        };
        let requested_by = requested_by.ok_or_else(invalid)?;
        let vouch = Vouch {
            id: Id::new(),
            voucher_id: voucher,
            prospect_id,
            prospect_customer_id,
            status: pb::VouchStatus::Requested,
            relationship: pb::Relationship::Unspecified,
            years_known: 0,
            comment: String::new(),
            requested_by: (requested_by.kind, requested_by.id),
            requested_at: now,
            responded_at: None,
        };
        store::vouches::insert(&mut tx, &vouch, request_id.as_deref()).await?;
        rapport_outbox::append(
            &mut tx,
            &ReferralEvent::VouchRequested {
                voucher_id: voucher,
                vouch_id: vouch.id,
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::RequestVouchResponse {
            vouch: Some(vouch_to_pb(&vouch)),
        })
    }

    #[tracing::instrument(skip_all, fields(vouch_id = super::traced_id(&r.vouch_id)))]
    pub(super) async fn respond(
        &self,
        r: pb::RespondToVouchRequest,
    ) -> Result<pb::RespondToVouchResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let vouch_id = wire::id("vouch_id", &r.vouch_id, &mut v);
        let answer = wire::known_enum(
            "answer",
            r.answer,
            |a| pb::VouchAnswer::try_from(a).ok(),
            pb::VouchAnswer::Unspecified,
            &mut v,
        );
        let relationship = wire::optional_enum(
            "relationship",
            r.relationship,
            |a| pb::Relationship::try_from(a).ok(),
            &mut v,
        );
        if answer == Some(pb::VouchAnswer::Vouch)
            && relationship == Some(pb::Relationship::Unspecified)
        {
            v.add("relationship", "is required when vouching");
        }
        let years = u32::try_from(r.years_known).ok().filter(|y| *y <= 100);
        if years.is_none() {
            v.add("years_known", "must be between 0 and 100");
        }
        let comment = wire::optional_text("comment", &r.comment, wire::MAX_TEXT_CHARS, &mut v);
        v.clone().finish()?;
        let invalid = || ReferralsError::Invalid(v.clone());
        let (vouch_id, answer) = (vouch_id.ok_or_else(invalid)?, answer.ok_or_else(invalid)?);
        let mut tx = self.write().await?;
        let mut vouch = store::vouches::get(&mut tx, vouch_id)
            .await?
            .ok_or_else(|| not_found("vouch", vouch_id))?;
        if vouch.status != pb::VouchStatus::Requested {
            return Err(ReferralsError::FailedPrecondition(format!(
                "vouch {vouch_id} was already answered"
            )));
        }
        vouch.status = match answer {
            pb::VouchAnswer::Vouch => pb::VouchStatus::Vouched,
            pb::VouchAnswer::Decline => pb::VouchStatus::Declined,
            _ => pb::VouchStatus::DontKnow,
        };
        vouch.relationship = relationship.ok_or_else(invalid)?;
        vouch.years_known = years.ok_or_else(invalid)?;
        vouch.comment = comment.ok_or_else(invalid)?;
        vouch.responded_at = Some(now);
        if !store::vouches::save_answer(&mut tx, &vouch).await? {
            return Err(ReferralsError::FailedPrecondition(format!(
                "vouch {vouch_id} was already answered"
            )));
        }
        if vouch.status == pb::VouchStatus::Vouched {
            // A new edge, voucher → prospect: stored trust is stale from this commit.
            store::trust::graph_changed(&mut tx, now).await?;
        }
        rapport_outbox::append(
            &mut tx,
            &ReferralEvent::VouchAnswered {
                voucher_id: vouch.voucher_id,
                vouch_id,
                answer: answer.as_str_name(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::RespondToVouchResponse {
            vouch: Some(vouch_to_pb(&vouch)),
        })
    }
}
