//! The traces outbox delivery leaves (issue 20): an idle worker exports nothing however often it
//! looks; a batch is one root span with its claim and deliveries under it; each delivery is linked
//! to the trace of the change that produced its event, without joining it.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rapport_clock::{ManualClock, SharedClock};
use rapport_ids::Id;
use rapport_outbox::OutboxEvent;
use rapport_outbox::delivery::{self, Pending, Policy, Shutdown, Sink, SinkError};
use rapport_storage::testing::TestDatabase;
use rapport_storage::{EmbeddedMigration, Migrations, Storage, backend_tests};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// The outbox table every service migrates, with its delivery claims.
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

backend_tests!(
    an_idle_worker_exports_no_span_however_often_it_looks,
    a_batch_is_one_root_span_with_its_claim_and_deliveries_under_it,
    each_delivery_links_to_the_trace_of_the_change_that_produced_its_event,
);

/// Every span closed in this test binary, recorded in memory. One global subscriber: SQLite's
/// connection threads enter the span current at each statement, and a subscriber set for the
/// test's thread alone would never hear those spans exit, so never see them close.
fn recorded() -> &'static (InMemorySpanExporter, SdkTracerProvider) {
    static RECORDED: OnceLock<(InMemorySpanExporter, SdkTracerProvider)> = OnceLock::new();
    RECORDED.get_or_init(|| {
        rapport_telemetry::install_propagator();
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("outbox"))),
        )
        .unwrap();
        (exporter, provider)
    })
}

/// The tests take turns, so the spans one sees are its own.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The spans that start while it lives, for the test that holds it.
struct Capture {
    exporter: &'static InMemorySpanExporter,
    provider: &'static SdkTracerProvider,
    since: SystemTime,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

async fn capture() -> Capture {
    let turn = TURN.lock().await;
    let (exporter, provider) = recorded();
    let mut capture = Capture {
        exporter,
        provider,
        since: SystemTime::now(),
        _turn: turn,
    };
    capture.forget();
    capture
}

impl Capture {
    fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        self.exporter
            .get_finished_spans()
            .unwrap()
            .into_iter()
            // A span of an earlier test may close late, on a connection thread of its own.
            .filter(|s| s.start_time >= self.since)
            .collect()
    }

    /// The spans once `done` holds of them, for at most 5 s. A span can close a moment after the
    /// worker's round: SQLite's connection thread holds the span current at each statement until
    /// it has answered it.
    async fn spans_once(&self, done: impl Fn(&[SpanData]) -> bool) -> Vec<SpanData> {
        for _ in 0..500 {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let spans = self.spans();
        panic!(
            "the spans expected were not all exported: {:?}",
            spans.iter().map(|s| s.name.to_string()).collect::<Vec<_>>()
        );
    }

    /// Forgets what was recorded so far (a test's setup).
    fn forget(&mut self) {
        self.provider.force_flush().unwrap();
        self.exporter.reset();
        self.since = SystemTime::now();
    }
}

/// Ends [`delivery::run`] after a number of rounds: the loop asks before every round.
struct AfterRounds(AtomicU32);

impl Shutdown for AfterRounds {
    fn is_stopping(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_err()
    }

    async fn stopped(&mut self) {
        std::future::pending::<()>().await;
    }
}

/// Runs the worker loop for `rounds` rounds at `clock`'s time.
async fn run_rounds(storage: &Storage, sink: Recorder, clock: &Arc<ManualClock>, rounds: u32) {
    let clock: SharedClock = clock.clone();
    delivery::run(
        storage.clone(),
        sink,
        policy(),
        clock,
        AfterRounds(AtomicU32::new(rounds)),
    )
    .await;
}

/// Takes every batch, or refuses every batch while `down`; notes the trace each batch was
/// delivered in (the context its gRPC calls would carry).
#[derive(Clone, Default)]
struct Recorder {
    down: Arc<Mutex<bool>>,
    delivered_in: Arc<Mutex<Vec<(TraceId, usize)>>>,
}

impl Sink for Recorder {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        if *self.down.lock().unwrap() {
            return Err(SinkError("consumer is down".into()));
        }
        let context = tracing::Span::current().context();
        let trace = context.span().span_context().trace_id();
        self.delivered_in
            .lock()
            .unwrap()
            .push((trace, events.len()));
        Ok(())
    }
}

