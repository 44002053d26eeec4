//! What several test modules share beyond the `rapport_e2e` harness.

pub mod profiles_events;
pub mod telemetry;
