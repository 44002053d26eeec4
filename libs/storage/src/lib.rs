//! Storage: one code path over SQLite (embedded default) and PostgreSQL (production).
//!
//! - sqlx's `Any` driver with portable SQL (`$1` placeholders, `ON CONFLICT`, `RETURNING`);
//!   ids TEXT (UUIDv7), money BIGINT minor units, instants BIGINT unix microseconds.
//! - SQLite: WAL, one writer connection plus a pool of readers, writes start with
//!   `BEGIN IMMEDIATE` so a write transaction never fails half-way on a lock upgrade.
//! - PostgreSQL: one pool; an optional schema per service (`search_path`), so the services can
//!   share one database in small deployments.
//! - Migrations are embedded in each service's binary and run at start ([`Migrations`]).

mod migrations;
mod settings;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use migrations::{EmbeddedMigration, Migrations};
pub use settings::{Backend, StorageSettings};
pub use store::{PoolUse, Storage, StorageError, WriteTransaction};

/// Re-exported so services name the same sqlx the kit uses.
pub use sqlx;
