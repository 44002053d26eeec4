//! The plans domain: money, schedules and rules, independent of gRPC and SQL.
//!
//! The generated *enums* (account kind, protection kind, ...) are plain value types and are
//! used here as they are; generated *messages* never leave `grpc/`.

pub mod account;
pub mod case;
pub mod events;
pub mod plan;
pub mod promise;
pub mod protection;

pub use rapport_wire::Actor;
// The pure options engine (affordability, rates, amortisation, schedules, allocation, options)
// is its own crate; its modules keep their `crate::domain::...` paths here.
pub use rapport_plans_options::{affordability, allocation, options, rate, schedule};
// The pure outreach engine (contact rules with their holiday calendars, delinquency stages,
// message templates and the tone check) is its own crate; its modules keep their
// `crate::domain::...` paths here.
pub use rapport_plans_outreach::{contact_rules, stages, templates};
// The pure standing engine (good standing and the recovery report's measures) is its own crate.
pub use rapport_plans_standing::{recovery, standing};
