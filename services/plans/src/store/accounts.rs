use jiff::Timestamp;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1::AccountKind;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use rapport_outbox::OutboxRow;
use rapport_storage::health::CommitRow;
use rapport_storage::{Backend, Storage, WriteTransaction};

use super::listing::ListQuery;
use super::{Conn, corrupt, enum_from_name, id, instant, micros};
use crate::domain::account::{Account, PaymentMovement};
use crate::domain::rate::AnnualRate;
use crate::error::PlansError;

const COLUMNS: &str = "account_id, customer_id, source_system, external_account_id, kind, currency, balance_minor, \
     contractual_payment_minor, annual_rate, due_day, remaining_term_months, jurisdiction, days_past_due, arrears_minor, \
     ever_delinquent, became_delinquent_at_micros, cured_at_micros, last_payment_at_micros, last_payment_minor, \
     source_as_of_micros, created_at_micros, updated_at_micros, arrears_as_of_micros, delinquent_balance_minor";

#[tracing::instrument(skip_all, fields(account_id = %a.id))]
pub async fn insert(conn: &mut Conn, a: &Account) -> Result<(), PlansError> {
    let query = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO accounts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
    )));
    bind_all(query, a).execute(&mut *conn).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(account_id = %a.id))]
pub async fn update(conn: &mut Conn, a: &Account) -> Result<(), PlansError> {
    let query = sqlx::query(AssertSqlSafe(update_sql(1)));
    bind_all(query, a).execute(&mut *conn).await?;
    Ok(())
}

/// `UPDATE accounts` of every column from [`bind_all`]'s 24 parameters numbered from `first`
/// (the account id, `$first`, names the row).
fn update_sql(first: usize) -> String {
    let set: Vec<String> = COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .map(|(n, column)| format!("{} = ${}", column.trim(), first + n))
        .collect();
    format!(
        "UPDATE accounts SET {} WHERE account_id = ${first}",
        set.join(", ")
    )
}

/// Posts new money: the ledger row that claims its reference, the account as the money moved
/// it (`moved`) and the event, all or nothing; then reads the account's [`Surroundings`] (what
/// its answer shows besides its row, and whether a plan is to be paid). `None` (nothing written)
/// when the reference is on the account already: the ledger's unique key answers, so no read
/// of it comes first.
///
/// On PostgreSQL one statement (issue 23: each statement is a round trip): a data-modifying
/// CTE whose account update and event insert run only when the ledger row was inserted, and
/// whose SELECT reads the surroundings (its snapshot is taken after the account's lock, so it
/// sees what was committed before). On SQLite, where a statement costs no round trip, the same
/// writes and read one after the other.
#[tracing::instrument(skip_all, fields(account_payment_id = %p.id, account_id = %p.account_id))]
pub async fn post_payment(
    conn: &mut Conn,
    p: &AccountPayment,
    moved: &Account,
    event: OutboxRow,
    commit_row: Option<CommitRow>,
) -> Result<Option<Surroundings>, PlansError> {
    if conn.backend_name() != "PostgreSQL" {
        if let Some(row) = &commit_row {
            row.write(conn).await?;
        }
        if !insert_payment(conn, p).await? {
            return Ok(None);
        }
        update(conn, moved).await?;
        let query = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO outbox ({}) VALUES ({})",
            OutboxRow::COLUMNS,
            OutboxRow::values(1)
        )));
        event.bind(query).execute(&mut *conn).await?;
        return Ok(Some(surroundings(conn, moved.id, moved.customer_id).await?));
    }
    // Parameters: the payment's 12, the account's 24 (its id $13, its customer $14), the
    // event's 6, then the commit row's (the call's audit entry's pending half, written whether
    // or not the money was new: it commits with whatever this transaction commits).
    let commit = commit_row
        .as_ref()
        .map(|row| format!("commit_row AS ({}), ", row.insert_sql(43)))
        .unwrap_or_default();
    let query = sqlx::query(AssertSqlSafe(format!(
        "WITH {commit}payment AS ({} RETURNING payment_id), \
         moved AS ({} AND EXISTS (SELECT 1 FROM payment)), \
         event AS (INSERT INTO outbox ({}) SELECT {} WHERE EXISTS (SELECT 1 FROM payment)) \
         SELECT (SELECT COUNT(*) FROM payment), {}",
        insert_payment_sql(),
        update_sql(13),
        OutboxRow::COLUMNS,
        OutboxRow::values(37),
        surroundings_sql(13, 14)
    )));
    let mut query = event.bind(bind_all(bind_payment(query, p), moved));
    if let Some(row) = &commit_row {
        query = row.bind(query);
    }
    let row = query.fetch_one(&mut *conn).await?;
    if row.try_get::<i64, _>(0)? != 1 {
        return Ok(None);
    }
    Ok(Some(surroundings_from(&row, 1)?))
}

