//! Anniversary rewards (exactly once per customer and tenure year) and recognition.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, corrupt, id, instant, micros};
use crate::error::LoyaltyError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reward {
    pub reward_id: Id,
    pub customer_id: Id,
    pub tenure_year: u32,
    pub tenure_band: String,
    pub currency: String,
    pub amount_minor: i64,
    pub anniversary_date: Date,
    pub issued_at: Timestamp,
}

pub const ANNIVERSARY: &str = "anniversary";

/// Issues the reward unless this customer already has one for this tenure year: `false` then,
/// whether the other came from an earlier run or a concurrent one (the unique key decides).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        reward_id = %r.reward_id,
        customer_id = %r.customer_id
    )
)]
pub async fn issue(conn: &mut Conn, r: &Reward) -> Result<bool, LoyaltyError> {
    let row = sqlx::query(
        "INSERT INTO rewards (reward_id, customer_id, kind, tenure_year, tenure_band, currency, amount_minor, anniversary_date, issued_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (customer_id, kind, tenure_year) DO NOTHING RETURNING reward_id",
    )
    .bind(r.reward_id.to_string())
    .bind(r.customer_id.to_string())
    .bind(ANNIVERSARY)
    .bind(i64::from(r.tenure_year))
    .bind(&r.tenure_band)
    .bind(&r.currency)
    .bind(r.amount_minor)
    .bind(r.anniversary_date.to_string())
    .bind(micros(r.issued_at))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Rewards in id order (UUIDv7: issue order), of one customer or all, after `after`.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        customer_id = customer_id.map(tracing::field::display)
    )
)]
pub async fn list(
    conn: &mut Conn,
    customer_id: Option<Id>,
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<Reward>, LoyaltyError> {
    let rows = sqlx::query(
        "SELECT reward_id, customer_id, tenure_year, tenure_band, currency, amount_minor, anniversary_date, issued_at_micros \
         FROM rewards WHERE reward_id > $1 AND ($2 = '' OR customer_id = $2) ORDER BY reward_id LIMIT $3",
    )
    .bind(after.map(|a| a.to_string()).unwrap_or_default())
    .bind(customer_id.map(|c| c.to_string()).unwrap_or_default())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let date: String = row.try_get(6)?;
            Ok(Reward {
                reward_id: id(&row.try_get::<String, _>(0)?)?,
                customer_id: id(&row.try_get::<String, _>(1)?)?,
                tenure_year: u32::try_from(row.try_get::<i64, _>(2)?)
                    .map_err(|e| corrupt("tenure_year", e))?,
                tenure_band: row.try_get(3)?,
                currency: row.try_get(4)?,
                amount_minor: row.try_get(5)?,
                anniversary_date: date.parse().map_err(|e| corrupt("anniversary_date", e))?,
                issued_at: instant(row.try_get(7)?)?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognition {
    pub recognition_id: Id,
    pub customer_id: Id,
    /// The contract's enum names.
    pub kind: String,
    pub description: String,
    pub value: Option<(String, i64)>,
    pub given_by_kind: String,
    pub given_by_id: String,
    pub occurred_at: Timestamp,
    pub customer_response: String,
}

const RECOGNITION_COLUMNS: &str = "recognition_id, customer_id, kind, description, currency, amount_minor, given_by_kind, given_by_id, occurred_at_micros, customer_response";

/// Stores it unless `request_id` was seen (`false`).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        recognition_id = %r.recognition_id,
        customer_id = %r.customer_id
    )
)]
pub async fn recognise(
    conn: &mut Conn,
    r: &Recognition,
    request_id: Option<&str>,
) -> Result<bool, LoyaltyError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO recognitions ({RECOGNITION_COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (request_id) DO NOTHING RETURNING recognition_id"
    )))
    .bind(r.recognition_id.to_string())
    .bind(r.customer_id.to_string())
    .bind(&r.kind)
    .bind(&r.description)
    .bind(r.value.as_ref().map(|v| v.0.clone()))
    .bind(r.value.as_ref().map(|v| v.1))
    .bind(&r.given_by_kind)
    .bind(&r.given_by_id)
    .bind(micros(r.occurred_at))
    .bind(&r.customer_response)
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn recognition_by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Recognition>, LoyaltyError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {RECOGNITION_COLUMNS} FROM recognitions WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let currency: Option<String> = row.try_get(4)?;
    let amount: Option<i64> = row.try_get(5)?;
    Ok(Some(Recognition {
        recognition_id: id(&row.try_get::<String, _>(0)?)?,
        customer_id: id(&row.try_get::<String, _>(1)?)?,
        kind: row.try_get(2)?,
        description: row.try_get(3)?,
        value: currency.zip(amount),
        given_by_kind: row.try_get(6)?,
        given_by_id: row.try_get(7)?,
        occurred_at: instant(row.try_get(8)?)?,
        customer_response: row.try_get(9)?,
    }))
}
