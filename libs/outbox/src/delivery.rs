//! Delivery of a service's outbox (DESIGN.md, Between services): a worker reads the events that
//! are due, hands them to a [`Sink`] (a consumer's gRPC endpoint), marks them delivered, and on
//! failure retries them with exponential backoff and jitter. Nothing is lost while a consumer is
//! down: the rows stay until a delivery succeeds.
//!
//! Order per customer: an event whose earlier events for the same customer are still waiting
//! out a backoff is not sent ahead of them; events are sent oldest first.

use std::time::Duration;

use rapport_clock::{SharedClock, Timestamp};
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};
use rapport_storage::{Storage, StorageError};

/// An event waiting in the outbox, as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub event_id: String,
    pub event_type: String,
    pub customer_id: Option<String>,
    /// JSON.
    pub payload: String,
    pub traceparent: Option<String>,
    pub occurred_at: Timestamp,
    /// Deliveries tried so far.
    pub attempts: u32,
}

/// Why a delivery failed: the consumer could not be reached or refused the batch as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// Where a service's events go. A batch is delivered whole or not at all; the consumer
/// deduplicates by event id, so a batch delivered twice (a crash between sending and marking)
/// is applied once.
pub trait Sink: Send + Sync + 'static {
    fn deliver(&self, events: &[Pending]) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// How the worker paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Events per delivery.
    pub batch: u32,
    /// The first retry waits about this long; each further one twice as long…
    pub base_delay: Duration,
    /// …up to this.
    pub max_delay: Duration,
    /// How often an idle worker looks for new events.
    pub poll: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            batch: 100,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(300),
            poll: Duration::from_millis(250),
        }
    }
}

impl Policy {
    /// The wait before retry number `attempts` (1 = the first retry) of `event_id`: doubling
    /// from `base_delay`, capped at `max_delay`, times a jitter in [½, 1) taken from the event id,
    /// so a backlog does not come back as one thundering herd.
    pub fn backoff(&self, event_id: &str, attempts: u32) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(1_u32 << attempts.saturating_sub(1).min(20));
        let capped = doubled.min(self.max_delay);
        // FNV-1a of the id and the attempt: deterministic, spread evenly enough for jitter.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in event_id.bytes().chain(attempts.to_le_bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let jitter = 0.5 + (hash % 1_000) as f64 / 2_000.0;
        capped.mul_f64(jitter)
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

fn micros(at: Timestamp) -> i64 {
    rapport_clock::to_unix_micros(at)
}

/// The events due at `now`, oldest first, none ahead of an earlier event of the same customer
/// that is waiting out a backoff.
pub async fn due(
    storage: &Storage,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Pending>, StorageError> {
    let rows = sqlx::query(
        "SELECT o.event_id, o.event_type, o.customer_id, o.payload, o.traceparent, o.occurred_at_micros, o.attempts \
         FROM outbox o WHERE o.delivered_at_micros IS NULL AND o.next_attempt_at_micros <= $1 \
         AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.delivered_at_micros IS NULL AND b.customer_id = o.customer_id \
           AND b.next_attempt_at_micros > $1 \
           AND (b.occurred_at_micros < o.occurred_at_micros OR (b.occurred_at_micros = o.occurred_at_micros AND b.event_id < o.event_id))) \
         ORDER BY o.occurred_at_micros, o.event_id LIMIT $2",
    )
    .bind(micros(now))
    .bind(i64::from(limit))
    .fetch_all(storage.reader())
    .await?;
    rows.iter()
        .map(|row| {
            let at: i64 = row.try_get(5)?;
            Ok(Pending {
                event_id: row.try_get(0)?,
                event_type: row.try_get(1)?,
                customer_id: row.try_get(2)?,
                payload: row.try_get(3)?,
                traceparent: row.try_get(4)?,
                occurred_at: rapport_clock::from_unix_micros(at)
                    .ok_or_else(|| sqlx::Error::Decode(format!("instant {at}").into()))?,
                attempts: u32::try_from(row.try_get::<i64, _>(6)?).unwrap_or(u32::MAX),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StorageError::from)
}

/// One round: deliver what is due, then mark it delivered or schedule its retry.
pub async fn deliver_due(
    storage: &Storage,
    sink: &impl Sink,
    policy: &Policy,
    now: Timestamp,
) -> Result<Round, StorageError> {
    let events = due(storage, now, policy.batch).await?;
    if events.is_empty() {
        return Ok(Round::default());
    }
    let outcome = sink.deliver(&events).await;
    let mut tx = storage.begin_write().await?;
    let round = match outcome {
        Ok(()) => {
            let marks: Vec<String> = (0..events.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "UPDATE outbox SET delivered_at_micros = $1, attempts = attempts + 1 WHERE event_id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(micros(now));
            for event in &events {
                query = query.bind(event.event_id.clone());
            }
            query.execute(&mut *tx).await?;
            Round {
                delivered: events.len(),
                failed: 0,
            }
        }
        Err(error) => {
            tracing::warn!(events = events.len(), error = %error, "outbox delivery failed; will retry");
            for event in &events {
                let attempts = event.attempts.saturating_add(1);
                let wait = policy.backoff(&event.event_id, attempts);
                let next =
                    now + jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::MAX);
                sqlx::query("UPDATE outbox SET attempts = $2, next_attempt_at_micros = $3 WHERE event_id = $1")
                    .bind(event.event_id.clone())
                    .bind(i64::from(attempts))
                    .bind(micros(next))
                    .execute(&mut *tx)
                    .await?;
            }
            Round {
                delivered: 0,
                failed: events.len(),
            }
        }
    };
    tx.commit().await?;
    Ok(round)
}

/// How much is waiting, and since when (for metrics and alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub events: u64,
    pub oldest: Option<Timestamp>,
}

pub async fn backlog(storage: &Storage) -> Result<Backlog, StorageError> {
    let row = sqlx::query(
        "SELECT COUNT(*), MIN(occurred_at_micros) FROM outbox WHERE delivered_at_micros IS NULL",
    )
    .fetch_one(storage.reader())
    .await?;
    let count: i64 = row.try_get(0)?;
    let oldest: Option<i64> = row.try_get(1)?;
    Ok(Backlog {
        events: u64::try_from(count).unwrap_or(0),
        oldest: oldest.and_then(rapport_clock::from_unix_micros),
    })
}

/// Delivers until `stopping` says stop: a full batch is followed at once by the next, an idle or
/// failing round waits `policy.poll`. Storage errors are logged and retried.
pub async fn run(
    storage: Storage,
    sink: impl Sink,
    policy: Policy,
    clock: SharedClock,
    mut stopping: rapport_server::Stopping,
) {
    loop {
        if stopping.is_stopping() {
            return;
        }
        let full = match deliver_due(&storage, &sink, &policy, clock.now()).await {
            Ok(round) => round.delivered == policy.batch as usize,
            Err(error) => {
                tracing::warn!(error = %error, "outbox delivery could not read or mark events");
                false
            }
        };
        if !full {
            tokio::select! {
                () = tokio::time::sleep(policy.poll) => {}
                () = stopping.stopped() => return,
            }
        }
    }
}

/// Adds to `unit` a worker that delivers the unit's outbox to `sink` (a unit without storage has
/// no outbox and is returned as it is).
pub fn deliver_from(
    unit: rapport_server::ServiceUnit,
    sink: impl Sink,
    clock: SharedClock,
    policy: Policy,
) -> rapport_server::ServiceUnit {
    let Some(storage) = unit.storage().cloned() else {
        return unit;
    };
    unit.with_worker(move |stopping| run(storage, sink, policy, clock, stopping))
}
