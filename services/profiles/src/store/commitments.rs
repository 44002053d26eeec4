use jiff::civil::Date;
use rapport_ids::Id;
use rapport_proto::common::v1::ActorKind;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, date, date_text, enum_from_name, id, instant, micros};
use crate::domain::Actor;
use crate::domain::commitment::{Commitment, CommitmentState, Resolution};
use crate::error::ProfilesError;

const COLUMNS: &str = "commitment_id, customer_id, description, promised_by_kind, promised_by_id, due_date, status, \
     interaction_id, created_at_micros, resolved_at_micros, resolved_by_kind, resolved_by_id, resolution_note";

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        commitment_id = %commitment.id,
        customer_id = %commitment.customer_id
    )
)]
pub async fn insert(
    conn: &mut Conn,
    commitment: &Commitment,
    request_id: Option<&str>,
) -> Result<(), ProfilesError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO commitments ({COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, '', '', '', $10)"
    )))
    .bind(commitment.id.to_string())
    .bind(commitment.customer_id.to_string())
    .bind(&commitment.description)
    .bind(commitment.promised_by.kind.as_str_name())
    .bind(&commitment.promised_by.id)
    .bind(date_text(commitment.due_date))
    .bind(commitment.state.as_str())
    .bind(&commitment.interaction_id)
    .bind(micros(commitment.created_at))
    .bind(request_id)
    .execute(&mut *conn)
    .await
    ?;
    Ok(())
}

/// Records the outcome of an open commitment; false when it was no longer open.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        commitment_id = %commitment.id,
        customer_id = %commitment.customer_id
    )
)]
pub async fn resolve(conn: &mut Conn, commitment: &Commitment) -> Result<bool, ProfilesError> {
    let Some(resolution) = &commitment.resolution else {
        return Ok(false);
    };
    let result = sqlx::query(
        "UPDATE commitments SET status = $2, resolved_at_micros = $3, resolved_by_kind = $4, resolved_by_id = $5, \
         resolution_note = $6 WHERE commitment_id = $1 AND status = 'open'",
    )
    .bind(commitment.id.to_string())
    .bind(commitment.state.as_str())
    .bind(micros(resolution.at))
    .bind(resolution.by.kind.as_str_name())
    .bind(&resolution.by.id)
    .bind(&resolution.note)
    .execute(&mut *conn)
    .await
    ?;
    Ok(result.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(commitment_id = %commitment_id))]
pub async fn get(conn: &mut Conn, commitment_id: Id) -> Result<Option<Commitment>, ProfilesError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM commitments WHERE commitment_id = $1"
    )))
    .bind(commitment_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Commitment>, ProfilesError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM commitments WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Which commitments a list wants, given the customer's `today`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatusFilter {
    pub open: bool,
    pub overdue: bool,
    pub kept: bool,
    pub broken: bool,
}

impl StatusFilter {
    pub fn all() -> Self {
        Self {
            open: true,
            overdue: true,
            kept: true,
            broken: true,
        }
    }
}

/// By due date, then id; after `after`, at most `limit`.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn list(
    conn: &mut Conn,
    customer_id: Id,
    statuses: StatusFilter,
    today: Date,
    after: Option<(Date, Id)>,
    limit: i64,
) -> Result<Vec<Commitment>, ProfilesError> {
    // $2 is the customer's today: open and due today or later is OPEN, earlier is OVERDUE.
    let mut wanted = Vec::new();
    if statuses.open {
        wanted.push("(status = 'open' AND due_date >= $2)");
    }
    if statuses.overdue {
        wanted.push("(status = 'open' AND due_date < $2)");
    }
    if statuses.kept {
        wanted.push("status = 'kept'");
    }
    if statuses.broken {
        wanted.push("status = 'broken'");
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = format!(
        "SELECT {COLUMNS} FROM commitments WHERE customer_id = $1 AND ({})",
        wanted.join(" OR ")
    );
    if after.is_some() {
        sql.push_str(" AND (due_date > $3 OR (due_date = $3 AND commitment_id > $4))");
    }
    sql.push_str(&format!(" ORDER BY due_date, commitment_id LIMIT {limit}"));
    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(customer_id.to_string())
        .bind(date_text(today));
    if let Some((due, last)) = after {
        query = query.bind(date_text(due)).bind(last.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn all_for(conn: &mut Conn, customer_id: Id) -> Result<Vec<Commitment>, ProfilesError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM commitments WHERE customer_id = $1 ORDER BY due_date, commitment_id"
    )))
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Commitment, ProfilesError> {
    let text = |index: usize| row.try_get::<String, _>(index).map_err(ProfilesError::from);
    let state = text(6)?;
    let resolution = match row.try_get::<Option<i64>, _>(9)? {
        Some(at) => Some(Resolution {
            at: instant(at)?,
            by: Actor {
                kind: enum_from_name(&text(10)?, ActorKind::from_str_name)?,
                id: text(11)?,
            },
            note: text(12)?,
        }),
        None => None,
    };
    Ok(Commitment {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        description: text(2)?,
        promised_by: Actor {
            kind: enum_from_name(&text(3)?, ActorKind::from_str_name)?,
            id: text(4)?,
        },
        due_date: date(&text(5)?)?,
        state: CommitmentState::parse(&state)
            .ok_or_else(|| ProfilesError::Corrupt(format!("commitment status {state:?}")))?,
        interaction_id: text(7)?,
        created_at: instant(row.try_get::<i64, _>(8)?)?,
        resolution,
    })
}
