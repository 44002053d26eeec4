//! Storage: one code path over SQLite (embedded default) and PostgreSQL (production).
//!
//! - sqlx's `Any` driver with portable SQL (`$1` placeholders, `ON CONFLICT`, `RETURNING`);
//!   ids TEXT (UUIDv7), money BIGINT minor units, instants BIGINT unix microseconds.
//! - SQLite: WAL, one writer connection plus a pool of readers, writes start with
//!   `BEGIN IMMEDIATE` so a write transaction never fails half-way on a lock upgrade.
//! - PostgreSQL: a pool of writers and one of readers; an optional schema per service
//!   (`search_path`), so the services can share one database in small deployments.
//! - The writers are the storage's own pool (`writers.rs`), not sqlx's: a write that ended as
//!   it should gives its connection back with no further round trip.
//! - Migrations are embedded in each service's binary and run at start ([`Migrations`]).
//! - [`ReadCache`]: hot entities read through a small cache that every commit makes stale,
//!   on SQLite only (one process owns the file; PostgreSQL is shared by replicas).

pub mod batch;
pub mod health;
mod integrity;
mod migrations;
mod read_cache;
mod service_error;
mod settings;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod writers;

pub use health::{CallScope, Refusal, RefusalKind, StorageHealth};
pub use integrity::{
    CheckNotFinished, DamagedDatabase, IntegrityReport, check_before_serving, integrity_check,
};
pub use migrations::{EmbeddedMigration, Migrations};
pub use read_cache::ReadCache;
pub use service_error::ServiceError;
pub use settings::{Backend, PostgresTls, PostgresTlsMode, StorageSettings};
pub use store::{PoolUse, Storage, StorageError, WriteTransaction};

/// The table [`Storage::probe`] writes to, in every service's migrations.
pub const PROBE_MIGRATION_SQL: &str = "CREATE TABLE IF NOT EXISTS storage_probe (\n    id BIGINT PRIMARY KEY,\n    written_at_micros BIGINT NOT NULL\n);\n";

/// The page cache of every pooled SQLite connection, 128 KiB (see `store.rs` for why); a batch
/// that widens it on its own connections sets this back when done.
pub const SQLITE_POOL_CACHE_PRAGMA: &str = "PRAGMA cache_size = -128";

/// Re-exported so services name the same sqlx the kit uses.
pub use sqlx;
