//! Outbox delivery against a sink that can be switched off, on SQLite and PostgreSQL; several
//! workers over one database (as replicas would be); leases of workers that die.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use rapport_ids::Id;
use rapport_outbox::OutboxEvent;
use rapport_outbox::delivery::{self, Pending, Policy, Sink, SinkError};
use rapport_storage::testing::TestDatabase;
use rapport_storage::{EmbeddedMigration, Migrations, Storage, backend_tests, sqlx};

/// The outbox table every service migrates (the same SQL as `services/*/migrations/0001_outbox.sql`),
/// with its delivery claims.
static OUTBOX: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "outbox",
        sql: include_str!("../../../services/profiles/migrations/0001_outbox.sql"),
    },
    EmbeddedMigration {
        version: 2,
        description: "outbox_claims",
        sql: rapport_outbox::CLAIMS_MIGRATION_SQL,
    },
]);

/// The worker of the tests that have one.
const WORKER: &str = "worker-1";

struct Event {
    customer: Id,
    n: u32,
}

impl OutboxEvent for Event {
    fn event_type(&self) -> &'static str {
        "test.happened.v1"
    }
    fn customer_id(&self) -> Id {
        self.customer
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({ "n": self.n })
    }
}

/// Records what it receives; refuses everything while `down`.
#[derive(Default)]
struct Consumer {
    down: Mutex<bool>,
    /// (customer, n) in arrival order.
    received: Mutex<Vec<(String, u64)>>,
}

impl Sink for &'static Consumer {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        if *self.down.lock().unwrap() {
            return Err(SinkError("consumer is down".into()));
        }
        self.received.lock().unwrap().extend(events.iter().map(|e| {
            let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
            (
                e.customer_id.clone().unwrap(),
                payload["n"].as_u64().unwrap(),
            )
        }));
        Ok(())
    }
}

fn policy() -> Policy {
    Policy {
        batch: 10,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        poll: Duration::from_millis(10),
        lease: Duration::from_secs(60),
    }
}

fn start() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

backend_tests!(
    nothing_is_lost_while_the_consumer_is_down_and_order_holds,
    three_workers_deliver_every_event_once_in_order_per_customer,
    a_claim_holds_its_events_until_its_lease_runs_out,
);