fn bind_all<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    a: &Account,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(a.id.to_string())
        .bind(a.customer_id.to_string())
        .bind(a.source_system.clone())
        .bind(a.external_account_id.clone())
        .bind(a.kind.as_str_name())
        .bind(a.currency.code())
        .bind(a.balance)
        .bind(a.contractual_payment)
        .bind(a.rate.to_string())
        .bind(i64::from(a.due_day))
        .bind(i64::from(a.remaining_term_months))
        .bind(a.jurisdiction.clone())
        .bind(i64::from(a.days_past_due))
        .bind(a.arrears)
        .bind(i64::from(a.ever_delinquent))
        .bind(a.became_delinquent_at.map(micros))
        .bind(a.cured_at.map(micros))
        .bind(a.last_payment.map(|(at, _)| micros(at)))
        .bind(a.last_payment.map(|(_, amount)| amount))
        .bind(micros(a.source_as_of))
        .bind(micros(a.created_at))
        .bind(micros(a.updated_at))
        .bind(a.arrears_as_of.map(micros))
        .bind(a.delinquent_balance)
}

#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn get(conn: &mut Conn, account_id: Id) -> Result<Option<Account>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM accounts WHERE account_id = $1"
    )))
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Begins a write transaction holding the account's row lock, and reads the account as it is
/// under the lock. PostgreSQL: `SELECT … FOR UPDATE`, which locks the row without writing a new
/// version of it (the no-op update this once was wrote one on every payment, issue 23), sent
/// with the BEGIN in one round trip (`Storage::begin_write_with`); the id is written into it as
/// a literal, the `Id` we parsed printed as a UUID, nothing a client wrote. SQLite: `BEGIN
/// IMMEDIATE`, which holds the one writer's lock for the whole transaction, then a plain read.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn begin_locked(
    storage: &Storage,
    account_id: Id,
) -> Result<(WriteTransaction, Option<Account>), PlansError> {
    match storage.backend() {
        Backend::Postgres => {
            let (tx, row) = storage
                .begin_write_with(AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM accounts WHERE account_id = '{account_id}' FOR UPDATE"
                )))
                .await?;
            Ok((tx, row.as_ref().map(from_row).transpose()?))
        }
        // `get`'s statement, prepared once and bound, as every other: no round trip to save.
        Backend::Sqlite => {
            let mut tx = storage.begin_write().await?;
            let account = get(&mut tx, account_id).await?;
            Ok((tx, account))
        }
    }
}

/// What an account's answer shows besides its own row, and whether a payment has a plan to pay:
/// read in one statement, after the account's lock (each statement sees what was committed
/// before it, so a plan accepted while the lock was awaited is seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surroundings {
    /// The account's newest active plan.
    pub active_plan: Option<Id>,
    /// The account's newest open hardship case.
    pub open_case: Option<Id>,
    /// How many protections the customer has, in force or not (0: none to read).
    pub protections: i64,
}

#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn surroundings(
    conn: &mut Conn,
    account_id: Id,
    customer_id: Id,
) -> Result<Surroundings, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {}", surroundings_sql(1, 2))))
        .bind(account_id.to_string())
        .bind(customer_id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    surroundings_from(&row, 0)
}

/// The three columns of [`Surroundings`], the account's id in `$account`, its customer's in
/// `$customer`; the same orders as `plans::lock_active_for_account` and
/// `cases::open_for_account`.
fn surroundings_sql(account: usize, customer: usize) -> String {
    format!(
        "(SELECT plan_id FROM plans WHERE account_id = ${account} AND status = 'PLAN_STATUS_ACTIVE' \
         ORDER BY accepted_at_micros DESC LIMIT 1), \
         (SELECT c.case_id FROM hardship_cases c JOIN case_accounts a ON a.case_id = c.case_id \
         WHERE a.account_id = ${account} AND c.status = 'open' ORDER BY c.opened_at_micros DESC LIMIT 1), \
         (SELECT COUNT(*) FROM protections WHERE customer_id = ${customer})"
    )
}

/// [`Surroundings`] from the row's columns `first` to `first + 2`.
fn surroundings_from(row: &sqlx::any::AnyRow, first: usize) -> Result<Surroundings, PlansError> {
    let optional_id = |column: usize| -> Result<Option<Id>, PlansError> {
        row.try_get::<Option<String>, _>(column)?
            .as_deref()
            .map(id)
            .transpose()
    };
    Ok(Surroundings {
        active_plan: optional_id(first)?,
        open_case: optional_id(first + 1)?,
        protections: row.try_get(first + 2)?,
    })
}

