//! The signals the score reads, one row each.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use super::{Conn, instant, micros};
use crate::domain::signal::{Kind, Signal};
use crate::error::LoyaltyError;

/// Stores a signal once: `signal_id` is derived from what produced it, so a replay is a no-op.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn insert(
    conn: &mut Conn,
    signal_id: &str,
    customer_id: Id,
    signal: &Signal,
) -> Result<(), LoyaltyError> {
    let row = signal.kind.to_row();
    sqlx::query(
        "INSERT INTO signals (signal_id, customer_id, kind, value, reference, occurred_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (signal_id) DO NOTHING",
    )
    .bind(signal_id)
    .bind(customer_id.to_string())
    .bind(row.kind)
    .bind(row.value)
    .bind(row.reference)
    .bind(micros(signal.at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) fn from_row(
    row: &sqlx::any::AnyRow,
    offset: usize,
) -> Result<Option<Signal>, LoyaltyError> {
    let kind: String = row.try_get(offset)?;
    let value: i64 = row.try_get(offset + 1)?;
    let reference: Option<String> = row.try_get(offset + 2)?;
    let at = instant(row.try_get(offset + 3)?)?;
    // A kind a newer version wrote is skipped, not fatal: the score reads what it knows.
    Ok(Kind::from_row(&kind, value, reference.as_deref()).map(|kind| Signal { kind, at }))
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn for_customer(conn: &mut Conn, customer_id: Id) -> Result<Vec<Signal>, LoyaltyError> {
    let rows = sqlx::query(
        "SELECT kind, value, reference, occurred_at_micros FROM signals WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut signals = Vec::with_capacity(rows.len());
    for row in &rows {
        signals.extend(from_row(row, 0)?);
    }
    Ok(signals)
}

/// When the customer was last surveyed: an answer, or a send reported by the survey tool.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn last_surveyed(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Option<Timestamp>, LoyaltyError> {
    let row = sqlx::query(
        "SELECT MAX(occurred_at_micros) FROM signals WHERE customer_id = $1 AND kind IN ('survey', 'survey_sent')",
    )
    .bind(customer_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    row.try_get::<Option<i64>, _>(0)?.map(instant).transpose()
}
