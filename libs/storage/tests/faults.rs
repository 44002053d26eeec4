//! Storage faults caused for real (issue 20): a full database, and what the storage's health
//! and its writer connection do about it.

use rapport_storage::health::Fault;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{
    EmbeddedMigration, Migrations, PROBE_MIGRATION_SQL, RefusalKind, StorageError,
};

static MIGRATIONS: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "blobs",
        sql: "CREATE TABLE blobs (id BIGINT PRIMARY KEY, body TEXT NOT NULL)",
    },
    EmbeddedMigration {
        version: 2,
        description: "storage_probe",
        sql: PROBE_MIGRATION_SQL,
    },
]);

async fn insert(
    storage: &rapport_storage::Storage,
    id: i64,
    bytes: usize,
) -> Result<(), StorageError> {
    let mut tx = storage.begin_write().await?;
    sqlx::query("INSERT INTO blobs (id, body) VALUES ($1, $2)")
        .bind(id)
        .bind("x".repeat(bytes))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// SQLite's `max_page_count` makes the database full for the one writer connection, as a full
/// disk does: writes fail as RESOURCE_EXHAUSTED, the storage's health says it is full, and
/// once there is room (here: a fresh writer connection has no such cap) writes resume with no
/// restart. Before issue 20 the writer connection stayed inside the failed transaction and
/// every later write failed with "begin_with at non-zero transaction depth".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_refuses_writes_then_resumes_without_a_restart() {
    let database = TestDatabase::sqlite();
    let storage = database.open();
    storage.migrate(&MIGRATIONS).await.expect("migrate");
    insert(&storage, 0, 100).await.expect("a first row");

    // Cap the one writer connection a few pages above what the file holds now.
    let mut tx = storage.begin_write().await.expect("begin");
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut *tx)
        .await
        .expect("page count");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA max_page_count = {}",
        pages + 4
    )))
    .execute(&mut *tx)
    .await
    .expect("cap the file");
    tx.commit().await.expect("commit");

    // As the server runs every call: in its storage's scope, so a statement's error reaches the
    // storage's health.
    let scope = rapport_storage::CallScope {
        health: storage.health().clone(),
        on_commit: None,
    };
    let refused = scope
        .run(async {
            for id in 1..200 {
                if let Err(error) = insert(&storage, id, 8_000).await {
                    return Some(error);
                }
            }
            None
        })
        .await;
    let refused = refused.expect("a capped database fills up");
    assert_eq!(refused.fault(), Fault::Exhausted, "{refused:?}");
    assert_eq!(
        storage.health().refusal().map(|refusal| refusal.kind),
        Some(RefusalKind::Full)
    );
    // Reads still work while writes are refused.
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blobs")
        .fetch_one(storage.reader())
        .await
        .expect("reads work");
    assert!(rows >= 1);

    // Room again: the connection that failed is not reused, so the next write gets a fresh
    // one, which has no cap.
    let mut resumed = Err(refused);
    for attempt in 0..20 {
        resumed = insert(&storage, 10_000 + attempt, 100).await;
        if resumed.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    resumed.expect("writes resume without a restart");
    assert_eq!(
        storage.health().refusal(),
        None,
        "a committed write ends the refusal"
    );
    storage.probe().await.expect("the probe writes too");
}

/// A transaction a caller drops after a failed statement gives back a clean connection, on both
/// backends: the next write transaction begins and commits.
async fn a_failed_statement_leaves_no_open_transaction_behind(database: TestDatabase) {
    let storage = database.open();
    storage.migrate(&MIGRATIONS).await.expect("migrate");
    for round in 0..3 {
        let mut tx = storage.begin_write().await.expect("begin");
        let failed = sqlx::query("INSERT INTO no_such_table (id) VALUES (1)")
            .execute(&mut *tx)
            .await;
        assert!(failed.is_err());
        drop(tx);
        insert(&storage, round, 10)
            .await
            .expect("the next write works");
    }
}

rapport_storage::backend_tests!(a_failed_statement_leaves_no_open_transaction_behind);
