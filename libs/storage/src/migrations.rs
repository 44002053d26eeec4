use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// One migration compiled into the binary, from a service's `migrations/` folder:
/// `EmbeddedMigration { version: 1, description: "outbox", sql: include_str!(...) }`.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// A service's migrations, in version order. The same portable SQL runs on both backends.
#[derive(Debug, Clone, Copy)]
pub struct Migrations(pub &'static [EmbeddedMigration]);

impl Migrations {
    pub(crate) fn migrator(&self) -> Migrator {
        let migrations = self
            .0
            .iter()
            .map(|m| {
                Migration::new(
                    m.version,
                    Cow::Borrowed(m.description),
                    MigrationType::Simple,
                    m.sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        let mut migrator = Migrator::with_migrations(migrations);
        // A rollback runs the previous release against a database that already has the newer
        // release's migrations; they are additive (deploy/RUNBOOK.md), so the older code runs.
        migrator.set_ignore_missing(true);
        migrator
    }

    /// The newest version; what a migrated database reports.
    pub fn latest_version(&self) -> Option<i64> {
        self.0.iter().map(|m| m.version).max()
    }
}
