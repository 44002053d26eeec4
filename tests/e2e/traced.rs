//! The end-to-end tests that read telemetry, one binary: a process has one global tracing
//! subscriber, installed by `support::telemetry` on first use and shared by these modules
//! (the desk's trace test has a process of its own: `desk_traced.rs`).

#![allow(clippy::unwrap_used)]

mod journeys;
mod pii;
mod support;
mod trace_links;
