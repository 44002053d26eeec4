use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use super::{Conn, corrupt, id, instant, micros};
use crate::error::ReferralsError;

/// Remembers what profiles said of the customer: tenure, and whether they are an active
/// customer (and since when referrals has seen them otherwise).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn remember(
    conn: &mut Conn,
    customer_id: Id,
    since: Date,
    active: bool,
    now: Timestamp,
) -> Result<(), ReferralsError> {
    sqlx::query(
        "INSERT INTO members (customer_id, customer_since, active, refreshed_at_micros, inactive_since_micros) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (customer_id) DO UPDATE SET customer_since = excluded.customer_since, active = excluded.active, \
         refreshed_at_micros = excluded.refreshed_at_micros, \
         inactive_since_micros = CASE WHEN excluded.active = 1 THEN NULL \
                                      ELSE COALESCE(members.inactive_since_micros, excluded.inactive_since_micros) END",
    )
    .bind(customer_id.to_string())
    .bind(since.to_string())
    .bind(i64::from(active))
    .bind(micros(now))
    .bind((!active).then(|| micros(now)))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One remembered member, as the trust graph needs them.
#[derive(Debug, Clone, Copy)]
pub struct Remembered {
    pub customer_id: Id,
    pub customer_since: Date,
    /// Profiles' status is ACTIVE.
    pub active: bool,
    /// When referrals first saw them otherwise.
    pub inactive_since: Option<Timestamp>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Remembered, ReferralsError> {
    let since: String = row.try_get(1)?;
    Ok(Remembered {
        customer_id: id(&row.try_get::<String, _>(0)?)?,
        customer_since: since.parse().map_err(|e| corrupt("date", e))?,
        active: row.try_get::<i64, _>(2)? == 1,
        inactive_since: row.try_get::<Option<i64>, _>(3)?.map(instant).transpose()?,
    })
}

/// The member, if referrals has met them.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn get(conn: &mut Conn, customer_id: Id) -> Result<Option<Remembered>, ReferralsError> {
    let row = sqlx::query(
        "SELECT customer_id, customer_since, active, inactive_since_micros FROM members WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every remembered member, in one read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut Conn) -> Result<Vec<Remembered>, ReferralsError> {
    let rows = sqlx::query(
        "SELECT customer_id, customer_since, active, inactive_since_micros FROM members",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}
