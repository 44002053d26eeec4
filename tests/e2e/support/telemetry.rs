//! The one tracing subscriber of this test binary (a process has one global subscriber): every
//! event, span opening and later-recorded value kept as text (`pii` reads them), and an
//! OpenTelemetry layer exporting to memory (`journeys`, `trace_links` and `pii` read its spans).
//!
//! It records only while a test holds a [`Recording`]: at every level it makes the other tests of
//! the binary much slower. Tests running meanwhile are recorded too, so a reader picks out its own
//! trace or customer.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// How many tests are recording now.
static RECORDING: AtomicUsize = AtomicUsize::new(0);

/// Telemetry is recorded while one of these is alive.
#[derive(Debug)]
pub struct Recording(());

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts recording until the returned [`Recording`] is dropped, installing the subscriber on
/// first use: [`Capture`] and an OpenTelemetry layer exporting to memory, at every level (our
/// crates and the libraries they hand values to: tonic, h2, sqlx). Returns the exporter and its
/// provider.
pub fn recorded() -> (
    Recording,
    &'static InMemorySpanExporter,
    &'static SdkTracerProvider,
) {
    static INSTALLED: OnceLock<(InMemorySpanExporter, SdkTracerProvider)> = OnceLock::new();
    RECORDING.fetch_add(1, Ordering::SeqCst);
    let recording = Recording(());
    let (exporter, provider) = INSTALLED.get_or_init(|| {
        rapport_telemetry::install_propagator();
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let recording = filter_fn(|_| RECORDING.load(Ordering::SeqCst) > 0);
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry()
                .with(recording)
                .with(Capture)
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("e2e"))),
        )
        .unwrap();
        (exporter, provider)
    });
    (recording, exporter, provider)
}

/// One thing telemetry recorded: where (an event, a span opening, a later `record`, an exported
/// span) and everything it holds, as text.
#[derive(Debug, Clone)]
pub struct Captured {
    pub origin: String,
    pub text: String,
}

pub fn captured() -> &'static Mutex<Vec<Captured>> {
    static CAPTURED: OnceLock<Mutex<Vec<Captured>>> = OnceLock::new();
    CAPTURED.get_or_init(Mutex::default)
}

fn keep(origin: String, text: String) {
    captured().lock().unwrap().push(Captured { origin, text });
}

/// Writes every field as `name=value`, errors with their whole source chain.
#[derive(Default)]
struct Fields(String);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, "{}={} ", field.name(), value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let _ = write!(self.0, "{}={value} ({value:?})", field.name());
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(self.0, ": {cause} ({cause:?})");
            source = cause.source();
        }
        self.0.push(' ');
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

/// Records every event, every span as it opens and every value recorded on a span later.
struct Capture;

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        let meta = attributes.metadata();
        keep(
            format!("span {:?} ({}) opened", meta.name(), meta.target()),
            format!("{} {}", meta.name(), fields.0),
        );
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, context: Context<'_, S>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        let name = context.span(span).map_or("?", |s| s.name());
        keep(format!("span {name:?}: a value recorded later"), fields.0);
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let scope: Vec<&str> = context
            .event_scope(event)
            .map(|scope| scope.from_root().map(|s| s.name()).collect())
            .unwrap_or_default();
        keep(
            format!(
                "{} event at {} ({}) in {}",
                meta.level(),
                meta.target(),
                meta.file().unwrap_or("?"),
                scope.join(" > ")
            ),
            fields.0,
        );
    }
}
