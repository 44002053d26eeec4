use jiff::Timestamp;
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_proto::referrals::v1::{RewardRole, RewardStatus};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, StoredReason, corrupt, id, instant, micros};
use crate::error::ReferralsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reward {
    pub id: Id,
    pub referral_id: Id,
    pub customer_id: Id,
    pub role: RewardRole,
    pub currency: String,
    pub amount: i64,
    pub status: RewardStatus,
    pub reasons: Vec<StoredReason>,
    pub created_at: Timestamp,
    pub issued_at: Option<Timestamp>,
}

const COLUMNS: &str = "reward_id, referral_id, customer_id, role, currency, amount_minor, status, reasons, created_at_micros, issued_at_micros";

/// Creates the reward unless the referral already has one for this role: false then (nothing
/// written). This is what makes a reward issued exactly once.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        reward_id = %r.id,
        referral_id = %r.referral_id,
        customer_id = %r.customer_id
    )
)]
pub async fn insert(conn: &mut Conn, r: &Reward) -> Result<bool, ReferralsError> {
    let result = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO rewards ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (referral_id, role) DO NOTHING"
    )))
    .bind(r.id.to_string())
    .bind(r.referral_id.to_string())
    .bind(r.customer_id.to_string())
    .bind(r.role.as_str_name())
    .bind(&r.currency)
    .bind(r.amount)
    .bind(r.status.as_str_name())
    .bind(serde_json::to_string(&r.reasons).map_err(|e| corrupt("reasons", e))?)
    .bind(micros(r.created_at))
    .bind(r.issued_at.map(micros))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        reward_id = %r.id,
        referral_id = %r.referral_id,
        customer_id = %r.customer_id
    )
)]
pub async fn save(conn: &mut Conn, r: &Reward) -> Result<(), ReferralsError> {
    sqlx::query(
        "UPDATE rewards SET status = $2, reasons = $3, issued_at_micros = $4 WHERE reward_id = $1",
    )
    .bind(r.id.to_string())
    .bind(r.status.as_str_name())
    .bind(serde_json::to_string(&r.reasons).map_err(|e| corrupt("reasons", e))?)
    .bind(r.issued_at.map(micros))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Value issued to `customer_id` in [from, until): the annual cap's running total.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn issued_between(
    conn: &mut Conn,
    customer_id: Id,
    from: Timestamp,
    until: Timestamp,
) -> Result<i64, ReferralsError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM rewards WHERE customer_id = $1 AND status = 'REWARD_STATUS_ISSUED' \
         AND issued_at_micros >= $2 AND issued_at_micros < $3",
    )
    .bind(customer_id.to_string())
    .bind(micros(from))
    .bind(micros(until))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn held(conn: &mut Conn) -> Result<Vec<Reward>, ReferralsError> {
    select(conn, "status = $1", RewardStatus::Held.as_str_name()).await
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn for_customer(conn: &mut Conn, customer_id: Id) -> Result<Vec<Reward>, ReferralsError> {
    select(conn, "customer_id = $1", &customer_id.to_string()).await
}

async fn select(
    conn: &mut Conn,
    filter: &'static str,
    value: &str,
) -> Result<Vec<Reward>, ReferralsError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM rewards WHERE {filter} ORDER BY reward_id"
    )))
    .bind(value)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let text = |i: usize| row.try_get::<String, _>(i);
            Ok(Reward {
                id: id(&text(0)?)?,
                referral_id: id(&text(1)?)?,
                customer_id: id(&text(2)?)?,
                role: RewardRole::from_str_name(&text(3)?)
                    .ok_or_else(|| corrupt("role", "unknown"))?,
                currency: text(4)?,
                amount: row.try_get(5)?,
                status: RewardStatus::from_str_name(&text(6)?)
                    .ok_or_else(|| corrupt("reward status", "unknown"))?,
                reasons: serde_json::from_str(&text(7)?)
                    .map_err(|e| corrupt("reasons", stored_json_error(&e)))?,
                created_at: instant(row.try_get(8)?)?,
                issued_at: row.try_get::<Option<i64>, _>(9)?.map(instant).transpose()?,
            })
        })
        .collect()
}
