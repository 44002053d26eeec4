//! Delivery of a service's outbox (DESIGN.md, Between services): a worker claims the events that
//! are due, hands them to a [`Sink`] (a consumer's gRPC endpoint), then settles its claim: marks
//! the events delivered, or on failure schedules their retry with exponential backoff and jitter.
//! Nothing is lost while a consumer is down: the rows stay until a delivery succeeds.
//!
//! Several workers (one per replica) may deliver one outbox:
//! - [`claim`] is one write transaction that leases events to a worker (`claimed_by`,
//!   `claimed_until_micros`); an event under a live lease is no other worker's to take. On
//!   SQLite that transaction is `BEGIN IMMEDIATE`, so claimers take turns. On PostgreSQL the
//!   candidates are read `FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint events
//!   without waiting for one another: the one place the SQL differs by backend
//!   (`candidates_sql`).
//! - Settling touches only the events the worker still holds (`claimed_by` is its id), and frees
//!   them.
//! - A worker that dies mid-delivery holds its events until the lease runs out
//!   ([`Policy::lease`]); then they are claimed again. Delivery is therefore at least once, and
//!   consumers deduplicate by event id. The lease must outlast a delivery (the clients' deadline
//!   and retries) plus the clock skew between replicas, since each reads leases by its own clock.
//!
//! Order per customer: events are sent oldest first, and never ahead of an earlier undelivered
//! event of the same customer that is waiting out a backoff or is held by another worker.
//!
//! Traces: a worker that finds nothing due makes no span, so an idle worker exports nothing (a
//! span per look, a few a second per worker, would bury the traces of real work). A batch is one
//! root span, `outbox.deliver_batch`, under which the claim, the delivery (the consumer's calls
//! carry its context) and the settling happen; each event in it has an `outbox.deliver_event`
//! span with a link to the trace of the change that produced it (the event's `traceparent`).

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use rapport_clock::{SharedClock, Timestamp};
use rapport_storage::sqlx::any::AnyRow;
use rapport_storage::sqlx::{self, AnyConnection, AssertSqlSafe, Row};
use rapport_storage::{Backend, Storage, StorageError};
use tracing::field::Empty;
use tracing::{Instrument, Span};

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
    /// How long a claim holds its events for the worker that made it. Longer than a delivery can
    /// take (a client's deadline times its tries, a few seconds), or a slow delivery is sent twice.
    pub lease: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            batch: 100,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(300),
            poll: Duration::from_millis(250),
            lease: Duration::from_secs(60),
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

/// `at` plus `wait`, or the end of time.
fn after(at: Timestamp, wait: Duration) -> Timestamp {
    at.checked_add(wait).unwrap_or(Timestamp::MAX)
}

/// `$first, $first+1, …` for `count` bound values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The events a claim at `$1` may take, oldest first, at most `$2`: undelivered, due, and not
/// under a live lease. A claim on PostgreSQL locks them and skips rows another claimer has
/// locked; SQLite has no row locks (and needs none: its write transactions take turns).
fn candidates_sql(backend: Backend, claiming: bool) -> String {
    let mut sql = String::from(
        "SELECT event_id, event_type, customer_id, payload, traceparent, occurred_at_micros, attempts \
         FROM outbox WHERE delivered_at_micros IS NULL AND next_attempt_at_micros <= $1 \
         AND (claimed_until_micros IS NULL OR claimed_until_micros <= $1) \
         ORDER BY occurred_at_micros, event_id LIMIT $2",
    );
    if claiming && backend == Backend::Postgres {
        sql.push_str(" FOR UPDATE SKIP LOCKED");
    }
    sql
}

fn pending(row: &AnyRow) -> Result<Pending, sqlx::Error> {
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
}

