//! Codes, prospects and referrals.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::referrals::v1::ReferralStatus;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, id, instant, micros};
use crate::error::ReferralsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub customer_id: Id,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub active: bool,
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        code = %c.code,
        customer_id = %c.customer_id
    )
)]
pub async fn insert_code(conn: &mut Conn, c: &Code) -> Result<(), ReferralsError> {
    sqlx::query("INSERT INTO referral_codes (code, customer_id, issued_at_micros, expires_at_micros, active) VALUES ($1, $2, $3, $4, $5)")
        .bind(&c.code)
        .bind(c.customer_id.to_string())
        .bind(micros(c.issued_at))
        .bind(micros(c.expires_at))
        .bind(i64::from(c.active))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn code(conn: &mut Conn, code: &str) -> Result<Option<Code>, ReferralsError> {
    let row = sqlx::query("SELECT code, customer_id, issued_at_micros, expires_at_micros, active FROM referral_codes WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(code_from_row).transpose()
}

/// The customer's active, unexpired code.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn active_code(
    conn: &mut Conn,
    customer_id: Id,
    now: Timestamp,
) -> Result<Option<Code>, ReferralsError> {
    let row = sqlx::query(
        "SELECT code, customer_id, issued_at_micros, expires_at_micros, active FROM referral_codes \
         WHERE customer_id = $1 AND active = 1 AND expires_at_micros > $2 ORDER BY issued_at_micros DESC LIMIT 1",
    )
    .bind(customer_id.to_string())
    .bind(micros(now))
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(code_from_row).transpose()
}

fn code_from_row(row: &sqlx::any::AnyRow) -> Result<Code, ReferralsError> {
    Ok(Code {
        code: row.try_get(0)?,
        customer_id: id(&row.try_get::<String, _>(1)?)?,
        issued_at: instant(row.try_get(2)?)?,
        expires_at: instant(row.try_get(3)?)?,
        active: row.try_get::<i64, _>(4)? != 0,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prospect {
    pub id: Id,
    pub name: String,
    /// Normalised for comparison.
    pub email: String,
    pub phone: String,
    pub address: String,
    pub customer_id: Option<Id>,
}

#[tracing::instrument(level = "debug", skip_all, fields(prospect_id = %p.id))]
pub async fn insert_prospect(
    conn: &mut Conn,
    p: &Prospect,
    now: Timestamp,
) -> Result<(), ReferralsError> {
    sqlx::query("INSERT INTO prospects (prospect_id, name, email, phone, address, customer_id, created_at_micros) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(p.id.to_string())
        .bind(&p.name)
        .bind(&p.email)
        .bind(&p.phone)
        .bind(&p.address)
        .bind(p.customer_id.map(|c| c.to_string()))
        .bind(micros(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(prospect_id = %prospect_id))]
pub async fn prospect(
    conn: &mut Conn,
    prospect_id: Id,
) -> Result<Option<Prospect>, ReferralsError> {
    let row = sqlx::query("SELECT prospect_id, name, email, phone, address, customer_id FROM prospects WHERE prospect_id = $1")
        .bind(prospect_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Prospect {
        id: id(&row.try_get::<String, _>(0)?)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        phone: row.try_get(3)?,
        address: row.try_get(4)?,
        customer_id: row
            .try_get::<Option<String>, _>(5)?
            .map(|c| id(&c))
            .transpose()?,
    }))
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        prospect_id = %prospect_id,
        customer_id = %customer_id
    )
)]
pub async fn link_prospect(
    conn: &mut Conn,
    prospect_id: Id,
    customer_id: Id,
) -> Result<(), ReferralsError> {
    sqlx::query("UPDATE prospects SET customer_id = $2 WHERE prospect_id = $1")
        .bind(prospect_id.to_string())
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: Id,
    pub referrer_id: Id,
    pub code: String,
    pub prospect_id: Id,
    pub referee_id: Option<Id>,
    pub status: ReferralStatus,
    pub created_at: Timestamp,
    pub signed_up_at: Option<Timestamp>,
    pub qualified_at: Option<Timestamp>,
    pub device_hash: String,
    pub ip_address: String,
}

const COLUMNS: &str = "referral_id, referrer_id, code, prospect_id, referee_id, status, created_at_micros, signed_up_at_micros, \
     qualified_at_micros, device_hash, ip_address";

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        referral_id = %r.id,
        referrer_id = %r.referrer_id
    )
)]
pub async fn insert(
    conn: &mut Conn,
    r: &Referral,
    request_id: Option<&str>,
) -> Result<(), ReferralsError> {
    sqlx::query(AssertSqlSafe(format!("INSERT INTO referrals ({COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")))
        .bind(r.id.to_string())
        .bind(r.referrer_id.to_string())
        .bind(&r.code)
        .bind(r.prospect_id.to_string())
        .bind(r.referee_id.map(|c| c.to_string()))
        .bind(r.status.as_str_name())
        .bind(micros(r.created_at))
        .bind(r.signed_up_at.map(micros))
        .bind(r.qualified_at.map(micros))
        .bind(&r.device_hash)
        .bind(&r.ip_address)
        .bind(request_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        referral_id = %r.id,
        referee_id = r.referee_id.map(tracing::field::display)
    )
)]
pub async fn save(conn: &mut Conn, r: &Referral) -> Result<(), ReferralsError> {
    sqlx::query("UPDATE referrals SET referee_id = $2, status = $3, signed_up_at_micros = $4, qualified_at_micros = $5 WHERE referral_id = $1")
        .bind(r.id.to_string())
        .bind(r.referee_id.map(|c| c.to_string()))
        .bind(r.status.as_str_name())
        .bind(r.signed_up_at.map(micros))
        .bind(r.qualified_at.map(micros))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(referral_id = %referral_id))]
