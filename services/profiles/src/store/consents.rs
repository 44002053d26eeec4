use rapport_ids::Id;
use rapport_proto::common::v1::Channel;
use rapport_proto::profiles::v1::{ConsentPurpose, ConsentSource, ConsentStatus};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, enum_from_name, id, instant, micros};
use crate::domain::consent::Consent;
use crate::error::ProfilesError;

const COLUMNS: &str = "consent_id, customer_id, purpose, channel, status, source, source_detail, \
     decided_at_micros, recorded_at_micros";

/// Appends a decision; history is never rewritten.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        consent_id = %consent.id,
        customer_id = %consent.customer_id
    )
)]
pub async fn insert(
    conn: &mut Conn,
    consent: &Consent,
    request_id: Option<&str>,
) -> Result<(), ProfilesError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO consents ({COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(consent.id.to_string())
    .bind(consent.customer_id.to_string())
    .bind(consent.purpose.as_str_name())
    .bind(consent.channel.as_str_name())
    .bind(consent.status.as_str_name())
    .bind(consent.source.as_str_name())
    .bind(&consent.source_detail)
    .bind(micros(consent.decided_at))
    .bind(micros(consent.recorded_at))
    .bind(request_id)
    .execute(&mut *conn)
    .await
    ?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Consent>, ProfilesError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM consents WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Decisions newest first (by when the customer decided), optionally for one purpose, after
/// `after`, at most `limit`.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn history(
    conn: &mut Conn,
    customer_id: Id,
    purpose: Option<ConsentPurpose>,
    after: Option<(i64, Id)>,
    limit: i64,
) -> Result<Vec<Consent>, ProfilesError> {
    let mut sql = format!("SELECT {COLUMNS} FROM consents WHERE customer_id = $1");
    let mut next = 2;
    if purpose.is_some() {
        sql.push_str(" AND purpose = $2");
        next = 3;
    }
    if after.is_some() {
        sql.push_str(&format!(
            " AND (decided_at_micros < ${next} OR (decided_at_micros = ${next} AND consent_id < ${}))",
            next + 1
        ));
    }
    sql.push_str(&format!(
        " ORDER BY decided_at_micros DESC, consent_id DESC LIMIT {limit}"
    ));
    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(customer_id.to_string());
    if let Some(purpose) = purpose {
        query = query.bind(purpose.as_str_name());
    }
    if let Some((at, last)) = after {
        query = query.bind(at).bind(last.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Consent, ProfilesError> {
    let text = |index: usize| row.try_get::<String, _>(index).map_err(ProfilesError::from);
    Ok(Consent {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        purpose: enum_from_name(&text(2)?, ConsentPurpose::from_str_name)?,
        channel: enum_from_name(&text(3)?, Channel::from_str_name)?,
        status: enum_from_name(&text(4)?, ConsentStatus::from_str_name)?,
        source: enum_from_name(&text(5)?, ConsentSource::from_str_name)?,
        source_detail: text(6)?,
        decided_at: instant(row.try_get::<i64, _>(7)?)?,
        recorded_at: instant(row.try_get::<i64, _>(8)?)?,
    })
}
