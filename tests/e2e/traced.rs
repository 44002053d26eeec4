//! The end-to-end tests that read telemetry, one binary: a process has one global tracing
//! subscriber, installed by `support::telemetry` on first use and shared by these modules.

#![allow(clippy::unwrap_used)]

mod desk_trace;
mod journeys;
mod pii;
mod support;
mod trace_links;
