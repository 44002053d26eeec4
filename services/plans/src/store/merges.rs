//! One customer everywhere: merges and erasures profiles published, applied to plans' rows.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, id, micros};
use crate::error::PlansError;

/// Every table that names the customer; a merge re-points each from the duplicate to the
/// survivor, so limits counted per customer (Reg F §1006.14(b): 7 calls in 7 days per debt)
/// add up across both identities.
const CUSTOMER_TABLES: &[&str] = &[
    "accounts",
    "hardship_cases",
    "protections",
    "plans",
    "promises",
    "contact_attempts",
    "contact_decisions",
];

/// Records that the event was received; false when it was already (a duplicate, nothing to do).
#[tracing::instrument(skip_all, fields(event_id = %event_id, customer_id = %customer_id))]
pub async fn first_sight(
    conn: &mut Conn,
    event_id: Id,
    event_type: &str,
    customer_id: Id,
    occurred_at: Timestamp,
    now: Timestamp,
) -> Result<bool, PlansError> {
    let result = sqlx::query(
        "INSERT INTO ingested_events (event_id, event_type, customer_id, occurred_at_micros, received_at_micros) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id.to_string())
    .bind(event_type)
    .bind(customer_id.to_string())
    .bind(micros(occurred_at))
    .bind(micros(now))
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The customer that answers for `customer_id`: its survivor when it was merged away, else
/// itself (the map is kept one step deep).
#[tracing::instrument(skip(conn))]
pub async fn survivor(conn: &mut Conn, customer_id: Id) -> Result<Id, PlansError> {
    let row = sqlx::query("SELECT survivor_id FROM customer_merges WHERE duplicate_id = $1")
        .bind(customer_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => id(&row.try_get::<String, _>(0)?),
        None => Ok(customer_id),
    }
}

/// Applies a merge: the map learns it (and ids merged into the duplicate follow it), and every
/// row of the duplicate (or of an id merged into it) moves to the survivor. Applying it twice
/// changes nothing. Returns the survivor in force (when the named survivor was itself merged
/// away earlier, its own survivor).
#[tracing::instrument(skip(conn))]
pub async fn merge(
    conn: &mut Conn,
    survivor_id: Id,
    duplicate_id: Id,
    at: Timestamp,
) -> Result<Id, PlansError> {
    let survivor_id = survivor(conn, survivor_id).await?;
    if survivor_id == duplicate_id {
        // A merge of A into B arriving after B into A: the later one by profiles' order is the
        // one profiles refused; nothing to do.
        return Ok(survivor_id);
    }
    let (s, d) = (survivor_id.to_string(), duplicate_id.to_string());
    sqlx::query("UPDATE customer_merges SET survivor_id = $1 WHERE survivor_id = $2")
        .bind(&s)
        .bind(&d)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO customer_merges (duplicate_id, survivor_id, merged_at_micros) VALUES ($1, $2, $3) \
         ON CONFLICT (duplicate_id) DO NOTHING",
    )
    .bind(&d)
    .bind(&s)
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    for table in CUSTOMER_TABLES {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET customer_id = $1 WHERE customer_id = $2 \
             OR customer_id IN (SELECT duplicate_id FROM customer_merges WHERE survivor_id = $1)"
        )))
        .bind(&s)
        .bind(&d)
        .execute(&mut *conn)
        .await?;
    }
    // Standing is evaluated per customer: the duplicate's verdict is re-evaluated as the
    // survivor's on the next change, so the stale row goes.
    sqlx::query("DELETE FROM customer_standing WHERE customer_id = $1")
        .bind(&d)
        .execute(&mut *conn)
        .await?;
    if erased(conn, survivor_id).await? || erased(conn, duplicate_id).await? {
        erase(conn, survivor_id, at).await?;
    }
    Ok(survivor_id)
}

async fn erased(conn: &mut Conn, customer_id: Id) -> Result<bool, PlansError> {
    Ok(
        sqlx::query("SELECT 1 FROM customer_erasures WHERE customer_id = $1")
            .bind(customer_id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

/// Pseudonymises what plans keeps in free text about the customer and every id merged into
/// them (GDPR art. 17; art. 17(3)(b), (e): amounts, dates and decisions with their reasons stay
/// as records of the debt and of how it was handled).
#[tracing::instrument(skip(conn))]
pub async fn erase(conn: &mut Conn, customer_id: Id, at: Timestamp) -> Result<(), PlansError> {
    let customer_id = survivor(conn, customer_id).await?;
    let c = customer_id.to_string();
    sqlx::query(
        "INSERT INTO customer_erasures (customer_id, erased_at_micros) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(&c)
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    // Rows are already re-pointed to the survivor, so its id reaches every merged id's rows.
    for sql in [
        "UPDATE hardship_cases SET reason_detail = '' WHERE customer_id = $1",
        "UPDATE debt_advice_referrals SET notes = '' WHERE case_id IN \
         (SELECT case_id FROM hardship_cases WHERE customer_id = $1)",
        "UPDATE promises SET note = '' WHERE customer_id = $1",
    ] {
        sqlx::query(sql).bind(&c).execute(&mut *conn).await?;
    }
    // Income and expenditure: the descriptions go, every amount and frequency stays.
    let statements =
        sqlx::query("SELECT case_id, statement FROM hardship_cases WHERE customer_id = $1 AND statement IS NOT NULL")
            .bind(&c)
            .fetch_all(&mut *conn)
            .await?;
    for row in statements {
        let case_id: String = row.try_get(0)?;
        let mut statement: serde_json::Value = serde_json::from_str(&row.try_get::<String, _>(1)?)
            .map_err(|e| super::corrupt("statement", e))?;
        blank_descriptions(&mut statement);
        sqlx::query("UPDATE hardship_cases SET statement = $2 WHERE case_id = $1")
            .bind(&case_id)
            .bind(statement.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Every `description` in a stored statement becomes empty; nothing else changes.
fn blank_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "description" {
                    *item = serde_json::Value::String(String::new());
                } else {
                    blank_descriptions(item);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(blank_descriptions),
        _ => {}
    }
}
