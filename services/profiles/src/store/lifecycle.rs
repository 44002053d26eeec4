//! Merging duplicates and erasing personal data: whole-customer moves, each in one transaction.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, id, micros};
use crate::error::ProfilesError;

/// What a merge moved from the duplicate to the survivor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub interactions: u64,
    pub commitments: u64,
    pub consents: u64,
    pub external_refs: u64,
}

/// Moves everything the duplicate holds to the survivor and marks the duplicate merged; ids
/// earlier merged into the duplicate now point at the survivor too (one hop resolves any id).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        survivor_id = %survivor,
        duplicate_id = %duplicate
    )
)]
pub async fn merge(
    conn: &mut Conn,
    survivor: Id,
    duplicate: Id,
    reason: &str,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<Moved, ProfilesError> {
    let (s, d) = (survivor.to_string(), duplicate.to_string());
    let mut moved = Moved::default();
    for (sql, counter) in [
        (
            "UPDATE interactions SET customer_id = $1 WHERE customer_id = $2",
            &mut moved.interactions,
        ),
        (
            "UPDATE commitments SET customer_id = $1 WHERE customer_id = $2",
            &mut moved.commitments,
        ),
        (
            "UPDATE consents SET customer_id = $1 WHERE customer_id = $2",
            &mut moved.consents,
        ),
        (
            "UPDATE external_refs SET customer_id = $1 WHERE customer_id = $2",
            &mut moved.external_refs,
        ),
    ] {
        *counter = sqlx::query(sql)
            .bind(&s)
            .bind(&d)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    // Contact points the survivor lacks move over, after the survivor's own.
    for (table, key) in [
        ("customer_emails", "address_search"),
        ("customer_phones", "e164"),
    ] {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE customer_id = $2 AND {key} IN (SELECT {key} FROM {table} WHERE customer_id = $1)"
        )))
        .bind(&s)
        .bind(&d)
        .execute(&mut *conn)
        .await
        ?;
        let offset: i64 = sqlx::query(AssertSqlSafe(format!(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM {table} WHERE customer_id = $1"
        )))
        .bind(&s)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET customer_id = $1, position = position + $3, is_primary = 0 WHERE customer_id = $2"
        )))
        .bind(&s)
        .bind(&d)
        .bind(offset)
        .execute(&mut *conn)
        .await
        ?;
    }
    // The person has been with us since the earlier of the two starts.
    sqlx::query(
        "UPDATE customers SET customer_since = (SELECT MIN(customer_since) FROM customers WHERE customer_id IN ($1, $2)), \
         updated_at_micros = $3 WHERE customer_id = $1",
    )
    .bind(&s)
    .bind(&d)
    .bind(micros(now))
    .execute(&mut *conn)
    .await
    ?;
    sqlx::query(
        "UPDATE customers SET since_month_day = (SELECT since_month_day FROM customers c2 WHERE c2.customer_id IN ($1, $2) \
         ORDER BY c2.customer_since LIMIT 1) WHERE customer_id = $1",
    )
    .bind(&s)
    .bind(&d)
    .execute(&mut *conn)
    .await
    ?;
    // Search never finds a merged-away id (issue 23): its name keys go with the merge.
    super::customers::forget_name_keys(conn, duplicate).await?;
    sqlx::query(
        "UPDATE customers SET status = 'merged', merged_into = $1, updated_at_micros = $3 WHERE customer_id = $2",
    )
    .bind(&s)
    .bind(&d)
    .bind(micros(now))
    .execute(&mut *conn)
    .await
    ?;
    sqlx::query("UPDATE customers SET merged_into = $1 WHERE merged_into = $2")
        .bind(&s)
        .bind(&d)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO merges (duplicate_id, survivor_id, reason, merged_at_micros, interactions_moved, commitments_moved, \
         consents_moved, external_refs_moved, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
        .bind(&d)
        .bind(&s)
        .bind(reason)
        .bind(micros(now))
        .bind(moved.interactions as i64)
        .bind(moved.commitments as i64)
        .bind(moved.consents as i64)
        .bind(moved.external_refs as i64)
        .bind(request_id)
        .execute(&mut *conn)
        .await
        ?;
    Ok(moved)
}

