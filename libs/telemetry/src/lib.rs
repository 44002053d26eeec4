//! Telemetry in one place (STYLE.md 7).
//!
//! - [`init`] builds the one subscriber: an env filter, human or JSON logs, and an OpenTelemetry
//!   layer exporting over OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. It returns a
//!   [`TelemetryGuard`] that flushes and shuts the exporter down when dropped (spans still in the
//!   batch are otherwise lost on exit).
//! - The W3C `traceparent` is always propagated: [`ServerTraceLayer`] extracts it from incoming
//!   gRPC metadata and opens the server span under it; [`ClientTraceLayer`] injects the current
//!   span's context into outgoing calls. One customer journey is one trace across services.
//! - Work on outbox events delivered later is linked to the trace that produced each event
//!   ([`link_to_trace`]): a delivery batch is a trace of its own, one link away from every
//!   journey whose events it carries.

mod json_logs;
mod propagation;
mod settings;
mod subscriber;

pub use propagation::{
    ClientTraceLayer, ClientTraceService, ServerTraceLayer, ServerTraceService, continue_trace,
    current_traceparent, grpc_service_and_method, grpc_status_code, install_propagator,
    link_to_trace, link_to_traces,
};
pub use settings::{LogFormat, TelemetrySettings};
pub use subscriber::{TelemetryError, TelemetryGuard, init};
