use jiff::Timestamp;
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_proto::common::v1::ActorKind;
use rapport_proto::referrals::v1::{FraudFlagStatus, FraudSeverity, FraudSignal};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, StoredReason, corrupt, id, instant, micros};
use crate::error::ReferralsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub id: Id,
    pub signal: FraudSignal,
    pub severity: FraudSeverity,
    pub status: FraudFlagStatus,
    pub referral_ids: Vec<Id>,
    pub customer_ids: Vec<Id>,
    pub reasons: Vec<StoredReason>,
    pub raised_at: Timestamp,
    pub resolved: Option<(Timestamp, ActorKind, String, String)>,
}

impl Flag {
    /// An open strong flag holds the rewards it touches; a weak one (a shared IP) never does.
    pub fn holds(&self) -> bool {
        self.status == FraudFlagStatus::Open && self.severity == FraudSeverity::Strong
    }
}

const COLUMNS: &str = "flag_id, signal, severity, status, referral_ids, customer_ids, reasons, raised_at_micros, resolved_at_micros, \
     resolved_by_kind, resolved_by_id, resolution_reason";

fn ids_json(ids: &[Id]) -> Result<String, ReferralsError> {
    serde_json::to_string(&ids.iter().map(ToString::to_string).collect::<Vec<_>>())
        .map_err(|e| corrupt("ids", e))
}

#[tracing::instrument(level = "debug", skip_all, fields(flag_id = %f.id))]
pub async fn insert(conn: &mut Conn, f: &Flag) -> Result<(), ReferralsError> {
    sqlx::query(AssertSqlSafe(format!("INSERT INTO fraud_flags ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '', '', '')")))
        .bind(f.id.to_string())
        .bind(f.signal.as_str_name())
        .bind(f.severity.as_str_name())
        .bind(f.status.as_str_name())
        .bind(ids_json(&f.referral_ids)?)
        .bind(ids_json(&f.customer_ids)?)
        .bind(serde_json::to_string(&f.reasons).map_err(|e| corrupt("reasons", e))?)
        .bind(micros(f.raised_at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(flag_id = %f.id))]
pub async fn resolve(conn: &mut Conn, f: &Flag) -> Result<bool, ReferralsError> {
    let Some((at, kind, by, reason)) = &f.resolved else {
        return Ok(false);
    };
    let result = sqlx::query(
        "UPDATE fraud_flags SET status = $2, resolved_at_micros = $3, resolved_by_kind = $4, resolved_by_id = $5, resolution_reason = $6 \
         WHERE flag_id = $1 AND status = 'FRAUD_FLAG_STATUS_OPEN'",
    )
    .bind(f.id.to_string())
    .bind(f.status.as_str_name())
    .bind(micros(*at))
    .bind(kind.as_str_name())
    .bind(by)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(flag_id = %flag_id))]
pub async fn get(conn: &mut Conn, flag_id: Id) -> Result<Option<Flag>, ReferralsError> {
    Ok(select(conn, Some(flag_id)).await?.pop())
}

/// The flags raised on one referral. Subjects are stored as JSON lists, so this filters in
/// memory (a subjects table would let SQL do it).
#[tracing::instrument(level = "debug", skip_all, fields(referral_id = %referral_id))]
pub async fn for_referral(conn: &mut Conn, referral_id: Id) -> Result<Vec<Flag>, ReferralsError> {
    let mut flags = all(conn).await?;
    flags.retain(|f| f.referral_ids.contains(&referral_id));
    Ok(flags)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut Conn) -> Result<Vec<Flag>, ReferralsError> {
    select(conn, None).await
}

async fn select(conn: &mut Conn, flag_id: Option<Id>) -> Result<Vec<Flag>, ReferralsError> {
    let sql = match flag_id {
        Some(_) => format!("SELECT {COLUMNS} FROM fraud_flags WHERE flag_id = $1"),
        None => format!("SELECT {COLUMNS} FROM fraud_flags ORDER BY flag_id"),
    };
    let mut query = sqlx::query(AssertSqlSafe(sql));
    if let Some(flag_id) = flag_id {
        query = query.bind(flag_id.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            let text = |i: usize| row.try_get::<String, _>(i);
            let ids = |i: usize| -> Result<Vec<Id>, ReferralsError> {
                let raw: Vec<String> = serde_json::from_str(&text(i)?)
                    .map_err(|e| corrupt("ids", stored_json_error(&e)))?;
                raw.iter().map(|r| id(r)).collect()
            };
            let resolved = match row.try_get::<Option<i64>, _>(8)? {
                Some(at) => Some((
                    instant(at)?,
                    ActorKind::from_str_name(&text(9)?)
                        .ok_or_else(|| corrupt("actor", "unknown"))?,
                    text(10)?,
                    text(11)?,
                )),
                None => None,
            };
            Ok(Flag {
                id: id(&text(0)?)?,
                signal: FraudSignal::from_str_name(&text(1)?)
                    .ok_or_else(|| corrupt("signal", "unknown"))?,
                severity: FraudSeverity::from_str_name(&text(2)?)
                    .ok_or_else(|| corrupt("severity", "unknown"))?,
                status: FraudFlagStatus::from_str_name(&text(3)?)
                    .ok_or_else(|| corrupt("status", "unknown"))?,
                referral_ids: ids(4)?,
                customer_ids: ids(5)?,
                reasons: serde_json::from_str(&text(6)?)
                    .map_err(|e| corrupt("reasons", stored_json_error(&e)))?,
                raised_at: instant(row.try_get(7)?)?,
                resolved,
            })
        })
        .collect()
}
