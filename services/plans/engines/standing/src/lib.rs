//! Plans' standing engine: the rules that judge accounts rather than talk to customers or price
//! plans.
//!
//! - [`standing`]: good standing, defined once (DESIGN.md, "Good standing") and published by
//!   plans as `plans.standing_changed.v1`;
//! - [`recovery`]: the recovery report's measures (recovered against write-off, cure rate, plan
//!   survival, cohorts).
//!
//! Pure: no gRPC, storage or tokio; plans reads the inputs and stores the answers.

pub mod recovery;
pub mod standing;
