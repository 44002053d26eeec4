//! Offered options, plans with their installments, and plan payments.

use jiff::Timestamp;

use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::common::v1::ActorKind;
use rapport_proto::plans::v1::{AgreementMethod, InstallmentStatus, PlanOptionKind, PlanStatus};
use rapport_storage::batch;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};
use serde::{Deserialize, Serialize};

use super::{Conn, corrupt, date, enum_from_name, id, instant, micros};
use crate::domain::Actor;
use crate::domain::plan::{Agreement, Plan, PlanTerms, PlannedInstallment};
use crate::domain::rate::AnnualRate;
use crate::error::PlansError;

/// Takes the row's write lock for the rest of the transaction: a no-op update locks the row on
/// PostgreSQL, and SQLite's `BEGIN IMMEDIATE` already serialises writers. Portable, so there is
/// no `FOR UPDATE` branch.
#[tracing::instrument(skip_all, fields(table = ?table, key = %key))]
pub async fn lock(conn: &mut Conn, table: Lockable, key: Id) -> Result<(), PlansError> {
    let sql = match table {
        Lockable::Account => "UPDATE accounts SET account_id = account_id WHERE account_id = $1",
        Lockable::Plan => "UPDATE plans SET plan_id = plan_id WHERE plan_id = $1",
    };
    sqlx::query(sql)
        .bind(key.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Lockable {
    Account,
    Plan,
}

/// An option as offered, stored so `AcceptPlan` takes exactly what the customer heard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOption {
    pub kind: String,
    pub monthly: i64,
    pub total_payable: i64,
    pub interest_waived: i64,
    pub fees_waived: i64,
    pub annual_rate: String,
    pub payday: i8,
    pub review_date: Option<String>,
    pub summary: String,
    pub installments: Vec<StoredInstallment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInstallment {
    pub sequence: u32,
    pub due_date: String,
    pub amount: i64,
    pub principal: i64,
    pub interest: i64,
    /// Owed after this installment, as the option's true schedule says (a catch-up or a token
    /// payment leaves a remainder). Absent in offers stored before it was kept.
    #[serde(default)]
    pub closing_balance: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedOption {
    pub id: Id,
    pub account_id: Id,
    pub case_id: String,
    pub option: StoredOption,
    pub basis: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Stores the options offered in one call, in one statement.
#[tracing::instrument(skip_all, fields(options = offered.len()))]
pub async fn save_options(conn: &mut Conn, offered: &[OfferedOption]) -> Result<(), PlansError> {
    if offered.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..offered.len())
        .map(|row| {
            let numbers: Vec<String> = (1..=8)
                .map(|column| format!("${}", row * 8 + column))
                .collect();
            format!("({})", numbers.join(", "))
        })
        .collect();
    // Only placeholders are formatted in; every value is bound.
    let mut query = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO plan_options (option_id, account_id, case_id, kind, payload, basis, created_at_micros, expires_at_micros) \
         VALUES {}",
        rows.join(", ")
    )));
    for o in offered {
        query = query
            .bind(o.id.to_string())
            .bind(o.account_id.to_string())
            .bind(o.case_id.clone())
            .bind(o.option.kind.clone())
            .bind(serde_json::to_string(&o.option).map_err(|e| corrupt("option", e))?)
            .bind(o.basis.clone())
            .bind(micros(o.created_at))
            .bind(micros(o.expires_at));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(option_id = %option_id))]
pub async fn option(conn: &mut Conn, option_id: Id) -> Result<Option<OfferedOption>, PlansError> {
    let row = sqlx::query(
        "SELECT option_id, account_id, case_id, payload, basis, created_at_micros, expires_at_micros FROM plan_options WHERE option_id = $1",
    )
    .bind(option_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(OfferedOption {
        id: id(&row.try_get::<String, _>(0)?)?,
        account_id: id(&row.try_get::<String, _>(1)?)?,
        case_id: row.try_get(2)?,
        option: serde_json::from_str(&row.try_get::<String, _>(3)?)
            .map_err(|e| corrupt("option", stored_json_error(&e)))?,
        basis: row.try_get(4)?,
        created_at: instant(row.try_get(5)?)?,
        expires_at: instant(row.try_get(6)?)?,
    }))
}