fn policy() -> Policy {
    Policy {
        batch: 2,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        poll: Duration::from_millis(1),
        lease: Duration::from_secs(60),
    }
}

fn start() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

struct Event {
    customer: Id,
}

impl OutboxEvent for Event {
    fn event_type(&self) -> &'static str {
        "test.happened.v1"
    }
    fn customer_id(&self) -> Id {
        self.customer
    }
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({})
    }
}

/// Appends an event for `customer` at `at` in its own transaction, in whatever span is current.
async fn append(storage: &Storage, customer: Id, at: Timestamp) {
    let mut tx = storage.begin_write().await.unwrap();
    rapport_outbox::append(&mut tx, &Event { customer }, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn migrated(database: &TestDatabase) -> Storage {
    let storage = database.open();
    storage.migrate(&OUTBOX).await.unwrap();
    storage
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// Twenty looks at an empty outbox, then twenty more at one whose only event waits out the
/// backoff of a failed delivery: not a span, so not a trace, in either.
async fn an_idle_worker_exports_no_span_however_often_it_looks(database: TestDatabase) {
    let mut capture = capture().await;
    let storage = migrated(&database).await;
    let clock = Arc::new(ManualClock::new(start()));
    let sink = Recorder::default();
    capture.forget();

    run_rounds(&storage, sink.clone(), &clock, 20).await;
    let spans = capture.spans();
    assert!(
        spans.is_empty(),
        "an idle worker exported {:?}",
        spans.iter().map(|s| s.name.to_string()).collect::<Vec<_>>()
    );

    append(&storage, Id::new(), start()).await;
    *sink.down.lock().unwrap() = true;
    run_rounds(&storage, sink.clone(), &clock, 1).await;
    // The failed delivery is a batch; once its root has closed, so has everything under it.
    capture
        .spans_once(|spans| named(spans, "outbox.deliver_batch").len() == 1)
        .await;
    capture.forget();
    // The clock stands still: the event's retry is not due.
    run_rounds(&storage, sink.clone(), &clock, 20).await;
    let spans = capture.spans();
    assert!(
        spans.is_empty(),
        "a worker waiting out a backoff exported {:?}",
        spans.iter().map(|s| s.name.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(delivery::backlog(&storage).await.unwrap().events, 1);
}

/// Five events in batches of two: three root spans, one per batch, each with its claim and its
/// events' deliveries under it, and the consumer called inside it; the idle looks after them add
/// nothing.
async fn a_batch_is_one_root_span_with_its_claim_and_deliveries_under_it(database: TestDatabase) {
    let mut capture = capture().await;
    let storage = migrated(&database).await;
    let (ana, bob) = (Id::new(), Id::new());
    for (n, customer) in [ana, bob, ana, bob, ana].into_iter().enumerate() {
        append(
            &storage,
            customer,
            start() + SignedDuration::from_secs(n as i64),
        )
        .await;
    }
    let clock = Arc::new(ManualClock::new(start() + SignedDuration::from_secs(60)));
    let sink = Recorder::default();
    capture.forget();

    // Three rounds with work (the first two full, so without a pause), then idle ones.
    run_rounds(&storage, sink.clone(), &clock, 8).await;
    assert_eq!(delivery::backlog(&storage).await.unwrap().events, 0);

    let spans = capture
        .spans_once(|spans| named(spans, "outbox.deliver_batch").len() >= 3)
        .await;
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let roots: Vec<&SpanData> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent_span_id))
        .collect();
    assert!(
        roots
            .iter()
            .all(|s| s.name == "outbox.deliver_batch" && s.parent_span_id == SpanId::INVALID),
        "every root is a batch: {:?}",
        roots.iter().map(|s| s.name.to_string()).collect::<Vec<_>>()
    );
    let sizes: Vec<Option<String>> = roots.iter().map(|s| attribute(s, "events")).collect();
    assert_eq!(
        sizes,
        [Some("2".into()), Some("2".into()), Some("1".into())]
    );

    let batch_traces: HashSet<TraceId> = roots.iter().map(|s| s.span_context.trace_id()).collect();
    assert_eq!(batch_traces.len(), 3, "each batch is a trace of its own");
    assert!(
        spans
            .iter()
            .all(|s| batch_traces.contains(&s.span_context.trace_id())),
        "every span belongs to a batch"
    );
    for root in &roots {
        let under: Vec<&SpanData> = spans
            .iter()
            .filter(|s| s.parent_span_id == root.span_context.span_id())
            .collect();
        assert_eq!(
            under.iter().filter(|s| s.name == "claim").count(),
            1,
            "one claim per batch"
        );
        let deliveries: Vec<&&SpanData> = under
            .iter()
            .filter(|s| s.name == "outbox.deliver_event")
            .collect();
        assert_eq!(
            Some(deliveries.len().to_string()),
            attribute(root, "events"),
            "one delivery span per event, under its batch"
        );
        assert!(
            deliveries
                .iter()
                .all(|s| attribute(s, "outcome").as_deref() == Some("delivered"))
        );
    }
    let delivered_in = sink.delivered_in.lock().unwrap().clone();
    assert_eq!(delivered_in.len(), 3);
    assert!(
        delivered_in
            .iter()
            .all(|(trace, _)| batch_traces.contains(trace)),
        "the consumer is called inside its batch's span"
    );
}

/// Two changes in two traces, and one event written outside any: each delivery span links to
/// the trace of its own event's change (and stays in its batch's trace); the third links nowhere.
async fn each_delivery_links_to_the_trace_of_the_change_that_produced_its_event(
    database: TestDatabase,
) {
    let mut capture = capture().await;
    let storage = migrated(&database).await;
    let (ana, bob) = (Id::new(), Id::new());
    let mut producers = Vec::new();
    for (n, customer) in [ana, bob].into_iter().enumerate() {
        let change = tracing::info_span!("change");
        producers.push(change.context().span().span_context().clone());
        append(
            &storage,
            customer,
            start() + SignedDuration::from_secs(n as i64),
        )
        .instrument(change)
        .await;
    }
    let unlinked = Id::new();
    {
        // Written with no trace at all.
        let _none = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        append(&storage, unlinked, start() + SignedDuration::from_secs(2)).await;
    }
    capture.forget();

    let clock = Arc::new(ManualClock::new(start() + SignedDuration::from_secs(60)));
    run_rounds(&storage, Recorder::default(), &clock, 3).await;
    assert_eq!(delivery::backlog(&storage).await.unwrap().events, 0);

    let spans = capture
        .spans_once(|spans| named(spans, "outbox.deliver_batch").len() >= 2)
        .await;
    let deliveries = named(&spans, "outbox.deliver_event");
    assert_eq!(deliveries.len(), 3);
    let producer_traces: HashSet<TraceId> = producers.iter().map(|p| p.trace_id()).collect();
    let mut linked = HashSet::new();
    for delivery in &deliveries {
        assert!(
            !producer_traces.contains(&delivery.span_context.trace_id()),
            "a delivery is linked to its producer's trace, not part of it"
        );
        match delivery.links.links.as_slice() {
            [] => {}
            [link] => {
                assert!(
                    producer_traces.contains(&link.span_context.trace_id()),
                    "linked to a producer"
                );
                linked.insert(link.span_context.trace_id());
            }
            more => panic!("one link per event, not {}", more.len()),
        }
    }
    assert_eq!(
        linked, producer_traces,
        "each change's event links back to it"
    );
    assert_eq!(
        deliveries
            .iter()
            .filter(|d| d.links.links.is_empty())
            .count(),
        1,
        "the event written outside any trace links nowhere"
    );
}
