//! The domain events referrals publishes through its outbox: ids and codes only.

use rapport_ids::Id;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum ReferralEvent {
    ReferralCreated {
        referrer_id: Id,
        referral_id: Id,
    },
    ReferralQualified {
        referrer_id: Id,
        referral_id: Id,
    },
    RewardIssued {
        customer_id: Id,
        reward_id: Id,
        referral_id: Id,
    },
    /// Being asked is itself involvement (loyalty counts it).
    VouchRequested {
        voucher_id: Id,
        vouch_id: Id,
    },
    VouchAnswered {
        voucher_id: Id,
        vouch_id: Id,
        answer: &'static str,
    },
}

impl rapport_outbox::OutboxEvent for ReferralEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::ReferralCreated { .. } => "referrals.referral_created.v1",
            Self::ReferralQualified { .. } => "referrals.referral_qualified.v1",
            Self::RewardIssued { .. } => "referrals.reward_issued.v1",
            Self::VouchRequested { .. } => "referrals.vouch_requested.v1",
            Self::VouchAnswered { .. } => "referrals.vouch_answered.v1",
        }
    }

    fn customer_id(&self) -> Id {
        match self {
            Self::ReferralCreated { referrer_id, .. }
            | Self::ReferralQualified { referrer_id, .. } => *referrer_id,
            Self::RewardIssued { customer_id, .. } => *customer_id,
            Self::VouchRequested { voucher_id, .. } | Self::VouchAnswered { voucher_id, .. } => {
                *voucher_id
            }
        }
    }

    fn payload(&self) -> Value {
        let customer = self.customer_id().to_string();
        match self {
            Self::ReferralCreated { referral_id, .. }
            | Self::ReferralQualified { referral_id, .. } => {
                json!({ "customer_id": customer, "referral_id": referral_id.to_string() })
            }
            Self::RewardIssued {
                reward_id,
                referral_id,
                ..
            } => json!({
                "customer_id": customer, "reward_id": reward_id.to_string(), "referral_id": referral_id.to_string(),
            }),
            Self::VouchRequested { vouch_id, .. } => {
                json!({ "customer_id": customer, "vouch_id": vouch_id.to_string() })
            }
            Self::VouchAnswered {
                vouch_id, answer, ..
            } => {
                json!({ "customer_id": customer, "vouch_id": vouch_id.to_string(), "answer": answer })
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod event_types {

    use rapport_outbox::OutboxEvent;

    use super::*;

    /// Every event type referrals publishes, kept beside its events: `rapport_clients::TYPED_EVENTS`
    /// names the message carrying each, and loyalty's test shows it interprets or ignores each.
    const EVENT_TYPES: &[&str] = &[
        "referrals.referral_created.v1",
        "referrals.referral_qualified.v1",
        "referrals.reward_issued.v1",
        "referrals.vouch_requested.v1",
        "referrals.vouch_answered.v1",
    ];

    /// One event of each kind. The match has no catch-all: a new kind does not compile until it
    /// is added here too.
    fn one_of_each() -> Vec<ReferralEvent> {
        let all = vec![
            ReferralEvent::ReferralCreated {
                referrer_id: Id::new(),
                referral_id: Id::new(),
            },
            ReferralEvent::ReferralQualified {
                referrer_id: Id::new(),
                referral_id: Id::new(),
            },
            ReferralEvent::RewardIssued {
                customer_id: Id::new(),
                reward_id: Id::new(),
                referral_id: Id::new(),
            },
            ReferralEvent::VouchRequested {
                voucher_id: Id::new(),
                vouch_id: Id::new(),
            },
            ReferralEvent::VouchAnswered {
                voucher_id: Id::new(),
                vouch_id: Id::new(),
                answer: "VOUCH_ANSWER_VOUCH",
            },
        ];
        for event in &all {
            match event {
                ReferralEvent::ReferralCreated { .. }
                | ReferralEvent::ReferralQualified { .. }
                | ReferralEvent::RewardIssued { .. }
                | ReferralEvent::VouchRequested { .. }
                | ReferralEvent::VouchAnswered { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_event_referrals_writes_is_listed_and_travels_typed() {
        let written: Vec<(&str, Value)> = one_of_each()
            .iter()
            .map(|event| (event.event_type(), event.payload()))
            .collect();
        rapport_clients::producer_events_agree(
            "referrals",
            EVENT_TYPES,
            &written,
            include_str!("events.rs"),
        )
        .unwrap();
    }
}
