use jiff::Timestamp;
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_proto::common::v1::ActorKind;
use rapport_proto::plans::v1::ProtectionKind;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::listing::ListQuery;
use super::{Conn, corrupt, enum_from_name, id, instant, micros};
use crate::domain::Actor;
use crate::domain::protection::{Clearance, Protection};
use crate::error::PlansError;

const COLUMNS: &str = "protection_id, customer_id, account_ids, kind, starts_at_micros, ends_at_micros, reference, reason, \
     case_id, set_by_kind, set_by_id, cleared_at_micros, cleared_by_kind, cleared_by_id, clear_reason";

#[tracing::instrument(skip_all, fields(protection_id = %p.id))]
pub async fn insert(
    conn: &mut Conn,
    p: &Protection,
    request_id: Option<&str>,
) -> Result<(), PlansError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO protections ({COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, '', '', '', $12)"
    )))
    .bind(p.id.to_string())
    .bind(p.customer_id.to_string())
    .bind(accounts_json(&p.account_ids)?)
    .bind(p.kind.as_str_name())
    .bind(micros(p.starts_at))
    .bind(p.ends_at.map(micros))
    .bind(&p.reference)
    .bind(&p.reason)
    .bind(&p.case_id)
    .bind(p.set_by.kind.as_str_name())
    .bind(&p.set_by.id)
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(protection_id = %p.id))]
pub async fn clear(conn: &mut Conn, p: &Protection) -> Result<(), PlansError> {
    let Some(cleared) = &p.cleared else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE protections SET ends_at_micros = $2, cleared_at_micros = $3, cleared_by_kind = $4, cleared_by_id = $5, \
         clear_reason = $6 WHERE protection_id = $1",
    )
    .bind(p.id.to_string())
    .bind(p.ends_at.map(micros))
    .bind(micros(cleared.at))
    .bind(cleared.by.kind.as_str_name())
    .bind(&cleared.by.id)
    .bind(&cleared.reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(protection_id = %protection_id))]
pub async fn get(conn: &mut Conn, protection_id: Id) -> Result<Option<Protection>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM protections WHERE protection_id = $1"
    )))
    .bind(protection_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

#[tracing::instrument(skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Protection>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM protections WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every protection the customer has had, oldest first.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn for_customer(conn: &mut Conn, customer_id: Id) -> Result<Vec<Protection>, PlansError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM protections WHERE customer_id = $1 ORDER BY starts_at_micros, protection_id"
    )))
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Which protections a list holds: the customer's, or only those covering one account of theirs.
#[derive(Debug, Clone)]
pub struct ProtectionFilter {
    pub customer_id: Id,
    /// Only those naming this account or set for every account of the customer.
    pub covering: Option<Id>,
    /// Only those not ended at this instant (status ACTIVE or ENDING, `Protection::status`).
    pub in_force_at: Option<Timestamp>,
}

/// Open-ended protections sort after every end.
const NO_END: i64 = i64::MAX;

/// Where a list of protections stands: (end, or [`NO_END`]; id).
pub type ProtectionKey = (i64, Id);

/// The sort key of `p` in [`list`].
pub fn list_key(p: &Protection) -> ProtectionKey {
    (p.ends_at.map_or(NO_END, micros), p.id)
}

/// Protections, soonest end first (open-ended last), after `after`.
#[tracing::instrument(skip_all, fields(customer_id = %filter.customer_id))]
pub async fn list(
    conn: &mut Conn,
    filter: &ProtectionFilter,
    after: Option<ProtectionKey>,
    limit: i64,
) -> Result<Vec<Protection>, PlansError> {
    let end = format!("COALESCE(ends_at_micros, {NO_END})");
    let mut query = ListQuery::new(&format!(
        "SELECT {COLUMNS} FROM protections WHERE customer_id = "
    ));
    let customer = query.bind(filter.customer_id.to_string());
    query.push(&customer);
    if let Some(account) = filter.covering {
        // account_ids is a JSON list of ids ('[]': every account); an id has no LIKE wildcards.
        let named = query.bind(format!("%\"{account}\"%"));
        query.push(&format!(
            " AND (account_ids = '[]' OR account_ids LIKE {named})"
        ));
    }
    if let Some(now) = filter.in_force_at {
        // Protection::status: ENDED once ends_at <= now; ACTIVE or ENDING before.
        let now = query.bind(micros(now));
        query.push(&format!(
            " AND (ends_at_micros IS NULL OR ends_at_micros > {now})"
        ));
    }
    if let Some((last_end, last)) = after {
        let (e, i) = (query.bind(last_end), query.bind(last.to_string()));
        query.push(&format!(
            " AND ({end} > {e} OR ({end} = {e} AND protection_id > {i}))"
        ));
    }
    query.push(&format!(" ORDER BY {end}, protection_id LIMIT {limit}"));
    query.fetch_all(conn).await?.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Protection, PlansError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    let accounts: Vec<String> = serde_json::from_str(&text(2)?)
        .map_err(|e| corrupt("account ids", stored_json_error(&e)))?;
    let cleared = match row.try_get::<Option<i64>, _>(11)? {
        Some(at) => Some(Clearance {
            at: instant(at)?,
            by: Actor {
                kind: enum_from_name(&text(12)?, ActorKind::from_str_name)?,
                id: text(13)?,
            },
            reason: text(14)?,
        }),
        None => None,
    };
    Ok(Protection {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        account_ids: accounts.iter().map(|a| id(a)).collect::<Result<_, _>>()?,
        kind: enum_from_name(&text(3)?, ProtectionKind::from_str_name)?,
        starts_at: instant(row.try_get(4)?)?,
        ends_at: row.try_get::<Option<i64>, _>(5)?.map(instant).transpose()?,
        reference: text(6)?,
        reason: text(7)?,
        case_id: text(8)?,
        set_by: Actor {
            kind: enum_from_name(&text(9)?, ActorKind::from_str_name)?,
            id: text(10)?,
        },
        cleared,
    })
}

fn accounts_json(ids: &[Id]) -> Result<String, PlansError> {
    serde_json::to_string(&ids.iter().map(ToString::to_string).collect::<Vec<_>>())
        .map_err(|e| corrupt("account ids", e))
}
