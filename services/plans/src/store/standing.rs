//! Good standing as last published, and the facts it is evaluated from.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use rapport_proto::plans::v1::PlanStatus;

use super::{Conn, enum_from_name, id, instant, micros};
use crate::error::PlansError;

/// The verdict plans last published for a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub in_good_standing: bool,
    pub basis: String,
    pub since: Option<Timestamp>,
    pub lapses_at: Option<Timestamp>,
}

impl Recorded {
    /// A customer plans never found out of good standing.
    pub fn never_lost() -> Self {
        Self {
            in_good_standing: true,
            basis: "GOOD".to_owned(),
            since: None,
            lapses_at: None,
        }
    }
}

/// Takes the customer's standing row for this transaction (creating it as "never lost"), so two
/// changes for one customer evaluate one after the other and neither publishes a stale verdict.
/// Returns what was last published.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn lock(
    conn: &mut Conn,
    customer_id: Id,
    now: Timestamp,
) -> Result<Recorded, PlansError> {
    let never = Recorded::never_lost();
    // One statement: the no-op update on conflict takes the row lock (PostgreSQL; SQLite's
    // writer is single anyway) and returns the row as last published.
    let row = sqlx::query(
        "INSERT INTO customer_standing (customer_id, in_good_standing, basis, since_micros, lapses_at_micros, evaluated_at_micros) \
         VALUES ($1, 1, $2, NULL, NULL, $3) ON CONFLICT (customer_id) DO UPDATE SET customer_id = excluded.customer_id \
         RETURNING in_good_standing, basis, since_micros, lapses_at_micros",
    )
    .bind(customer_id.to_string())
    .bind(&never.basis)
    .bind(micros(now))
    .fetch_one(&mut *conn)
    .await?;
    recorded_from_row(&row)
}

/// What was last published for the customer, read without locking; `None` when plans has never
/// evaluated them (no row yet).
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn recorded(conn: &mut Conn, customer_id: Id) -> Result<Option<Recorded>, PlansError> {
    let row = sqlx::query(
        "SELECT in_good_standing, basis, since_micros, lapses_at_micros FROM customer_standing \
         WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(recorded_from_row).transpose()
}

fn recorded_from_row(row: &sqlx::any::AnyRow) -> Result<Recorded, PlansError> {
    Ok(Recorded {
        in_good_standing: row.try_get::<i64, _>(0)? == 1,
        basis: row.try_get(1)?,
        since: row.try_get::<Option<i64>, _>(2)?.map(instant).transpose()?,
        lapses_at: row.try_get::<Option<i64>, _>(3)?.map(instant).transpose()?,
    })
}

#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn save(
    conn: &mut Conn,
    customer_id: Id,
    recorded: &Recorded,
    now: Timestamp,
) -> Result<(), PlansError> {
    sqlx::query(
        "UPDATE customer_standing SET in_good_standing = $2, basis = $3, since_micros = $4, lapses_at_micros = $5, \
         evaluated_at_micros = $6 WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .bind(i64::from(recorded.in_good_standing))
    .bind(&recorded.basis)
    .bind(recorded.since.map(micros))
    .bind(recorded.lapses_at.map(micros))
    .bind(micros(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A plan as standing sees it: which account it is on, and whether and since when it is active or
/// broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPosition {
    pub plan_id: Id,
    pub account_id: Id,
    pub status: PlanStatus,
    pub accepted_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// The customer's active and broken plans (the only ones standing counts), without their
/// installments.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn plan_positions(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Vec<PlanPosition>, PlansError> {
    let rows = sqlx::query(
        "SELECT plan_id, account_id, status, accepted_at_micros, ended_at_micros FROM plans \
         WHERE customer_id = $1 AND status IN ('PLAN_STATUS_ACTIVE', 'PLAN_STATUS_BROKEN') \
         ORDER BY accepted_at_micros DESC, plan_id DESC",
    )
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PlanPosition {
                plan_id: id(&row.try_get::<String, _>(0)?)?,
                account_id: id(&row.try_get::<String, _>(1)?)?,
                status: enum_from_name(&row.try_get::<String, _>(2)?, PlanStatus::from_str_name)?,
                accepted_at: instant(row.try_get(3)?)?,
                ended_at: row.try_get::<Option<i64>, _>(4)?.map(instant).transpose()?,
            })
        })
        .collect()
}

/// Each account of the customer with how far behind it is.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn accounts_behind(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Vec<(Id, u32)>, PlansError> {
    let rows = sqlx::query(
        "SELECT account_id, days_past_due FROM accounts WHERE customer_id = $1 ORDER BY account_id",
    )
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let days = row.try_get::<i64, _>(1)?;
            Ok((
                id(&row.try_get::<String, _>(0)?)?,
                u32::try_from(days).unwrap_or(u32::MAX),
            ))
        })
        .collect()
}
