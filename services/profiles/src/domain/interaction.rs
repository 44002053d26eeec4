//! One touchpoint with the customer, on any channel.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::common::v1::{Channel, Direction, Sentiment};
use rapport_proto::profiles::v1::InteractionOutcome;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    pub id: Id,
    pub customer_id: Id,
    pub channel: Channel,
    pub direction: Direction,
    pub topic: String,
    pub outcome: InteractionOutcome,
    /// Empty for self-service.
    pub agent_id: String,
    pub sentiment: Sentiment,
    pub occurred_at: Timestamp,
    /// Free text: personal data, exported and erased with the customer.
    pub summary: String,
    pub account_id: String,
    pub source_system: String,
}
