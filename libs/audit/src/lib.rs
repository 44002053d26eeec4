//! The audit trail (DESIGN.md, Operations: security): every change and every read of sensitive
//! data, with actor, role, RPC, target ids, outcome, trace id and time, kept by each service in
//! its own database.
//!
//! - [`chain`]: how an entry is hashed and how a trail is verified;
//! - [`AuditLog`]: appending to and reading one service's trail;
//! - [`targets`]: the record ids a call names, read from its encoded request and response;
//! - [`AuditTrails`]: the `rapport.audit.v1.AuditService` over the trails a process holds.
//!
//! The server's guard layer (`rapport-server`) decides what is audited, from the permission
//! table in `rapport-security`, and writes the entries.

pub mod chain;
mod grpc;
mod store;
pub mod targets;

pub use chain::{Entry, NewEntry, Verification};
pub use grpc::AuditTrails;
pub use store::{AuditError, AuditLog, Filter, PendingCall};

/// The migration that creates `audit_log`; each service lists it among its own migrations.
pub const MIGRATION_SQL: &str = include_str!("../migrations/audit_log.sql");

/// The migration that creates `audit_pending` (an entry's half that commits with the change);
/// each service lists it after [`MIGRATION_SQL`].
pub const PENDING_MIGRATION_SQL: &str = include_str!("../migrations/audit_pending.sql");

/// The outcome of an entry whose change committed but whose call never reported how it ended
/// (the client hung up, the deadline passed, or the process stopped).
pub const COMMITTED_NO_ANSWER: &str = "COMMITTED_NO_ANSWER";
