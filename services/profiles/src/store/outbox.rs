use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx;

use super::{Conn, micros};
use crate::domain::events::ProfileEvent;
use crate::error::ProfilesError;

/// Appends a domain event in the caller's transaction: it is published if and only if the
/// change it describes commits.
#[tracing::instrument(skip_all, fields(event_type = event.event_type()))]
pub async fn append(
    conn: &mut Conn,
    event: &ProfileEvent,
    now: Timestamp,
) -> Result<(), ProfilesError> {
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, customer_id, payload, traceparent, occurred_at_micros, attempts, next_attempt_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
    )
    .bind(Id::new().to_string())
    .bind(event.event_type())
    .bind(event.customer_id().to_string())
    .bind(event.payload().to_string())
    .bind(rapport_telemetry::current_traceparent())
    .bind(micros(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
