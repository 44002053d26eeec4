//! The typed encoding of the producers' domain events (`DomainEvent.typed_payload`, issue 22
//! item 5): the outbox row keeps its JSON body, and delivery adds the producer's own message
//! (`proto/rapport/<producer>/v1/events.proto`) beside it, so a consumer decodes a message whose
//! shape the schema fixes instead of reading field names out of a `Struct`.
//!
//! [`TYPED_EVENTS`] is the one list of what Rapport's producers publish: each producer's test
//! checks its event enum against it, and loyalty's test checks it interprets or ignores each.

use prost::Message;
use prost_types::Any;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::referrals::v1 as referrals;
use serde_json::Value;

/// Every event type profiles, plans and referrals publish, with the message that carries it.
pub const TYPED_EVENTS: &[(&str, &str)] = &[
    (
        "profiles.customer_created.v1",
        "rapport.profiles.v1.CustomerCreated",
    ),
    (
        "profiles.customer_updated.v1",
        "rapport.profiles.v1.CustomerUpdated",
    ),
    (
        "profiles.customer_merged.v1",
        "rapport.profiles.v1.CustomerMerged",
    ),
    (
        "profiles.customer_erased.v1",
        "rapport.profiles.v1.CustomerErased",
    ),
    (
        "profiles.interaction_recorded.v1",
        "rapport.profiles.v1.InteractionRecorded",
    ),
    (
        "profiles.commitment_resolved.v1",
        "rapport.profiles.v1.CommitmentResolved",
    ),
    (
        "profiles.consent_changed.v1",
        "rapport.profiles.v1.ConsentChanged",
    ),
    (
        "plans.payment_reported.v1",
        "rapport.plans.v1.PaymentReported",
    ),
    (
        "plans.hardship_case_opened.v1",
        "rapport.plans.v1.HardshipCaseOpened",
    ),
    ("plans.protection_set.v1", "rapport.plans.v1.ProtectionSet"),
    (
        "plans.protection_cleared.v1",
        "rapport.plans.v1.ProtectionCleared",
    ),
    ("plans.plan_accepted.v1", "rapport.plans.v1.PlanAccepted"),
    (
        "plans.installment_paid.v1",
        "rapport.plans.v1.InstallmentPaid",
    ),
    (
        "plans.installment_missed.v1",
        "rapport.plans.v1.InstallmentMissed",
    ),
    ("plans.plan_completed.v1", "rapport.plans.v1.PlanCompleted"),
    ("plans.plan_broken.v1", "rapport.plans.v1.PlanBroken"),
    ("plans.plan_cancelled.v1", "rapport.plans.v1.PlanCancelled"),
    (
        "plans.promise_resolved.v1",
        "rapport.plans.v1.PromiseResolved",
    ),
    (
        "plans.channel_opted_out.v1",
        "rapport.plans.v1.ChannelOptedOut",
    ),
    (
        "plans.standing_changed.v1",
        "rapport.plans.v1.StandingChanged",
    ),
    (
        "referrals.referral_created.v1",
        "rapport.referrals.v1.ReferralCreated",
    ),
    (
        "referrals.referral_qualified.v1",
        "rapport.referrals.v1.ReferralQualified",
    ),
    (
        "referrals.reward_issued.v1",
        "rapport.referrals.v1.RewardIssued",
    ),
    (
        "referrals.vouch_requested.v1",
        "rapport.referrals.v1.VouchRequested",
    ),
    (
        "referrals.vouch_answered.v1",
        "rapport.referrals.v1.VouchAnswered",
    ),
];

/// `Any.type_url`'s prefix (the one every protobuf runtime writes and reads).
pub const TYPE_URL_PREFIX: &str = "type.googleapis.com/";

/// The message carrying events of `event_type`, if a Rapport producer publishes them.
pub fn typed_message_name(event_type: &str) -> Option<&'static str> {
    TYPED_EVENTS
        .iter()
        .find(|(t, _)| *t == event_type)
        .map(|(_, name)| *name)
}

