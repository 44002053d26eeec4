//! The writers' own pool (issue 23): a write that ended as it should gives its connection back
//! with no further round trip, and one that did not is cleaned before anyone writes on it again.

use std::time::Duration;

use rapport_storage::testing::{RoundTrips, TestDatabase};
use rapport_storage::{EmbeddedMigration, Migrations, Storage};

static MIGRATIONS: Migrations = Migrations(&[EmbeddedMigration {
    version: 1,
    description: "rows",
    sql: "CREATE TABLE rows (id BIGINT PRIMARY KEY)",
}]);

async fn migrated(mut database: TestDatabase) -> (Storage, TestDatabase) {
    // One writer on either backend: the next write must get the very connection the last left.
    database.settings.writer_connections = 1;
    let storage = database.open();
    storage.migrate(&MIGRATIONS).await.expect("migrate");
    (storage, database)
}

async fn rows(storage: &Storage) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM rows ORDER BY id")
        .fetch_all(storage.reader())
        .await
        .expect("read the rows")
}

async fn insert_committed(storage: &Storage, id: i64) {
    // Generous: a statement cut off still runs to its end before its connection is cleaned.
    let mut tx = tokio::time::timeout(Duration::from_secs(20), storage.begin_write())
        .await
        .expect("the writer came back within 20 s")
        .expect("begin");
    sqlx::query("INSERT INTO rows (id) VALUES ($1)")
        .bind(id)
        .execute(&mut *tx)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
}

/// One write transaction of one prepared statement is three round trips (BEGIN, the statement,
/// COMMIT), counted on the wire. sqlx's pool made it four: it pinged every connection it took
/// back (a `Sync`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_write_costs_its_statements_and_no_more_round_trips() {
    let Some(mut database) = TestDatabase::postgres().await else {
        return;
    };
    let counter = RoundTrips::in_front_of(&mut database).await;
    let (storage, _database) = migrated(database).await;

    // The writer's first write opens its connection and prepares the INSERT.
    insert_committed(&storage, 1).await;
    for id in [2, 3] {
        let before = counter.so_far();
        insert_committed(&storage, id).await;
        // Time for anything the pool would do after taking the connection back.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            counter.so_far() - before,
            3,
            "BEGIN, the INSERT (prepared already), COMMIT"
        );
    }
}

/// A transaction dropped without a commit (a handler that returned an error) is rolled back
/// before the one writer is leased again: nothing it wrote stays, and no lock of it holds up
/// the next write.
async fn a_write_dropped_inside_its_transaction_is_rolled_back_before_the_next(
    database: TestDatabase,
) {
    let (storage, _database) = migrated(database).await;
    let mut tx = storage.begin_write().await.expect("begin");
    sqlx::query("INSERT INTO rows (id) VALUES (1)")
        .execute(&mut *tx)
        .await
        .expect("insert");
    drop(tx);
    insert_committed(&storage, 1).await;
    insert_committed(&storage, 2).await;
    assert_eq!(rows(&storage).await, [1, 2]);
}

/// A caller cut off while its statement runs (a deadline, a client gone) leaves the statement's
/// answer unread on the connection: the writer is cleaned (rolled back, the answer drained)
/// and serves the next write.
async fn a_write_cut_off_mid_statement_leaves_a_writer_that_works(database: TestDatabase) {
    let (storage, _database) = migrated(database).await;
    let slow = match storage.backend() {
        rapport_storage::Backend::Postgres => "SELECT pg_sleep(0.3)",
        // A few hundred milliseconds of counting.
        rapport_storage::Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
             SELECT count(*) FROM n"
        }
    };
    let mut tx = storage.begin_write().await.expect("begin");
    sqlx::query("INSERT INTO rows (id) VALUES (7)")
        .execute(&mut *tx)
        .await
        .expect("insert");
    let cut_off = tokio::time::timeout(
        Duration::from_millis(20),
        sqlx::query(slow).execute(&mut *tx),
    )
    .await;
    assert!(cut_off.is_err(), "the statement was cut off");
    drop(tx);
    insert_committed(&storage, 8).await;
    assert_eq!(rows(&storage).await, [8]);
}

rapport_storage::backend_tests!(
    a_write_dropped_inside_its_transaction_is_rolled_back_before_the_next,
    a_write_cut_off_mid_statement_leaves_a_writer_that_works,
);
