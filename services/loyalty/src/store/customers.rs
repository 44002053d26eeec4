//! What loyalty remembers of each customer: tenure from profiles, products held, merges.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use super::{Conn, corrupt, id, micros};
use crate::error::LoyaltyError;

/// Makes sure the customer has a row (every customer with signals is rescored in batches).
pub async fn ensure(conn: &mut Conn, customer_id: Id) -> Result<(), LoyaltyError> {
    sqlx::query(
        "INSERT INTO customers (customer_id) VALUES ($1) ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

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

/// A merge: the duplicate's signals move to the survivor, and so will any that arrive later.
pub async fn merge(conn: &mut Conn, duplicate: Id, survivor: Id) -> Result<(), LoyaltyError> {
    ensure(conn, duplicate).await?;
    ensure(conn, survivor).await?;
    sqlx::query("UPDATE customers SET merged_into = $2 WHERE customer_id = $1")
        .bind(duplicate.to_string())
        .bind(survivor.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE signals SET customer_id = $2 WHERE customer_id = $1")
        .bind(duplicate.to_string())
        .bind(survivor.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM scores_current WHERE customer_id = $1")
        .bind(duplicate.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Erasure in profiles: free text is personal data and goes; the numbers stay (no one's name is in them).
pub async fn erase(conn: &mut Conn, customer_id: Id) -> Result<(), LoyaltyError> {
    ensure(conn, customer_id).await?;
    sqlx::query("UPDATE customers SET erased = 1 WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE survey_responses SET text = '' WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE recognitions SET description = '' WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
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
