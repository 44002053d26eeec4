use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::common::v1::ActorKind;
use rapport_proto::plans::v1::HardshipReason;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};
use serde::{Deserialize, Serialize};

use super::listing::ListQuery;
use super::{Conn, corrupt, enum_from_name, id, instant, micros};
use crate::domain::Actor;
use crate::domain::affordability::{
    FixedCost, FixedCostCategory, FlexibleCost, FlexibleCostCategory, Household, IncomeCategory,
    IncomeLine, Statement,
};
use crate::domain::case::{HardshipCase, Referral, SubmittedStatement};
use crate::error::PlansError;

const COLUMNS: &str = "case_id, customer_id, reason, reason_detail, opened_by_kind, opened_by_id, status, opened_at_micros, \
     closed_at_micros, statement, statement_currency, submitted_by_kind, submitted_by_id, submitted_at_micros";

#[tracing::instrument(skip_all, fields(case_id = %c.id))]
pub async fn insert(
    conn: &mut Conn,
    c: &HardshipCase,
    request_id: Option<&str>,
) -> Result<(), PlansError> {
    sqlx::query(
        "INSERT INTO hardship_cases (case_id, customer_id, reason, reason_detail, opened_by_kind, opened_by_id, status, \
         opened_at_micros, request_id) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
    )
    .bind(c.id.to_string())
    .bind(c.customer_id.to_string())
    .bind(c.reason.as_str_name())
    .bind(&c.reason_detail)
    .bind(c.opened_by.kind.as_str_name())
    .bind(&c.opened_by.id)
    .bind(micros(c.opened_at))
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    for account in &c.account_ids {
        sqlx::query("INSERT INTO case_accounts (case_id, account_id) VALUES ($1, $2)")
            .bind(c.id.to_string())
            .bind(account.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn by_request(conn: &mut Conn, request_id: &str) -> Result<Option<Id>, PlansError> {
    let row = sqlx::query("SELECT case_id FROM hardship_cases WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| id(&row.try_get::<String, _>(0)?)).transpose()
}

#[tracing::instrument(skip_all, fields(case_id = %case_id))]
pub async fn get(conn: &mut Conn, case_id: Id) -> Result<Option<HardshipCase>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM hardship_cases WHERE case_id = $1"
    )))
    .bind(case_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some(from_row(conn, &row).await?)),
        None => Ok(None),
    }
}

/// Which cases a list holds; at least one of customer and account is set by the caller.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub customer_id: Option<Id>,
    /// Only cases covering this account.
    pub account_id: Option<Id>,
    /// Open, closed or (`None`) both.
    pub open: Option<bool>,
}

/// Where a list of cases stands: (opened at, id).
pub type CaseKey = (i64, Id);

/// Hardship cases, newest first, after `after`.
#[tracing::instrument(skip_all, fields(customer_id = filter.customer_id.map(tracing::field::display), account_id = filter.account_id.map(tracing::field::display)))]
pub async fn list(
    conn: &mut Conn,
    filter: &CaseFilter,
    after: Option<CaseKey>,
    limit: i64,
) -> Result<Vec<HardshipCase>, PlansError> {
    let mut query = ListQuery::new(&format!("SELECT {COLUMNS} FROM hardship_cases WHERE 1 = 1"));
    if let Some(customer) = filter.customer_id {
        let c = query.bind(customer.to_string());
        query.push(&format!(" AND customer_id = {c}"));
    }
    if let Some(account) = filter.account_id {
        let a = query.bind(account.to_string());
        query.push(&format!(
            " AND case_id IN (SELECT case_id FROM case_accounts WHERE account_id = {a})"
        ));
    }
    if let Some(open) = filter.open {
        query.push(if open {
            " AND status = 'open'"
        } else {
            " AND status <> 'open'"
        });
    }
    if let Some((opened, last)) = after {
        let (o, i) = (query.bind(opened), query.bind(last.to_string()));
        query.push(&format!(
            " AND (opened_at_micros < {o} OR (opened_at_micros = {o} AND case_id < {i}))"
        ));
    }
    query.push(&format!(
        " ORDER BY opened_at_micros DESC, case_id DESC LIMIT {limit}"
    ));
    let rows = query.fetch_all(conn).await?;
    let mut cases = Vec::with_capacity(rows.len());
    for row in &rows {
        cases.push(from_row(conn, row).await?);
    }
    Ok(cases)
}

