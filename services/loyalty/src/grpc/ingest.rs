//! `IngestEvents`: domain events from the other services and outside systems, applied once each
//! (by event id), in any order: the score reads the set of signals, never their arrival order.

use std::collections::BTreeSet;

use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_wire as wire;
use serde_json::Value;
use tracing::Instrument;

use super::typed_event::{self, TypedEvent};
use super::{LoyaltyApi, commit, rescore};
use crate::domain::ingest::{self, Effect, Rejection};
use crate::domain::signal::Signal;
use crate::error::LoyaltyError;
use crate::store::{self, customers, signals};

/// An event that passed its checks.
struct Valid {
    event_id: Id,
    event_type: String,
    customer_id: Id,
    at: jiff::Timestamp,
    effect: Effect,
    traceparent: String,
}

impl LoyaltyApi {
    #[tracing::instrument(skip_all, fields(events = r.events.len()))]
    pub(super) async fn ingest(
        &self,
        r: pb::IngestEventsRequest,
    ) -> Result<pb::IngestEventsResponse, LoyaltyError> {
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
                    reason: Some(
                        rapport_wire::EventRejection::new(reason.code, reason.message)
                            .into_reason(),
                    ),
                }),
            }
        }

        let (mut accepted, mut duplicates) = (0, 0);
        let mut touched = BTreeSet::new();
        let mut tx = self.write().await?;
        for event in &valid {
            // Applying an event continues the trace of the change that produced it.
            let span = tracing::info_span!(
                "loyalty.apply_event",
                event_type = %event.event_type,
                event_id = %event.event_id,
            );
            rapport_telemetry::continue_trace(&span, &event.traceparent);
            let applied = apply(&mut tx, event, now).instrument(span).await?;
            match applied {
                None => duplicates += 1,
                Some(customer_id) => {
                    accepted += 1;
                    touched.insert(customer_id);
                }
            }
        }
        for customer_id in touched {
            rescore(&mut tx, &self.rules, customer_id, now).await?;
        }
        commit(tx).await?;
        Ok(pb::IngestEventsResponse {
            accepted,
            duplicates,
            rejected,
        })
    }
}

/// Applies one event unless it was seen before: the customer it touched, or `None` for a duplicate.
async fn apply(
    tx: &mut store::Conn,
    event: &Valid,
    now: jiff::Timestamp,
) -> Result<Option<Id>, LoyaltyError> {
    if !store::first_sight(
        tx,
        event.event_id,
        &event.event_type,
        event.customer_id,
        event.at,
        now,
    )
    .await?
    {
        return Ok(None);
    }
    // Events about a merged-away duplicate belong to its survivor, whenever they arrive.
    let customer_id = customers::resolve(tx, event.customer_id).await?;
    customers::ensure(tx, customer_id).await?;
    match &event.effect {
        Effect::Signal(kind) => {
            signals::insert(
                tx,
                &event.event_id.to_string(),
                customer_id,
                &Signal {
                    kind: kind.clone(),
                    at: event.at,
                },
            )
            .await?;
        }
        Effect::Products(count) => {
            customers::set_products(tx, customer_id, *count, event.at).await?;
        }
        Effect::Merge { duplicate } => customers::merge(tx, *duplicate, customer_id).await?,
        Effect::Erase => customers::erase(tx, customer_id).await?,
        Effect::Nothing => {}
    }
    Ok(Some(customer_id))
}

fn check(event: &common::DomainEvent, now: jiff::Timestamp) -> Result<Valid, Rejection> {
    let wire::EventEnvelope {
        event_id,
        customer_id,
        at,
    } = wire::event_envelope(event, now).map_err(|r| Rejection {
        code: r.code,
        message: r.message,
    })?;
    // The producer's typed message first; the JSON payload when there is none (an outside
    // system) or it is a message loyalty does not know yet.
    let typed = match &event.typed_payload {
        Some(any) => TypedEvent::decode(any)?,
        None => None,
    };
    let effect = match typed {
        Some(typed) => typed_event::interpret(&event.event_type, &typed)?,
        None => {
            let payload = event
                .payload
                .as_ref()
                .map_or(Value::Object(Default::default()), struct_to_json);
            ingest::interpret(&event.event_type, &payload)?
        }
    };
    Ok(Valid {
        event_id,
        event_type: event.event_type.clone(),
        customer_id,
        at,
        effect,
        traceparent: event.traceparent.clone(),
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