/// Options expire; old ones are removed when new ones are offered for the account.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn drop_expired_options(
    conn: &mut Conn,
    account_id: Id,
    now: Timestamp,
) -> Result<(), PlansError> {
    sqlx::query("DELETE FROM plan_options WHERE account_id = $1 AND expires_at_micros < $2")
        .bind(account_id.to_string())
        .bind(micros(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

const PLAN_COLUMNS: &str = "plan_id, account_id, customer_id, case_id, kind, status, currency, monthly_minor, total_payable_minor, \
     interest_waived_minor, fees_waived_minor, annual_rate, payday, review_date, consecutive_missed, replan_offered_at_micros, \
     accepted_by_kind, accepted_by_id, agreement_method, agreement_evidence, agreed_at_micros, accepted_at_micros, ended_at_micros, \
     end_reason, previous_plan_id, summary";

#[tracing::instrument(skip_all, fields(plan_id = %p.id))]
pub async fn insert(conn: &mut Conn, p: &Plan, request_id: Option<&str>) -> Result<(), PlansError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO plans ({PLAN_COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    )))
    .bind(p.id.to_string())
    .bind(p.account_id.to_string())
    .bind(p.customer_id.to_string())
    .bind(&p.case_id)
    .bind(p.kind.as_str_name())
    .bind(p.status.as_str_name())
    .bind(p.currency.code())
    .bind(p.monthly)
    .bind(p.total_payable)
    .bind(p.interest_waived)
    .bind(p.fees_waived)
    .bind(p.rate.to_string())
    .bind(i64::from(p.payday))
    .bind(p.review_date.map(|d| d.to_string()))
    .bind(i64::from(p.consecutive_missed))
    .bind(p.replan_offered_at.map(micros))
    .bind(p.accepted_by.kind.as_str_name())
    .bind(&p.accepted_by.id)
    .bind(p.agreement.method.as_str_name())
    .bind(&p.agreement.evidence_ref)
    .bind(micros(p.agreement.agreed_at))
    .bind(micros(p.accepted_at))
    .bind(p.ended_at.map(micros))
    .bind(&p.end_reason)
    .bind(&p.previous_plan_id)
    .bind(&p.summary)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    for i in &p.installments {
        sqlx::query(
            "INSERT INTO installments (plan_id, sequence, due_date, amount_minor, principal_minor, interest_minor, \
             closing_balance_minor, paid_minor, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(p.id.to_string())
        .bind(i64::from(i.sequence))
        .bind(i.due_date.to_string())
        .bind(i.amount)
        .bind(i.principal)
        .bind(i.interest)
        .bind(i.closing_balance)
        .bind(i.paid)
        .bind(i.status.as_str_name())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// How many plans are in each status (by the status's proto name), for metrics.
#[tracing::instrument(skip_all)]
pub async fn count_by_status(conn: &mut Conn) -> Result<Vec<(String, i64)>, PlansError> {
    let rows = sqlx::query("SELECT status, COUNT(*) FROM plans GROUP BY status")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(PlansError::from)
}

/// Saves what changes over a plan's life: status, misses, the re-plan offer, the end, and each
/// installment's payments.
#[tracing::instrument(skip_all, fields(plan_id = %p.id))]
pub async fn save_progress(conn: &mut Conn, p: &Plan) -> Result<(), PlansError> {
    update_progress(conn, p).await?;
    let all: Vec<&PlannedInstallment> = p.installments.iter().collect();
    update_installments(conn, p.id, &all).await
}

/// Saves what changed between `before` (the plan as read) and `after`: the plan's row only if its
/// progress changed, and only the installments that changed (a payment pays one or two of a
/// schedule that may have dozens).
#[tracing::instrument(skip_all, fields(plan_id = %after.id))]
pub async fn save_changes(conn: &mut Conn, before: &Plan, after: &Plan) -> Result<(), PlansError> {
    let progressed = before.status != after.status
        || before.consecutive_missed != after.consecutive_missed
        || before.replan_offered_at != after.replan_offered_at
        || before.ended_at != after.ended_at
        || before.end_reason != after.end_reason;
    if progressed {
        update_progress(conn, after).await?;
    }
    let changed: Vec<&PlannedInstallment> = after
        .installments
        .iter()
        .filter(|i| {
            !before
                .installments
                .iter()
                .any(|b| b.sequence == i.sequence && b.paid == i.paid && b.status == i.status)
        })
        .collect();
    update_installments(conn, after.id, &changed).await
}

async fn update_progress(conn: &mut Conn, p: &Plan) -> Result<(), PlansError> {
    sqlx::query(
        "UPDATE plans SET status = $2, consecutive_missed = $3, replan_offered_at_micros = $4, ended_at_micros = $5, \
         end_reason = $6 WHERE plan_id = $1",
    )
    .bind(p.id.to_string())
    .bind(p.status.as_str_name())
    .bind(i64::from(p.consecutive_missed))
    .bind(p.replan_offered_at.map(micros))
    .bind(p.ended_at.map(micros))
    .bind(&p.end_reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The installments a payment or a review changed, several in one statement (a payment often
/// settles one installment and starts the next).
async fn update_installments(
    conn: &mut Conn,
    plan_id: Id,
    changed: &[&PlannedInstallment],
) -> Result<(), PlansError> {
    for chunk in batch::chunked(changed) {
        // A CTE with named columns, then UPDATE … FROM: the same text on both backends.
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "WITH changed (sequence, paid_minor, status) AS (VALUES {}) \
             UPDATE installments SET paid_minor = changed.paid_minor, status = changed.status \
             FROM changed WHERE installments.plan_id = $1 AND installments.sequence = changed.sequence",
            batch::placeholders(chunk.len(), 3, 2)
        )))
        .bind(plan_id.to_string());
        for i in chunk {
            query = query
                .bind(i64::from(i.sequence))
                .bind(i.paid)
                .bind(i.status.as_str_name());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(plan_id = %plan_id))]
pub async fn get(conn: &mut Conn, plan_id: Id) -> Result<Option<Plan>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE plan_id = $1"
    )))
    .bind(plan_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(with_installments(conn, from_row(&row)?).await?)),
        None => Ok(None),
    }
}