/// A case from its row, with its accounts and referrals.
async fn from_row(conn: &mut Conn, row: &sqlx::any::AnyRow) -> Result<HardshipCase, PlansError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    let case_id = id(&text(0)?)?;
    let statement = match (
        row.try_get::<Option<String>, _>(9)?,
        row.try_get::<Option<String>, _>(10)?,
    ) {
        (Some(json), Some(currency)) => Some(SubmittedStatement {
            currency: Currency::parse(&currency).map_err(|e| corrupt("currency", e))?,
            statement: statement_from_json(&json)?,
            submitted_by: Actor {
                kind: enum_from_name(
                    &row.try_get::<Option<String>, _>(11)?.unwrap_or_default(),
                    ActorKind::from_str_name,
                )?,
                id: row.try_get::<Option<String>, _>(12)?.unwrap_or_default(),
            },
            submitted_at: instant(row.try_get::<Option<i64>, _>(13)?.unwrap_or_default())?,
        }),
        _ => None,
    };
    let accounts =
        sqlx::query("SELECT account_id FROM case_accounts WHERE case_id = $1 ORDER BY account_id")
            .bind(case_id.to_string())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| id(&r.try_get::<String, _>(0)?))
            .collect::<Result<Vec<_>, PlansError>>()?;
    let referrals = referrals(conn, case_id).await?;
    Ok(HardshipCase {
        id: case_id,
        customer_id: id(&text(1)?)?,
        account_ids: accounts,
        reason: enum_from_name(&text(2)?, HardshipReason::from_str_name)?,
        reason_detail: text(3)?,
        opened_by: Actor {
            kind: enum_from_name(&text(4)?, ActorKind::from_str_name)?,
            id: text(5)?,
        },
        open: text(6)? == "open",
        opened_at: instant(row.try_get(7)?)?,
        closed_at: row.try_get::<Option<i64>, _>(8)?.map(instant).transpose()?,
        statement,
        referrals,
    })
}

/// The open case covering an account, if any.
#[tracing::instrument(skip_all, fields(account_id = %account_id))]
pub async fn open_for_account(conn: &mut Conn, account_id: Id) -> Result<Option<Id>, PlansError> {
    let row = sqlx::query(
        "SELECT c.case_id FROM hardship_cases c JOIN case_accounts a ON a.case_id = c.case_id \
         WHERE a.account_id = $1 AND c.status = 'open' ORDER BY c.opened_at_micros DESC LIMIT 1",
    )
    .bind(account_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| id(&row.try_get::<String, _>(0)?)).transpose()
}