#[tracing::instrument(skip_all)]
pub async fn by_source(
    conn: &mut Conn,
    source_system: &str,
    external_id: &str,
) -> Result<Option<Account>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM accounts WHERE source_system = $1 AND external_account_id = $2"
    )))
    .bind(source_system)
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which of a customer's accounts a list holds.
#[derive(Debug, Clone)]
pub struct AccountFilter {
    pub customer_id: Id,
    /// Only accounts with something past due.
    pub in_arrears_only: bool,
    /// Days past due ranges (from, until exclusive; `None`: no end), any of which may match;
    /// empty: every account.
    pub days_past_due: Vec<(u32, Option<u32>)>,
}

/// Where a list of accounts stands: (days past due, created at, id).
pub type AccountKey = (i64, i64, Id);

/// A customer's accounts, most days past due first, then newest, after `after`.
#[tracing::instrument(skip_all, fields(customer_id = %filter.customer_id))]
pub async fn list(
    conn: &mut Conn,
    filter: &AccountFilter,
    after: Option<AccountKey>,
    limit: i64,
) -> Result<Vec<Account>, PlansError> {
    let mut query = ListQuery::new(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE customer_id = "
    ));
    let customer = query.bind(filter.customer_id.to_string());
    query.push(&customer);
    if filter.in_arrears_only {
        query.push(" AND arrears_minor > 0");
    }
    if !filter.days_past_due.is_empty() {
        let mut ranges = Vec::new();
        for (from, until) in &filter.days_past_due {
            let from = query.bind(i64::from(*from));
            ranges.push(match until {
                Some(until) => {
                    let until = query.bind(i64::from(*until));
                    format!("(days_past_due >= {from} AND days_past_due < {until})")
                }
                None => format!("days_past_due >= {from}"),
            });
        }
        query.push(&format!(" AND ({})", ranges.join(" OR ")));
    }
    if let Some((days, created, last)) = after {
        let (d, c, i) = (
            query.bind(days),
            query.bind(created),
            query.bind(last.to_string()),
        );
        query.push(&format!(
            " AND (days_past_due < {d} OR (days_past_due = {d} AND (created_at_micros < {c} \
             OR (created_at_micros = {c} AND account_id < {i}))))"
        ));
    }
    query.push(&format!(
        " ORDER BY days_past_due DESC, created_at_micros DESC, account_id DESC LIMIT {limit}"
    ));
    query.fetch_all(conn).await?.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Account, PlansError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    let number = |i: usize| row.try_get::<i64, _>(i);
    let optional = |i: usize| row.try_get::<Option<i64>, _>(i);
    let count = |i: usize| -> Result<u32, PlansError> {
        u32::try_from(number(i)?).map_err(|e| corrupt("count", e))
    };
    let last_payment = match (optional(17)?, optional(18)?) {
        (Some(at), Some(amount)) => Some((instant(at)?, amount)),
        _ => None,
    };
    Ok(Account {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        source_system: text(2)?,
        external_account_id: text(3)?,
        kind: enum_from_name(&text(4)?, AccountKind::from_str_name)?,
        currency: Currency::parse(&text(5)?).map_err(|e| corrupt("currency", e))?,
        balance: number(6)?,
        contractual_payment: number(7)?,
        rate: AnnualRate::parse(&text(8)?).map_err(|e| corrupt("rate", e))?,
        due_day: i8::try_from(number(9)?).map_err(|e| corrupt("due day", e))?,
        remaining_term_months: count(10)?,
        jurisdiction: text(11)?,
        days_past_due: count(12)?,
        arrears: number(13)?,
        ever_delinquent: number(14)? != 0,
        became_delinquent_at: optional(15)?.map(instant).transpose()?,
        cured_at: optional(16)?.map(instant).transpose()?,
        last_payment,
        source_as_of: instant(number(19)?)?,
        created_at: instant(number(20)?)?,
        updated_at: instant(number(21)?)?,
        arrears_as_of: optional(22)?.map(instant).transpose()?,
        delinquent_balance: optional(23)?,
    })
}

/// Which report moved the account (docs/payments.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostedBy {
    /// Billing, through ReportPayment.
    Billing,
    /// An agent, through RecordPlanPayment.
    Plan,
}

impl PostedBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Billing => "billing",
            Self::Plan => "plan",
        }
    }

    fn parse(text: &str) -> Result<Self, PlansError> {
        match text {
            "billing" => Ok(Self::Billing),
            "plan" => Ok(Self::Plan),
            other => Err(corrupt("posted_by", format!("{other:?}"))),
        }
    }
}

