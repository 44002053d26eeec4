//! Outbox delivery against a sink that can be switched off, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rapport_ids::Id;
use rapport_outbox::OutboxEvent;
use rapport_outbox::delivery::{self, Pending, Policy, Sink, SinkError};
use rapport_storage::testing::TestDatabase;
use rapport_storage::{EmbeddedMigration, Migrations, backend_tests};

/// The outbox table every service migrates (the same SQL as `services/*/migrations/0001_outbox.sql`).
static OUTBOX: Migrations = Migrations(&[EmbeddedMigration {
    version: 1,
    description: "outbox",
    sql: include_str!("../../../services/profiles/migrations/0001_outbox.sql"),
}]);

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
    }
}

fn start() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

backend_tests!(nothing_is_lost_while_the_consumer_is_down_and_order_holds);

async fn append(storage: &rapport_storage::Storage, customer: Id, n: u32, at: Timestamp) {
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
    let round = delivery::deliver_due(&storage, &consumer, &policy(), now)
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
    let round = delivery::deliver_due(&storage, &consumer, &policy(), now)
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
    let round = delivery::deliver_due(&storage, &consumer, &policy(), now)
        .await
        .unwrap();
    assert_eq!(round.delivered, 0);

    // Repeated failures back off further each time, up to the cap.
    *consumer.down.lock().unwrap() = true;
    append(&storage, bob, 2, now).await;
    let mut waits = Vec::new();
    for _ in 0..8 {
        let before = now;
        delivery::deliver_due(&storage, &consumer, &policy(), now)
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
    let waits: std::collections::BTreeSet<u128> = (0..20)
        .map(|i| policy.backoff(&format!("event-{i}"), 3).as_millis())
        .collect();
    assert!(waits.len() > 10);
}
