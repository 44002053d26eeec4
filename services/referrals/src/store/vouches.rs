use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::common::v1::ActorKind;
use rapport_proto::referrals::v1::{Relationship, VouchStatus};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, corrupt, id, instant, micros};
use crate::error::ReferralsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vouch {
    pub id: Id,
    pub voucher_id: Id,
    pub prospect_id: Id,
    /// Set when the prospect is (or becomes) a customer.
    pub prospect_customer_id: Option<Id>,
    pub status: VouchStatus,
    pub relationship: Relationship,
    pub years_known: u32,
    pub comment: String,
    pub requested_by: (ActorKind, String),
    pub requested_at: Timestamp,
    pub responded_at: Option<Timestamp>,
}

const COLUMNS: &str = "vouch_id, voucher_id, prospect_id, prospect_customer_id, status, relationship, years_known, comment, \
     requested_by_kind, requested_by_id, requested_at_micros, responded_at_micros";

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        vouch_id = %v.id,
        voucher_id = %v.voucher_id,
        prospect_id = %v.prospect_id
    )
)]
pub async fn insert(
    conn: &mut Conn,
    v: &Vouch,
    request_id: Option<&str>,
) -> Result<(), ReferralsError> {
    sqlx::query(AssertSqlSafe(format!("INSERT INTO vouches ({COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")))
        .bind(v.id.to_string())
        .bind(v.voucher_id.to_string())
        .bind(v.prospect_id.to_string())
        .bind(v.prospect_customer_id.map(|c| c.to_string()).unwrap_or_default())
        .bind(v.status.as_str_name())
        .bind(v.relationship.as_str_name())
        .bind(i64::from(v.years_known))
        .bind(&v.comment)
        .bind(v.requested_by.0.as_str_name())
        .bind(&v.requested_by.1)
        .bind(micros(v.requested_at))
        .bind(v.responded_at.map(micros))
        .bind(request_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(vouch_id = %v.id))]
pub async fn save_answer(conn: &mut Conn, v: &Vouch) -> Result<bool, ReferralsError> {
    let result = sqlx::query(
        "UPDATE vouches SET status = $2, relationship = $3, years_known = $4, comment = $5, responded_at_micros = $6 \
         WHERE vouch_id = $1 AND status = 'VOUCH_STATUS_REQUESTED'",
    )
    .bind(v.id.to_string())
    .bind(v.status.as_str_name())
    .bind(v.relationship.as_str_name())
    .bind(i64::from(v.years_known))
    .bind(&v.comment)
    .bind(v.responded_at.map(micros))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(vouch_id = %vouch_id))]
pub async fn get(conn: &mut Conn, vouch_id: Id) -> Result<Option<Vouch>, ReferralsError> {
    select(conn, "vouch_id = $1", &vouch_id.to_string())
        .await
        .map(|mut v| v.pop())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Vouch>, ReferralsError> {
    select(conn, "request_id = $1", request_id)
        .await
        .map(|mut v| v.pop())
}

/// Every vouch given (the trust graph's vouch edges).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn vouched(conn: &mut Conn) -> Result<Vec<Vouch>, ReferralsError> {
    super::in_pages(
        conn,
        &format!("SELECT {COLUMNS} FROM vouches WHERE status = $1 AND vouch_id > $2"),
        "vouch_id",
        &[VouchStatus::Vouched.as_str_name()],
        |row| from_row(row).map(Some),
    )
    .await
}

/// A given vouch as the trust graph reads it: the link, how the two know each other and when it
/// was given; nothing else of the row.
#[derive(Debug, Clone, PartialEq)]
pub struct VouchLink {
    pub voucher_id: Id,
    pub prospect_id: Id,
    pub prospect_customer_id: Option<Id>,
    pub relationship: Relationship,
    pub years_known: u32,
    pub responded_at: Option<Timestamp>,
}

/// Every given vouch as a [`VouchLink`], in pages by key. The trust batch and every online update
/// read the whole graph: six columns of twelve, since each value read is copied (issue 23: most
/// of an online update at a million customers was this read).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn vouched_links(conn: &mut Conn) -> Result<Vec<VouchLink>, ReferralsError> {
    super::in_pages(
        conn,
        "SELECT vouch_id, voucher_id, prospect_id, prospect_customer_id, relationship, years_known, \
         responded_at_micros FROM vouches WHERE status = $1 AND vouch_id > $2",
        "vouch_id",
        &[VouchStatus::Vouched.as_str_name()],
        |row| {
            let text = |i: usize| row.try_get::<String, _>(i);
            Ok(Some(VouchLink {
                voucher_id: id(&text(1)?)?,
                prospect_id: id(&text(2)?)?,
                prospect_customer_id: prospect_customer(&text(3)?)?,
                relationship: Relationship::from_str_name(&text(4)?)
                    .ok_or_else(|| corrupt("relationship", "unknown"))?,
                years_known: u32::try_from(row.try_get::<i64, _>(5)?)
                    .map_err(|e| corrupt("years", e))?,
                responded_at: row.try_get::<Option<i64>, _>(6)?.map(instant).transpose()?,
            }))
        },
    )
    .await
}

/// Whether any vouch (asked, given or declined) names this prospect: a prospect exists only
/// through them.
#[tracing::instrument(level = "debug", skip_all, fields(prospect_id = %prospect_id))]
pub async fn prospect_known(conn: &mut Conn, prospect_id: Id) -> Result<bool, ReferralsError> {
    Ok(!select(conn, "prospect_id = $1", &prospect_id.to_string())
        .await?
        .is_empty())
}

/// How many vouch requests the voucher received since `since`.
#[tracing::instrument(level = "debug", skip_all, fields(voucher_id = %voucher))]
pub async fn requests_since(
    conn: &mut Conn,
    voucher: Id,
    since: Timestamp,
) -> Result<i64, ReferralsError> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM vouches WHERE voucher_id = $1 AND requested_at_micros >= $2",
    )
    .bind(voucher.to_string())
    .bind(micros(since))
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

async fn select(
    conn: &mut Conn,
    filter: &'static str,
    value: &str,
) -> Result<Vec<Vouch>, ReferralsError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM vouches WHERE {filter} ORDER BY vouch_id"
    )))
    .bind(value)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// `prospect_customer_id`: empty until the prospect became a customer.
fn prospect_customer(text: &str) -> Result<Option<Id>, ReferralsError> {
    if text.is_empty() {
        Ok(None)
    } else {
        id(text).map(Some)
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Vouch, ReferralsError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    Ok(Vouch {
        id: id(&text(0)?)?,
        voucher_id: id(&text(1)?)?,
        prospect_id: id(&text(2)?)?,
        prospect_customer_id: prospect_customer(&text(3)?)?,
        status: VouchStatus::from_str_name(&text(4)?)
            .ok_or_else(|| corrupt("vouch status", "unknown"))?,
        relationship: Relationship::from_str_name(&text(5)?)
            .ok_or_else(|| corrupt("relationship", "unknown"))?,
        years_known: u32::try_from(row.try_get::<i64, _>(6)?).map_err(|e| corrupt("years", e))?,
        comment: text(7)?,
        requested_by: (
            ActorKind::from_str_name(&text(8)?).ok_or_else(|| corrupt("actor", "unknown"))?,
            text(9)?,
        ),
        requested_at: instant(row.try_get(10)?)?,
        responded_at: row
            .try_get::<Option<i64>, _>(11)?
            .map(instant)
            .transpose()?,
    })
}
