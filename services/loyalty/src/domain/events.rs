//! The domain events loyalty publishes through its outbox: ids and codes only, never the
//! customer's words.

use rapport_ids::Id;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum LoyaltyEvent {
    SurveyRecorded {
        customer_id: Id,
        response_id: Id,
        /// "promoter" | "passive" | "detractor" | "" (CSAT only).
        category: &'static str,
    },
    /// A promise to answer: profiles records it as a commitment on the customer's timeline.
    FollowUpOpened {
        customer_id: Id,
        follow_up_id: Id,
        nps: u8,
        due_at: jiff::Timestamp,
    },
    /// The loop closed; `within_sla` is whether the promise was kept.
    FollowUpClosed {
        customer_id: Id,
        follow_up_id: Id,
        nps: u8,
        due_at: jiff::Timestamp,
        outcome: &'static str,
        within_sla: bool,
    },
    RewardIssued {
        customer_id: Id,
        reward_id: Id,
        tenure_year: u32,
    },
    RecognitionRecorded {
        customer_id: Id,
        recognition_id: Id,
    },
}

impl rapport_outbox::OutboxEvent for LoyaltyEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::SurveyRecorded { .. } => "loyalty.survey_recorded.v1",
            Self::FollowUpOpened { .. } => "loyalty.follow_up_opened.v1",
            Self::FollowUpClosed { .. } => "loyalty.follow_up_closed.v1",
            Self::RewardIssued { .. } => "loyalty.reward_issued.v1",
            Self::RecognitionRecorded { .. } => "loyalty.recognition_recorded.v1",
        }
    }

    fn customer_id(&self) -> Id {
        match self {
            Self::SurveyRecorded { customer_id, .. }
            | Self::FollowUpOpened { customer_id, .. }
            | Self::FollowUpClosed { customer_id, .. }
            | Self::RewardIssued { customer_id, .. }
            | Self::RecognitionRecorded { customer_id, .. } => *customer_id,
        }
    }

    fn payload(&self) -> Value {
        let customer = self.customer_id().to_string();
        match self {
            Self::SurveyRecorded {
                response_id,
                category,
                ..
            } => {
                json!({ "customer_id": customer, "response_id": response_id.to_string(), "category": category })
            }
            Self::FollowUpOpened {
                follow_up_id,
                nps,
                due_at,
                ..
            } => json!({
                "customer_id": customer, "follow_up_id": follow_up_id.to_string(),
                "nps": nps, "due_at": due_at.to_string(),
            }),
            Self::FollowUpClosed {
                follow_up_id,
                nps,
                due_at,
                outcome,
                within_sla,
                ..
            } => json!({
                "customer_id": customer, "follow_up_id": follow_up_id.to_string(),
                "nps": nps, "due_at": due_at.to_string(),
                "outcome": outcome, "within_sla": within_sla,
            }),
            Self::RewardIssued {
                reward_id,
                tenure_year,
                ..
            } => {
                json!({ "customer_id": customer, "reward_id": reward_id.to_string(), "tenure_year": tenure_year })
            }
            Self::RecognitionRecorded { recognition_id, .. } => {
                json!({ "customer_id": customer, "recognition_id": recognition_id.to_string() })
            }
        }
    }
}