#[tracing::instrument(skip_all)]
pub async fn by_request(conn: &mut Conn, request_id: &str) -> Result<Option<Id>, PlansError> {
    let row = sqlx::query("SELECT plan_id FROM plans WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| id(&row.try_get::<String, _>(0)?)).transpose()
}

/// The account's active plan, if any.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn active_for_account(
    conn: &mut Conn,
    account_id: Id,
) -> Result<Option<Plan>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE account_id = $1 AND status = 'PLAN_STATUS_ACTIVE' ORDER BY accepted_at_micros DESC LIMIT 1"
    )))
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(with_installments(conn, from_row(&row)?).await?)),
        None => Ok(None),
    }
}

/// Takes the row lock of the account's active plan and reads it as it is under the lock (it may
/// have ended while the lock was awaited: callers check its status). One statement for the
/// search, the lock and the read.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn lock_active_for_account(
    conn: &mut Conn,
    account_id: Id,
) -> Result<Option<Plan>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "UPDATE plans SET plan_id = plan_id WHERE plan_id = (SELECT plan_id FROM plans \
         WHERE account_id = $1 AND status = 'PLAN_STATUS_ACTIVE' ORDER BY accepted_at_micros DESC LIMIT 1) \
         RETURNING {PLAN_COLUMNS}"
    )))
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(with_installments(conn, from_row(&row)?).await?)),
        None => Ok(None),
    }
}

/// The terms of the account's active plan, if any (one row, without its installments).
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn active_terms_for_account(
    conn: &mut Conn,
    account_id: Id,
) -> Result<Option<PlanTerms>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE account_id = $1 AND status = 'PLAN_STATUS_ACTIVE' \
         ORDER BY accepted_at_micros DESC LIMIT 1"
    )))
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| Ok(from_row(&row)?.terms())).transpose()
}

/// The newest plan accepted from the hardship case, whatever its status.
#[tracing::instrument(skip_all, fields(case_id = %case_id))]
pub async fn newest_for_case(conn: &mut Conn, case_id: Id) -> Result<Option<Plan>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE case_id = $1 ORDER BY accepted_at_micros DESC, plan_id DESC LIMIT 1"
    )))
    .bind(case_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(with_installments(conn, from_row(&row)?).await?)),
        None => Ok(None),
    }
}

