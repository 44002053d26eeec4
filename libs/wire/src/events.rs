//! What every consumer of domain events checks before it reads a payload (DESIGN.md "Between
//! services": typed events, idempotent by event id): the batch size, and each event's envelope.
//! A bad event is rejected on its own, with a code, while the others still apply.

use jiff::Timestamp;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_reasons::{Reason, ReasonEffect};

/// Events per `IngestEvents` call, at most.
pub const MAX_EVENTS: usize = 500;

/// The batch is refused whole when it is larger than [`MAX_EVENTS`].
pub fn event_batch(events: &[common::DomainEvent]) -> Result<(), Validation> {
    if events.len() > MAX_EVENTS {
        return Err(Validation::single(
            "events",
            format!("at most {MAX_EVENTS} events per call, not {}", events.len()),
        ));
    }
    Ok(())
}

/// Why one event was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRejection {
    pub code: &'static str,
    pub message: String,
}

impl EventRejection {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// As the `Reason` of a response's rejection entry.
    pub fn into_reason(self) -> common::Reason {
        crate::reason_to_pb(&Reason::new(
            self.code,
            ReasonEffect::Opposes,
            "",
            self.message,
        ))
    }
}

/// An event's checked envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventEnvelope {
    pub event_id: Id,
    pub customer_id: Id,
    pub at: Timestamp,
}

/// The envelope of `event`: its id, its customer and when it happened (not in the future).
pub fn event_envelope(
    event: &common::DomainEvent,
    now: Timestamp,
) -> Result<EventEnvelope, EventRejection> {
    let event_id = Id::parse(&event.event_id).map_err(|_| {
        EventRejection::new(
            "INVALID_EVENT_ID",
            "event_id must be a UUID set by the producer",
        )
    })?;
    let customer_id = Id::parse(&event.customer_id).map_err(|_| {
        EventRejection::new(
            "INVALID_CUSTOMER_ID",
            "customer_id must be the customer's id",
        )
    })?;
    let Some(occurred_at) = event.occurred_at.as_ref() else {
        return Err(EventRejection::new(
            "MISSING_OCCURRED_AT",
            "occurred_at is required",
        ));
    };
    let at = crate::past_instant(
        "occurred_at",
        Some(occurred_at),
        now,
        &mut Validation::new(),
    )
    .ok_or_else(|| {
        EventRejection::new(
            "INVALID_OCCURRED_AT",
            "occurred_at must be a valid instant, not in the future",
        )
    })?;
    Ok(EventEnvelope {
        event_id,
        customer_id,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_needs_ids_and_a_past_instant() {
        let now = Timestamp::from_second(1_800_000_000).expect("valid");
        let event = common::DomainEvent {
            event_id: Id::new().to_string(),
            customer_id: Id::new().to_string(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_799_999_000,
                nanos: 0,
            }),
            ..Default::default()
        };
        assert!(event_envelope(&event, now).is_ok());
        let codes = [
            common::DomainEvent {
                event_id: "x".into(),
                ..event.clone()
            },
            common::DomainEvent {
                customer_id: String::new(),
                ..event.clone()
            },
            common::DomainEvent {
                occurred_at: None,
                ..event.clone()
            },
            common::DomainEvent {
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_900_000_000,
                    nanos: 0,
                }),
                ..event.clone()
            },
        ]
        .iter()
        .map(|e| event_envelope(e, now).expect_err("refused").code)
        .collect::<Vec<_>>();
        assert_eq!(
            codes,
            [
                "INVALID_EVENT_ID",
                "INVALID_CUSTOMER_ID",
                "MISSING_OCCURRED_AT",
                "INVALID_OCCURRED_AT"
            ]
        );
        assert!(event_batch(&vec![event; MAX_EVENTS + 1]).is_err());
    }
}
