//! The contact ledger and the stored contact decisions.

use jiff::Timestamp;
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_proto::common::v1::{ActorKind, Channel, Direction};
use rapport_proto::plans::v1::{ContactOutcome, ContactPurpose};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};
use serde::{Deserialize, Serialize};

use super::{Conn, corrupt, enum_from_name, id, instant, micros};
use crate::domain::Actor;
use crate::error::PlansError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttempt {
    pub id: Id,
    pub customer_id: Id,
    pub account_id: Id,
    pub channel: Channel,
    pub direction: Direction,
    pub outcome: ContactOutcome,
    pub occurred_at: Timestamp,
    pub automated: bool,
    pub template_id: String,
    pub decision_id: String,
    pub made_by: Actor,
    pub recorded_at: Timestamp,
}

const ATTEMPT_COLUMNS: &str = "attempt_id, customer_id, account_id, channel, direction, outcome, occurred_at_micros, automated, \
     template_id, decision_id, made_by_kind, made_by_id, recorded_at_micros";

#[tracing::instrument(skip_all, fields(attempt_id = %a.id, account_id = %a.account_id))]
pub async fn insert_attempt(
    conn: &mut Conn,
    a: &StoredAttempt,
    request_id: Option<&str>,
) -> Result<(), PlansError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO contact_attempts ({ATTEMPT_COLUMNS}, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )))
    .bind(a.id.to_string())
    .bind(a.customer_id.to_string())
    .bind(a.account_id.to_string())
    .bind(a.channel.as_str_name())
    .bind(a.direction.as_str_name())
    .bind(a.outcome.as_str_name())
    .bind(micros(a.occurred_at))
    .bind(i64::from(a.automated))
    .bind(&a.template_id)
    .bind(&a.decision_id)
    .bind(a.made_by.kind.as_str_name())
    .bind(&a.made_by.id)
    .bind(micros(a.recorded_at))
    .bind(request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn attempt_by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<StoredAttempt>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ATTEMPT_COLUMNS} FROM contact_attempts WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(attempt_from_row).transpose()
}

/// The customer's attempts about this debt since `since`, oldest first.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id, account_id = %account_id))]
pub async fn attempts_for_debt(
    conn: &mut Conn,
    customer_id: Id,
    account_id: Id,
    since: Timestamp,
) -> Result<Vec<StoredAttempt>, PlansError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ATTEMPT_COLUMNS} FROM contact_attempts WHERE customer_id = $1 AND account_id = $2 AND occurred_at_micros >= $3 \
         ORDER BY occurred_at_micros, attempt_id"
    )))
    .bind(customer_id.to_string())
    .bind(account_id.to_string())
    .bind(micros(since))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(attempt_from_row).collect()
}

/// Channels the customer opted out of (on any debt): closed.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn opted_out_channels(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Vec<Channel>, PlansError> {
    let rows = sqlx::query("SELECT DISTINCT channel FROM contact_attempts WHERE customer_id = $1 AND outcome = 'CONTACT_OUTCOME_OPTED_OUT'")
        .bind(customer_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| enum_from_name(&row.try_get::<String, _>(0)?, Channel::from_str_name))
        .collect()
}

fn attempt_from_row(row: &sqlx::any::AnyRow) -> Result<StoredAttempt, PlansError> {
    let text = |i: usize| row.try_get::<String, _>(i);
    Ok(StoredAttempt {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        account_id: id(&text(2)?)?,
        channel: enum_from_name(&text(3)?, Channel::from_str_name)?,
        direction: enum_from_name(&text(4)?, Direction::from_str_name)?,
        outcome: enum_from_name(&text(5)?, ContactOutcome::from_str_name)?,
        occurred_at: instant(row.try_get(6)?)?,
        automated: row.try_get::<i64, _>(7)? != 0,
        template_id: text(8)?,
        decision_id: text(9)?,
        made_by: Actor {
            kind: enum_from_name(&text(10)?, ActorKind::from_str_name)?,
            id: text(11)?,
        },
        recorded_at: instant(row.try_get(12)?)?,
    })
}

/// One reason as stored with a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReason {
    pub code: String,
    pub message: String,
    pub rule_ref: String,
    /// "NEUTRAL" | "SUPPORTS" | "OPPOSES"
    pub effect: String,
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    pub id: Id,
    pub customer_id: Id,
    pub account_id: Id,
    pub channel: Channel,
    pub purpose: ContactPurpose,
    pub at: Timestamp,
    pub automated: bool,
    pub allowed: bool,
    pub reasons: Vec<StoredReason>,
    pub next_allowed_at: Option<Timestamp>,
    pub route_to_specialist: bool,
    pub rule_set: String,
    pub rule_set_version: String,
    pub requested_by: Actor,
    pub evaluated_at: Timestamp,
    pub reserved_until: Option<Timestamp>,
    pub consumed: bool,
}

