//! The transactional outbox (DESIGN.md, Between services): each service appends its domain
//! events to its own `outbox` table inside the transaction that makes the change, so an event is
//! published if and only if the change commits. Delivery to consumers is a separate worker.

pub mod delivery;

/// The migration that adds delivery claims (`claimed_by`, `claimed_until_micros`) to `outbox`;
/// each service lists it among its own migrations, after the one that creates its outbox.
pub const CLAIMS_MIGRATION_SQL: &str = include_str!("../migrations/outbox_claims.sql");

use rapport_clock::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AnyConnection, AssertSqlSafe};

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
    let query = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO outbox ({}) VALUES ({})",
        OutboxRow::COLUMNS,
        OutboxRow::values(1)
    )));
    OutboxRow::new(event, now)
        .bind(query)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An event as its outbox row, for a caller that writes it within a statement of its own (on
/// PostgreSQL several writes in one statement are one round trip): `INSERT INTO outbox
/// ({COLUMNS}) VALUES ({values(n)})`, or `SELECT {values(n)} WHERE …`, then [`OutboxRow::bind`]
/// its six values as parameters `$n` to `$n+5`. [`append`] writes it the same way.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    event_id: String,
    event_type: &'static str,
    customer_id: String,
    payload: String,
    traceparent: Option<String>,
    occurred_at_micros: i64,
}

impl OutboxRow {
    /// The columns [`OutboxRow::values`] fills, in order.
    pub const COLUMNS: &str = "event_id, event_type, customer_id, payload, traceparent, occurred_at_micros, attempts, next_attempt_at_micros";

    /// `event` with a new id, the current trace context, occurring at `now`.
    pub fn new(event: &impl OutboxEvent, now: Timestamp) -> Self {
        Self {
            event_id: Id::new().to_string(),
            event_type: event.event_type(),
            customer_id: event.customer_id().to_string(),
            payload: event.payload().to_string(),
            traceparent: rapport_telemetry::current_traceparent(),
            occurred_at_micros: rapport_clock::to_unix_micros(now),
        }
    }

    /// The values of [`OutboxRow::COLUMNS`], its parameters numbered from `first`: a new event
    /// has had no attempt and is due at once.
    pub fn values(first: usize) -> String {
        let n = |offset: usize| format!("${}", first + offset);
        format!(
            "{}, {}, {}, {}, {}, {}, 0, {}",
            n(0),
            n(1),
            n(2),
            n(3),
            n(4),
            n(5),
            n(5)
        )
    }

    /// Binds the six parameters of [`OutboxRow::values`], in order.
    pub fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        query
            .bind(self.event_id)
            .bind(self.event_type)
            .bind(self.customer_id)
            .bind(self.payload)
            .bind(self.traceparent)
            .bind(self.occurred_at_micros)
    }
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
