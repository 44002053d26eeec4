//! Batch rescoring of every customer, as a pipeline over both cores:
//!
//! 1. a reader task reads keyset pages of customers with their signals, their loyalty at the
//!    start of the falling window and what explains their current score;
//! 2. a scoring thread scores each page and prepares its rows (JSON, hashes);
//! 3. the writer (the caller's task) commits many pages per transaction.
//!
//! Bounded channels between the stages keep memory flat. A page is read outside the write
//! transaction (so RPCs are not held up while it scores); a score written meanwhile by an RPC
//! carries a later as-of time, and the batch never overwrites a newer current score (see
//! `store::scores::record_prepared`). A customer whose score is unchanged but for the time adds
//! no history row; only their current score's "as of" moves (`store::scores::Prepared`).

mod progress;
mod read;

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use rapport_storage::sqlx;
use rapport_storage::{Backend, Storage};
use tokio::sync::mpsc;

pub use self::progress::{Progress, TerminalBar};
use self::read::Page;
use crate::domain::score::{self, Inputs};
use crate::error::LoyaltyError;
use crate::rules::Rules;
use crate::store::scores::{self, Entry, Prepared};

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    pub customers: u64,
    pub signals: u64,
    pub pages: u64,
    /// Customers whose score was the same but for the time: no history row, only "as of" moved.
    pub unchanged: u64,
    pub seconds: f64,
    /// Of `seconds`, how long the writer waited for scored pages: near 0 when writing is the
    /// bottleneck, near `seconds` when reading or scoring is.
    pub writer_waiting_seconds: f64,
}

/// Customers per write transaction: large enough that commits (an fsync each) cost little, small
/// enough that an RPC waiting for the write lock waits well under a second.
const CUSTOMERS_PER_TRANSACTION: usize = 8_000;
/// Pages in flight between two stages: enough for a whole write transaction, so that the
/// reader and the scorer keep going while the writer commits. With 4 pages (2,000 customers of
/// an 8,000-customer transaction) the writer waited for them a third of the run: 300,000
/// customers took 17.2–18.3 s, and 13.0–14.6 s with a transaction's worth (peak RSS 115 →
/// 134 MiB).
fn pages_in_flight(page_size: u32) -> usize {
    CUSTOMERS_PER_TRANSACTION
        .div_ceil(page_size.max(1) as usize)
        .max(4)
}
/// A progress line this often: checked after each transaction, which at 1 M customers commits
/// 8,000 of them in under a second.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Rescores every customer (merged-away duplicates excepted) as of `as_of`.
pub async fn rescore_all(
    storage: &Storage,
    rules: &Rules,
    as_of: Timestamp,
) -> Result<Report, LoyaltyError> {
    rescore_all_with(storage, rules, as_of, &mut ()).await
}

