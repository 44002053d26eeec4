//! `DomainEvent.typed_payload`: the producers' events as their own messages
//! (`proto/rapport/<producer>/v1/events.proto`), read before the JSON `payload`. The match in
//! [`interpret`] has no catch-all: a message added to [`TypedEvent`] does not compile until
//! loyalty says what it means, or that it means nothing.

use prost::Message;
use prost_types::Any;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::referrals::v1 as referrals;

use crate::domain::ingest::{Effect, Rejection};
use crate::domain::signal::{Kind, Sentiment};

fn bad_payload(message: impl Into<String>) -> Rejection {
    Rejection {
        code: "INVALID_PAYLOAD",
        message: message.into(),
    }
}

macro_rules! typed_events {
    ($($variant:ident($message:ty) = $event_type:literal, $name:literal;)*) => {
        /// A producer's event, decoded from its typed message.
        #[derive(Debug, Clone, PartialEq)]
        pub(crate) enum TypedEvent {
            $($variant($message),)*
        }

        /// Full names of the messages loyalty decodes, with their event types.
        #[cfg(test)]
        pub(crate) const DECODED: &[(&str, &str)] = &[$(($event_type, $name),)*];

        impl TypedEvent {
            /// `Ok(None)`: a message loyalty does not know (a newer producer's version), so the
            /// JSON payload is read instead.
            pub(crate) fn decode(any: &Any) -> Result<Option<Self>, Rejection> {
                // Any's type URL ends in the message's full name after its last '/'.
                let name = any.type_url.rsplit('/').next().unwrap_or_default();
                Ok(Some(match name {
                    $($name => Self::$variant(
                        <$message>::decode(any.value.as_slice()).map_err(|_| {
                            bad_payload(format!("typed_payload is not a valid {}", $name))
                        })?,
                    ),)*
                    _ => return Ok(None),
                }))
            }

            /// The event type this message carries.
            pub(crate) fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $event_type,)*
                }
            }
        }
    };
}

typed_events! {
    CustomerCreated(profiles::CustomerCreated) =
        "profiles.customer_created.v1", "rapport.profiles.v1.CustomerCreated";
    CustomerUpdated(profiles::CustomerUpdated) =
        "profiles.customer_updated.v1", "rapport.profiles.v1.CustomerUpdated";
    CustomerMerged(profiles::CustomerMerged) =
        "profiles.customer_merged.v1", "rapport.profiles.v1.CustomerMerged";
    CustomerErased(profiles::CustomerErased) =
        "profiles.customer_erased.v1", "rapport.profiles.v1.CustomerErased";
    InteractionRecorded(profiles::InteractionRecorded) =
        "profiles.interaction_recorded.v1", "rapport.profiles.v1.InteractionRecorded";
    CommitmentResolved(profiles::CommitmentResolved) =
        "profiles.commitment_resolved.v1", "rapport.profiles.v1.CommitmentResolved";
    ConsentChanged(profiles::ConsentChanged) =
        "profiles.consent_changed.v1", "rapport.profiles.v1.ConsentChanged";
    PaymentReported(plans::PaymentReported) =
        "plans.payment_reported.v1", "rapport.plans.v1.PaymentReported";
    HardshipCaseOpened(plans::HardshipCaseOpened) =
        "plans.hardship_case_opened.v1", "rapport.plans.v1.HardshipCaseOpened";
    ProtectionSet(plans::ProtectionSet) =
        "plans.protection_set.v1", "rapport.plans.v1.ProtectionSet";
    ProtectionCleared(plans::ProtectionCleared) =
        "plans.protection_cleared.v1", "rapport.plans.v1.ProtectionCleared";
    PlanAccepted(plans::PlanAccepted) =
        "plans.plan_accepted.v1", "rapport.plans.v1.PlanAccepted";
    InstallmentPaid(plans::InstallmentPaid) =
        "plans.installment_paid.v1", "rapport.plans.v1.InstallmentPaid";
    InstallmentMissed(plans::InstallmentMissed) =
        "plans.installment_missed.v1", "rapport.plans.v1.InstallmentMissed";
    PlanCompleted(plans::PlanCompleted) =
        "plans.plan_completed.v1", "rapport.plans.v1.PlanCompleted";
    PlanBroken(plans::PlanBroken) =
        "plans.plan_broken.v1", "rapport.plans.v1.PlanBroken";
    PlanCancelled(plans::PlanCancelled) =
        "plans.plan_cancelled.v1", "rapport.plans.v1.PlanCancelled";
    PromiseResolved(plans::PromiseResolved) =
        "plans.promise_resolved.v1", "rapport.plans.v1.PromiseResolved";
    ChannelOptedOut(plans::ChannelOptedOut) =
        "plans.channel_opted_out.v1", "rapport.plans.v1.ChannelOptedOut";
    StandingChanged(plans::StandingChanged) =
        "plans.standing_changed.v1", "rapport.plans.v1.StandingChanged";
    ReferralCreated(referrals::ReferralCreated) =
        "referrals.referral_created.v1", "rapport.referrals.v1.ReferralCreated";
    ReferralQualified(referrals::ReferralQualified) =
        "referrals.referral_qualified.v1", "rapport.referrals.v1.ReferralQualified";
    RewardIssued(referrals::RewardIssued) =
        "referrals.reward_issued.v1", "rapport.referrals.v1.RewardIssued";
    VouchRequested(referrals::VouchRequested) =
        "referrals.vouch_requested.v1", "rapport.referrals.v1.VouchRequested";
    VouchAnswered(referrals::VouchAnswered) =
        "referrals.vouch_answered.v1", "rapport.referrals.v1.VouchAnswered";
}

