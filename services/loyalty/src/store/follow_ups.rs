//! Detractor follow-ups: the closed loop.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, id, instant, micros};
use crate::error::LoyaltyError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub follow_up_id: Id,
    pub customer_id: Id,
    pub response_id: Id,
    pub nps: u8,
    pub owner_id: String,
    pub opened_at: Timestamp,
    pub due_at: Timestamp,
    pub closed: Option<Closed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub at: Timestamp,
    pub customer_told: String,
    /// The contract's outcome name.
    pub outcome: String,
    pub by_kind: String,
    pub by_id: String,
}

const COLUMNS: &str = "follow_up_id, customer_id, response_id, nps, owner_id, opened_at_micros, due_at_micros, \
                       closed_at_micros, customer_told, outcome, closed_by_kind, closed_by_id";

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        follow_up_id = %f.follow_up_id,
        customer_id = %f.customer_id,
        response_id = %f.response_id
    )
)]
pub async fn insert(conn: &mut Conn, f: &FollowUp) -> Result<(), LoyaltyError> {
    sqlx::query(
        "INSERT INTO follow_ups (follow_up_id, customer_id, response_id, nps, owner_id, opened_at_micros, due_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(f.follow_up_id.to_string())
    .bind(f.customer_id.to_string())
    .bind(f.response_id.to_string())
    .bind(i64::from(f.nps))
    .bind(&f.owner_id)
    .bind(micros(f.opened_at))
    .bind(micros(f.due_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<FollowUp, LoyaltyError> {
    let closed_at: Option<i64> = row.try_get(7)?;
    let closed = match closed_at {
        None => None,
        Some(at) => Some(Closed {
            at: instant(at)?,
            customer_told: row.try_get::<Option<String>, _>(8)?.unwrap_or_default(),
            outcome: row.try_get::<Option<String>, _>(9)?.unwrap_or_default(),
            by_kind: row.try_get::<Option<String>, _>(10)?.unwrap_or_default(),
            by_id: row.try_get::<Option<String>, _>(11)?.unwrap_or_default(),
        }),
    };
    Ok(FollowUp {
        follow_up_id: id(&row.try_get::<String, _>(0)?)?,
        customer_id: id(&row.try_get::<String, _>(1)?)?,
        response_id: id(&row.try_get::<String, _>(2)?)?,
        nps: u8::try_from(row.try_get::<i64, _>(3)?).map_err(|e| super::corrupt("nps", e))?,
        owner_id: row.try_get(4)?,
        opened_at: instant(row.try_get(5)?)?,
        due_at: instant(row.try_get(6)?)?,
        closed,
    })
}

/// Follow-ups still open after their due time at `now`, for metrics.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_overdue(conn: &mut Conn, now: Timestamp) -> Result<i64, LoyaltyError> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM follow_ups WHERE closed_at_micros IS NULL AND due_at_micros < $1",
    )
    .bind(rapport_clock::to_unix_micros(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

#[tracing::instrument(level = "debug", skip_all, fields(follow_up_id = %follow_up_id))]
pub async fn get(conn: &mut Conn, follow_up_id: Id) -> Result<Option<FollowUp>, LoyaltyError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM follow_ups WHERE follow_up_id = $1"
    )))
    .bind(follow_up_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

#[tracing::instrument(level = "debug", skip_all, fields(response_id = %response_id))]
pub async fn for_response(
    conn: &mut Conn,
    response_id: Id,
) -> Result<Option<FollowUp>, LoyaltyError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM follow_ups WHERE response_id = $1"
    )))
    .bind(response_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Closes an open follow-up; `false` when it was already closed (by this call's twin or another).
#[tracing::instrument(level = "debug", skip_all, fields(follow_up_id = %follow_up_id))]
pub async fn close(
    conn: &mut Conn,
    follow_up_id: Id,
    closed: &Closed,
) -> Result<bool, LoyaltyError> {
    let done = sqlx::query(
        "UPDATE follow_ups SET closed_at_micros = $2, customer_told = $3, outcome = $4, closed_by_kind = $5, closed_by_id = $6 \
         WHERE follow_up_id = $1 AND closed_at_micros IS NULL",
    )
    .bind(follow_up_id.to_string())
    .bind(micros(closed.at))
    .bind(&closed.customer_told)
    .bind(&closed.outcome)
    .bind(&closed.by_kind)
    .bind(&closed.by_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which follow-ups `ListFollowUps` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Any,
    /// Open, due or not.
    Open,
    /// Open and past due at `now`.
    Overdue,
    Closed,
}

#[derive(Debug, Clone)]
pub struct ListFilter {
    pub state: State,
    pub owner_id: Option<String>,
    pub customer_id: Option<Id>,
    pub now: Timestamp,
    /// Keyset: follow-ups after this id (UUIDv7, so in opening order).
    pub after: Option<Id>,
    pub limit: i64,
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        customer_id = f.customer_id.map(tracing::field::display)
    )
)]
pub async fn list(conn: &mut Conn, f: &ListFilter) -> Result<Vec<FollowUp>, LoyaltyError> {
    let mut sql = format!("SELECT {COLUMNS} FROM follow_ups WHERE follow_up_id > $1");
    let mut n = 1;
    sql.push_str(match f.state {
        State::Any => "",
        State::Open => " AND closed_at_micros IS NULL",
        State::Overdue => {
            n += 1;
            " AND closed_at_micros IS NULL AND due_at_micros < $2"
        }
        State::Closed => " AND closed_at_micros IS NOT NULL",
    });
    if f.owner_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND owner_id = ${n}"));
    }
    if f.customer_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND customer_id = ${n}"));
    }
    n += 1;
    sql.push_str(&format!(" ORDER BY follow_up_id LIMIT ${n}"));
    let mut query =
        sqlx::query(AssertSqlSafe(sql)).bind(f.after.map(|a| a.to_string()).unwrap_or_default());
    if f.state == State::Overdue {
        query = query.bind(micros(f.now));
    }
    if let Some(owner) = &f.owner_id {
        query = query.bind(owner.clone());
    }
    if let Some(customer) = f.customer_id {
        query = query.bind(customer.to_string());
    }
    let rows = query.bind(f.limit).fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}
