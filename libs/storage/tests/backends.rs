//! The storage contract, on SQLite and (with RAPPORT_TEST_DATABASE_URL) PostgreSQL.

use std::sync::Arc;

use rapport_storage::testing::TestDatabase;
use rapport_storage::{EmbeddedMigration, Migrations, backend_tests};

static MIGRATIONS: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "counters",
        sql: "CREATE TABLE counters (id TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    },
    EmbeddedMigration {
        version: 2,
        description: "ledger",
        sql: "CREATE TABLE ledger (idempotency_key TEXT PRIMARY KEY, amount_minor BIGINT NOT NULL, at_micros BIGINT NOT NULL)",
    },
]);

async fn migrations_run_once_and_are_recorded(database: TestDatabase) {
    let storage = database.open();
    storage.migrate(&MIGRATIONS).await.expect("first run");
    storage
        .migrate(&MIGRATIONS)
        .await
        .expect("second run is a no-op");
    let (latest,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(storage.reader())
        .await
        .expect("migration table");
    assert_eq!(Some(latest), MIGRATIONS.latest_version());
}

/// A rollback: the previous release starts on a database the newer one has already migrated.
async fn an_older_release_starts_on_a_newer_schema(database: TestDatabase) {
    let storage = database.open();
    storage
        .migrate(&MIGRATIONS)
        .await
        .expect("the newer release");
    static OLDER: Migrations = Migrations(&[MIGRATIONS.0[0]]);
    storage
        .migrate(&OLDER)
        .await
        .expect("the older release ignores the migration it does not know");
    storage
        .migrate(&MIGRATIONS)
        .await
        .expect("and the newer one again");
}

async fn committed_writes_are_read_and_dropped_ones_roll_back(database: TestDatabase) {
    let storage = database.open();
    storage.migrate(&MIGRATIONS).await.expect("migrate");

    let mut tx = storage.begin_write().await.expect("begin");
    sqlx::query(
        "INSERT INTO ledger (idempotency_key, amount_minor, at_micros) VALUES ($1, $2, $3)",
    )
    .bind("pay-1")
    .bind(i64::MAX)
    .bind(1_700_000_000_000_000_i64)
    .execute(&mut *tx)
    .await
    .expect("insert");
    tx.commit().await.expect("commit");

    {
        let mut tx = storage.begin_write().await.expect("begin");
        sqlx::query(
            "INSERT INTO ledger (idempotency_key, amount_minor, at_micros) VALUES ($1, $2, $3)",
        )
        .bind("pay-2")
        .bind(5_i64)
        .bind(0_i64)
        .execute(&mut *tx)
        .await
        .expect("insert");
        // dropped without commit
    }

    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT idempotency_key, amount_minor FROM ledger ORDER BY idempotency_key")
            .fetch_all(storage.reader())
            .await
            .expect("select");
    assert_eq!(
        rows,
        vec![("pay-1".to_owned(), i64::MAX)],
        "BIGINT keeps i64::MAX exactly"
    );
}

async fn a_duplicate_key_is_reported_as_a_unique_violation(database: TestDatabase) {
    let storage = database.open();
    storage.migrate(&MIGRATIONS).await.expect("migrate");
    for attempt in 0..2 {
        let mut tx = storage.begin_write().await.expect("begin");
        let result = sqlx::query(
            "INSERT INTO ledger (idempotency_key, amount_minor, at_micros) VALUES ($1, $2, $3)",
        )
        .bind("same-key")
        .bind(100_i64)
        .bind(0_i64)
        .execute(&mut *tx)
        .await;
        match attempt {
            0 => {
                result.expect("first insert");
                tx.commit().await.expect("commit");
            }
            _ => {
                let error = rapport_storage::StorageError::from(result.expect_err("duplicate"));
                assert!(error.is_unique_violation(), "{error:?}");
            }
        }
    }
}

async fn concurrent_writers_never_lose_an_update(database: TestDatabase) {
    let storage = Arc::new(database.open());
    storage.migrate(&MIGRATIONS).await.expect("migrate");
    sqlx::query("INSERT INTO counters (id, value) VALUES ('c', 0)")
        .execute(storage.reader())
        .await
        .expect("seed");

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let storage = Arc::clone(&storage);
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                // Read-modify-write: only correct if write transactions are serialised.
                let mut tx = storage.begin_write().await.expect("begin");
                let (value,): (i64,) = sqlx::query_as(select_for_update(&storage))
                    .fetch_one(&mut *tx)
                    .await
                    .expect("read");
                sqlx::query("UPDATE counters SET value = $1 WHERE id = 'c'")
                    .bind(value + 1)
                    .execute(&mut *tx)
                    .await
                    .expect("update");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let (value,): (i64,) = sqlx::query_as("SELECT value FROM counters WHERE id = 'c'")
        .fetch_one(storage.reader())
        .await
        .expect("read");
    assert_eq!(value, 100);
}

/// SQLite serialises writers with `BEGIN IMMEDIATE`; PostgreSQL needs the row lock.
fn select_for_update(storage: &rapport_storage::Storage) -> &'static str {
    match storage.backend() {
        rapport_storage::Backend::Sqlite => "SELECT value FROM counters WHERE id = 'c'",
        rapport_storage::Backend::Postgres => {
            "SELECT value FROM counters WHERE id = 'c' FOR UPDATE"
        }
    }
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable() {
    let storage = rapport_storage::Storage::open(&rapport_storage::StorageSettings {
        url: "postgres://postgres@127.0.0.1:1/nowhere".to_owned(),
        acquire_timeout_ms: 300,
        ..rapport_storage::StorageSettings::default()
    })
    .expect("opening is lazy");
    let error = storage.ping().await.expect_err("nothing listens on port 1");
    assert!(error.is_unavailable(), "{error:?}");
}

backend_tests!(
    migrations_run_once_and_are_recorded,
    an_older_release_starts_on_a_newer_schema,
    committed_writes_are_read_and_dropped_ones_roll_back,
    a_duplicate_key_is_reported_as_a_unique_violation,
    concurrent_writers_never_lose_an_update,
);

/// The bundled SQLite is built as `.cargo/config.toml` says: without memory statistics, so its
/// allocations take no process-wide lock (issue 23).
#[tokio::test]
async fn the_bundled_sqlite_keeps_no_memory_statistics() {
    let database = TestDatabase::sqlite();
    let storage = database.open();
    let options: Vec<(String,)> = sqlx::query_as("PRAGMA compile_options")
        .fetch_all(storage.reader())
        .await
        .expect("compile options");
    let options: Vec<String> = options.into_iter().map(|(option,)| option).collect();
    assert!(
        options.iter().any(|option| option == "DEFAULT_MEMSTATUS=0"),
        "{options:?}"
    );
}