/// Plans of an account or a customer, newest first, after `after` (accepted_at, id).
#[tracing::instrument(skip_all, fields(account_id = account_id.map(tracing::field::display), customer_id = customer_id.map(tracing::field::display)))]
pub async fn list(
    conn: &mut Conn,
    account_id: Option<Id>,
    customer_id: Option<Id>,
    after: Option<(i64, Id)>,
    limit: i64,
) -> Result<Vec<Plan>, PlansError> {
    let mut sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE 1 = 1");
    let mut binds = Vec::new();
    if let Some(account) = account_id {
        binds.push(account.to_string());
        sql.push_str(&format!(" AND account_id = ${}", binds.len()));
    }
    if let Some(customer) = customer_id {
        binds.push(customer.to_string());
        sql.push_str(&format!(" AND customer_id = ${}", binds.len()));
    }
    let mut query_after = None;
    if let Some((at, last)) = after {
        binds.push(last.to_string());
        let n = binds.len();
        sql.push_str(&format!(
            " AND (accepted_at_micros < ${} OR (accepted_at_micros = ${} AND plan_id < ${n}))",
            n + 1,
            n + 1
        ));
        query_after = Some(at);
    }
    sql.push_str(&format!(
        " ORDER BY accepted_at_micros DESC, plan_id DESC LIMIT {limit}"
    ));
    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for value in binds {
        query = query.bind(value);
    }
    if let Some(at) = query_after {
        query = query.bind(at);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut plans = Vec::with_capacity(rows.len());
    for row in &rows {
        plans.push(with_installments(conn, from_row(row)?).await?);
    }
    Ok(plans)
}

async fn with_installments(conn: &mut Conn, mut plan: Plan) -> Result<Plan, PlansError> {
    let rows = sqlx::query(
        "SELECT sequence, due_date, amount_minor, principal_minor, interest_minor, closing_balance_minor, paid_minor, status \
         FROM installments WHERE plan_id = $1 ORDER BY sequence",
    )
    .bind(plan.id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    plan.installments = rows
        .iter()
        .map(|row| {
            Ok(PlannedInstallment {
                sequence: u32::try_from(row.try_get::<i64, _>(0)?)
                    .map_err(|e| corrupt("sequence", e))?,
                due_date: date(&row.try_get::<String, _>(1)?)?,
                amount: row.try_get(2)?,
                principal: row.try_get(3)?,
                interest: row.try_get(4)?,
                closing_balance: row.try_get(5)?,
                paid: row.try_get(6)?,
                status: enum_from_name(
                    &row.try_get::<String, _>(7)?,
                    InstallmentStatus::from_str_name,
                )?,
            })
        })
        .collect::<Result<_, PlansError>>()?;
    Ok(plan)
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Plan, PlansError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    let number = |i: usize| row.try_get::<i64, _>(i);
    Ok(Plan {
        id: id(&text(0)?)?,
        account_id: id(&text(1)?)?,
        customer_id: id(&text(2)?)?,
        case_id: text(3)?,
        kind: enum_from_name(&text(4)?, PlanOptionKind::from_str_name)?,
        status: enum_from_name(&text(5)?, PlanStatus::from_str_name)?,
        currency: Currency::parse(&text(6)?).map_err(|e| corrupt("currency", e))?,
        monthly: number(7)?,
        total_payable: number(8)?,
        interest_waived: number(9)?,
        fees_waived: number(10)?,
        rate: AnnualRate::parse(&text(11)?).map_err(|e| corrupt("rate", e))?,
        payday: i8::try_from(number(12)?).map_err(|e| corrupt("payday", e))?,
        review_date: row
            .try_get::<Option<String>, _>(13)?
            .as_deref()
            .map(date)
            .transpose()?,
        consecutive_missed: u32::try_from(number(14)?).map_err(|e| corrupt("misses", e))?,
        replan_offered_at: row
            .try_get::<Option<i64>, _>(15)?
            .map(instant)
            .transpose()?,
        accepted_by: Actor {
            kind: enum_from_name(&text(16)?, ActorKind::from_str_name)?,
            id: text(17)?,
        },
        agreement: Agreement {
            method: enum_from_name(&text(18)?, AgreementMethod::from_str_name)?,
            evidence_ref: text(19)?,
            agreed_at: instant(number(20)?)?,
        },
        accepted_at: instant(number(21)?)?,
        ended_at: row
            .try_get::<Option<i64>, _>(22)?
            .map(instant)
            .transpose()?,
        end_reason: text(23)?,
        previous_plan_id: text(24)?,
        summary: text(25)?,
        installments: Vec::new(),
    })
}

/// A payment against a plan and how it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPart {
    pub sequence: u32,
    pub applied: i64,
    pub remaining: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPayment {
    pub id: Id,
    pub plan_id: Id,
    pub idempotency_key: String,
    pub amount: i64,
    pub overpayment: i64,
    pub allocations: Vec<AppliedPart>,
    pub received_at: Timestamp,
    pub source_reference: String,
    pub recorded_at: Timestamp,
    /// The account's entry for the money (`accounts::AccountPayment`); `None` only for rows
    /// written before the ledger existed and not migrated (never, after migration 7).
    pub account_payment_id: Option<Id>,
}

const PAYMENT_COLUMNS: &str = "payment_id, plan_id, idempotency_key, amount_minor, overpayment_minor, allocations, \
     received_at_micros, source_reference, recorded_at_micros, account_payment_id";

/// Claims the key: false when another call already used it (nothing written).
#[tracing::instrument(skip_all, fields(plan_payment_id = %p.id, plan_id = %p.plan_id))]
pub async fn insert_payment(conn: &mut Conn, p: &PlanPayment) -> Result<bool, PlansError> {
    let result = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO plan_payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (plan_id, idempotency_key) DO NOTHING"
    )))
    .bind(p.id.to_string())
    .bind(p.plan_id.to_string())
    .bind(&p.idempotency_key)
    .bind(p.amount)
    .bind(p.overpayment)
    .bind(serde_json::to_string(&p.allocations).map_err(|e| corrupt("allocations", e))?)
    .bind(micros(p.received_at))
    .bind(&p.source_reference)
    .bind(micros(p.recorded_at))
    .bind(p.account_payment_id.map(|id| id.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[tracing::instrument(skip_all, fields(plan_id = %plan_id))]
pub async fn payment_by_key(
    conn: &mut Conn,
    plan_id: Id,
    key: &str,
) -> Result<Option<PlanPayment>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM plan_payments WHERE plan_id = $1 AND idempotency_key = $2"
    )))
    .bind(plan_id.to_string())
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(payment_from_row).transpose()
}

