//! The recovery report's reads (issue 19): the accounts delinquent in a period, in pages by
//! account id, each with what it owed when it fell behind and what it paid since; and the plans
//! started on them. Aggregation is in SQL per account, so a report never holds every account.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1::{PlanStatus, ProtectionKind};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, enum_from_name, id, instant, micros};
use crate::error::PlansError;

/// One account delinquent in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelinquentAccount {
    pub account_id: Id,
    pub customer_id: Id,
    /// The balance when it became delinquent (today's balance for accounts that fell behind
    /// before that was kept, migration 0009).
    pub baseline: i64,
    /// Back to current within the period.
    pub cured: bool,
    /// Received in the period, after it became delinquent (the payments ledger: each payment
    /// once, docs/payments.md).
    pub recovered: i64,
    /// A vulnerability hold or mental-health crisis moratorium on record for the customer (as
    /// profiles' vulnerability record, what is known by the time of the report).
    pub held: bool,
}

/// The accounts in `currency` (and `jurisdiction`, empty = all) delinquent in [from, until):
/// became delinquent before `until` and not cured before `from`; after `after` in account id
/// order, at most `limit`.
#[tracing::instrument(skip(conn))]
pub async fn delinquent_page(
    conn: &mut Conn,
    currency: Currency,
    jurisdiction: &str,
    from: Timestamp,
    until: Timestamp,
    after: &str,
    limit: i64,
) -> Result<Vec<DelinquentAccount>, PlansError> {
    let rows = sqlx::query(
        "SELECT a.account_id, a.customer_id, \
           CAST(COALESCE(a.delinquent_balance_minor, a.balance_minor) AS BIGINT), \
           CAST(CASE WHEN a.cured_at_micros IS NOT NULL AND a.cured_at_micros >= $3 AND a.cured_at_micros < $4 \
                THEN 1 ELSE 0 END AS BIGINT), \
           CAST(COALESCE((SELECT SUM(p.amount_minor) FROM payments p WHERE p.account_id = a.account_id \
                AND p.received_at_micros >= $3 AND p.received_at_micros < $4 \
                AND p.received_at_micros >= a.became_delinquent_at_micros), 0) AS BIGINT), \
           CAST(CASE WHEN EXISTS (SELECT 1 FROM protections h WHERE h.customer_id = a.customer_id \
                AND h.kind IN ($7, $8)) THEN 1 ELSE 0 END AS BIGINT) \
         FROM accounts a \
         WHERE a.currency = $1 AND ($2 = '' OR a.jurisdiction = $2) \
           AND a.became_delinquent_at_micros IS NOT NULL AND a.became_delinquent_at_micros < $4 \
           AND (a.cured_at_micros IS NULL OR a.cured_at_micros >= $3) \
           AND a.account_id > $5 \
         ORDER BY a.account_id LIMIT $6",
    )
    .bind(currency.code())
    .bind(jurisdiction)
    .bind(micros(from))
    .bind(micros(until))
    .bind(after)
    .bind(limit)
    .bind(ProtectionKind::VulnerabilityHold.as_str_name())
    .bind(ProtectionKind::MentalHealthCrisis.as_str_name())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DelinquentAccount {
                account_id: id(&row.try_get::<String, _>(0)?)?,
                customer_id: id(&row.try_get::<String, _>(1)?)?,
                baseline: row.try_get(2)?,
                cured: row.try_get::<i64, _>(3)? != 0,
                recovered: row.try_get(4)?,
                held: row.try_get::<i64, _>(5)? != 0,
            })
        })
        .collect()
}

/// A plan started in the period on one of the report's accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedPlan {
    pub account_id: Id,
    pub status: PlanStatus,
    pub accepted_at: Timestamp,
    pub ended_at: Option<Timestamp>,
}

/// Plans accepted in [from, until) on `accounts` (one page of the report's accounts).
#[tracing::instrument(skip(conn, accounts), fields(accounts = accounts.len()))]
pub async fn plans_started(
    conn: &mut Conn,
    accounts: &[Id],
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<StartedPlan>, PlansError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (0..accounts.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT account_id, status, accepted_at_micros, ended_at_micros FROM plans \
         WHERE accepted_at_micros >= $1 AND accepted_at_micros < $2 AND account_id IN ({})",
        list.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(micros(from))
        .bind(micros(until));
    for account in accounts {
        query = query.bind(account.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok(StartedPlan {
                account_id: id(&row.try_get::<String, _>(0)?)?,
                status: enum_from_name(&row.try_get::<String, _>(1)?, PlanStatus::from_str_name)?,
                accepted_at: instant(row.try_get(2)?)?,
                ended_at: row.try_get::<Option<i64>, _>(3)?.map(instant).transpose()?,
            })
        })
        .collect()
}
