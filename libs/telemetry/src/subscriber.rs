use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::propagation::install_propagator;
use crate::settings::{LogFormat, TelemetrySettings};

/// The standard OpenTelemetry variable; when set, spans are exported over OTLP/gRPC to it.
const OTLP_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter {filter:?}: {source}")]
    Filter {
        filter: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("could not build the OTLP span exporter")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the exporter alive; dropping it flushes every buffered span and shuts the exporter down.
#[derive(Debug)]
#[must_use = "dropping the guard immediately shuts span export down"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    exporting: bool,
}

impl TelemetryGuard {
    /// Whether spans are being exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.exporting
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "span exporter did not shut down cleanly");
        }
    }
}

/// Installs the process-wide subscriber. Call once, from `main`, inside the tokio runtime
/// (the batch exporter sends from it).
pub fn init(settings: &TelemetrySettings) -> Result<TelemetryGuard, TelemetryError> {
    install_propagator();

    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => directive,
        _ => settings.log_filter.clone(),
    };
    let filter = EnvFilter::try_new(&filter).map_err(|source| TelemetryError::Filter {
        filter: filter.clone(),
        source,
    })?;

    let logs = match settings.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colours only for a person at a terminal: a log file or a collector gets plain
            // text (and every span's fields are formatted without escape codes).
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
        LogFormat::Json => crate::json_logs::JsonLogs::new(std::io::stderr).boxed(),
    };

    let exporting =
        matches!(std::env::var(OTLP_ENDPOINT_VAR), Ok(endpoint) if !endpoint.is_empty());
    let provider = tracer_provider(&settings.service_name, exporting)?;
    // The OpenTelemetry layer is installed even without an exporter, so spans always carry
    // trace ids and an incoming `traceparent` is passed on to the services this one calls.
    // Without each span's busy and idle time (two clock reads and a lookup on every poll of an
    // instrumented future) and the thread's name and id (a string per span): a span's start and
    // end say how long it took, and tokio moves tasks between threads anyway (issue 23: tracing
    // was a tenth of a cached read's CPU).
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("rapport"))
        .with_tracked_inactivity(false)
        .with_threads(false);

    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(otel)
        .try_init()?;

    if exporting {
        tracing::info!("exporting spans over OTLP");
    }
    Ok(TelemetryGuard {
        provider: Some(provider),
        exporting,
    })
}

fn tracer_provider(
    service_name: &str,
    exporting: bool,
) -> Result<SdkTracerProvider, TelemetryError> {
    let mut builder = SdkTracerProvider::builder().with_resource(
        Resource::builder()
            .with_service_name(service_name.to_owned())
            .build(),
    );
    if exporting {
        // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_ variables) itself.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}