/// The meaning of a typed event sent as `event_type` (the same as `domain::ingest::interpret`
/// gives its JSON body; the tests compare the two).
pub(crate) fn interpret(event_type: &str, event: &TypedEvent) -> Result<Effect, Rejection> {
    use Effect::{Nothing, Signal};
    use TypedEvent as E;
    if event.event_type() != event_type {
        return Err(bad_payload(format!(
            "typed_payload carries {:?}, not {event_type:?}",
            event.event_type()
        )));
    }
    Ok(match event {
        E::CustomerCreated(_)
        | E::CustomerUpdated(_)
        | E::ConsentChanged(_)
        | E::PaymentReported(_)
        | E::ProtectionCleared(_)
        | E::ChannelOptedOut(_)
        // Good standing is for referrals; in loyalty, hardship never lowers a score by itself.
        | E::StandingChanged(_)
        | E::RewardIssued(_) => Nothing,
        E::CustomerMerged(merged) => Effect::Merge {
            duplicate: Id::parse(&merged.duplicate_customer_id)
                .map_err(|_| bad_payload("duplicate_customer_id is not an id"))?,
        },
        E::CustomerErased(_) => Effect::Erase,
        E::InteractionRecorded(seen) => {
            let sentiment = match common::Sentiment::try_from(seen.sentiment) {
                Ok(common::Sentiment::Positive) => Sentiment::Positive,
                Ok(common::Sentiment::Neutral) => Sentiment::Neutral,
                Ok(common::Sentiment::Negative) => Sentiment::Negative,
                Ok(common::Sentiment::Mixed) => Sentiment::Mixed,
                Ok(common::Sentiment::Unspecified) => Sentiment::Unknown,
                Err(_) => {
                    return Err(bad_payload(format!(
                        "sentiment {} is unknown",
                        seen.sentiment
                    )));
                }
            };
            Signal(Kind::Interaction(sentiment))
        }
        // Loyalty's own promise to answer a detractor is already counted by its follow-up.
        E::CommitmentResolved(c) if c.promised_by == crate::NAME => Nothing,
        E::CommitmentResolved(c) => Signal(if c.kept {
            Kind::CommitmentKept
        } else {
            Kind::CommitmentBroken
        }),
        E::HardshipCaseOpened(_) => Signal(Kind::HardshipOpened),
        E::ProtectionSet(_) => Signal(Kind::ProtectionSet),
        E::PlanAccepted(_) => Signal(Kind::PlanAccepted),
        E::InstallmentPaid(_) => Signal(Kind::InstallmentPaid),
        E::InstallmentMissed(_) => Signal(Kind::InstallmentMissed),
        E::PlanCompleted(_) => Signal(Kind::PlanCompleted),
        E::PlanBroken(_) => Signal(Kind::PlanBroken),
        E::PlanCancelled(_) => Signal(Kind::PlanCancelled),
        E::PromiseResolved(p) => Signal(if p.kept {
            Kind::PromiseKept
        } else {
            Kind::PromiseBroken
        }),
        E::ReferralCreated(_) => Signal(Kind::ReferralMade),
        E::ReferralQualified(_) => Signal(Kind::ReferralQualified),
        E::VouchRequested(_) => Signal(Kind::VouchRequested),
        E::VouchAnswered(v) => Signal(Kind::VouchAnswered {
            vouched: v.answer() == referrals::VouchAnswer::Vouch,
        }),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::ingest as json_ingest;

    /// A body each producer could write for its event (the shape of its outbox payload).
    fn sample(event_type: &str) -> Value {
        let id = Id::new().to_string();
        match event_type {
            "profiles.customer_merged.v1" => {
                json!({"survivor_customer_id": Id::new().to_string(), "duplicate_customer_id": id})
            }
            "profiles.interaction_recorded.v1" => {
                json!({"customer_id": id, "channel": "CHANNEL_SMS",
                    "sentiment": "SENTIMENT_NEGATIVE"})
            }
            "profiles.commitment_resolved.v1" => {
                json!({"customer_id": id, "kept": true, "promised_by": "agent-7"})
            }
            "plans.promise_resolved.v1" => json!({"customer_id": id, "kept": false}),
            "referrals.vouch_answered.v1" => {
                json!({"customer_id": id, "answer": "VOUCH_ANSWER_VOUCH"})
            }
            _ => json!({"customer_id": id}),
        }
    }

    #[test]
    fn every_event_a_producer_publishes_is_decoded_and_interpreted() {
        // TYPED_EVENTS is the list each producer's test checks its own events against.
        let decoded: Vec<_> = DECODED.to_vec();
        assert_eq!(decoded, rapport_clients::TYPED_EVENTS.to_vec());
        for (event_type, _) in rapport_clients::TYPED_EVENTS {
            let body = sample(event_type);
            let any = rapport_clients::typed_payload(event_type, &body).unwrap();
            let typed = TypedEvent::decode(&any).unwrap().unwrap();
            let meaning = interpret(event_type, &typed);
            assert!(meaning.is_ok(), "{event_type}: {meaning:?}");
            // The typed message means what its JSON body meant before typed events existed.
            assert_eq!(
                meaning,
                json_ingest::interpret(event_type, &body),
                "{event_type}"
            );
        }
    }

    #[test]
    fn a_typed_body_must_be_the_event_type_it_is_sent_as() {
        let any = rapport_clients::typed_payload("plans.plan_broken.v1", &json!({})).unwrap();
        let typed = TypedEvent::decode(&any).unwrap().unwrap();
        let refused = interpret("plans.plan_completed.v1", &typed).unwrap_err();
        assert_eq!(refused.code, "INVALID_PAYLOAD");
        let broken = Any {
            type_url: "type.googleapis.com/rapport.plans.v1.PlanBroken".into(),
            value: vec![0xff, 0xff],
        };
        assert_eq!(
            TypedEvent::decode(&broken).unwrap_err().code,
            "INVALID_PAYLOAD"
        );
        let newer = Any {
            type_url: "type.googleapis.com/rapport.plans.v1.PlanBrokenV2".into(),
            value: vec![],
        };
        assert_eq!(TypedEvent::decode(&newer).unwrap(), None);
    }
}
