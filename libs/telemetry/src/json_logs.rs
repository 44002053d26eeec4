//! Production logs: one JSON object per line, carrying the OpenTelemetry `trace_id` and `span_id`
//! of the span the event happened in, so a log line leads to its trace (and a trace to its
//! lines). tracing-subscriber's JSON formatter cannot see OpenTelemetry ids, hence this layer.
//!
//! A line: `{"timestamp":"…","level":"INFO","target":"…","message":"…", <event fields>,
//! "span":{"name":"grpc.server", <span fields>},"trace_id":"<32 hex>","span_id":"<16 hex>"}`.

use std::io::Write;
use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The layer; `make_writer` is where lines go (stderr in production).
pub(crate) struct JsonLogs<W> {
    make_writer: W,
    /// The subscriber this layer is part of, to ask the OpenTelemetry layer for a span's ids.
    dispatch: OnceLock<WeakDispatch>,
}

impl<W> JsonLogs<W> {
    pub(crate) fn new(make_writer: W) -> Self {
        Self {
            make_writer,
            dispatch: OnceLock::new(),
        }
    }
}

/// A span's fields, kept in its extensions as they are recorded.
struct SpanFields(Map<String, Value>);

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

impl<S, W> Layer<S> for JsonLogs<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut fields = Map::new();
            attributes.record(&mut JsonVisitor(&mut fields));
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(SpanFields(fields)) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut JsonVisitor(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Value::from(jiff::Timestamp::now().to_string()),
        );
        line.insert("level".into(), Value::from(metadata.level().as_str()));
        line.insert("target".into(), Value::from(metadata.target()));
        event.record(&mut JsonVisitor(&mut line));
        if let Some(span) = ctx.event_span(event) {
            let mut described = Map::new();
            described.insert("name".into(), Value::from(span.name()));
            if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                described.extend(fields.clone());
            }
            line.insert("span".into(), Value::Object(described));
            // No span extensions may be held here: the OpenTelemetry layer locks them.
            let otel = self
                .dispatch
                .get()
                .and_then(WeakDispatch::upgrade)
                .and_then(|dispatch| {
                    tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)
                });
            if let Some(otel) = otel {
                let span_context = otel.span().span_context().clone();
                if span_context.is_valid() {
                    line.insert(
                        "trace_id".into(),
                        Value::from(span_context.trace_id().to_string()),
                    );
                    line.insert(
                        "span_id".into(),
                        Value::from(span_context.span_id().to_string()),
                    );
                }
            }
        }
        let mut bytes = Value::Object(line).to_string().into_bytes();
        bytes.push(b'\n');
        // A log line that cannot be written has nowhere better to go.
        let _ = self.make_writer.make_writer().write_all(&bytes);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn a_line_carries_the_trace_and_span_ids_of_its_span() {
        let lines = Lines::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(JsonLogs::new(lines.clone()))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "grpc.server",
                rpc.method = "AcceptPlan",
                rpc.grpc.status_code = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("rpc.grpc.status_code", 0);
            tracing::info!(plans = 3_u64, "accepted");
            let context = span.context();
            let span_context = context.span().span_context().clone();
            (
                span_context.trace_id().to_string(),
                span_context.span_id().to_string(),
            )
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["message"], "accepted");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["plans"], 3);
        assert_eq!(line["span"]["name"], "grpc.server");
        assert_eq!(line["span"]["rpc.method"], "AcceptPlan");
        assert_eq!(line["span"]["rpc.grpc.status_code"], 0);
        assert_eq!(line["trace_id"], trace_id.as_str());
        assert_eq!(line["span_id"], span_id.as_str());
        assert_eq!(trace_id.len(), 32);
        assert_ne!(trace_id, "0".repeat(32));
        assert_eq!(span_id.len(), 16);
        // Outside any span there is nothing to link.
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(JsonLogs::new(lines.clone()));
        tracing::subscriber::with_default(subscriber, || tracing::warn!("alone"));
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["message"], "alone");
        assert!(line.get("trace_id").is_none() && line.get("span").is_none());
    }
}
