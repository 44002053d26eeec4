//! Server bootstrap, shared by every service and by `rapport dev` (STYLE.md 2).
//!
//! [`Application::build`] binds the listener (port 0 works in tests) and
//! [`Application::run_until_stopped`] serves until a shutdown signal:
//! - `grpc.health.v1.Health`: each service is `NOT_SERVING` until its storage is reachable and
//!   migrated; calls to a service that is not ready yet get `UNAVAILABLE`;
//! - reflection v1, listing exactly the services this process serves;
//! - W3C trace-context extraction for every call ([`rapport_telemetry::ServerTraceLayer`]);
//! - a per-call deadline and per-service message size limits ([`ServerSettings`]);
//! - TLS and mutual TLS (rustls), and the guard: bearer tokens, per-caller rate limits, the
//!   permission table, and the audit trail of changes and sensitive reads (`guard`), with
//!   `rapport.audit.v1.AuditService` to read it;
//! - an admin port (`admin_listen`): Prometheus `/metrics` (`metrics`), `/livez`, `/readyz`,
//!   and gRPC health in plaintext for Kubernetes' native probes (`admin`);
//! - storage health (`storage_watch`): a unit whose storage refuses writes (full, read-only,
//!   damaged) reports `NOT_SERVING` and `/readyz` 503 with the reason until a probe write
//!   succeeds; a damaged one is not served at all; audited changes commit their entry's pending
//!   half with them, and a sweep writes the entries of calls that never finished here;
//! - graceful shutdown: stop accepting, let in-flight calls finish (within a grace period), then
//!   close storage.

mod admin;
mod application;
mod business_clock;
mod deadline;
mod grpc;
mod guard;
mod metrics;
mod readiness;
mod settings;
mod shutdown;
mod storage_watch;
#[cfg(feature = "testing")]
pub mod testing;
mod unit;

pub use application::{Application, ServerError};
pub use business_clock::parse_duration;
pub use metrics::Sample;
pub use settings::{BusinessClockSettings, InsecureSettings, ServerSettings, TlsSettings};
pub use shutdown::shutdown_signal;
pub use unit::{ServiceUnit, Stopping};

/// The error type of the futures a unit waits on.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
