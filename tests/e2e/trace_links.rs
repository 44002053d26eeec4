//! Traces across the outbox (issue 20): a change made in a journey reaches loyalty through the
//! outbox in a trace of the delivery's own, and both the delivery of the event and loyalty's
//! `IngestEvents` link back to the journey's trace; the event's application stays in it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use opentelemetry_sdk::trace::SpanData;
use rapport::agent;
use rapport_clock::{ManualClock, SharedClock, Timestamp};
use rapport_outbox::delivery::Policy;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::support::telemetry;

backend_tests!(a_delivered_event_and_its_ingest_link_back_to_the_journey_that_made_it);

/// Another fresh database on the same backend as `like`.
async fn another(like: &TestDatabase) -> TestDatabase {
    if like.settings.url.starts_with("postgres") {
        TestDatabase::postgres().await.unwrap()
    } else {
        TestDatabase::sqlite()
    }
}

fn links_to(span: &SpanData, trace: TraceId) -> bool {
    span.links
        .iter()
        .any(|link| link.span_context.trace_id() == trace)
}

/// The spans that show a journey's event delivered and ingested: the event's delivery span, linked
/// to the journey; loyalty's `IngestEvents` handler span in the same trace, linked too; and the
/// delivery's batch, closed.
struct Delivered {
    delivery: SpanData,
    ingest: SpanData,
    batch: SpanData,
    spans: Vec<SpanData>,
}

fn delivered(spans: Vec<SpanData>, journey: TraceId) -> Option<Delivered> {
    let delivery = spans
        .iter()
        .find(|s| s.name == "outbox.deliver_event" && links_to(s, journey))?
        .clone();
    let trace = delivery.span_context.trace_id();
    let in_trace = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name && s.span_context.trace_id() == trace)
            .cloned()
    };
    Some(Delivered {
        delivery,
        ingest: in_trace("ingest")?,
        batch: in_trace("outbox.deliver_batch")?,
        spans,
    })
}

async fn a_delivered_event_and_its_ingest_link_back_to_the_journey_that_made_it(
    loyalty_database: TestDatabase,
) {
    let (_recording, exporter, provider) = telemetry::recorded();
    let profiles_database = another(&loyalty_database).await;
    let start: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
    let clock: SharedClock = Arc::new(ManualClock::new(start));
    let settings = ServerSettings::default();
    let policy = Policy {
        batch: 100,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(60),
    };
    let server = TestServer::start_with(settings.clone(), |address| {
        let url = format!("http://{address}");
        let profiles = rapport_profiles::unit_with_clock(
            &settings,
            &profiles_database.settings,
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let profiles =
            rapport_clients::deliver_outbox_to_loyalty(profiles, &url, clock.clone(), policy)
                .map_err(|e| e.to_string())?;
        let loyalty = rapport_loyalty::unit_with(
            &settings,
            &loyalty_database.settings,
            rapport_loyalty::Rules::default(),
            clock.clone(),
            &url,
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![profiles, loyalty])
    })
    .await;
    let connection = agent::connect(&format!("http://{}", server.address))
        .await
        .unwrap();

    let journey = tracing::info_span!("journey");
    let journey_trace = journey.context().span().span_context().trace_id();
    ProfileServiceClient::new(connection)
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Ana Popescu".into(),
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                customer_since: Some(common::Date {
                    year: 2020,
                    month: 3,
                    day: 2,
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .instrument(journey.clone())
        .await
        .unwrap();
    drop(journey);

    // The worker delivers within a few polls; read the exported spans until the delivery, the
    // ingest and the batch have all closed, for at most 10 s.
    let mut found = None;
    for _ in 0..500 {
        provider.force_flush().unwrap();
        found = delivered(exporter.get_finished_spans().unwrap(), journey_trace);
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Delivered {
        delivery,
        ingest,
        batch,
        spans,
    } = found.expect("the journey's event delivered and ingested, with links to the journey");

    let delivery_trace = delivery.span_context.trace_id();
    assert_ne!(
        delivery_trace, journey_trace,
        "a delivery is a trace of its own"
    );
    assert_eq!(
        batch.parent_span_id,
        SpanId::INVALID,
        "the batch is its root"
    );
    assert_eq!(delivery.parent_span_id, batch.span_context.span_id());
    assert!(
        links_to(&ingest, journey_trace),
        "IngestEvents links to the journey that produced its event: {:?}",
        ingest.links.links
    );
    // The handler runs under loyalty's server span, which continues the delivery's call.
    let ids: HashSet<SpanId> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == delivery_trace)
        .map(|s| s.span_context.span_id())
        .collect();
    assert!(
        ids.contains(&ingest.parent_span_id),
        "the ingest's parent is in the delivery's trace"
    );
    // Applying the event still continues the journey (one journey, one trace).
    assert!(
        spans
            .iter()
            .any(|s| s.name == "loyalty.apply_event" && s.span_context.trace_id() == journey_trace),
        "the event is applied in the journey's trace"
    );
    server.stop().await.unwrap();
}
