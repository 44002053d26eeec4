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