/// `rescore_all`, telling `progress` how far it is (a log line every 10 s happens anyway).
pub async fn rescore_all_with(
    storage: &Storage,
    rules: &Rules,
    as_of: Timestamp,
    progress: &mut dyn Progress,
) -> Result<Report, LoyaltyError> {
    let started = Instant::now();
    let total = read::customers_to_score(storage).await?;
    progress.start(total);
    let falling_from =
        as_of - SignedDuration::from_hours(24 * i64::from(rules.model.falling_window_days));

    let in_flight = pages_in_flight(rules.rescore_batch_size);
    let (pages_tx, mut pages_rx) = mpsc::channel::<Page>(in_flight);
    let (scored_tx, mut scored_rx) =
        mpsc::channel::<Result<(Vec<Prepared>, u64), LoyaltyError>>(in_flight);

    let reader = tokio::spawn(read::pages(
        storage.clone(),
        i64::from(rules.rescore_batch_size),
        falling_from,
        pages_tx,
    ));
    let model = rules.model.clone();
    let scorer = std::thread::Builder::new()
        .name("rescore-scoring".into())
        .spawn(move || {
            while let Some(page) = pages_rx.blocking_recv() {
                if scored_tx
                    .blocking_send(score_page(page, &model, as_of))
                    .is_err()
                {
                    break;
                }
            }
        })
        .map_err(|e| LoyaltyError::Corrupt(format!("starting the scoring thread: {e}")))?;

    let mut report = Report {
        customers: 0,
        signals: 0,
        pages: 0,
        unchanged: 0,
        seconds: 0.0,
        writer_waiting_seconds: 0.0,
    };
    let mut pending: Vec<Prepared> = Vec::with_capacity(CUSTOMERS_PER_TRANSACTION);
    let mut logged = Instant::now();
    let written = async {
        loop {
            let waiting = Instant::now();
            let Some(scored) = scored_rx.recv().await else {
                break;
            };
            report.writer_waiting_seconds += waiting.elapsed().as_secs_f64();
            let (prepared, signals) = scored?;
            report.pages += 1;
            report.signals += signals;
            pending.extend(prepared);
            if pending.len() >= CUSTOMERS_PER_TRANSACTION {
                write(storage, &mut pending, &mut report).await?;
                progress.advance(report.customers);
                if logged.elapsed() >= LOG_EVERY {
                    log_progress(&report, total, started);
                    logged = Instant::now();
                }
            }
        }
        write(storage, &mut pending, &mut report).await?;
        if storage.backend() == Backend::Sqlite {
            let mut tx = storage.begin_write().await?;
            sqlx::query(read::POOL_CACHE).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok::<_, LoyaltyError>(())
    }
    .await;
    // Stop the other stages whatever happened: dropping the receiver ends the scorer, which
    // drops its receiver and so ends the reader.
    drop(scored_rx);
    let read = reader
        .await
        .map_err(|e| LoyaltyError::Corrupt(format!("the rescoring reader: {e}")))?;
    // A scorer that panicked ends its channel as if done: that must not pass for a full run.
    let scored = scorer.join();
    written?;
    read?;
    scored.map_err(|_| LoyaltyError::Corrupt("the rescoring's scoring thread panicked".into()))?;
    progress.finish(report.customers);
    report.seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        customers = report.customers,
        unchanged = report.unchanged,
        signals = report.signals,
        seconds = report.seconds,
        writer_waiting_seconds = report.writer_waiting_seconds,
        "rescored every customer"
    );
    Ok(report)
}

/// Scores a page and prepares its rows; also counts the signals read.
fn score_page(
    page: Page,
    model: &crate::rules::ScoreModel,
    as_of: Timestamp,
) -> Result<(Vec<Prepared>, u64), LoyaltyError> {
    let mut signals_read = 0;
    let mut prepared = Vec::with_capacity(page.customers.len());
    for customer in page.customers {
        let signals = read::signals_from_json(customer.signals.as_deref())?;
        signals_read += signals.len() as u64;
        let score = score::score(
            model,
            &Inputs {
                customer_since: customer.known.customer_since,
                products_held: customer.known.products_held,
                signals: &signals,
                previous_loyalty: customer.previous_loyalty,
            },
            as_of,
        );
        prepared.push(Prepared::new(Entry {
            customer_id: customer.customer_id,
            score,
            current: customer.current,
        })?);
    }
    Ok((prepared, signals_read))
}

async fn write(
    storage: &Storage,
    pending: &mut Vec<Prepared>,
    report: &mut Report,
) -> Result<(), LoyaltyError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut tx = storage.begin_write().await?;
    if storage.backend() == Backend::Sqlite {
        sqlx::query(read::BATCH_CACHE).execute(&mut *tx).await?;
    }
    scores::record_prepared(&mut tx, pending).await?;
    tx.commit().await?;
    report.customers += pending.len() as u64;
    report.unchanged += pending.iter().filter(|p| p.is_unchanged()).count() as u64;
    pending.clear();
    Ok(())
}

fn log_progress(report: &Report, total: u64, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    let rate = report.customers as f64 / seconds.max(f64::EPSILON);
    let left = total.saturating_sub(report.customers);
    let eta = if rate > 0.0 { left as f64 / rate } else { 0.0 };
    tracing::info!(
        done = report.customers,
        total,
        rate_per_second = rate.round(),
        eta_seconds = eta.round(),
        "rescoring"
    );
}
