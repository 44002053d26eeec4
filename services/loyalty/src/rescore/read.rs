//! The rescoring's reads: keyset pages of customers with everything their score needs.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};
use rapport_storage::{Backend, Storage};
use tokio::sync::mpsc;

use crate::domain::signal::{Kind, Signal};
use crate::error::LoyaltyError;
use crate::store::customers::{Known, known_from};
use crate::store::{corrupt, id, instant, micros, points};

/// One customer as the scorer needs them; the signals still as the database's JSON, parsed on
/// the scoring thread.
#[derive(Debug)]
pub(super) struct Customer {
    pub customer_id: Id,
    pub known: Known,
    pub signals: Option<String>,
    pub previous_loyalty: Option<f64>,
    /// The `sameness` of the current score.
    pub current: Option<i64>,
}

/// Consecutive customers in key order.
#[derive(Debug)]
pub(super) struct Page {
    pub customers: Vec<Customer>,
}

/// A customer's signals from their JSON: `[[kind, value, reference, occurred_at_micros], ...]`.
pub(super) fn signals_from_json(json: Option<&str>) -> Result<Vec<Signal>, LoyaltyError> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, i64, Option<String>, i64)> =
        serde_json::from_str(json).map_err(|e| corrupt("signals json", e))?;
    let mut signals = Vec::with_capacity(rows.len());
    for (kind, value, reference, at) in rows {
        // A kind a newer version wrote is skipped, not fatal: the score reads what it knows.
        if let Some(kind) = Kind::from_row(&kind, value, reference.as_deref()) {
            signals.push(Signal {
                kind,
                at: instant(at)?,
            });
        }
    }
    Ok(signals)
}

/// How many customers a run scores (for progress).
pub(super) async fn customers_to_score(storage: &Storage) -> Result<u64, LoyaltyError> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM customers WHERE merged_into IS NULL")
            .fetch_one(storage.reader())
            .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Reads every page into `pages`; stops early when the receiver is gone.
pub(super) async fn pages(
    storage: Storage,
    limit: i64,
    falling_from: Timestamp,
    pages: mpsc::Sender<Page>,
) -> Result<(), LoyaltyError> {
    let backend = storage.backend();
    let sql = page_sql(backend);
    // One connection for the whole run, with a page cache the size of a run's working set.
    let mut conn = storage.reader().acquire().await?;
    if backend == Backend::Sqlite {
        sqlx::query(BATCH_CACHE).execute(&mut *conn).await?;
    }
    let mut after = String::new();
    let read = loop {
        let customers = match page_after(&mut conn, sql, &after, limit, micros(falling_from)).await
        {
            Ok(customers) => customers,
            Err(error) => break Err(error),
        };
        let Some(last) = customers.last() else {
            break Ok(());
        };
        after = last.customer_id.to_string();
        if pages.send(Page { customers }).await.is_err() {
            break Ok(());
        }
    };
    if backend == Backend::Sqlite {
        sqlx::query(POOL_CACHE).execute(&mut *conn).await?;
    }
    read
}

/// The page cache of the batch's reading and writing connections while it runs. A pooled
/// connection's own cache is small (libs/storage, for `rapport dev`'s memory); at 512 KiB a run
/// spent a third of its time in the kernel re-reading pages it had just evicted.
pub(super) const BATCH_CACHE: &str = "PRAGMA cache_size = -32768";
/// Back to the pool's size when the run is done.
pub(super) const POOL_CACHE: &str = rapport_storage::SQLITE_POOL_CACHE_PRAGMA;

/// One row per customer: a row costs the driver far more than its width (sqlx hands each row
/// from SQLite's thread to the runtime), so the ~12 signals come as one JSON array, and the
/// loyalty at the start of the falling window as one index seek.
fn page_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT c.customer_id, c.customer_since, c.products_held, s.sameness_hash, \
               (SELECT p.loyalty_centi FROM score_history p WHERE p.customer_id = c.customer_id AND p.as_of_micros <= $3 \
                ORDER BY p.as_of_micros DESC LIMIT 1), \
               (SELECT json_group_array(json_array(g.kind, g.value, g.reference, g.occurred_at_micros)) \
                FROM signals g WHERE g.customer_id = c.customer_id) \
             FROM customers c LEFT JOIN scores_current s ON s.customer_id = c.customer_id \
             WHERE c.customer_id > $1 AND c.merged_into IS NULL ORDER BY c.customer_id LIMIT $2"
        }
        Backend::Postgres => {
            "SELECT c.customer_id, c.customer_since, c.products_held, s.sameness_hash, \
               (SELECT p.loyalty_centi FROM score_history p WHERE p.customer_id = c.customer_id AND p.as_of_micros <= $3 \
                ORDER BY p.as_of_micros DESC LIMIT 1), \
               (SELECT json_agg(json_build_array(g.kind, g.value, g.reference, g.occurred_at_micros))::text \
                FROM signals g WHERE g.customer_id = c.customer_id) \
             FROM customers c LEFT JOIN scores_current s ON s.customer_id = c.customer_id \
             WHERE c.customer_id > $1 AND c.merged_into IS NULL ORDER BY c.customer_id LIMIT $2"
        }
    }
}

/// The next customers after `after`, with their signals and what explains their current score.
async fn page_after(
    conn: &mut sqlx::AnyConnection,
    sql: &'static str,
    after: &str,
    limit: i64,
    falling_from: i64,
) -> Result<Vec<Customer>, LoyaltyError> {
    let rows = sqlx::query(sql)
        .bind(after)
        .bind(limit)
        .bind(falling_from)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Customer {
                customer_id: id(&row.try_get::<String, _>(0)?)?,
                known: known_from(row.try_get(1)?, row.try_get(2)?)?,
                current: row.try_get(3)?,
                previous_loyalty: row.try_get::<Option<i64>, _>(4)?.map(points),
                signals: row.try_get(5)?,
            })
        })
        .collect()
}
