//! Loyalty's SQL, one portable code path for SQLite and PostgreSQL.

pub mod customers;
pub mod follow_ups;
pub mod rewards;
pub mod scores;
pub mod signals;
pub mod surveys;

use jiff::Timestamp;
use rapport_ids::Id;

use crate::error::LoyaltyError;

pub type Conn = rapport_storage::sqlx::AnyConnection;

pub(crate) fn micros(at: Timestamp) -> i64 {
    rapport_clock::to_unix_micros(at)
}

pub(crate) fn instant(micros: i64) -> Result<Timestamp, LoyaltyError> {
    rapport_clock::from_unix_micros(micros)
        .ok_or_else(|| LoyaltyError::Corrupt(format!("instant {micros}")))
}

pub(crate) fn id(text: &str) -> Result<Id, LoyaltyError> {
    Id::parse(text).map_err(|_| LoyaltyError::Corrupt(format!("id {text:?}")))
}

pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> LoyaltyError {
    LoyaltyError::Corrupt(format!("{what}: {error}"))
}

/// A score as stored: hundredths of a point.
pub(crate) fn centi(points: f64) -> i64 {
    (points * 100.0).round() as i64
}

pub(crate) fn points(centi: i64) -> f64 {
    centi as f64 / 100.0
}

/// Marks an ingested event as applied; `false` when it was already (a duplicate).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        event_id = %event_id,
        customer_id = %customer_id
    )
)]
pub async fn first_sight(
    conn: &mut Conn,
    event_id: Id,
    event_type: &str,
    customer_id: Id,
    occurred_at: Timestamp,
    now: Timestamp,
) -> Result<bool, LoyaltyError> {
    use rapport_storage::sqlx;
    let row = sqlx::query(
        "INSERT INTO ingested_events (event_id, event_type, customer_id, occurred_at_micros, received_at_micros) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
    )
    .bind(event_id.to_string())
    .bind(event_type)
    .bind(customer_id.to_string())
    .bind(micros(occurred_at))
    .bind(micros(now))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}