async fn append(storage: &Storage, customer: Id, n: u32, at: Timestamp) {
    let mut tx = storage.begin_write().await.unwrap();
    rapport_outbox::append(&mut tx, &Event { customer, n }, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn nothing_is_lost_while_the_consumer_is_down_and_order_holds(database: TestDatabase) {
    let storage = database.open();
    storage.migrate(&OUTBOX).await.unwrap();
    let consumer: &'static Consumer = Box::leak(Box::default());
    let (ana, bob) = (Id::new(), Id::new());
    let mut now = start();

    *consumer.down.lock().unwrap() = true;
    append(&storage, ana, 1, now).await;
    append(&storage, bob, 1, now).await;
    let round = delivery::deliver_due(&storage, WORKER, &consumer, &policy(), now)
        .await
        .unwrap();
    assert_eq!((round.delivered, round.failed), (0, 2));
    let backlog = delivery::backlog(&storage).await.unwrap();
    assert_eq!((backlog.events, backlog.oldest), (2, Some(now)));

    // Ana's next event may not overtake her first, which waits out its backoff (½–1 s).
    now += SignedDuration::from_millis(100);
    append(&storage, ana, 2, now).await;
    assert!(delivery::due(&storage, now, 10).await.unwrap().is_empty());

    // The consumer comes back; once the backoff has passed, everything arrives in order.
    *consumer.down.lock().unwrap() = false;
    now += SignedDuration::from_secs(2);
    let round = delivery::deliver_due(&storage, WORKER, &consumer, &policy(), now)
        .await
        .unwrap();
    assert_eq!(round.delivered, 3);
    let received = consumer.received.lock().unwrap().clone();
    let of = |who: Id| -> Vec<u64> {
        received
            .iter()
            .filter(|(c, _)| *c == who.to_string())
            .map(|(_, n)| *n)
            .collect()
    };
    assert_eq!(of(ana), [1, 2]);
    assert_eq!(of(bob), [1]);
    assert_eq!(delivery::backlog(&storage).await.unwrap().events, 0);
    // Delivered events are not sent again.
    let round = delivery::deliver_due(&storage, WORKER, &consumer, &policy(), now)
        .await
        .unwrap();
    assert_eq!(round.delivered, 0);

    // Repeated failures back off further each time, up to the cap.
    *consumer.down.lock().unwrap() = true;
    append(&storage, bob, 2, now).await;
    let mut waits = Vec::new();
    for _ in 0..8 {
        let before = now;
        delivery::deliver_due(&storage, WORKER, &consumer, &policy(), now)
            .await
            .unwrap();
        // Step to the moment it is due again.
        loop {
            now += SignedDuration::from_millis(250);
            if !delivery::due(&storage, now, 10).await.unwrap().is_empty() {
                break;
            }
        }
        waits.push(now.duration_since(before).as_secs_f64());
    }
    assert!(waits[3] > waits[0] * 3.0, "{waits:?}");
    assert!(waits.iter().all(|w| *w <= 60.25), "{waits:?}");
    storage.close().await;
}

/// What every worker's sink delivered, in arrival order.
#[derive(Default)]
struct Arrivals {
    batches: AtomicU64,
    /// (worker, event id, customer, n).
    received: Mutex<Vec<(String, String, String, u64)>>,
}

/// One worker's sink: slow enough for the workers' rounds to overlap; refuses every fifth batch
/// it is handed (across all workers), so retries and backoffs happen while others deliver.
struct Replica {
    worker: String,
    arrivals: Arc<Arrivals>,
    delay: Duration,
    refuse_every: u64,
}

impl Sink for Replica {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        tokio::time::sleep(self.delay).await;
        let batch = self.arrivals.batches.fetch_add(1, Ordering::SeqCst) + 1;
        if self.refuse_every > 0 && batch.is_multiple_of(self.refuse_every) {
            return Err(SinkError("refused".into()));
        }
        self.arrivals
            .received
            .lock()
            .unwrap()
            .extend(events.iter().map(|e| {
                let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
                (
                    self.worker.clone(),
                    e.event_id.clone(),
                    e.customer_id.clone().unwrap(),
                    payload["n"].as_u64().unwrap(),
                )
            }));
        Ok(())
    }
}

/// `customers` customers with `per_customer` events each, their times interleaved (each
/// customer's first event, then each one's second, …), in one transaction.
async fn append_many(storage: &Storage, customers: &[Id], per_customer: u32, from: Timestamp) {
    let mut tx = storage.begin_write().await.unwrap();
    let mut at = from;
    for n in 1..=per_customer {
        for customer in customers {
            at += SignedDuration::from_micros(10);
            let event = Event {
                customer: *customer,
                n,
            };
            rapport_outbox::append(&mut tx, &event, at).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// Runs one worker per `Storage` (each its own pools, like a replica) until the
/// outbox is empty. Their clock starts at `from` and follows real time, so backoffs pass.
async fn deliver_with_workers(
    storages: Vec<Storage>,
    arrivals: &Arc<Arrivals>,
    policy: Policy,
    delay: Duration,
    refuse_every: u64,
    from: Timestamp,
) {
    let started = Instant::now();
    let mut handles = Vec::new();
    for storage in storages {
        let worker = Id::new().to_string();
        let sink = Replica {
            worker: worker.clone(),
            arrivals: arrivals.clone(),
            delay,
            refuse_every,
        };
        handles.push(tokio::spawn(async move {
            loop {
                let now = from + SignedDuration::try_from(started.elapsed()).unwrap();
                let round = delivery::deliver_due(&storage, &worker, &sink, &policy, now)
                    .await
                    .unwrap();
                if round.delivered + round.failed == 0 {
                    if delivery::backlog(&storage).await.unwrap().events == 0 {
                        break;
                    }
                    // Nothing free for this worker yet: the rest is held or backing off.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            storage.close().await;
        }));
    }
    for handle in handles {
        tokio::time::timeout(Duration::from_secs(120), handle)
            .await
            .expect("the workers finish")
            .unwrap();
    }
}

async fn three_workers_deliver_every_event_once_in_order_per_customer(database: TestDatabase) {
    let storage = database.open();
    storage.migrate(&OUTBOX).await.unwrap();
    let customers: Vec<Id> = (0..40).map(|_| Id::new()).collect();
    append_many(&storage, &customers, 15, start()).await;
    let arrivals = Arc::new(Arrivals::default());
    let policy = Policy {
        batch: 10,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(50),
        poll: Duration::from_millis(1),
        lease: Duration::from_secs(60),
    };
    // Three replicas: the same database opened three times.
    let replicas = vec![database.open(), database.open(), database.open()];
    let from = start() + SignedDuration::from_secs(60);
    deliver_with_workers(
        replicas,
        &arrivals,
        policy,
        Duration::from_millis(3),
        5,
        from,
    )
    .await;

    let received = arrivals.received.lock().unwrap().clone();
    let ids: BTreeSet<&str> = received.iter().map(|(_, id, _, _)| id.as_str()).collect();
    assert_eq!(received.len(), 600, "every event once");
    assert_eq!(ids.len(), 600, "no event twice");
    let mut per_customer: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (_, _, customer, n) in &received {
        per_customer.entry(customer).or_default().push(*n);
    }
    assert_eq!(per_customer.len(), 40);
    let in_order: Vec<u64> = (1..=15).collect();
    for (customer, ns) in &per_customer {
        assert_eq!(*ns, in_order, "customer {customer}");
    }
    let workers: BTreeSet<&str> = received.iter().map(|(w, _, _, _)| w.as_str()).collect();
    assert!(workers.len() > 1, "only {workers:?} delivered");
    assert_eq!(delivery::backlog(&storage).await.unwrap().events, 0);
    storage.close().await;
}

async fn a_claim_holds_its_events_until_its_lease_runs_out(database: TestDatabase) {
    let (crashed, alive) = (database.open(), database.open());
    crashed.migrate(&OUTBOX).await.unwrap();
    let consumer: &'static Consumer = Box::leak(Box::default());
    let (ana, bob) = (Id::new(), Id::new());
    let now = start();
    append(&crashed, ana, 1, now).await;
    append(&crashed, ana, 2, now + SignedDuration::from_millis(1)).await;
    append(&crashed, bob, 1, now + SignedDuration::from_millis(2)).await;

    // A worker claims Ana's first event and dies before delivering it.
    let held = delivery::claim(&crashed, "crashed", now, Duration::from_secs(60), 1)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].customer_id, Some(ana.to_string()));
    crashed.close().await;

    // Until the lease runs out another worker takes Bob's event but neither of Ana's: her first
    // is held, her second may not overtake it.
    let almost = now + SignedDuration::from_secs(59);
    assert_eq!(delivery::due(&alive, almost, 10).await.unwrap().len(), 1);
    let round = delivery::deliver_due(&alive, WORKER, &consumer, &policy(), almost)
        .await
        .unwrap();
    assert_eq!(round.delivered, 1);
    assert_eq!(*consumer.received.lock().unwrap(), [(bob.to_string(), 1)]);
    let round = delivery::deliver_due(&alive, WORKER, &consumer, &policy(), almost)
        .await
        .unwrap();
    assert_eq!(round.delivered, 0);

    // Then Ana's events are delivered, in order.
    let expired = now + SignedDuration::from_secs(60);
    let round = delivery::deliver_due(&alive, WORKER, &consumer, &policy(), expired)
        .await
        .unwrap();
    assert_eq!(round.delivered, 2);
    assert_eq!(
        consumer.received.lock().unwrap()[1..],
        [(ana.to_string(), 1), (ana.to_string(), 2)]
    );
    assert_eq!(delivery::backlog(&alive).await.unwrap().events, 0);
    alive.close().await;
}

/// PostgreSQL only, the race [`delivery::claim`] closes there: another claimer's transaction has
/// locked Ana's first event (read it `FOR UPDATE`) and not yet written its lease. A claim now
/// skips that event without waiting for it, and leaves Ana's second event alone too. (SQLite's
/// claimers take turns, so nothing is ever in flight there.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_in_flight_elsewhere_holds_back_its_customers_later_events() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let (other, mine) = (database.open(), database.open());
    other.migrate(&OUTBOX).await.unwrap();
    let (ana, bob) = (Id::new(), Id::new());
    let now = start();
    append(&other, ana, 1, now).await;
    append(&other, ana, 2, now + SignedDuration::from_millis(1)).await;
    append(&other, bob, 1, now + SignedDuration::from_millis(2)).await;
    let later = now + SignedDuration::from_secs(1);
    let customer_and_n = |events: Vec<Pending>| -> Vec<(String, u64)> {
        events
            .iter()
            .map(|e| {
                let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
                (
                    e.customer_id.clone().unwrap(),
                    payload["n"].as_u64().unwrap(),
                )
            })
            .collect()
    };

    let mut in_flight = other.begin_write().await.unwrap();
    let locked =
        sqlx::query("SELECT event_id FROM outbox ORDER BY occurred_at_micros LIMIT 1 FOR UPDATE")
            .fetch_all(&mut *in_flight)
            .await
            .unwrap();
    assert_eq!(locked.len(), 1);
    let claimed = tokio::time::timeout(
        Duration::from_secs(10),
        delivery::claim(&mine, WORKER, later, Duration::from_secs(60), 10),
    )
    .await
    .expect("a claim does not wait for rows another claimer holds")
    .unwrap();
    assert_eq!(customer_and_n(claimed), [(bob.to_string(), 1)]);

    // The other claimer gives up: Ana's events are free, and go together, in order.
    in_flight.rollback().await.unwrap();
    let claimed = delivery::claim(&mine, WORKER, later, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(
        customer_and_n(claimed),
        [(ana.to_string(), 1), (ana.to_string(), 2)]
    );
    other.close().await;
    mine.close().await;
}

/// How long 5,000 events take with 1, 2 and 3 workers on PostgreSQL, against a sink that takes
/// 5 ms per batch (figures for docs/scaling.md). Run with
/// `RAPPORT_TEST_DATABASE_URL=… cargo test -p rapport-outbox --test delivery -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement, not a check"]
async fn delivery_time_by_worker_count() {
    // (customers, events each, batch): events spread over many customers; crowded into a few
    // (a batch then holds most of them, and holds back their later events); small batches.
    for (customers, per_customer, batch) in
        [(500_usize, 10_u32, 100_u32), (50, 100, 100), (500, 10, 10)]
    {
        for workers in 1..=3 {
            let Some(database) = TestDatabase::postgres().await else {
                return;
            };
            let storage = database.open();
            storage.migrate(&OUTBOX).await.unwrap();
            let ids: Vec<Id> = (0..customers).map(|_| Id::new()).collect();
            append_many(&storage, &ids, per_customer, start()).await;
            let arrivals = Arc::new(Arrivals::default());
            let replicas = (0..workers).map(|_| database.open()).collect();
            let policy = Policy {
                batch,
                ..Policy::default()
            };
            let began = Instant::now();
            deliver_with_workers(
                replicas,
                &arrivals,
                policy,
                Duration::from_millis(5),
                0,
                start() + SignedDuration::from_secs(60),
            )
            .await;
            let took = began.elapsed();
            assert_eq!(arrivals.received.lock().unwrap().len(), 5_000);
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "{workers} worker(s), {customers} customers x {per_customer} events, batch {batch}: {took:.2?} ({} batches)",
                    arrivals.batches.load(Ordering::SeqCst)
                );
            }
            storage.close().await;
        }
    }
}

#[test]
fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
    let policy = policy();
    for attempt in 1..=12 {
        let wait = policy.backoff("0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60", attempt);
        let full = Duration::from_secs(1 << (attempt - 1).min(20)).min(policy.max_delay);
        assert!(
            wait >= full / 2 && wait < full,
            "attempt {attempt}: {wait:?}"
        );
    }
    // Different events wait different times: no herd.
    let waits: BTreeSet<u128> = (0..20)
        .map(|i| policy.backoff(&format!("event-{i}"), 3).as_millis())
        .collect();
    assert!(waits.len() > 10);
}
