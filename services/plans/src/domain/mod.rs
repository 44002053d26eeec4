//! The plans domain: money, schedules and rules, independent of gRPC and SQL.
//!
//! The generated *enums* (account kind, protection kind, ...) are plain value types and are
//! used here as they are; generated *messages* never leave `grpc/`.

pub mod account;
pub mod affordability;
pub mod allocation;
pub mod amortisation;
pub mod calendar;
pub mod case;
pub mod contact_rules;
pub mod events;
pub mod options;
pub mod plan;
pub mod promise;
pub mod protection;
pub mod rate;
pub mod recovery;
pub mod schedule;
pub mod standing;
pub mod templates;

pub use rapport_wire::Actor;
