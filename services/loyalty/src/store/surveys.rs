//! Survey responses and the NPS tally over them.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, id, instant, micros};
use crate::domain::nps::Nps;
use crate::error::LoyaltyError;

/// One answer as stored; `kind` and `channel` are the contract's enum names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub response_id: Id,
    pub customer_id: Id,
    pub kind: String,
    pub nps: Option<u8>,
    pub csat: Option<u8>,
    pub text: String,
    pub touchpoint: String,
    pub interaction_id: String,
    pub channel: String,
    pub locale: String,
    pub responded_at: Timestamp,
}

const COLUMNS: &str = "response_id, customer_id, kind, nps, csat, text, touchpoint, interaction_id, channel, locale, responded_at_micros";

/// Stores the answer unless `request_id` was seen: then `false`, and nothing is written.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        response_id = %r.response_id,
        customer_id = %r.customer_id
    )
)]
pub async fn insert(
    conn: &mut Conn,
    r: &Response,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<bool, LoyaltyError> {
    let inserted = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO survey_responses ({COLUMNS}, request_id, recorded_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (request_id) DO NOTHING RETURNING response_id"
    )))
    .bind(r.response_id.to_string())
    .bind(r.customer_id.to_string())
    .bind(&r.kind)
    .bind(r.nps.map(i64::from))
    .bind(r.csat.map(i64::from))
    .bind(&r.text)
    .bind(&r.touchpoint)
    .bind(&r.interaction_id)
    .bind(&r.channel)
    .bind(&r.locale)
    .bind(micros(r.responded_at))
    .bind(request_id)
    .bind(micros(now))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(inserted.is_some())
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Response, LoyaltyError> {
    let small = |v: Option<i64>| v.and_then(|v| u8::try_from(v).ok());
    Ok(Response {
        response_id: id(&row.try_get::<String, _>(0)?)?,
        customer_id: id(&row.try_get::<String, _>(1)?)?,
        kind: row.try_get(2)?,
        nps: small(row.try_get(3)?),
        csat: small(row.try_get(4)?),
        text: row.try_get(5)?,
        touchpoint: row.try_get(6)?,
        interaction_id: row.try_get(7)?,
        channel: row.try_get(8)?,
        locale: row.try_get(9)?,
        responded_at: instant(row.try_get(10)?)?,
    })
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Response>, LoyaltyError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM survey_responses WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which responses `GetNps` counts.
#[derive(Debug, Clone, Default)]
pub struct NpsFilter {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// The customer's current segment (scores_current).
    pub segment: Option<&'static str>,
    pub touchpoint: Option<String>,
    pub kind: Option<String>,
}

/// The NPS of the answers in the window, counted in SQL.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn nps(conn: &mut Conn, f: &NpsFilter) -> Result<Nps, LoyaltyError> {
    let mut sql = String::from(
        "SELECT \
           COALESCE(SUM(CASE WHEN r.nps >= 9 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN r.nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN r.nps <= 6 THEN 1 ELSE 0 END), 0) \
         FROM survey_responses r",
    );
    if f.segment.is_some() {
        sql.push_str(" JOIN scores_current s ON s.customer_id = r.customer_id");
    }
    sql.push_str(
        " WHERE r.nps IS NOT NULL AND r.responded_at_micros >= $1 AND r.responded_at_micros < $2",
    );
    let mut n = 2;
    let mut next = || {
        n += 1;
        n
    };
    if f.segment.is_some() {
        sql.push_str(&format!(" AND s.segment = ${}", next()));
    }
    if f.touchpoint.is_some() {
        sql.push_str(&format!(" AND r.touchpoint = ${}", next()));
    }
    if f.kind.is_some() {
        sql.push_str(&format!(" AND r.kind = ${}", next()));
    }
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(f.from.map_or(i64::MIN, micros))
        .bind(f.to.map_or(i64::MAX, micros));
    if let Some(segment) = f.segment {
        query = query.bind(segment);
    }
    if let Some(touchpoint) = &f.touchpoint {
        query = query.bind(touchpoint.clone());
    }
    if let Some(kind) = &f.kind {
        query = query.bind(kind.clone());
    }
    let row = query.fetch_one(&mut *conn).await?;
    let count = |i: usize| -> Result<u32, LoyaltyError> {
        let n: i64 = row.try_get(i)?;
        u32::try_from(n).map_err(|e| super::corrupt("count", e))
    };
    Ok(Nps::from_counts(count(0)?, count(1)?, count(2)?))
}
