//! `AccountService/IngestEvents`: the events plans consumes from the other services' outboxes —
//! profiles' merges and erasures (DESIGN.md, "One customer everywhere") — applied once each (by
//! event id), in any order.

use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_wire::{self as wire, EventRejection};

use super::{Core, commit};
use crate::error::PlansError;
use crate::store;

pub const CUSTOMER_MERGED: &str = "profiles.customer_merged.v1";
pub const CUSTOMER_ERASED: &str = "profiles.customer_erased.v1";

/// What an event asks of plans.
enum Change {
    Merged { survivor: Id, duplicate: Id },
    Erased { customer: Id },
}

struct Valid {
    event_id: Id,
    event_type: String,
    customer_id: Id,
    at: jiff::Timestamp,
    change: Change,
}

#[tracing::instrument(skip_all, fields(events = r.events.len()))]
pub(super) async fn ingest(
    core: &Core,
    r: pb::IngestEventsRequest,
) -> Result<pb::IngestEventsResponse, PlansError> {
    let now = core.now();
    wire::event_batch(&r.events)?;
    // Each event links to the trace of the change that produced it; this call stays in the
    // trace of the delivery that made it (one batch, many journeys).
    rapport_telemetry::link_to_traces(
        &tracing::Span::current(),
        r.events.iter().map(|e| e.traceparent.as_str()),
    );
    let mut rejected = Vec::new();
    let mut valid = Vec::new();
    for event in &r.events {
        match check(event, now) {
            Ok(v) => valid.push(v),
            Err(reason) => rejected.push(pb::EventRejection {
                event_id: event.event_id.clone(),
                reason: Some(reason.into_reason()),
            }),
        }
    }
    let (mut accepted, mut duplicates) = (0, 0);
    let mut tx = core.write().await?;
    for event in &valid {
        if !store::merges::first_sight(
            &mut tx,
            event.event_id,
            &event.event_type,
            event.customer_id,
            event.at,
            now,
        )
        .await?
        {
            duplicates += 1;
            continue;
        }
        match event.change {
            Change::Merged {
                survivor,
                duplicate,
            } => {
                let survivor = store::merges::merge(&mut tx, survivor, duplicate, event.at).await?;
                tracing::info!(%survivor, %duplicate, "customer merged: rows follow the survivor");
            }
            Change::Erased { customer } => {
                store::merges::erase(&mut tx, customer, event.at).await?;
                tracing::info!(%customer, "customer erased: free text pseudonymised");
            }
        }
        accepted += 1;
    }
    commit(tx).await?;
    Ok(pb::IngestEventsResponse {
        accepted,
        duplicates,
        rejected,
    })
}

fn check(event: &common::DomainEvent, now: jiff::Timestamp) -> Result<Valid, EventRejection> {
    let bad = |code: &'static str, message: String| EventRejection::new(code, message);
    let wire::EventEnvelope {
        event_id,
        customer_id,
        at,
    } = wire::event_envelope(event, now)?;
    let payload_id = |field: &str| -> Result<Id, EventRejection> {
        let text = event
            .payload
            .as_ref()
            .and_then(|p| p.fields.get(field))
            .and_then(|v| match &v.kind {
                Some(prost_types::value::Kind::StringValue(s)) => Some(s.as_str()),
                _ => None,
            })
            .unwrap_or_default();
        Id::parse(text).map_err(|_| {
            bad(
                "INVALID_PAYLOAD",
                format!("payload.{field} must be a customer id"),
            )
        })
    };
    let change = match event.event_type.as_str() {
        CUSTOMER_MERGED => {
            let survivor = payload_id("survivor_customer_id")?;
            let duplicate = payload_id("duplicate_customer_id")?;
            if survivor == duplicate {
                return Err(bad(
                    "INVALID_PAYLOAD",
                    "a customer cannot be merged into itself".into(),
                ));
            }
            Change::Merged {
                survivor,
                duplicate,
            }
        }
        CUSTOMER_ERASED => Change::Erased {
            customer: customer_id,
        },
        other => {
            return Err(bad(
                "UNKNOWN_EVENT_TYPE",
                format!(
                    "plans does not consume events of type {other:?} (it takes {CUSTOMER_MERGED} and {CUSTOMER_ERASED})"
                ),
            ));
        }
    };
    Ok(Valid {
        event_id,
        event_type: event.event_type.clone(),
        customer_id,
        at,
        change,
    })
}
