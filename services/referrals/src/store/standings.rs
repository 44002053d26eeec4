//! Good standing as plans published it (the latest verdict per customer), and the ids of the
//! events already applied.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use super::{Conn, corrupt, id, instant, micros};
use crate::domain::standing::Published;
use crate::error::ReferralsError;

/// Records that the event was received; false when it was already (a duplicate, nothing to do).
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
) -> Result<bool, ReferralsError> {
    let result = sqlx::query(
        "INSERT INTO ingested_events (event_id, event_type, customer_id, occurred_at_micros, received_at_micros) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id.to_string())
    .bind(event_type)
    .bind(customer_id.to_string())
    .bind(micros(occurred_at))
    .bind(micros(now))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Keeps `published` as the customer's standing unless a later event (by its time, then its
/// UUIDv7 id) is already kept: events may arrive out of order.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        event_id = %event_id,
        customer_id = %customer_id
    )
)]
pub async fn apply(
    conn: &mut Conn,
    customer_id: Id,
    published: &Published,
    occurred_at: Timestamp,
    event_id: Id,
) -> Result<(), ReferralsError> {
    sqlx::query(
        "INSERT INTO standings (customer_id, in_good_standing, since_micros, reasons, occurred_at_micros, event_id) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (customer_id) DO UPDATE SET in_good_standing = excluded.in_good_standing, \
         since_micros = excluded.since_micros, reasons = excluded.reasons, \
         occurred_at_micros = excluded.occurred_at_micros, event_id = excluded.event_id \
         WHERE standings.occurred_at_micros < excluded.occurred_at_micros \
            OR (standings.occurred_at_micros = excluded.occurred_at_micros AND standings.event_id < excluded.event_id)",
    )
    .bind(customer_id.to_string())
    .bind(i64::from(published.in_good_standing))
    .bind(micros(published.since))
    .bind(published.reasons_json().to_string())
    .bind(micros(occurred_at))
    .bind(event_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const COLUMNS: &str = "customer_id, in_good_standing, since_micros, reasons";

fn from_row(row: &sqlx::any::AnyRow) -> Result<(Id, Published), ReferralsError> {
    let reasons: String = row.try_get(3)?;
    let payload = serde_json::json!({
        "in_good_standing": row.try_get::<i64, _>(1)? == 1,
        "since": instant(row.try_get(2)?)?.to_string(),
        "reasons": serde_json::from_str::<serde_json::Value>(&reasons)
            .map_err(|e| corrupt("standing reasons", e))?,
    });
    Ok((
        id(&row.try_get::<String, _>(0)?)?,
        Published::parse(&payload).map_err(|e| corrupt("standing", e))?,
    ))
}

/// The customer's latest published standing, if plans ever published one.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn get(conn: &mut Conn, customer_id: Id) -> Result<Option<Published>, ReferralsError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM standings WHERE customer_id = $1"
    )))
    .bind(customer_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref()
        .map(|row| from_row(row).map(|(_, published)| published))
        .transpose()
}

/// Every published standing, in one read (for the trust graph).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut Conn) -> Result<BTreeMap<Id, Published>, ReferralsError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM standings"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}