fn any(name: &str, message: &impl Message) -> Any {
    Any {
        type_url: format!("{TYPE_URL_PREFIX}{name}"),
        value: message.encode_to_vec(),
    }
}

fn text(payload: &Value, name: &str) -> String {
    payload
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn flag(payload: &Value, name: &str) -> bool {
    payload.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn count(payload: &Value, name: &str) -> u32 {
    payload
        .get(name)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

fn channel(payload: &Value) -> i32 {
    common::Channel::from_str_name(&text(payload, "channel")).map_or(0, |c| c as i32)
}

fn timestamp(payload: &Value, name: &str) -> Option<prost_types::Timestamp> {
    let at: jiff::Timestamp = text(payload, name).parse().ok()?;
    Some(prost_types::Timestamp {
        seconds: at.as_second(),
        nanos: at.subsec_nanosecond(),
    })
}

/// Every field of a standing reason other than its code, effect and message, as text.
fn standing_reason(reason: &Value) -> plans::StandingChangedReason {
    let params = reason
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "code" | "effect" | "message"))
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k.clone(), v)
        })
        .collect();
    plans::StandingChangedReason {
        code: text(reason, "code"),
        effect: text(reason, "effect"),
        message: text(reason, "message"),
        params,
    }
}

/// The typed encoding of a producer's outbox event: its JSON body (as the producer wrote it)
/// in the producer's message. `None` for a type no producer publishes (loyalty's own events,
/// which no consumer ingests).
pub fn typed_payload(event_type: &str, payload: &Value) -> Option<Any> {
    let name = typed_message_name(event_type)?;
    let p = payload;
    let customer_id = text(p, "customer_id");
    Some(match event_type {
        "profiles.customer_created.v1" => any(name, &profiles::CustomerCreated { customer_id }),
        "profiles.customer_updated.v1" => any(
            name,
            &profiles::CustomerUpdated {
                customer_id,
                fields: p
                    .get("fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect(),
            },
        ),
        "profiles.customer_merged.v1" => any(
            name,
            &profiles::CustomerMerged {
                survivor_customer_id: text(p, "survivor_customer_id"),
                duplicate_customer_id: text(p, "duplicate_customer_id"),
            },
        ),
        "profiles.customer_erased.v1" => any(name, &profiles::CustomerErased { customer_id }),
        "profiles.interaction_recorded.v1" => any(
            name,
            &profiles::InteractionRecorded {
                customer_id,
                interaction_id: text(p, "interaction_id"),
                channel: channel(p),
                sentiment: common::Sentiment::from_str_name(&text(p, "sentiment"))
                    .map_or(0, |s| s as i32),
            },
        ),
        "profiles.commitment_resolved.v1" => any(
            name,
            &profiles::CommitmentResolved {
                customer_id,
                commitment_id: text(p, "commitment_id"),
                kept: flag(p, "kept"),
                promised_by: text(p, "promised_by"),
            },
        ),
        "profiles.consent_changed.v1" => any(
            name,
            &profiles::ConsentChanged {
                customer_id,
                purpose: text(p, "purpose"),
                channel: channel(p),
                status: text(p, "status"),
            },
        ),
        "plans.payment_reported.v1" => {
            let amount = p.get("amount").unwrap_or(&Value::Null);
            any(
                name,
                &plans::PaymentReported {
                    customer_id,
                    account_id: text(p, "account_id"),
                    amount: Some(common::Money {
                        currency_code: text(amount, "currency_code"),
                        minor_units: text(amount, "minor_units").parse().unwrap_or(0),
                    }),
                },
            )
        }
        "plans.hardship_case_opened.v1" => any(
            name,
            &plans::HardshipCaseOpened {
                customer_id,
                case_id: text(p, "case_id"),
                reason: text(p, "reason"),
            },
        ),
        "plans.protection_set.v1" => any(
            name,
            &plans::ProtectionSet {
                customer_id,
                protection_id: text(p, "protection_id"),
                kind: text(p, "kind"),
            },
        ),
        "plans.protection_cleared.v1" => any(
            name,
            &plans::ProtectionCleared {
                customer_id,
                protection_id: text(p, "protection_id"),
                kind: text(p, "kind"),
            },
        ),
        "plans.plan_accepted.v1" => any(
            name,
            &plans::PlanAccepted {
                customer_id,
                account_id: text(p, "account_id"),
                plan_id: text(p, "plan_id"),
                kind: text(p, "kind"),
            },
        ),
        "plans.installment_paid.v1" => any(
            name,
            &plans::InstallmentPaid {
                customer_id,
                plan_id: text(p, "plan_id"),
                sequence: count(p, "sequence"),
            },
        ),
        "plans.installment_missed.v1" => any(
            name,
            &plans::InstallmentMissed {
                customer_id,
                plan_id: text(p, "plan_id"),
                sequence: count(p, "sequence"),
                consecutive_missed: count(p, "consecutive_missed"),
                check_in: flag(p, "check_in"),
            },
        ),
        "plans.plan_completed.v1" => any(
            name,
            &plans::PlanCompleted {
                customer_id,
                plan_id: text(p, "plan_id"),
            },
        ),
        "plans.plan_broken.v1" => any(
            name,
            &plans::PlanBroken {
                customer_id,
                plan_id: text(p, "plan_id"),
            },
        ),
        "plans.plan_cancelled.v1" => any(
            name,
            &plans::PlanCancelled {
                customer_id,
                plan_id: text(p, "plan_id"),
            },
        ),
        "plans.promise_resolved.v1" => any(
            name,
            &plans::PromiseResolved {
                customer_id,
                promise_id: text(p, "promise_id"),
                kept: flag(p, "kept"),
            },
        ),
        "plans.channel_opted_out.v1" => any(
            name,
            &plans::ChannelOptedOut {
                customer_id,
                account_id: text(p, "account_id"),
                channel: channel(p),
            },
        ),
        "plans.standing_changed.v1" => any(
            name,
            &plans::StandingChanged {
                customer_id,
                in_good_standing: flag(p, "in_good_standing"),
                since: timestamp(p, "since"),
                reasons: p
                    .get("reasons")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(standing_reason)
                    .collect(),
                rule_ref: text(p, "rule_ref"),
            },
        ),
        "referrals.referral_created.v1" => any(
            name,
            &referrals::ReferralCreated {
                customer_id,
                referral_id: text(p, "referral_id"),
            },
        ),
        "referrals.referral_qualified.v1" => any(
            name,
            &referrals::ReferralQualified {
                customer_id,
                referral_id: text(p, "referral_id"),
            },
        ),
        "referrals.reward_issued.v1" => any(
            name,
            &referrals::RewardIssued {
                customer_id,
                reward_id: text(p, "reward_id"),
                referral_id: text(p, "referral_id"),
            },
        ),
        "referrals.vouch_requested.v1" => any(
            name,
            &referrals::VouchRequested {
                customer_id,
                vouch_id: text(p, "vouch_id"),
            },
        ),
        "referrals.vouch_answered.v1" => any(
            name,
            &referrals::VouchAnswered {
                customer_id,
                vouch_id: text(p, "vouch_id"),
                answer: referrals::VouchAnswer::from_str_name(&text(p, "answer"))
                    .map_or(0, |a| a as i32),
            },
        ),
        // TYPED_EVENTS names a type this match forgot: the test below catches it.
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_event_type_has_its_typed_encoding() {
        for (event_type, name) in TYPED_EVENTS {
            let any = typed_payload(event_type, &serde_json::json!({}))
                .unwrap_or_else(|| panic!("{event_type} has no typed encoding"));
            assert_eq!(any.type_url, format!("{TYPE_URL_PREFIX}{name}"));
        }
        assert_eq!(
            typed_payload("loyalty.reward_issued.v1", &serde_json::json!({})),
            None
        );
    }

    #[test]
    fn a_typed_body_keeps_what_the_json_said() {
        let any = typed_payload(
            "plans.payment_reported.v1",
            &serde_json::json!({"customer_id": "c", "account_id": "a",
                "amount": {"currency_code": "EUR", "minor_units": "1234"}}),
        )
        .unwrap();
        let paid = plans::PaymentReported::decode(any.value.as_slice()).unwrap();
        assert_eq!(paid.customer_id, "c");
        assert_eq!(paid.amount.unwrap().minor_units, 1234);
        let any = typed_payload(
            "profiles.interaction_recorded.v1",
            &serde_json::json!({"customer_id": "c", "channel": "CHANNEL_SMS",
                "sentiment": "SENTIMENT_NEGATIVE"}),
        )
        .unwrap();
        let seen = profiles::InteractionRecorded::decode(any.value.as_slice()).unwrap();
        assert_eq!(seen.sentiment(), common::Sentiment::Negative);
        assert_eq!(seen.channel(), common::Channel::Sms);
    }
}

/// Whether a producer's events agree everywhere they are named (the event contract, issue 22):
/// `written`, the type and JSON body of one event of each kind it writes; `listed`, its list of
/// event types; `source`, the file whose `event_type` match names them (lines `=> "<producer>.…"`);
/// and [`TYPED_EVENTS`]. Every body must become its typed message. The first disagreement, said.
pub fn producer_events_agree(
    producer: &str,
    listed: &[&str],
    written: &[(&str, Value)],
    source: &str,
) -> Result<(), String> {
    use std::collections::BTreeSet;
    let prefix = format!("{producer}.");
    let written_types: BTreeSet<&str> = written.iter().map(|(t, _)| *t).collect();
    if written_types.len() != written.len() {
        return Err(format!("{producer}: two kinds of event share a type"));
    }
    let listed: BTreeSet<&str> = listed.iter().copied().collect();
    if written_types != listed {
        return Err(format!(
            "{producer}: written {written_types:?}, listed {listed:?}"
        ));
    }
    let needle = format!("=> \"{prefix}");
    let named: BTreeSet<String> = source
        .lines()
        .filter_map(|line| line.split_once(needle.as_str())?.1.split_once('"'))
        .map(|(name, _)| format!("{prefix}{name}"))
        .collect();
    let listed_owned: BTreeSet<String> = listed.iter().map(|t| (*t).to_owned()).collect();
    if named != listed_owned {
        return Err(format!(
            "{producer}: the source names {named:?}, listed {listed:?}"
        ));
    }
    let typed: BTreeSet<&str> = TYPED_EVENTS
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| t.starts_with(&prefix))
        .collect();
    if typed != listed {
        return Err(format!(
            "{producer}: TYPED_EVENTS has {typed:?}, listed {listed:?}"
        ));
    }
    for (event_type, body) in written {
        let any = typed_payload(event_type, body)
            .ok_or_else(|| format!("{event_type} has no typed form"))?;
        let name =
            typed_message_name(event_type).ok_or_else(|| format!("{event_type} has no message"))?;
        if any.type_url != format!("{TYPE_URL_PREFIX}{name}") {
            return Err(format!("{event_type} travels as {}", any.type_url));
        }
    }
    Ok(())
}

#[cfg(test)]
mod agreement {
    use super::*;

    #[test]
    fn a_producer_whose_list_misses_an_event_disagrees() {
        let body = serde_json::json!({"customer_id": "c-1"});
        let source = "Self::Created => \"profiles.customer_created.v1\",";
        let written = [("profiles.customer_created.v1", body)];
        let missing = producer_events_agree("profiles", &[], &written, source);
        assert!(missing.is_err_and(|why| why.contains("listed")));
        let unnamed =
            producer_events_agree("profiles", &["profiles.customer_created.v1"], &written, "");
        assert!(unnamed.is_err_and(|why| why.contains("source")));
    }
}
