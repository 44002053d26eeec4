//! The profiles domain: customers and what we know of them, independent of gRPC and SQL.
//!
//! The generated *enums* (channel, sentiment, consent purpose, ...) are plain value types and
//! are used here as they are; generated *messages* never leave `grpc/`.

pub mod commitment;
pub mod consent;
pub mod contact;
pub mod customer;
pub mod events;
pub mod interaction;
pub mod merge;
pub mod names;
pub mod preferences;
pub mod tenure;
pub mod vulnerability;

pub use rapport_wire::Actor;
