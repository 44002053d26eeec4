//! What each domain event means to loyalty (`IngestEvents`): the events profiles, plans and
//! referrals publish, and three an outside system may send. Known events loyalty has no use for
//! are accepted and change nothing; an unknown type is rejected so a typo is not silently lost.

use rapport_ids::Id;
use serde_json::Value;

use super::signal::{Kind, Sentiment};

/// What applying one event does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A fact for the score.
    Signal(Kind),
    /// Products held, as reported at the event's time (the latest report wins).
    Products(u32),
    /// Profiles merged a duplicate into the event's customer.
    Merge { duplicate: Id },
    /// Profiles erased the customer: free text goes.
    Erase,
    /// Known, and nothing to apply.
    Nothing,
}

/// Why an event was rejected: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

fn bad_payload(message: impl Into<String>) -> Rejection {
    Rejection {
        code: "INVALID_PAYLOAD",
        message: message.into(),
    }
}

fn field<'a>(payload: &'a Value, name: &str) -> Result<&'a Value, Rejection> {
    payload
        .get(name)
        .ok_or_else(|| bad_payload(format!("payload has no {name:?}")))
}

fn flag(payload: &Value, name: &str) -> Result<bool, Rejection> {
    field(payload, name)?
        .as_bool()
        .ok_or_else(|| bad_payload(format!("payload {name:?} is not true or false")))
}

fn text<'a>(payload: &'a Value, name: &str) -> Result<&'a str, Rejection> {
    field(payload, name)?
        .as_str()
        .ok_or_else(|| bad_payload(format!("payload {name:?} is not text")))
}

/// The meaning of an event of `event_type` with this payload.
pub fn interpret(event_type: &str, payload: &Value) -> Result<Effect, Rejection> {
    use Effect::{Nothing, Signal};
    Ok(match event_type {
        "profiles.customer_created.v1"
        | "profiles.customer_updated.v1"
        | "profiles.consent_changed.v1"
        | "plans.payment_reported.v1"
        | "plans.protection_cleared.v1"
        | "plans.channel_opted_out.v1"
        // Good standing is for referrals; in loyalty, hardship never lowers a score by itself.
        | "plans.standing_changed.v1"
        | "referrals.reward_issued.v1" => Nothing,
        "profiles.customer_merged.v1" => {
            let duplicate = text(payload, "duplicate_customer_id")?;
            Effect::Merge {
                duplicate: Id::parse(duplicate)
                    .map_err(|_| bad_payload("duplicate_customer_id is not an id"))?,
            }
        }
        "profiles.customer_erased.v1" => Effect::Erase,
        "profiles.interaction_recorded.v1" => {
            let sentiment = match text(payload, "sentiment")? {
                "SENTIMENT_POSITIVE" => Sentiment::Positive,
                "SENTIMENT_NEUTRAL" => Sentiment::Neutral,
                "SENTIMENT_NEGATIVE" => Sentiment::Negative,
                "SENTIMENT_MIXED" => Sentiment::Mixed,
                "SENTIMENT_UNSPECIFIED" => Sentiment::Unknown,
                other => return Err(bad_payload(format!("sentiment {other:?} is unknown"))),
            };
            Signal(Kind::Interaction(sentiment))
        }
        // Loyalty's own promise to answer a detractor (recorded in profiles by its outbox
        // worker, promised by "loyalty") is already counted by its follow-up.
        "profiles.commitment_resolved.v1"
            if payload.get("promised_by").and_then(Value::as_str) == Some(crate::NAME) =>
        {
            Nothing
        }
        "profiles.commitment_resolved.v1" => Signal(if flag(payload, "kept")? {
            Kind::CommitmentKept
        } else {
            Kind::CommitmentBroken
        }),
        "plans.hardship_case_opened.v1" => Signal(Kind::HardshipOpened),
        "plans.protection_set.v1" => Signal(Kind::ProtectionSet),
        "plans.plan_accepted.v1" => Signal(Kind::PlanAccepted),
        "plans.installment_paid.v1" => Signal(Kind::InstallmentPaid),
        "plans.installment_missed.v1" => Signal(Kind::InstallmentMissed),
        "plans.plan_completed.v1" => Signal(Kind::PlanCompleted),
        "plans.plan_broken.v1" => Signal(Kind::PlanBroken),
        "plans.plan_cancelled.v1" => Signal(Kind::PlanCancelled),
        "plans.promise_resolved.v1" => Signal(if flag(payload, "kept")? {
            Kind::PromiseKept
        } else {
            Kind::PromiseBroken
        }),
        "referrals.referral_created.v1" => Signal(Kind::ReferralMade),
        "referrals.referral_qualified.v1" => Signal(Kind::ReferralQualified),
        "referrals.vouch_requested.v1" => Signal(Kind::VouchRequested),
        "referrals.vouch_answered.v1" => Signal(Kind::VouchAnswered {
            vouched: text(payload, "answer")? == "VOUCH_ANSWER_VOUCH",
        }),
        // From outside systems: a survey tool, a complaints system, core banking.
        "surveys.survey_sent.v1" => Signal(Kind::SurveySent),
        "complaints.complaint_logged.v1" => Signal(Kind::Complaint),
        "core.products_held.v1" => {
            // Struct numbers are doubles; a count is a whole number ≥ 0.
            let count = field(payload, "count")?
                .as_f64()
                .filter(|c| c.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(c))
                .ok_or_else(|| {
                    bad_payload("payload \"count\" is not a whole number of products")
                })?;
            Effect::Products(count as u32)
        }
        other => {
            return Err(Rejection {
                code: "UNKNOWN_EVENT_TYPE",
                message: format!("loyalty does not know events of type {other:?}"),
            });
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn producers_events_mean_what_they_say() {
        assert_eq!(
            interpret("plans.installment_paid.v1", &json!({})),
            Ok(Effect::Signal(Kind::InstallmentPaid))
        );
        assert_eq!(
            interpret(
                "referrals.vouch_answered.v1",
                &json!({"answer": "VOUCH_ANSWER_VOUCH"})
            ),
            Ok(Effect::Signal(Kind::VouchAnswered { vouched: true }))
        );
        assert_eq!(
            interpret(
                "referrals.vouch_answered.v1",
                &json!({"answer": "VOUCH_ANSWER_DONT_KNOW"})
            ),
            Ok(Effect::Signal(Kind::VouchAnswered { vouched: false }))
        );
        assert_eq!(
            interpret("profiles.commitment_resolved.v1", &json!({"kept": false})),
            Ok(Effect::Signal(Kind::CommitmentBroken))
        );
        assert_eq!(
            interpret("core.products_held.v1", &json!({"count": 3.0})),
            Ok(Effect::Products(3))
        );
        assert_eq!(
            interpret("profiles.customer_created.v1", &json!({})),
            Ok(Effect::Nothing)
        );
    }

    #[test]
    fn bad_events_are_named() {
        assert_eq!(
            interpret("plans.teleported.v1", &json!({}))
                .unwrap_err()
                .code,
            "UNKNOWN_EVENT_TYPE"
        );
        let missing = interpret("profiles.commitment_resolved.v1", &json!({})).unwrap_err();
        assert_eq!(missing.code, "INVALID_PAYLOAD");
        assert!(missing.message.contains("kept"));
        assert!(interpret("core.products_held.v1", &json!({"count": 2.5})).is_err());
        assert!(interpret("core.products_held.v1", &json!({"count": -1.0})).is_err());
        assert!(
            interpret(
                "profiles.interaction_recorded.v1",
                &json!({"sentiment": "ELATED"})
            )
            .is_err()
        );
    }
}
