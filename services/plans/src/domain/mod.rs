//! The plans domain: money, schedules and rules, independent of gRPC and SQL.
//!
//! The generated *enums* (account kind, protection kind, ...) are plain value types and are
//! used here as they are; generated *messages* never leave `grpc/`.

pub mod account;

use rapport_proto::common::v1::ActorKind;

/// Who did something: an agent, the customer, a debt adviser, a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
}