/// The allocation of the account's entry `account_payment_id` to a plan, if it was allocated.
#[tracing::instrument(skip_all, fields(account_payment_id = %account_payment_id))]
pub async fn payment_of_account_payment(
    conn: &mut Conn,
    account_payment_id: Id,
) -> Result<Option<PlanPayment>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM plan_payments WHERE account_payment_id = $1"
    )))
    .bind(account_payment_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(payment_from_row).transpose()
}

/// Gives a plan payment the agent's idempotency key, so the agent's retries find it.
#[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
pub async fn rekey_payment(conn: &mut Conn, payment_id: Id, key: &str) -> Result<(), PlansError> {
    sqlx::query("UPDATE plan_payments SET idempotency_key = $2 WHERE payment_id = $1")
        .bind(payment_id.to_string())
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn payment_from_row(row: &sqlx::any::AnyRow) -> Result<PlanPayment, PlansError> {
    Ok(PlanPayment {
        id: id(&row.try_get::<String, _>(0)?)?,
        plan_id: id(&row.try_get::<String, _>(1)?)?,
        idempotency_key: row.try_get(2)?,
        amount: row.try_get(3)?,
        overpayment: row.try_get(4)?,
        allocations: serde_json::from_str(&row.try_get::<String, _>(5)?)
            .map_err(|e| corrupt("allocations", stored_json_error(&e)))?,
        received_at: instant(row.try_get(6)?)?,
        source_reference: row.try_get(7)?,
        recorded_at: instant(row.try_get(8)?)?,
        account_payment_id: row
            .try_get::<Option<String>, _>(9)?
            .as_deref()
            .map(id)
            .transpose()?,
    })
}

/// The account and the customer of a plan.
#[tracing::instrument(skip_all, fields(plan_id = %plan_id))]
pub async fn owners(conn: &mut Conn, plan_id: Id) -> Result<Option<(Id, Id)>, PlansError> {
    let row = sqlx::query("SELECT account_id, customer_id FROM plans WHERE plan_id = $1")
        .bind(plan_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| {
        Ok((
            id(&row.try_get::<String, _>(0)?)?,
            id(&row.try_get::<String, _>(1)?)?,
        ))
    })
    .transpose()
}