async fn candidates(
    conn: &mut AnyConnection,
    backend: Backend,
    claiming: bool,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Pending>, sqlx::Error> {
    sqlx::query(AssertSqlSafe(candidates_sql(backend, claiming)))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(pending)
        .collect()
}

/// Keeps the candidates (oldest first) that no other undelivered event of their customer
/// precedes. Each customer's undelivered events, whatever their state, are walked oldest first;
/// its candidates are taken until the first event that is not one: that event waits out a
/// backoff, is leased to another worker, or is locked by a concurrent claimer, and everything
/// after it waits for it.
///
/// Why this is enough with concurrent claimers on PostgreSQL (READ COMMITTED): while claimer A's
/// transaction runs it holds row locks on its candidates; claimer B's `SKIP LOCKED` read passes
/// over them, so they are not among B's candidates, and B's walk here (which sees them as plain
/// undelivered rows) stops at them and leaves that customer's later events alone. Once A commits,
/// its events carry a live lease and stop B the same way; were B to meet one of them just
/// unlocked, PostgreSQL re-checks the row's new version, whose lease excludes it. So no two
/// claims overlap, and no claim runs ahead of an event someone else holds.
async fn in_customer_order(
    conn: &mut AnyConnection,
    mut candidates: Vec<Pending>,
) -> Result<Vec<Pending>, sqlx::Error> {
    let customers: BTreeSet<&str> = candidates
        .iter()
        .filter_map(|e| e.customer_id.as_deref())
        .collect();
    let Some(newest) = candidates.iter().map(|e| e.occurred_at).max() else {
        return Ok(candidates);
    };
    if customers.is_empty() {
        return Ok(candidates);
    }
    let sql = format!(
        "SELECT customer_id, event_id FROM outbox \
         WHERE delivered_at_micros IS NULL AND occurred_at_micros <= $1 AND customer_id IN ({}) \
         ORDER BY customer_id, occurred_at_micros, event_id",
        placeholders(2, customers.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(micros(newest));
    for customer in &customers {
        query = query.bind(customer.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await?;

    let wanted: HashSet<&str> = candidates.iter().map(|e| e.event_id.as_str()).collect();
    let mut accepted: HashSet<String> = HashSet::new();
    let mut blocked: Option<String> = None;
    for row in &rows {
        let customer: String = row.try_get(0)?;
        let event_id: String = row.try_get(1)?;
        if blocked.as_ref() == Some(&customer) {
            continue;
        }
        if wanted.contains(event_id.as_str()) {
            accepted.insert(event_id);
        } else {
            blocked = Some(customer);
        }
    }
    candidates.retain(|e| e.customer_id.is_none() || accepted.contains(&e.event_id));
    Ok(candidates)
}

/// What [`claim`] would take at `now` if no other worker were claiming: a read-only view, on the
/// reader pool, that locks and leases nothing.
pub async fn due(
    storage: &Storage,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Pending>, StorageError> {
    let mut conn = storage.reader().acquire().await?;
    let found = candidates(&mut conn, storage.backend(), false, now, limit).await?;
    Ok(in_customer_order(&mut conn, found).await?)
}

/// Leases to `worker`, until `now + lease`, up to `limit` events that are due and free, oldest
/// first, none ahead of an earlier undelivered event of its customer that it does not also take.
/// One write transaction; the events are the worker's to deliver and settle until the lease ends.
#[tracing::instrument(skip(storage), fields(backend = %storage.backend()))]
pub async fn claim(
    storage: &Storage,
    worker: &str,
    now: Timestamp,
    lease: Duration,
    limit: u32,
) -> Result<Vec<Pending>, StorageError> {
    let mut tx = storage.begin_write().await?;
    let found = candidates(&mut tx, storage.backend(), true, now, limit).await?;
    let claimed = in_customer_order(&mut tx, found).await?;
    if claimed.is_empty() {
        // Released now, not whenever the pool gets round to a dropped transaction: until then
        // the row locks of its candidates would make the next claim skip them.
        tx.rollback().await?;
        return Ok(claimed);
    }
    let sql = format!(
        "UPDATE outbox SET claimed_by = $1, claimed_until_micros = $2 WHERE event_id IN ({})",
        placeholders(3, claimed.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(worker.to_owned())
        .bind(micros(after(now, lease)));
    for event in &claimed {
        query = query.bind(event.event_id.clone());
    }
    query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Marks `worker`'s delivered events delivered and frees them. An event whose lease ran out and
/// which another worker has claimed since is left to that worker (it will be sent again, and
/// deduplicated by the consumer).
async fn settle_delivered(
    storage: &Storage,
    worker: &str,
    events: &[Pending],
    now: Timestamp,
) -> Result<(), StorageError> {
    let sql = format!(
        "UPDATE outbox SET delivered_at_micros = $1, attempts = attempts + 1, \
         claimed_by = NULL, claimed_until_micros = NULL \
         WHERE claimed_by = $2 AND event_id IN ({})",
        placeholders(3, events.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(micros(now))
        .bind(worker.to_owned());
    for event in events {
        query = query.bind(event.event_id.clone());
    }
    let mut tx = storage.begin_write().await?;
    let settled = query.execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    if settled < events.len() as u64 {
        tracing::warn!(
            events = events.len(),
            settled,
            "outbox lease ran out before delivery was settled; the events not settled may be sent again"
        );
    }
    Ok(())
}

/// Schedules the retry of `worker`'s events after a failed delivery, and frees them.
async fn settle_failed(
    storage: &Storage,
    worker: &str,
    events: &[Pending],
    policy: &Policy,
    now: Timestamp,
) -> Result<(), StorageError> {
    let mut tx = storage.begin_write().await?;
    for event in events {
        let attempts = event.attempts.saturating_add(1);
        let next = after(now, policy.backoff(&event.event_id, attempts));
        sqlx::query(
            "UPDATE outbox SET attempts = $3, next_attempt_at_micros = $4, \
             claimed_by = NULL, claimed_until_micros = NULL \
             WHERE event_id = $1 AND claimed_by = $2",
        )
        .bind(event.event_id.clone())
        .bind(worker.to_owned())
        .bind(i64::from(attempts))
        .bind(micros(next))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One round of `worker`: claim what is due, deliver it, then mark it delivered or schedule its
/// retry. A crash between delivering and settling leaves the events claimed until the lease runs
/// out; they are then delivered again.
///
/// Whether anything is due is read first, on the reader pool and without a span; only a round
/// with work opens its batch's root span (see the module's notes on traces).
pub async fn deliver_due(
    storage: &Storage,
    worker: &str,
    sink: &impl Sink,
    policy: &Policy,
    now: Timestamp,
) -> Result<Round, StorageError> {
    // The whole batch size, not 1: the oldest due event may wait behind its customer's earlier
    // one, while another customer's is free to go.
    if due(storage, now, policy.batch).await?.is_empty() {
        return Ok(Round::default());
    }
    // A root span: the worker runs outside any call, and a batch mixes events of many journeys,
    // each linked from its event's span instead.
    let batch = tracing::info_span!(
        parent: None,
        "outbox.deliver_batch",
        worker = %worker,
        events = Empty,
        delivered = Empty,
        failed = Empty,
    );
    deliver_batch(storage, worker, sink, policy, now, &batch)
        .instrument(batch.clone())
        .await
}

/// The round of [`deliver_due`] once something was found due, inside `batch`.
async fn deliver_batch(
    storage: &Storage,
    worker: &str,
    sink: &impl Sink,
    policy: &Policy,
    now: Timestamp,
    batch: &Span,
) -> Result<Round, StorageError> {
    let events = claim(storage, worker, now, policy.lease, policy.batch).await?;
    batch.record("events", events.len());
    // Empty when another worker claimed what was seen due.
    if events.is_empty() {
        return Ok(Round::default());
    }
    let deliveries: Vec<Span> = events.iter().map(delivery_span).collect();
    let round = match sink.deliver(&events).await {
        Ok(()) => {
            record_outcome(&deliveries, "delivered");
            settle_delivered(storage, worker, &events, now).await?;
            Round {
                delivered: events.len(),
                failed: 0,
            }
        }
        Err(error) => {
            record_outcome(&deliveries, "retry");
            tracing::warn!(events = events.len(), error = %error, "outbox delivery failed; will retry");
            settle_failed(storage, worker, &events, policy, now).await?;
            Round {
                delivered: 0,
                failed: events.len(),
            }
        }
    };
    batch.record("delivered", round.delivered);
    batch.record("failed", round.failed);
    Ok(round)
}

/// The span of one event's delivery, in the current batch, linked to the trace of the change that
/// produced the event. Ids and type only: payloads may say more than a trace should.
fn delivery_span(event: &Pending) -> Span {
    let span = tracing::info_span!(
        "outbox.deliver_event",
        event_id = %event.event_id,
        event_type = %event.event_type,
        attempt = event.attempts.saturating_add(1),
        outcome = Empty,
    );
    if let Some(traceparent) = &event.traceparent {
        rapport_telemetry::link_to_trace(&span, traceparent);
    }
    span
}

fn record_outcome(deliveries: &[Span], outcome: &str) {
    for span in deliveries {
        span.record("outcome", outcome);
    }
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

/// What tells [`run`] to stop: the server's shutdown ([`rapport_server::Stopping`]), or a test's.
pub trait Shutdown: Send {
    /// Whether shutdown has begun; asked before every round.
    fn is_stopping(&self) -> bool;
    /// Resolves once shutdown has begun; an idle worker waits on it beside its poll interval.
    fn stopped(&mut self) -> impl Future<Output = ()> + Send;
}

impl Shutdown for rapport_server::Stopping {
    fn is_stopping(&self) -> bool {
        rapport_server::Stopping::is_stopping(self)
    }

    async fn stopped(&mut self) {
        rapport_server::Stopping::stopped(self).await;
    }
}

/// Delivers until `stopping` says stop: a full batch is followed at once by the next, an idle or
/// failing round waits `policy.poll`. Storage errors are logged and retried.
pub async fn run(
    storage: Storage,
    sink: impl Sink,
    policy: Policy,
    clock: SharedClock,
    mut stopping: impl Shutdown,
) {
    // One id per running worker: its claims name it, and only it settles them.
    let worker = rapport_ids::Id::new().to_string();
    tracing::debug!(worker = %worker, "outbox worker started");
    loop {
        if stopping.is_stopping() {
            return;
        }
        let full = match deliver_due(&storage, &worker, &sink, &policy, clock.now()).await {
            Ok(round) => round.delivered == policy.batch as usize,
            Err(error) => {
                tracing::warn!(error = %error, "outbox delivery could not claim or settle events");
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
