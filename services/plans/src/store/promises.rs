use jiff::Timestamp;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::common::v1::{ActorKind, Channel};
use rapport_proto::plans::v1::PromiseToPayStatus;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, corrupt, date, enum_from_name, id, instant, micros};
use crate::domain::Actor;
use crate::domain::promise::Promise;
use crate::error::PlansError;

const COLUMNS: &str = "promise_id, account_id, customer_id, currency, amount_minor, promised_date, status, paid_minor, channel, \
     recorded_by_kind, recorded_by_id, note, created_at_micros, resolved_at_micros";

#[tracing::instrument(skip_all, fields(promise_id = %p.id, account_id = %p.account_id))]
pub async fn insert(
    conn: &mut Conn,
    p: &Promise,
    request_id: Option<&str>,
) -> Result<(), PlansError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO promises ({COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    )))
    .bind(p.id.to_string())
    .bind(p.account_id.to_string())
    .bind(p.customer_id.to_string())
    .bind(p.currency.code())
    .bind(p.amount)
    .bind(p.promised_date.to_string())
    .bind(p.status.as_str_name())
    .bind(p.paid)
    .bind(p.channel.as_str_name())
    .bind(p.recorded_by.kind.as_str_name())
    .bind(&p.recorded_by.id)
    .bind(&p.note)
    .bind(micros(p.created_at))
    .bind(p.resolved_at.map(micros))
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(promise_id = %p.id, account_id = %p.account_id))]
pub async fn save(conn: &mut Conn, p: &Promise) -> Result<(), PlansError> {
    sqlx::query("UPDATE promises SET status = $2, paid_minor = $3, resolved_at_micros = $4 WHERE promise_id = $1")
        .bind(p.id.to_string())
        .bind(p.status.as_str_name())
        .bind(p.paid)
        .bind(p.resolved_at.map(micros))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn by_request(conn: &mut Conn, request_id: &str) -> Result<Option<Promise>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM promises WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Promises of an account or a customer, newest first, after `after`.
#[tracing::instrument(skip_all, fields(account_id = account_id.map(tracing::field::display), customer_id = customer_id.map(tracing::field::display)))]
pub async fn list(
    conn: &mut Conn,
    account_id: Option<Id>,
    customer_id: Option<Id>,
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<Promise>, PlansError> {
    let mut sql = format!("SELECT {COLUMNS} FROM promises WHERE 1 = 1");
    let mut binds = Vec::new();
    if let Some(account) = account_id {
        binds.push(account.to_string());
        sql.push_str(&format!(" AND account_id = ${}", binds.len()));
    }
    if let Some(customer) = customer_id {
        binds.push(customer.to_string());
        sql.push_str(&format!(" AND customer_id = ${}", binds.len()));
    }
    if let Some(after) = after {
        binds.push(after.to_string());
        sql.push_str(&format!(" AND promise_id < ${}", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY promise_id DESC LIMIT {limit}"));
    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for value in binds {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// What the account received after `from` up to `until`: each payment once, whether billing,
/// an agent on a plan, or both reported it (docs/payments.md).
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn paid_between(
    conn: &mut Conn,
    account_id: Id,
    from: Timestamp,
    until: Timestamp,
) -> Result<i64, PlansError> {
    super::accounts::received_between(conn, account_id, from, until).await
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Promise, PlansError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    Ok(Promise {
        id: id(&text(0)?)?,
        account_id: id(&text(1)?)?,
        customer_id: id(&text(2)?)?,
        currency: Currency::parse(&text(3)?).map_err(|e| corrupt("currency", e))?,
        amount: row.try_get(4)?,
        promised_date: date(&text(5)?)?,
        status: enum_from_name(&text(6)?, PromiseToPayStatus::from_str_name)?,
        paid: row.try_get(7)?,
        channel: enum_from_name(&text(8)?, Channel::from_str_name)?,
        recorded_by: Actor {
            kind: enum_from_name(&text(9)?, ActorKind::from_str_name)?,
            id: text(10)?,
        },
        note: text(11)?,
        created_at: instant(row.try_get(12)?)?,
        resolved_at: row
            .try_get::<Option<i64>, _>(13)?
            .map(instant)
            .transpose()?,
    })
}