/// A merge already performed, found by its request id or by the duplicate's id:
/// (survivor, duplicate, what moved).
#[tracing::instrument(level = "debug", skip_all, fields(duplicate_id = %duplicate))]
pub async fn earlier_merge(
    conn: &mut Conn,
    request_id: Option<&str>,
    duplicate: Id,
) -> Result<Option<(Id, Id, Moved)>, ProfilesError> {
    let row = sqlx::query(
        "SELECT survivor_id, duplicate_id, interactions_moved, commitments_moved, consents_moved, external_refs_moved \
         FROM merges WHERE request_id = $1 OR duplicate_id = $2",
    )
    .bind(request_id)
    .bind(duplicate.to_string())
    .fetch_optional(&mut *conn)
    .await
    ?;
    let Some(row) = row else { return Ok(None) };
    let count = |index: usize| -> Result<u64, ProfilesError> {
        Ok(row.try_get::<i64, _>(index)?.max(0) as u64)
    };
    Ok(Some((
        id(&row.try_get::<String, _>(0)?)?,
        id(&row.try_get::<String, _>(1)?)?,
        Moved {
            interactions: count(2)?,
            commitments: count(3)?,
            consents: count(4)?,
            external_refs: count(5)?,
        },
    )))
}

/// Ids merged into this customer.
#[tracing::instrument(level = "debug", skip_all, fields(survivor_id = %survivor))]
pub async fn merged_into(conn: &mut Conn, survivor: Id) -> Result<Vec<Id>, ProfilesError> {
    let rows = sqlx::query(
        "SELECT customer_id FROM customers WHERE merged_into = $1 ORDER BY customer_id",
    )
    .bind(survivor.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| id(&row.try_get::<String, _>(0)?))
        .collect()
}

/// Pseudonymises the customer (and any ids merged into it): names, contact points, addresses,
/// free text, preferences and vulnerability go; ids, references, consent history and the
/// outcome of commitments stay (see `EraseCustomer`'s retained reasons).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn erase(
    conn: &mut Conn,
    customer_id: Id,
    pseudonym: &str,
    now: Timestamp,
) -> Result<(), ProfilesError> {
    let c = customer_id.to_string();
    // The name keys are derived from the names being erased (issue 23).
    super::customers::forget_name_keys(conn, customer_id).await?;
    sqlx::query(
        "UPDATE customers SET legal_name = $2, preferred_name = '', search_name = '', addresses = '[]', \
         status = 'erased', updated_at_micros = $3, erased_at_micros = $3 WHERE customer_id = $1",
    )
    .bind(&c)
    .bind(pseudonym)
    .bind(micros(now))
    .execute(&mut *conn)
    .await
    ?;
    sqlx::query(
        "UPDATE customers SET legal_name = $2, preferred_name = '', search_name = '', addresses = '[]', \
         erased_at_micros = $3 WHERE merged_into = $1",
    )
    .bind(&c)
    .bind(pseudonym)
    .bind(micros(now))
    .execute(&mut *conn)
    .await
    ?;
    for sql in [
        "DELETE FROM customer_emails WHERE customer_id = $1",
        "DELETE FROM customer_phones WHERE customer_id = $1",
        "DELETE FROM contact_preferences WHERE customer_id = $1",
        "DELETE FROM vulnerabilities WHERE customer_id = $1",
        "UPDATE interactions SET summary = '' WHERE customer_id = $1",
        "UPDATE commitments SET description = '[erased]', resolution_note = '' WHERE customer_id = $1",
    ] {
        sqlx::query(sql).bind(&c).execute(&mut *conn).await?;
    }
    Ok(())
}

/// When the customer was erased, if they were.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn erased_at(conn: &mut Conn, customer_id: Id) -> Result<Option<i64>, ProfilesError> {
    let row = sqlx::query("SELECT erased_at_micros FROM customers WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => row
            .try_get::<Option<i64>, _>(0)
            .map_err(ProfilesError::from),
        None => Ok(None),
    }
}
