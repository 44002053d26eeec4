//! `IngestEvents`: the events referrals consumes from the other services' outboxes — good
//! standing from plans (`plans.standing_changed.v1`), merges and erasures from profiles
//! (`profiles.customer_merged.v1`, `profiles.customer_erased.v1`) — applied once each (by event
//! id), in any order: the latest verdict by its time is kept; an event about a merged-away id
//! lands on its survivor; an erasure reaches every id merged into the customer, before or after.

use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::referrals::v1 as pb;
use rapport_wire::{self as wire, EventRejection};
use serde_json::Value;

use super::{ReferralApi, commit};
use crate::domain::standing::{Published, STANDING_CHANGED};
use crate::error::ReferralsError;
use crate::store::{self, merges};

/// An event that passed its checks.
struct Valid {
    event_id: Id,
    event_type: String,
    customer_id: Id,
    at: jiff::Timestamp,
    effect: Effect,
}

/// What applying one event does.
enum Effect {
    Standing(Published),
    /// Profiles merged `duplicate` into the event's customer.
    Merge {
        duplicate: Id,
    },
    /// Profiles erased the event's customer.
    Erase,
}

const CUSTOMER_MERGED: &str = "profiles.customer_merged.v1";
const CUSTOMER_ERASED: &str = "profiles.customer_erased.v1";

impl ReferralApi {
    #[tracing::instrument(skip_all, fields(events = r.events.len()))]
    pub(super) async fn ingest(
        &self,
        r: pb::IngestEventsRequest,
    ) -> Result<pb::IngestEventsResponse, ReferralsError> {
        let now = self.now();
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
        let mut tx = self.write().await?;
        for event in &valid {
            if !store::standings::first_sight(
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
            match &event.effect {
                Effect::Standing(standing) => {
                    let customer_id = merges::resolve(&mut tx, event.customer_id).await?;
                    store::standings::apply(
                        &mut tx,
                        customer_id,
                        standing,
                        event.at,
                        event.event_id,
                    )
                    .await?;
                    // Standing seeds trust and weighs vouches (even an older event that
                    // changed nothing costs only a recompute).
                    store::trust::graph_changed(&mut tx, now).await?;
                }
                Effect::Merge { duplicate } => {
                    let survivor = merges::resolve(&mut tx, event.customer_id).await?;
                    merges::merge(&mut tx, *duplicate, survivor, event.at).await?;
                    // The duplicate's edges now start or end at the survivor.
                    store::trust::graph_changed(&mut tx, now).await?;
                }
                // The erased id itself: profiles erases a live customer, never a merged one.
                Effect::Erase => merges::erase(&mut tx, event.customer_id, event.at).await?,
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
}

fn check(event: &common::DomainEvent, now: jiff::Timestamp) -> Result<Valid, EventRejection> {
    let bad = |code: &'static str, message: String| EventRejection::new(code, message);
    let wire::EventEnvelope {
        event_id,
        customer_id,
        at,
    } = wire::event_envelope(event, now)?;
    let payload = event
        .payload
        .as_ref()
        .map_or(Value::Object(Default::default()), struct_to_json);
    let effect = match event.event_type.as_str() {
        STANDING_CHANGED => {
            Effect::Standing(Published::parse(&payload).map_err(|e| bad("INVALID_PAYLOAD", e))?)
        }
        CUSTOMER_MERGED => {
            let duplicate = payload
                .get("duplicate_customer_id")
                .and_then(Value::as_str)
                .and_then(|d| Id::parse(d).ok())
                .ok_or_else(|| {
                    bad(
                        "INVALID_PAYLOAD",
                        "payload \"duplicate_customer_id\" is not a customer id".into(),
                    )
                })?;
            Effect::Merge { duplicate }
        }
        CUSTOMER_ERASED => Effect::Erase,
        other => {
            return Err(bad(
                "UNKNOWN_EVENT_TYPE",
                format!(
                    "referrals does not consume events of type {other:?} (it takes \
                     {STANDING_CHANGED}, {CUSTOMER_MERGED}, {CUSTOMER_ERASED})"
                ),
            ));
        }
    };
    Ok(Valid {
        event_id,
        event_type: event.event_type.clone(),
        customer_id,
        at,
        effect,
    })
}

fn struct_to_json(s: &prost_types::Struct) -> Value {
    Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

fn value_to_json(v: &prost_types::Value) -> Value {
    use prost_types::value::Kind;
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::NumberValue(n)) => {
            serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
        }
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::StructValue(s)) => struct_to_json(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(value_to_json).collect()),
    }
}
