//! A call made inside a span must produce a server span whose parent is that span: one journey,
//! one trace, across every service it touches.

use opentelemetry::trace::{SpanKind, TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rapport_telemetry::{ClientTraceLayer, ServerTraceLayer, install_propagator};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Endpoint, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tower::ServiceBuilder;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// A health server behind [`ServerTraceLayer`], with every span recorded in memory. The
/// subscriber is the default of this thread while `_default` lives; a current-thread runtime
/// makes the server's tasks see it too.
struct Traced {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    channel: tonic::transport::Channel,
    _default: tracing::subscriber::DefaultGuard,
}

async fn traced_health_server() -> Traced {
    install_propagator();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let default = tracing::subscriber::set_default(subscriber);

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(
        Server::builder()
            .layer(ServerTraceLayer)
            .add_service(health)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let channel = Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    Traced {
        exporter,
        provider,
        channel,
        _default: default,
    }
}

impl Traced {
    /// The server span of the health check, once every span has been exported.
    fn server_span(&self) -> opentelemetry_sdk::trace::SpanData {
        self.provider.force_flush().expect("flush");
        let spans = self.exporter.get_finished_spans().expect("finished spans");
        let names: Vec<String> = spans.iter().map(|span| span.name.to_string()).collect();
        spans
            .into_iter()
            .find(|span| span.name == "grpc.health.v1.Health/Check")
            .unwrap_or_else(|| panic!("no server span among {names:?}"))
    }
}

#[tokio::test]
async fn the_server_span_continues_the_callers_trace() {
    let traced = traced_health_server().await;
    let mut client = HealthClient::new(
        ServiceBuilder::new()
            .layer(ClientTraceLayer)
            .service(traced.channel.clone()),
    );

    let caller = tracing::info_span!("caller");
    let caller_context = caller.context().span().span_context().clone();
    client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .instrument(caller.clone())
        .await
        .expect("health check answers");
    drop(caller);

    let server = traced.server_span();
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(
        server.span_context.trace_id(),
        caller_context.trace_id(),
        "the server span is in the caller's trace"
    );
    assert_eq!(
        server.parent_span_id,
        caller_context.span_id(),
        "the server span's parent is the caller's span"
    );
}

#[tokio::test]
async fn a_call_without_trace_context_starts_a_new_trace() {
    let traced = traced_health_server().await;
    // No client layer: nothing is injected.
    HealthClient::new(traced.channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check answers");
    assert_eq!(
        traced.server_span().parent_span_id,
        opentelemetry::trace::SpanId::INVALID,
        "a root span"
    );
}

/// Work on an outbox event delivered later joins the trace of the change that produced it.
#[tokio::test]
async fn an_events_traceparent_continues_its_trace() {
    let traced = traced_health_server().await;
    let producer = tracing::info_span!("producer");
    let traceparent = {
        let _entered = producer.enter();
        rapport_telemetry::current_traceparent().expect("inside a sampled span")
    };
    let producer_context = producer.context().span().span_context().clone();
    drop(producer);

    let consumer = tracing::info_span!("apply_event");
    rapport_telemetry::continue_trace(&consumer, &traceparent);
    drop(consumer);
    // A malformed one starts no trace of its own but breaks nothing either.
    let stray = tracing::info_span!("stray");
    rapport_telemetry::continue_trace(&stray, "not-a-traceparent");
    drop(stray);

    traced.provider.force_flush().expect("flush");
    let spans = traced.exporter.get_finished_spans().expect("spans");
    let applied = spans
        .iter()
        .find(|s| s.name == "apply_event")
        .expect("the consumer span");
    assert_eq!(applied.span_context.trace_id(), producer_context.trace_id());
    assert_eq!(applied.parent_span_id, producer_context.span_id());
    let stray = spans
        .iter()
        .find(|s| s.name == "stray")
        .expect("stray span");
    assert_ne!(stray.span_context.trace_id(), producer_context.trace_id());
}

/// Work on a batch of events is linked to each event's trace without joining it: one link per
/// producing span however many of its events the batch carries, none for a missing or malformed
/// `traceparent`.
#[tokio::test]
async fn a_batch_links_to_the_traces_of_its_events_without_joining_them() {
    let traced = traced_health_server().await;
    let producer = tracing::info_span!("producer");
    let traceparent = {
        let _entered = producer.enter();
        rapport_telemetry::current_traceparent().expect("inside a sampled span")
    };
    let producer_context = producer.context().span().span_context().clone();
    drop(producer);

    let batch = tracing::info_span!("batch");
    let linked = rapport_telemetry::link_to_traces(
        &batch,
        [
            traceparent.as_str(),
            traceparent.as_str(),
            "",
            "not-a-traceparent",
        ],
    );
    assert_eq!(linked, 1);
    let alone = tracing::info_span!("alone");
    assert!(!rapport_telemetry::link_to_trace(&alone, ""));
    drop((batch, alone));

    traced.provider.force_flush().expect("flush");
    let spans = traced.exporter.get_finished_spans().expect("spans");
    let batch = spans
        .iter()
        .find(|s| s.name == "batch")
        .expect("the batch span");
    assert_ne!(
        batch.span_context.trace_id(),
        producer_context.trace_id(),
        "a trace of its own"
    );
    assert_eq!(batch.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    let links: Vec<_> = batch.links.iter().map(|l| l.span_context.clone()).collect();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].trace_id(), producer_context.trace_id());
    assert_eq!(links[0].span_id(), producer_context.span_id());
    let alone = spans
        .iter()
        .find(|s| s.name == "alone")
        .expect("the span without a producer");
    assert!(alone.links.is_empty());
}
