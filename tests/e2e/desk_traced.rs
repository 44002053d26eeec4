//! The desk's trace test in a process of its own: it records the demo's seeding and an overview
//! at every level through the one global subscriber, and recording that much slowed the
//! journeys' exports in `traced` past their wait when both ran in one process (CI, with
//! PostgreSQL). Same subscriber (`support::telemetry`), its own process.

#![allow(clippy::unwrap_used)]

mod desk_trace;
#[allow(dead_code)] // profiles_events is for the journeys
mod support;
