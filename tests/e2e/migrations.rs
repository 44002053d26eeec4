//! Every service's migrations apply on both backends — each service in its own database (a file
//! on SQLite, a schema on PostgreSQL), as in production — and applying them again changes nothing.

use rapport_storage::testing::TestDatabase;
use rapport_storage::{Migrations, Storage, StorageSettings, backend_tests};

const SERVICES: [(&str, Migrations); 4] = [
    (rapport_profiles::NAME, rapport_profiles::MIGRATIONS),
    (rapport_plans::NAME, rapport_plans::MIGRATIONS),
    (rapport_referrals::NAME, rapport_referrals::MIGRATIONS),
    (rapport_loyalty::NAME, rapport_loyalty::MIGRATIONS),
];

/// The test database's settings, moved to a database of the service's own.
fn own_database(base: &StorageSettings, service: &str) -> StorageSettings {
    match &base.schema {
        Some(schema) => StorageSettings {
            schema: Some(format!("{schema}_{service}")),
            ..base.clone()
        },
        None => StorageSettings {
            url: base.url.replace("test.db", &format!("{service}.db")),
            ..base.clone()
        },
    }
}

async fn every_service_migrates_and_remigrates(database: TestDatabase) {
    for (service, migrations) in SERVICES {
        let storage = Storage::open(&own_database(&database.settings, service)).expect("opens");
        storage.migrate(&migrations).await.expect(service);
        storage.migrate(&migrations).await.expect(service);
        let (latest,): (i64,) = rapport_storage::sqlx::query_as(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(storage.reader())
        .await
        .expect("migration ledger");
        assert_eq!(Some(latest), migrations.latest_version(), "{service}");
        let (pending,): (i64,) = rapport_storage::sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at_micros IS NULL",
        )
        .fetch_one(storage.reader())
        .await
        .expect("outbox table exists");
        assert_eq!(pending, 0, "{service}");
        storage.close().await;
    }
}

backend_tests!(every_service_migrates_and_remigrates);
