//! Batch rescoring of every customer: keyset pages of customers, their signals and previous
//! scores read in one query each, scored, and written in one transaction per page.
//!
//! A page is read outside the write transaction (so RPCs are not held up while it scores); a
//! score written meanwhile by an RPC carries a later as-of time, and the batch never overwrites
//! a newer current score (see `store::scores::record`).

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use rapport_ids::Id;
use rapport_storage::Storage;
use rapport_storage::sqlx::{self, Row};

use crate::domain::score::{self, Inputs};
use crate::domain::signal::Signal;
use crate::error::LoyaltyError;
use crate::rules::Rules;
use crate::store::customers::{Known, known_from};
use crate::store::scores::{self, Entry};
use crate::store::{id, micros, points, signals};

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    pub customers: u64,
    pub signals: u64,
    pub pages: u64,
    pub seconds: f64,
}

/// Rescores every customer (merged-away duplicates excepted) as of `as_of`.
pub async fn rescore_all(
    storage: &Storage,
    rules: &Rules,
    as_of: Timestamp,
) -> Result<Report, LoyaltyError> {
    let started = Instant::now();
    let mut report = Report {
        customers: 0,
        signals: 0,
        pages: 0,
        seconds: 0.0,
    };
    let falling_from =
        as_of - SignedDuration::from_hours(24 * i64::from(rules.model.falling_window_days));
    let mut after = String::new();
    loop {
        let page = customers_after(storage, &after, i64::from(rules.rescore_batch_size)).await?;
        let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) else {
            break;
        };
        let (first, last) = (first.to_string(), last.to_string());
        let mut signals = signals_between(storage, &first, &last).await?;
        let previous = previous_between(storage, &first, &last, micros(falling_from)).await?;
        report.signals += signals.iter().map(|(_, s)| s.len() as u64).sum::<u64>();

        let mut entries = Vec::with_capacity(page.len());
        let (mut s, mut p) = (0, 0);
        for (customer_id, known) in &page {
            let key = customer_id.to_string();
            // Both lists are in customer order: walk them alongside the page.
            while s < signals.len() && signals[s].0 < key {
                s += 1;
            }
            let own = if s < signals.len() && signals[s].0 == key {
                std::mem::take(&mut signals[s].1)
            } else {
                Vec::new()
            };
            while p < previous.len() && previous[p].0 < key {
                p += 1;
            }
            let previous_loyalty =
                (p < previous.len() && previous[p].0 == key).then(|| previous[p].1);
            let score = score::score(
                &rules.model,
                &Inputs {
                    customer_since: known.customer_since,
                    products_held: known.products_held,
                    signals: &own,
                    previous_loyalty,
                },
                as_of,
            );
            entries.push(Entry {
                customer_id: *customer_id,
                score,
            });
        }
        let mut tx = storage.begin_write().await?;
        scores::record(&mut tx, &entries).await?;
        tx.commit().await?;
        report.customers += page.len() as u64;
        report.pages += 1;
        after = last;
    }
    report.seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        customers = report.customers,
        signals = report.signals,
        seconds = report.seconds,
        "rescored every customer"
    );
    Ok(report)
}

async fn customers_after(
    storage: &Storage,
    after: &str,
    limit: i64,
) -> Result<Vec<(Id, Known)>, LoyaltyError> {
    let rows = sqlx::query(
        "SELECT customer_id, customer_since, products_held FROM customers \
         WHERE customer_id > $1 AND merged_into IS NULL ORDER BY customer_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(storage.reader())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                id(&row.try_get::<String, _>(0)?)?,
                known_from(row.try_get(1)?, row.try_get(2)?)?,
            ))
        })
        .collect()
}

/// Every signal of the customers in `[first, last]`, grouped by customer in customer order.
async fn signals_between(
    storage: &Storage,
    first: &str,
    last: &str,
) -> Result<Vec<(String, Vec<Signal>)>, LoyaltyError> {
    let rows = sqlx::query(
        "SELECT customer_id, kind, value, reference, occurred_at_micros FROM signals \
         WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY customer_id",
    )
    .bind(first)
    .bind(last)
    .fetch_all(storage.reader())
    .await?;
    let mut grouped: Vec<(String, Vec<Signal>)> = Vec::new();
    for row in &rows {
        let customer: String = row.try_get(0)?;
        let Some(signal) = signals::from_row(row, 1)? else {
            continue;
        };
        match grouped.last_mut() {
            Some((c, list)) if *c == customer => list.push(signal),
            _ => grouped.push((customer, vec![signal])),
        }
    }
    Ok(grouped)
}

/// Each customer's loyalty as last scored at or before `at`, in customer order.
async fn previous_between(
    storage: &Storage,
    first: &str,
    last: &str,
    at: i64,
) -> Result<Vec<(String, f64)>, LoyaltyError> {
    let rows = sqlx::query(
        "SELECT h.customer_id, h.loyalty_centi FROM score_history h \
         WHERE h.customer_id >= $1 AND h.customer_id <= $2 AND h.as_of_micros = \
           (SELECT MAX(p.as_of_micros) FROM score_history p WHERE p.customer_id = h.customer_id AND p.as_of_micros <= $3) \
         ORDER BY h.customer_id",
    )
    .bind(first)
    .bind(last)
    .bind(at)
    .fetch_all(storage.reader())
    .await?;
    let mut previous: Vec<(String, f64)> = Vec::with_capacity(rows.len());
    for row in &rows {
        let customer: String = row.try_get(0)?;
        // Two history rows at the same instant: either is the score then.
        if previous.last().is_some_and(|(c, _)| *c == customer) {
            continue;
        }
        previous.push((customer, points(row.try_get(1)?)));
    }
    Ok(previous)
}