const DECISION_COLUMNS: &str = "decision_id, customer_id, account_id, channel, purpose, at_micros, automated, allowed, reasons, \
     next_allowed_at_micros, route_to_specialist, rule_set, rule_set_version, requested_by_kind, requested_by_id, \
     evaluated_at_micros, reserved_until_micros, consumed";

#[tracing::instrument(skip_all, fields(decision_id = %d.id, account_id = %d.account_id))]
pub async fn insert_decision(conn: &mut Conn, d: &StoredDecision) -> Result<(), PlansError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO contact_decisions ({DECISION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    )))
    .bind(d.id.to_string())
    .bind(d.customer_id.to_string())
    .bind(d.account_id.to_string())
    .bind(d.channel.as_str_name())
    .bind(d.purpose.as_str_name())
    .bind(micros(d.at))
    .bind(i64::from(d.automated))
    .bind(i64::from(d.allowed))
    .bind(serde_json::to_string(&d.reasons).map_err(|e| corrupt("reasons", e))?)
    .bind(d.next_allowed_at.map(micros))
    .bind(i64::from(d.route_to_specialist))
    .bind(&d.rule_set)
    .bind(&d.rule_set_version)
    .bind(d.requested_by.kind.as_str_name())
    .bind(&d.requested_by.id)
    .bind(micros(d.evaluated_at))
    .bind(d.reserved_until.map(micros))
    .bind(i64::from(d.consumed))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(decision_id = %decision_id))]
pub async fn decision(
    conn: &mut Conn,
    decision_id: Id,
) -> Result<Option<StoredDecision>, PlansError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {DECISION_COLUMNS} FROM contact_decisions WHERE decision_id = $1"
    )))
    .bind(decision_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let text = |i: usize| row.try_get::<String, _>(i);
    Ok(Some(StoredDecision {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        account_id: id(&text(2)?)?,
        channel: enum_from_name(&text(3)?, Channel::from_str_name)?,
        purpose: enum_from_name(&text(4)?, ContactPurpose::from_str_name)?,
        at: instant(row.try_get(5)?)?,
        automated: row.try_get::<i64, _>(6)? != 0,
        allowed: row.try_get::<i64, _>(7)? != 0,
        reasons: serde_json::from_str(&text(8)?)
            .map_err(|e| corrupt("reasons", stored_json_error(&e)))?,
        next_allowed_at: row.try_get::<Option<i64>, _>(9)?.map(instant).transpose()?,
        route_to_specialist: row.try_get::<i64, _>(10)? != 0,
        rule_set: text(11)?,
        rule_set_version: text(12)?,
        requested_by: Actor {
            kind: enum_from_name(&text(13)?, ActorKind::from_str_name)?,
            id: text(14)?,
        },
        evaluated_at: instant(row.try_get(15)?)?,
        reserved_until: row
            .try_get::<Option<i64>, _>(16)?
            .map(instant)
            .transpose()?,
        consumed: row.try_get::<i64, _>(17)? != 0,
    }))
}

/// Marks the decision's slot used; false when it already was.
#[tracing::instrument(skip_all, fields(decision_id = %decision_id))]
pub async fn consume(conn: &mut Conn, decision_id: Id) -> Result<bool, PlansError> {
    let result = sqlx::query(
        "UPDATE contact_decisions SET consumed = 1 WHERE decision_id = $1 AND consumed = 0",
    )
    .bind(decision_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Attempt slots held for this debt and channel and not yet used: they count like attempts.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id, account_id = %account_id))]
pub async fn held_slots(
    conn: &mut Conn,
    customer_id: Id,
    account_id: Id,
    channel: Channel,
    now: Timestamp,
) -> Result<Vec<Timestamp>, PlansError> {
    let rows = sqlx::query(
        "SELECT at_micros FROM contact_decisions WHERE customer_id = $1 AND account_id = $2 AND channel = $3 \
         AND allowed = 1 AND consumed = 0 AND reserved_until_micros > $4",
    )
    .bind(customer_id.to_string())
    .bind(account_id.to_string())
    .bind(channel.as_str_name())
    .bind(micros(now))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|row| instant(row.try_get(0)?)).collect()
}
