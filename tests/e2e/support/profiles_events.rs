//! Profiles' merge and erasure events, read back from profiles' outbox as the `DomainEvent`s its
//! worker delivers: a test offers them again to a consumer, and every one must be a duplicate,
//! which shows the worker delivered them (one customer everywhere). Shared by `journeys` and
//! `pii`.

use rapport_proto::common::v1 as common;
use rapport_storage::{Storage, sqlx};

/// Every merge and erasure in profiles' outbox, oldest id first.
pub async fn merges_and_erasures(profiles: &Storage) -> Vec<common::DomainEvent> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT event_id, event_type, customer_id, payload, occurred_at_micros FROM outbox \
         WHERE event_type IN ('profiles.customer_merged.v1', 'profiles.customer_erased.v1') \
         ORDER BY event_id",
    )
    .fetch_all(profiles.reader())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(event_id, event_type, customer_id, payload, at)| {
            let payload: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&payload).unwrap();
            common::DomainEvent {
                event_id,
                event_type,
                customer_id,
                occurred_at: Some(prost_types::Timestamp {
                    seconds: at.div_euclid(1_000_000),
                    nanos: i32::try_from(at.rem_euclid(1_000_000) * 1000).unwrap(),
                }),
                source_service: "profiles".into(),
                payload: Some(prost_types::Struct {
                    fields: payload
                        .into_iter()
                        .map(|(k, v)| {
                            let text = v.as_str().unwrap_or_default().to_owned();
                            (
                                k,
                                prost_types::Value {
                                    kind: Some(prost_types::value::Kind::StringValue(text)),
                                },
                            )
                        })
                        .collect(),
                }),
                ..Default::default()
            }
        })
        .collect()
}
