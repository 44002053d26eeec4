//! The domain events profiles publishes through its outbox. Payloads carry ids and codes only,
//! never personal data: consumers that need more read it from profiles.

use rapport_ids::Id;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum ProfileEvent {
    CustomerCreated {
        customer_id: Id,
    },
    CustomerUpdated {
        customer_id: Id,
        fields: Vec<&'static str>,
    },
    CustomerMerged {
        survivor_id: Id,
        duplicate_id: Id,
    },
    CustomerErased {
        customer_id: Id,
    },
    InteractionRecorded {
        customer_id: Id,
        interaction_id: Id,
        channel: &'static str,
        sentiment: &'static str,
    },
    CommitmentResolved {
        customer_id: Id,
        commitment_id: Id,
        kept: bool,
        /// Who made the promise (an agent id, or a system such as `loyalty`).
        promised_by: String,
    },
    ConsentChanged {
        customer_id: Id,
        purpose: &'static str,
        channel: &'static str,
        status: &'static str,
    },
}

impl rapport_outbox::OutboxEvent for ProfileEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::CustomerCreated { .. } => "profiles.customer_created.v1",
            Self::CustomerUpdated { .. } => "profiles.customer_updated.v1",
            Self::CustomerMerged { .. } => "profiles.customer_merged.v1",
            Self::CustomerErased { .. } => "profiles.customer_erased.v1",
            Self::InteractionRecorded { .. } => "profiles.interaction_recorded.v1",
            Self::CommitmentResolved { .. } => "profiles.commitment_resolved.v1",
            Self::ConsentChanged { .. } => "profiles.consent_changed.v1",
        }
    }

    fn customer_id(&self) -> Id {
        match self {
            Self::CustomerCreated { customer_id }
            | Self::CustomerUpdated { customer_id, .. }
            | Self::CustomerErased { customer_id }
            | Self::InteractionRecorded { customer_id, .. }
            | Self::CommitmentResolved { customer_id, .. }
            | Self::ConsentChanged { customer_id, .. } => *customer_id,
            Self::CustomerMerged { survivor_id, .. } => *survivor_id,
        }
    }

    fn payload(&self) -> Value {
        match self {
            Self::CustomerCreated { customer_id } | Self::CustomerErased { customer_id } => {
                json!({ "customer_id": customer_id.to_string() })
            }
            Self::CustomerUpdated {
                customer_id,
                fields,
            } => json!({ "customer_id": customer_id.to_string(), "fields": fields }),
            Self::CustomerMerged {
                survivor_id,
                duplicate_id,
            } => json!({
                "survivor_customer_id": survivor_id.to_string(),
                "duplicate_customer_id": duplicate_id.to_string(),
            }),
            Self::InteractionRecorded {
                customer_id,
                interaction_id,
                channel,
                sentiment,
            } => json!({
                "customer_id": customer_id.to_string(),
                "interaction_id": interaction_id.to_string(),
                "channel": channel,
                "sentiment": sentiment,
            }),
            Self::CommitmentResolved {
                customer_id,
                commitment_id,
                kept,
                promised_by,
            } => json!({
                "customer_id": customer_id.to_string(),
                "commitment_id": commitment_id.to_string(),
                "kept": kept,
                "promised_by": promised_by,
            }),
            Self::ConsentChanged {
                customer_id,
                purpose,
                channel,
                status,
            } => json!({
                "customer_id": customer_id.to_string(),
                "purpose": purpose,
                "channel": channel,
                "status": status,
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod event_types {

    use rapport_outbox::OutboxEvent;

    use super::*;

    /// Every event type profiles publishes, kept beside its events: `rapport_clients::TYPED_EVENTS`
    /// names the message carrying each, and loyalty's test shows it interprets or ignores each.
    const EVENT_TYPES: &[&str] = &[
        "profiles.customer_created.v1",
        "profiles.customer_updated.v1",
        "profiles.customer_merged.v1",
        "profiles.customer_erased.v1",
        "profiles.interaction_recorded.v1",
        "profiles.commitment_resolved.v1",
        "profiles.consent_changed.v1",
    ];

    /// One event of each kind. The match has no catch-all: a new kind does not compile until it
    /// is added here too.
    fn one_of_each() -> Vec<ProfileEvent> {
        let all = vec![
            ProfileEvent::CustomerCreated {
                customer_id: Id::new(),
            },
            ProfileEvent::CustomerUpdated {
                customer_id: Id::new(),
                fields: vec!["names"],
            },
            ProfileEvent::CustomerMerged {
                survivor_id: Id::new(),
                duplicate_id: Id::new(),
            },
            ProfileEvent::CustomerErased {
                customer_id: Id::new(),
            },
            ProfileEvent::InteractionRecorded {
                customer_id: Id::new(),
                interaction_id: Id::new(),
                channel: "CHANNEL_SMS",
                sentiment: "SENTIMENT_POSITIVE",
            },
            ProfileEvent::CommitmentResolved {
                customer_id: Id::new(),
                commitment_id: Id::new(),
                kept: true,
                promised_by: "agent-7".into(),
            },
            ProfileEvent::ConsentChanged {
                customer_id: Id::new(),
                purpose: "MARKETING",
                channel: "CHANNEL_EMAIL",
                status: "GRANTED",
            },
        ];
        for event in &all {
            match event {
                ProfileEvent::CustomerCreated { .. }
                | ProfileEvent::CustomerUpdated { .. }
                | ProfileEvent::CustomerMerged { .. }
                | ProfileEvent::CustomerErased { .. }
                | ProfileEvent::InteractionRecorded { .. }
                | ProfileEvent::CommitmentResolved { .. }
                | ProfileEvent::ConsentChanged { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_event_profiles_writes_is_listed_and_travels_typed() {
        let written: Vec<(&str, Value)> = one_of_each()
            .iter()
            .map(|event| (event.event_type(), event.payload()))
            .collect();
        rapport_clients::producer_events_agree(
            "profiles",
            EVENT_TYPES,
            &written,
            include_str!("events.rs"),
        )
        .unwrap();
    }
}