#[tracing::instrument(skip_all, fields(case_id = %case_id))]
pub async fn save_statement(
    conn: &mut Conn,
    case_id: Id,
    s: &SubmittedStatement,
) -> Result<(), PlansError> {
    sqlx::query(
        "UPDATE hardship_cases SET statement = $2, statement_currency = $3, submitted_by_kind = $4, submitted_by_id = $5, \
         submitted_at_micros = $6 WHERE case_id = $1",
    )
    .bind(case_id.to_string())
    .bind(statement_to_json(&s.statement)?)
    .bind(s.currency.code())
    .bind(s.submitted_by.kind.as_str_name())
    .bind(&s.submitted_by.id)
    .bind(micros(s.submitted_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(referral_id = %r.id, case_id = %r.case_id))]
pub async fn insert_referral(conn: &mut Conn, r: &Referral) -> Result<(), PlansError> {
    sqlx::query(
        "INSERT INTO debt_advice_referrals (referral_id, case_id, service_id, referred_by_kind, referred_by_id, \
         customer_consented, referred_at_micros, notes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.id.to_string())
    .bind(r.case_id.to_string())
    .bind(&r.service_id)
    .bind(r.referred_by.kind.as_str_name())
    .bind(&r.referred_by.id)
    .bind(i64::from(r.customer_consented))
    .bind(micros(r.referred_at))
    .bind(&r.notes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn referrals(conn: &mut Conn, case_id: Id) -> Result<Vec<Referral>, PlansError> {
    let rows = sqlx::query(
        "SELECT referral_id, case_id, service_id, referred_by_kind, referred_by_id, customer_consented, referred_at_micros, notes \
         FROM debt_advice_referrals WHERE case_id = $1 ORDER BY referred_at_micros, referral_id",
    )
    .bind(case_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Referral {
                id: id(&row.try_get::<String, _>(0)?)?,
                case_id: id(&row.try_get::<String, _>(1)?)?,
                service_id: row.try_get(2)?,
                referred_by: Actor {
                    kind: enum_from_name(&row.try_get::<String, _>(3)?, ActorKind::from_str_name)?,
                    id: row.try_get(4)?,
                },
                customer_consented: row.try_get::<i64, _>(5)? != 0,
                referred_at: instant(row.try_get(6)?)?,
                notes: row.try_get(7)?,
            })
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct StatementJson {
    adults: u8,
    children: u8,
    vehicles: u8,
    income: Vec<LineJson>,
    fixed: Vec<LineJson>,
    flexible: Vec<LineJson>,
    savings_allowance: i64,
}

#[derive(Serialize, Deserialize)]
struct LineJson {
    category: String,
    description: String,
    monthly: i64,
}

fn statement_to_json(s: &Statement) -> Result<String, PlansError> {
    let json = StatementJson {
        adults: s.household.adults,
        children: s.household.children,
        vehicles: s.household.vehicles,
        income: s
            .income
            .iter()
            .map(|l| LineJson {
                category: format!("{:?}", l.category),
                description: l.description.clone(),
                monthly: l.monthly,
            })
            .collect(),
        fixed: s
            .fixed
            .iter()
            .map(|l| LineJson {
                category: format!("{:?}", l.category),
                description: l.description.clone(),
                monthly: l.monthly,
            })
            .collect(),
        flexible: s
            .flexible
            .iter()
            .map(|l| LineJson {
                category: format!("{:?}", l.category),
                description: l.description.clone(),
                monthly: l.monthly,
            })
            .collect(),
        savings_allowance: s.savings_allowance,
    };
    serde_json::to_string(&json).map_err(|e| corrupt("statement", e))
}

fn statement_from_json(text: &str) -> Result<Statement, PlansError> {
    let json: StatementJson =
        serde_json::from_str(text).map_err(|e| corrupt("statement", stored_json_error(&e)))?;
    let income = json
        .income
        .into_iter()
        .map(|l| {
            Ok(IncomeLine {
                category: match l.category.as_str() {
                    "Earnings" => IncomeCategory::Earnings,
                    "PartnerEarnings" => IncomeCategory::PartnerEarnings,
                    "Benefits" => IncomeCategory::Benefits,
                    "Pension" => IncomeCategory::Pension,
                    "ChildMaintenance" => IncomeCategory::ChildMaintenance,
                    "Other" => IncomeCategory::Other,
                    other => return Err(corrupt("income category", other)),
                },
                description: l.description,
                monthly: l.monthly,
            })
        })
        .collect::<Result<_, PlansError>>()?;
    let fixed = json
        .fixed
        .into_iter()
        .map(|l| {
            Ok(FixedCost {
                category: match l.category.as_str() {
                    "HomeAndContents" => FixedCostCategory::HomeAndContents,
                    "Utilities" => FixedCostCategory::Utilities,
                    "CareAndHealth" => FixedCostCategory::CareAndHealth,
                    "TransportAndTravel" => FixedCostCategory::TransportAndTravel,
                    "School" => FixedCostCategory::School,
                    "PensionsAndInsurance" => FixedCostCategory::PensionsAndInsurance,
                    "Professional" => FixedCostCategory::Professional,
                    "PriorityDebts" => FixedCostCategory::PriorityDebts,
                    "OtherEssential" => FixedCostCategory::OtherEssential,
                    other => return Err(corrupt("fixed cost category", other)),
                },
                description: l.description,
                monthly: l.monthly,
            })
        })
        .collect::<Result<_, PlansError>>()?;
    let flexible = json
        .flexible
        .into_iter()
        .map(|l| {
            Ok(FlexibleCost {
                category: match l.category.as_str() {
                    "CommunicationsAndLeisure" => FlexibleCostCategory::CommunicationsAndLeisure,
                    "FoodAndHousekeeping" => FlexibleCostCategory::FoodAndHousekeeping,
                    "Personal" => FlexibleCostCategory::Personal,
                    other => return Err(corrupt("flexible cost category", other)),
                },
                description: l.description,
                monthly: l.monthly,
            })
        })
        .collect::<Result<_, PlansError>>()?;
    Ok(Statement {
        household: Household {
            adults: json.adults,
            children: json.children,
            vehicles: json.vehicles,
        },
        income,
        fixed,
        flexible,
        savings_allowance: json.savings_allowance,
    })
}
