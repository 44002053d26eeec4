//! Contact preferences and vulnerability records: one current value per customer, as JSON.

use jiff::civil::{Time, Weekday};
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_proto::common::v1::{ActorKind, Channel};
use rapport_proto::profiles::v1::VulnerabilityDriver;
use rapport_storage::sqlx::{self, Row};
use serde::{Deserialize, Serialize};

use super::{Conn, date, date_text, enum_from_name, instant, micros};
use crate::domain::Actor;
use crate::domain::preferences::{ContactPreferences, QuietHours};
use crate::domain::vulnerability::{Vulnerability, VulnerabilityFactor, VulnerabilityRecord};
use crate::error::ProfilesError;

fn corrupt(what: &str, error: impl std::fmt::Display) -> ProfilesError {
    ProfilesError::Corrupt(format!("{what}: {error}"))
}

#[derive(Serialize, Deserialize)]
struct PreferencesJson {
    preferred_channels: Vec<String>,
    quiet_hours: Vec<QuietHoursJson>,
    do_not_contact_channels: Vec<String>,
    do_not_contact: bool,
}

#[derive(Serialize, Deserialize)]
struct QuietHoursJson {
    start: String,
    end: String,
    /// ISO weekday numbers, Monday = 1.
    days: Vec<i8>,
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn save_preferences(
    conn: &mut Conn,
    customer_id: Id,
    preferences: &ContactPreferences,
) -> Result<(), ProfilesError> {
    let json = PreferencesJson {
        preferred_channels: channel_names(&preferences.preferred_channels),
        quiet_hours: preferences
            .quiet_hours
            .iter()
            .map(|q| QuietHoursJson {
                start: q.start.strftime("%H:%M").to_string(),
                end: q.end.strftime("%H:%M").to_string(),
                days: q.days.iter().map(|d| d.to_monday_one_offset()).collect(),
            })
            .collect(),
        do_not_contact_channels: channel_names(&preferences.do_not_contact_channels),
        do_not_contact: preferences.do_not_contact,
    };
    let json = serde_json::to_string(&json).map_err(|e| corrupt("preferences", e))?;
    sqlx::query(
        "INSERT INTO contact_preferences (customer_id, preferences, updated_at_micros) VALUES ($1, $2, $3) \
         ON CONFLICT (customer_id) DO UPDATE SET preferences = excluded.preferences, updated_at_micros = excluded.updated_at_micros",
    )
    .bind(customer_id.to_string())
    .bind(json)
    .bind(micros(preferences.updated_at))
    .execute(&mut *conn)
    .await
    ?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn load_preferences(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Option<ContactPreferences>, ProfilesError> {
    let row = sqlx::query(
        "SELECT preferences, updated_at_micros FROM contact_preferences WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let json: PreferencesJson = serde_json::from_str(&row.try_get::<String, _>(0)?)
        .map_err(|e| corrupt("preferences", stored_json_error(&e)))?;
    let quiet_hours = json
        .quiet_hours
        .iter()
        .map(|q| {
            Ok(QuietHours {
                start: time(&q.start)?,
                end: time(&q.end)?,
                days: q
                    .days
                    .iter()
                    .map(|d| Weekday::from_monday_one_offset(*d).map_err(|e| corrupt("weekday", e)))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<_, ProfilesError>>()?;
    Ok(Some(ContactPreferences {
        preferred_channels: channels(&json.preferred_channels)?,
        quiet_hours,
        do_not_contact_channels: channels(&json.do_not_contact_channels)?,
        do_not_contact: json.do_not_contact,
        updated_at: instant(row.try_get::<i64, _>(1)?)?,
    }))
}

#[derive(Serialize, Deserialize)]
struct VulnerabilityJson {
    factors: Vec<FactorJson>,
    needs: Vec<String>,
    notes: String,
    review_date: Option<String>,
    customer_consented: bool,
}

#[derive(Serialize, Deserialize)]
struct FactorJson {
    driver: String,
    detail: String,
    temporary: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn save_vulnerability(
    conn: &mut Conn,
    customer_id: Id,
    record: &VulnerabilityRecord,
) -> Result<(), ProfilesError> {
    let v = &record.vulnerability;
    let json = VulnerabilityJson {
        factors: v
            .factors
            .iter()
            .map(|f| FactorJson {
                driver: f.driver.as_str_name().to_owned(),
                detail: f.detail.clone(),
                temporary: f.temporary,
            })
            .collect(),
        needs: v.needs.clone(),
        notes: v.notes.clone(),
        review_date: v.review_date.map(date_text),
        customer_consented: v.customer_consented,
    };
    let json = serde_json::to_string(&json).map_err(|e| corrupt("vulnerability", e))?;
    sqlx::query(
        "INSERT INTO vulnerabilities (customer_id, record, recorded_by_kind, recorded_by_id, recorded_at_micros) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE SET record = excluded.record, \
         recorded_by_kind = excluded.recorded_by_kind, recorded_by_id = excluded.recorded_by_id, \
         recorded_at_micros = excluded.recorded_at_micros",
    )
    .bind(customer_id.to_string())
    .bind(json)
    .bind(record.recorded_by.kind.as_str_name())
    .bind(&record.recorded_by.id)
    .bind(micros(record.recorded_at))
    .execute(&mut *conn)
    .await
    ?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn load_vulnerability(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Option<VulnerabilityRecord>, ProfilesError> {
    let row = sqlx::query(
        "SELECT record, recorded_by_kind, recorded_by_id, recorded_at_micros FROM vulnerabilities WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .fetch_optional(&mut *conn)
    .await
    ?;
    let Some(row) = row else { return Ok(None) };
    let json: VulnerabilityJson = serde_json::from_str(&row.try_get::<String, _>(0)?)
        .map_err(|e| corrupt("vulnerability", stored_json_error(&e)))?;
    let factors = json
        .factors
        .into_iter()
        .map(|f| {
            Ok(VulnerabilityFactor {
                driver: enum_from_name(&f.driver, VulnerabilityDriver::from_str_name)?,
                detail: f.detail,
                temporary: f.temporary,
            })
        })
        .collect::<Result<_, ProfilesError>>()?;
    Ok(Some(VulnerabilityRecord {
        vulnerability: Vulnerability {
            factors,
            needs: json.needs,
            notes: json.notes,
            review_date: json.review_date.as_deref().map(date).transpose()?,
            customer_consented: json.customer_consented,
        },
        recorded_by: Actor {
            kind: enum_from_name(&row.try_get::<String, _>(1)?, ActorKind::from_str_name)?,
            id: row.try_get::<String, _>(2)?,
        },
        recorded_at: instant(row.try_get::<i64, _>(3)?)?,
    }))
}

/// Removes the customer's preferences (a merged-away duplicate keeps none of its own).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn clear_preferences(conn: &mut Conn, customer_id: Id) -> Result<(), ProfilesError> {
    sqlx::query("DELETE FROM contact_preferences WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes the current record; true when there was one.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn clear_vulnerability(conn: &mut Conn, customer_id: Id) -> Result<bool, ProfilesError> {
    let result = sqlx::query("DELETE FROM vulnerabilities WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

fn channel_names(channels: &[Channel]) -> Vec<String> {
    channels
        .iter()
        .map(|c| c.as_str_name().to_owned())
        .collect()
}

fn channels(names: &[String]) -> Result<Vec<Channel>, ProfilesError> {
    names
        .iter()
        .map(|n| enum_from_name(n, Channel::from_str_name))
        .collect()
}

fn time(text: &str) -> Result<Time, ProfilesError> {
    Time::strptime("%H:%M", text).map_err(|e| corrupt("time", e))
}
