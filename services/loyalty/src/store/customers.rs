//! What loyalty remembers of each customer: tenure from profiles, products held, merges.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use super::{Conn, corrupt, id, micros};
use crate::error::LoyaltyError;

/// Makes sure the customer has a row (every customer with signals is rescored in batches).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn ensure(conn: &mut Conn, customer_id: Id) -> Result<(), LoyaltyError> {
    sqlx::query(
        "INSERT INTO customers (customer_id) VALUES ($1) ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn remember_since(
    conn: &mut Conn,
    customer_id: Id,
    since: Date,
) -> Result<(), LoyaltyError> {
    sqlx::query(
        "INSERT INTO customers (customer_id, customer_since) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO UPDATE SET customer_since = excluded.customer_since",
    )
    .bind(customer_id.to_string())
    .bind(since.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Products held as reported at `at`; an older report than the one kept changes nothing.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn set_products(
    conn: &mut Conn,
    customer_id: Id,
    count: u32,
    at: Timestamp,
) -> Result<(), LoyaltyError> {
    ensure(conn, customer_id).await?;
    sqlx::query(
        "UPDATE customers SET products_held = $2, products_at_micros = $3 \
         WHERE customer_id = $1 AND (products_at_micros IS NULL OR products_at_micros < $3)",
    )
    .bind(customer_id.to_string())
    .bind(i64::from(count))
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The customer events about `customer_id` now belong to: itself, or its survivor after a merge.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn resolve(conn: &mut Conn, customer_id: Id) -> Result<Id, LoyaltyError> {
    let row = sqlx::query("SELECT merged_into FROM customers WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten()
    {
        Some(survivor) => id(&survivor),
        None => Ok(customer_id),
    }
}

/// A merge (DESIGN.md, One customer everywhere): every row of the duplicate moves to the
/// survivor — signals, survey responses, follow-ups, recognitions, rewards — and events about
/// the duplicate that arrive later follow it (`resolve`). Ids merged into the duplicate before
/// now follow the survivor too, so the merges map stays one step deep. Applying it twice changes
/// nothing; a merge into a customer already erased blanks what it brings (an erase that arrived
/// before a late merge still erases).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        duplicate_id = %duplicate,
        survivor_id = %survivor
    )
)]
pub async fn merge(conn: &mut Conn, duplicate: Id, survivor: Id) -> Result<(), LoyaltyError> {
    if duplicate == survivor {
        return Ok(());
    }
    ensure(conn, duplicate).await?;
    ensure(conn, survivor).await?;
    let (dup, surv) = (duplicate.to_string(), survivor.to_string());
    sqlx::query("UPDATE customers SET merged_into = $2 WHERE customer_id = $1 OR merged_into = $1")
        .bind(&dup)
        .bind(&surv)
        .execute(&mut *conn)
        .await?;
    for moving in [
        "UPDATE signals SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE survey_responses SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE follow_ups SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE recognitions SET customer_id = $2 WHERE customer_id = $1",
    ] {
        sqlx::query(moving)
            .bind(&dup)
            .bind(&surv)
            .execute(&mut *conn)
            .await?;
    }
    // One anniversary reward per customer per tenure year: where both were rewarded for the
    // same year, the duplicate's reward stays on its own id (amounts only, nothing personal).
    sqlx::query(
        "UPDATE rewards SET customer_id = $2 WHERE customer_id = $1 AND NOT EXISTS (\
         SELECT 1 FROM rewards kept WHERE kept.customer_id = $2 \
         AND kept.kind = rewards.kind AND kept.tenure_year = rewards.tenure_year)",
    )
    .bind(&dup)
    .bind(&surv)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM scores_current WHERE customer_id = $1")
        .bind(&dup)
        .execute(&mut *conn)
        .await?;
    let erased = sqlx::query("SELECT 1 FROM customers WHERE customer_id = $1 AND erased = 1")
        .bind(&surv)
        .fetch_optional(&mut *conn)
        .await?;
    if erased.is_some() {
        erase(conn, survivor).await?;
    }
    Ok(())
}

/// Erasure in profiles: free text is personal data and goes — survey comments, what a
/// follow-up told the customer, recognition descriptions — for the customer and every id
/// merged into it; scores, dates and amounts stay (no one's name is in them).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn erase(conn: &mut Conn, customer_id: Id) -> Result<(), LoyaltyError> {
    ensure(conn, customer_id).await?;
    let id = customer_id.to_string();
    sqlx::query("UPDATE customers SET erased = 1 WHERE customer_id = $1 OR merged_into = $1")
        .bind(&id)
        .execute(&mut *conn)
        .await?;
    // The erased customer and every id merged into it (the merges map is one step deep).
    for blank in [
        "UPDATE survey_responses SET text = '' WHERE text <> '' AND customer_id IN \
         (SELECT c.customer_id FROM customers c WHERE c.customer_id = $1 OR c.merged_into = $1)",
        "UPDATE follow_ups SET customer_told = '' WHERE customer_told <> '' AND customer_id IN \
         (SELECT c.customer_id FROM customers c WHERE c.customer_id = $1 OR c.merged_into = $1)",
        "UPDATE recognitions SET description = '' WHERE description <> '' AND customer_id IN \
         (SELECT c.customer_id FROM customers c WHERE c.customer_id = $1 OR c.merged_into = $1)",
    ] {
        sqlx::query(blank).bind(&id).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Tenure and products as the score reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Known {
    pub customer_since: Option<Date>,
    pub products_held: Option<u32>,
}

pub(crate) fn known_from(
    since: Option<String>,
    products: Option<i64>,
) -> Result<Known, LoyaltyError> {
    Ok(Known {
        customer_since: since
            .map(|s| s.parse().map_err(|e| corrupt("customer_since", e)))
            .transpose()?,
        products_held: products.and_then(|p| u32::try_from(p).ok()),
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn known(conn: &mut Conn, customer_id: Id) -> Result<Known, LoyaltyError> {
    let row =
        sqlx::query("SELECT customer_since, products_held FROM customers WHERE customer_id = $1")
            .bind(customer_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Ok(Known::default()),
        Some(row) => known_from(row.try_get(0)?, row.try_get(1)?),
    }
}
