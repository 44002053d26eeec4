//! The transactional outbox (DESIGN.md, Between services): each service appends its domain
//! events to its own `outbox` table inside the transaction that makes the change, so an event is
//! published if and only if the change commits. Delivery to consumers is a separate worker.

pub mod delivery;

/// The migration that adds delivery claims (`claimed_by`, `claimed_until_micros`) to `outbox`;
/// each service lists it among its own migrations, after the one that creates its outbox.
pub const CLAIMS_MIGRATION_SQL: &str = include_str!("../migrations/outbox_claims.sql");

use rapport_clock::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AnyConnection};

/// A domain event as the outbox stores it. Payloads carry ids and codes, never personal data.
pub trait OutboxEvent {
    /// Dotted name with version, e.g. `profiles.customer_created.v1`.
    fn event_type(&self) -> &'static str;
    /// The customer the event is about; delivery is ordered per customer.
    fn customer_id(&self) -> Id;
    fn payload(&self) -> serde_json::Value;
}

/// Appends `event` in the caller's transaction, with the current trace context so whoever
/// handles it continues the same trace.
#[tracing::instrument(skip_all, fields(event_type = event.event_type()))]
pub async fn append(
    conn: &mut AnyConnection,
    event: &impl OutboxEvent,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let at = rapport_clock::to_unix_micros(now);
    sqlx::query(
        "INSERT INTO outbox (event_id, event_type, customer_id, payload, traceparent, occurred_at_micros, attempts, next_attempt_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
    )
    .bind(Id::new().to_string())
    .bind(event.event_type())
    .bind(event.customer_id().to_string())
    .bind(event.payload().to_string())
    .bind(rapport_telemetry::current_traceparent())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What `/metrics` shows of a service's outbox at `now`: the events not yet delivered
/// (`rapport_outbox_backlog_events`) and how long the oldest has waited
/// (`rapport_outbox_oldest_event_age_seconds`, 0 when none waits).
pub async fn backlog_samples(
    storage: rapport_storage::Storage,
    now: Timestamp,
) -> Result<Vec<rapport_server::Sample>, rapport_server::BoxError> {
    let backlog = delivery::backlog(&storage).await?;
    let age = backlog.oldest.map_or(0.0, |oldest| {
        now.duration_since(oldest).as_secs_f64().max(0.0)
    });
    Ok(vec![
        rapport_server::Sample::new(
            "rapport_outbox_backlog_events",
            "Domain events waiting in the outbox to be delivered",
            backlog.events as f64,
        ),
        rapport_server::Sample::new(
            "rapport_outbox_oldest_event_age_seconds",
            "How long the oldest undelivered event has waited (0 when none waits)",
            age,
        ),
    ])
}

/// Adds the outbox's backlog to what `/metrics` reads from `unit`'s storage.
pub fn observe_backlog(
    unit: rapport_server::ServiceUnit,
    clock: rapport_clock::SharedClock,
) -> rapport_server::ServiceUnit {
    unit.observe(move |storage| backlog_samples(storage, clock.now()))
}