/// Money received on the account: one row however many sides report it, found by the reference
/// both know, so the account moves once (docs/payments.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPayment {
    pub id: Id,
    pub account_id: Id,
    /// Billing's idempotency key, which is the agent's source reference; unique per account.
    pub reference: String,
    pub amount: i64,
    pub received_at: Timestamp,
    pub source_reference: String,
    pub recorded_at: Timestamp,
    pub posted_by: PostedBy,
    pub billing_reported_at: Option<Timestamp>,
    pub plan_recorded_at: Option<Timestamp>,
    /// How the payment moved the account; `None` for payments posted before plans kept it.
    pub movement: Option<PaymentMovement>,
}

const PAYMENT_COLUMNS: &str = "payment_id, account_id, idempotency_key, amount_minor, received_at_micros, source_reference, \
     recorded_at_micros, posted_by, billing_reported_at_micros, plan_recorded_at_micros, applied_to_balance_minor, \
     applied_to_arrears_minor";

/// The ledger row's insert, parameters `$1` to `$12` ([`bind_payment`]); nothing when the
/// reference is on the account already.
fn insert_payment_sql() -> String {
    format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (account_id, idempotency_key) DO NOTHING"
    )
}

/// Inserts the payment unless its reference is on the account already; false when it was
/// (nothing written).
#[tracing::instrument(skip_all, fields(account_payment_id = %p.id, account_id = %p.account_id))]
async fn insert_payment(conn: &mut Conn, p: &AccountPayment) -> Result<bool, PlansError> {
    let result = bind_payment(sqlx::query(AssertSqlSafe(insert_payment_sql())), p)
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

fn bind_payment<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    p: &AccountPayment,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(p.id.to_string())
        .bind(p.account_id.to_string())
        .bind(p.reference.clone())
        .bind(p.amount)
        .bind(micros(p.received_at))
        .bind(p.source_reference.clone())
        .bind(micros(p.recorded_at))
        .bind(p.posted_by.as_str())
        .bind(p.billing_reported_at.map(micros))
        .bind(p.plan_recorded_at.map(micros))
        .bind(p.movement.map(|m| m.to_balance))
        .bind(p.movement.map(|m| m.to_arrears))
}

/// Records the side that had not reported the payment yet.
#[tracing::instrument(skip_all, fields(account_payment_id = %p.id, account_id = %p.account_id))]
pub async fn save_reports(conn: &mut Conn, p: &AccountPayment) -> Result<(), PlansError> {
    sqlx::query(
        "UPDATE payments SET source_reference = $2, billing_reported_at_micros = $3, plan_recorded_at_micros = $4 \
         WHERE payment_id = $1",
    )
    .bind(p.id.to_string())
    .bind(&p.source_reference)
    .bind(p.billing_reported_at.map(micros))
    .bind(p.plan_recorded_at.map(micros))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn payment_by_reference(
    conn: &mut Conn,
    account_id: Id,
    reference: &str,
) -> Result<Option<AccountPayment>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE account_id = $1 AND idempotency_key = $2"
    )))
    .bind(account_id.to_string())
    .bind(reference)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(payment_from_row).transpose()
}

#[tracing::instrument(skip_all, fields(payment_id = %payment_id))]
pub async fn payment(
    conn: &mut Conn,
    payment_id: Id,
) -> Result<Option<AccountPayment>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE payment_id = $1"
    )))
    .bind(payment_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(payment_from_row).transpose()
}

/// What the account received after `from` up to `until`: each payment once, whoever reported it.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn received_between(
    conn: &mut Conn,
    account_id: Id,
    from: Timestamp,
    until: Timestamp,
) -> Result<i64, PlansError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payments \
         WHERE account_id = $1 AND received_at_micros > $2 AND received_at_micros <= $3",
    )
    .bind(account_id.to_string())
    .bind(micros(from))
    .bind(micros(until))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

fn payment_from_row(row: &sqlx::any::AnyRow) -> Result<AccountPayment, PlansError> {
    let optional = |i: usize| row.try_get::<Option<i64>, _>(i);
    let movement = match (optional(10)?, optional(11)?) {
        (Some(to_balance), Some(to_arrears)) => Some(PaymentMovement {
            to_balance,
            to_arrears,
        }),
        _ => None,
    };
    Ok(AccountPayment {
        id: id(&row.try_get::<String, _>(0)?)?,
        account_id: id(&row.try_get::<String, _>(1)?)?,
        reference: row.try_get(2)?,
        amount: row.try_get(3)?,
        received_at: instant(row.try_get(4)?)?,
        source_reference: row.try_get(5)?,
        recorded_at: instant(row.try_get(6)?)?,
        posted_by: PostedBy::parse(&row.try_get::<String, _>(7)?)?,
        billing_reported_at: optional(8)?.map(instant).transpose()?,
        plan_recorded_at: optional(9)?.map(instant).transpose()?,
        movement,
    })
}