pub async fn get(conn: &mut Conn, referral_id: Id) -> Result<Option<Referral>, ReferralsError> {
    select_one(conn, "referral_id = $1", &referral_id.to_string()).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Referral>, ReferralsError> {
    select_one(conn, "request_id = $1", request_id).await
}

#[tracing::instrument(level = "debug", skip_all, fields(referee_id = %referee_id))]
pub async fn by_referee(
    conn: &mut Conn,
    referee_id: Id,
) -> Result<Option<Referral>, ReferralsError> {
    select_one(conn, "referee_id = $1", &referee_id.to_string()).await
}

async fn select_one(
    conn: &mut Conn,
    filter: &'static str,
    value: &str,
) -> Result<Option<Referral>, ReferralsError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM referrals WHERE {filter}"
    )))
    .bind(value)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Referrals by referrer and/or referee, newest first, after `after`.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        referrer_id = referrer.map(tracing::field::display),
        referee_id = referee.map(tracing::field::display)
    )
)]
pub async fn list(
    conn: &mut Conn,
    referrer: Option<Id>,
    referee: Option<Id>,
    statuses: &[ReferralStatus],
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<Referral>, ReferralsError> {
    let mut sql = format!("SELECT {COLUMNS} FROM referrals WHERE 1 = 1");
    let mut binds = Vec::new();
    for (column, value) in [
        ("referrer_id", referrer),
        ("referee_id", referee),
        ("referral_id <", after),
    ] {
        if let Some(value) = value {
            binds.push(value.to_string());
            let op = if column.ends_with('<') { "" } else { " =" };
            sql.push_str(&format!(" AND {column}{op} ${}", binds.len()));
        }
    }
    // Filtered here, not after the LIMIT, so every page is full and the token is right.
    if !statuses.is_empty() {
        let mut placeholders = Vec::new();
        for status in statuses {
            binds.push(status.as_str_name().to_owned());
            placeholders.push(format!("${}", binds.len()));
        }
        sql.push_str(&format!(" AND status IN ({})", placeholders.join(", ")));
    }
    sql.push_str(&format!(" ORDER BY referral_id DESC LIMIT {limit}"));
    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for value in binds {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// Every referral (the graph for trust and ring detection).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut Conn) -> Result<Vec<Referral>, ReferralsError> {
    super::in_pages(
        conn,
        &format!("SELECT {COLUMNS} FROM referrals WHERE referral_id > $1"),
        "referral_id",
        &[],
        |row| from_row(row).map(Some),
    )
    .await
}

/// Every referral whose referee signed up, as the trust graph's link (referrer, referee): two
/// ids of the row's eleven columns (see `vouches::vouched_links`).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn referee_links(conn: &mut Conn) -> Result<Vec<(Id, Id)>, ReferralsError> {
    super::in_pages(
        conn,
        "SELECT referral_id, referrer_id, referee_id FROM referrals WHERE referral_id > $1",
        "referral_id",
        &[],
        |row| {
            row.try_get::<Option<String>, _>(2)?
                .map(|referee| Ok((id(&row.try_get::<String, _>(1)?)?, id(&referee)?)))
                .transpose()
        },
    )
    .await
}

/// When the referrer made referrals since `since` (velocity).
#[tracing::instrument(level = "debug", skip_all, fields(referrer_id = %referrer))]
pub async fn made_since(
    conn: &mut Conn,
    referrer: Id,
    since: Timestamp,
) -> Result<Vec<Timestamp>, ReferralsError> {
    let rows = sqlx::query("SELECT created_at_micros FROM referrals WHERE referrer_id = $1 AND created_at_micros >= $2")
        .bind(referrer.to_string())
        .bind(micros(since))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| instant(row.try_get(0)?)).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Referral, ReferralsError> {
    let status: String = row.try_get(5)?;
    Ok(Referral {
        id: id(&row.try_get::<String, _>(0)?)?,
        referrer_id: id(&row.try_get::<String, _>(1)?)?,
        code: row.try_get(2)?,
        prospect_id: id(&row.try_get::<String, _>(3)?)?,
        referee_id: row
            .try_get::<Option<String>, _>(4)?
            .map(|c| id(&c))
            .transpose()?,
        status: ReferralStatus::from_str_name(&status)
            .ok_or_else(|| super::corrupt("referral status", &status))?,
        created_at: instant(row.try_get(6)?)?,
        signed_up_at: row.try_get::<Option<i64>, _>(7)?.map(instant).transpose()?,
        qualified_at: row.try_get::<Option<i64>, _>(8)?.map(instant).transpose()?,
        device_hash: row.try_get(9)?,
        ip_address: row.try_get(10)?,
    })
}
