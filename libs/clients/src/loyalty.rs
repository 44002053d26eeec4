//! Outbox delivery to loyalty's `IngestEvents` (DESIGN.md, Between services): the producers'
//! domain events become the signals of the loyalty score.

use prost_types::value::Kind;
use rapport_clock::SharedClock;
use rapport_outbox::delivery::{self, Pending, Policy, Sink, SinkError};
use rapport_proto::common::v1::DomainEvent;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_server::ServiceUnit;

use crate::{ClientError, Traced, Upstream, request, traced_channel, with_retry};

/// Delivers a producer's outbox batches to loyalty.
#[derive(Debug, Clone)]
pub struct LoyaltyIngest {
    client: LoyaltyServiceClient<Traced>,
    source: &'static str,
}

impl LoyaltyIngest {
    /// `source` names the producer in every event (`profiles`, `plans`, `referrals`).
    pub fn new(upstream: impl Into<Upstream>, source: &'static str) -> Result<Self, ClientError> {
        Ok(Self {
            client: LoyaltyServiceClient::new(traced_channel(&upstream.into())?),
            source,
        })
    }
}

/// An outbox event as the wire carries it, from the producer `source`.
/// The body goes twice: as the producer's typed message (`typed_payload`, read first by
/// consumers that know it) and as the JSON `payload` consumers read before typed events existed.
pub(crate) fn domain_event(event: &Pending, source: &str) -> DomainEvent {
    let json = serde_json::from_str::<serde_json::Value>(&event.payload).ok();
    let typed_payload = json
        .as_ref()
        .and_then(|v| crate::typed_payload(&event.event_type, v));
    let payload = json.and_then(|v| match json_to_value(v).kind {
        Some(Kind::StructValue(s)) => Some(s),
        _ => None,
    });
    DomainEvent {
        event_id: event.event_id.clone(),
        event_type: event.event_type.clone(),
        customer_id: event.customer_id.clone().unwrap_or_default(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: event.occurred_at.as_second(),
            nanos: event.occurred_at.subsec_nanosecond(),
        }),
        source_service: source.to_owned(),
        payload,
        traceparent: event.traceparent.clone().unwrap_or_default(),
        tracestate: String::new(),
        typed_payload,
    }
}

impl Sink for LoyaltyIngest {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        let message = loyalty::IngestEventsRequest {
            events: events
                .iter()
                .map(|e| domain_event(e, self.source))
                .collect(),
        };
        let answer = with_retry("loyalty", "events", &self.client, |mut c, deadline| {
            let message = message.clone();
            async move { c.ingest_events(request(message, deadline)).await }
        })
        .await
        .map_err(|e| SinkError(e.to_string()))?;
        // A rejected event is a producer's bug: retrying cannot fix it, so it is logged (by id
        // and code, no payload) and counted delivered.
        for rejected in &answer.rejected {
            tracing::warn!(
                event_id = %rejected.event_id,
                code = rejected.reason.as_ref().map_or("", |r| r.code.as_str()),
                "loyalty rejected an event"
            );
        }
        Ok(())
    }
}

fn json_to_value(v: serde_json::Value) -> prost_types::Value {
    use serde_json::Value;
    let kind = match v {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(b),
        // Struct numbers are doubles (common.proto says so for counts and money).
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Kind::StringValue(s),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(json_to_value).collect(),
        }),
        Value::Object(map) => Kind::StructValue(prost_types::Struct {
            fields: map
                .into_iter()
                .map(|(k, v)| (k, json_to_value(v)))
                .collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Adds a worker to `unit` that delivers its outbox to loyalty at `loyalty_url`.
pub fn deliver_outbox_to_loyalty(
    unit: ServiceUnit,
    loyalty_url: impl Into<Upstream>,
    clock: SharedClock,
    policy: Policy,
) -> Result<ServiceUnit, ClientError> {
    let sink = LoyaltyIngest::new(loyalty_url, unit.name())?;
    Ok(delivery::deliver_from(unit, sink, clock, policy))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payloads_keep_their_shape() {
        let value = json_to_value(serde_json::json!({
            "customer_id": "c", "kept": true, "sequence": 3, "fields": ["a", "b"], "none": null
        }));
        let Some(Kind::StructValue(s)) = value.kind else {
            panic!("an object is a struct")
        };
        assert_eq!(
            s.fields["customer_id"].kind,
            Some(Kind::StringValue("c".into()))
        );
        assert_eq!(s.fields["kept"].kind, Some(Kind::BoolValue(true)));
        assert_eq!(s.fields["sequence"].kind, Some(Kind::NumberValue(3.0)));
        assert!(
            matches!(s.fields["fields"].kind, Some(Kind::ListValue(ref l)) if l.values.len() == 2)
        );
        assert_eq!(s.fields["none"].kind, Some(Kind::NullValue(0)));
    }
}
