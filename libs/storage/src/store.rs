use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Connection};

use crate::health::{self, StorageHealth};
use crate::migrations::Migrations;
use crate::read_cache::WriteGeneration;
use crate::settings::{Backend, StorageSettings, is_plain_identifier};
use crate::writers::{Lease, Writers};
pub use rapport_errors::Fault;

/// A write transaction: use it as a connection (`&mut *tx`), then [`WriteTransaction::commit`]
/// it, or drop it to roll back. Its commit also writes what the call it runs in must commit with
/// it (the audit entry's pending half), and tells the storage's health that writes work.
pub struct WriteTransaction {
    lease: Lease,
    health: StorageHealth,
    generation: WriteGeneration,
    /// The call's commit row was written by a statement of the caller's
    /// ([`WriteTransaction::take_commit_row`]).
    commit_row_taken: bool,
}

impl std::fmt::Debug for WriteTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTransaction").finish_non_exhaustive()
    }
}

impl Deref for WriteTransaction {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.lease
    }
}

impl DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.lease
    }
}

impl WriteTransaction {
    /// Commits, with the call's commit hook (if any) written first in the same transaction.
    pub async fn commit(self) -> Result<(), StorageError> {
        self.finish(Cached::Stale).await
    }

    /// Commits a transaction that wrote only the audit trail (appends to it, and the pending
    /// halves they settle), which no [`crate::ReadCache`] holds: cached reads stay valid. A
    /// failed COMMIT makes them stale, as [`WriteTransaction::commit`] does.
    pub async fn commit_keeping_reads(self) -> Result<(), StorageError> {
        self.finish(Cached::Kept).await
    }

    /// The row the call must commit with its change (the audit entry's pending half), for a
    /// caller that writes it within a statement of its own, before the commit: the commit then
    /// does not write it. `None` outside an audited call on this storage.
    pub fn take_commit_row(&mut self) -> Option<health::CommitRow> {
        let row = health::commit_row_for(&self.health)?;
        self.commit_row_taken = true;
        Some(row)
    }

    async fn finish(mut self, cached: Cached) -> Result<(), StorageError> {
        let outcome = async {
            if !self.commit_row_taken
                && let Some(row) = health::commit_row_for(&self.health)
            {
                row.write(&mut self.lease).await?;
            }
            if cached == Cached::Kept {
                self.generation.expect_own_commit();
            }
            self.lease.commit().await
        }
        .await
        .map_err(StorageError::from);
        match cached {
            // A failed COMMIT may still have committed (an I/O error after the WAL write):
            // either way no read cached before it may be served after it.
            Cached::Stale => self.generation.bump(),
            Cached::Kept => self.generation.own_commit_done(outcome.is_ok()),
        }
        match outcome {
            Ok(()) => {
                self.health.write_succeeded();
                Ok(())
            }
            Err(error) => {
                self.health.observe(&error);
                Err(error)
            }
        }
    }

    /// Rolls back now, and the connection goes straight back to the writers (a dropped
    /// transaction is rolled back by a task of its own before its connection is used again).
    pub async fn rollback(mut self) -> Result<(), StorageError> {
        Ok(self.lease.rollback().await?)
    }
}

/// What a commit does to the reads cached before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cached {
    Stale,
    Kept,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage url must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("schema {0:?} is not a plain lowercase identifier")]
    InvalidSchema(String),
    #[error("{0}")]
    InvalidTls(String),
    #[error("could not create the data directory {path}")]
    DataDirectory {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be reached, has no free connection, or is busy (a lock held past the
    /// busy timeout, a serialization conflict); the caller may retry.
    #[error("the database is unavailable or busy")]
    Unavailable(#[source] sqlx::Error),
    /// The disk or the database is full; nothing was written.
    #[error("the database is full")]
    Full(#[source] sqlx::Error),
    /// The database file or an index is damaged.
    #[error("the database is damaged")]
    Damaged(#[source] sqlx::Error),
    #[error("migrating the database failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl StorageError {
    /// Whether retrying later may succeed (gRPC `UNAVAILABLE`).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// What this failure means for the caller (DESIGN.md: codes by cause).
    pub fn fault(&self) -> Fault {
        match self {
            Self::Unavailable(_) => Fault::Unavailable,
            Self::Full(_) => Fault::Exhausted,
            Self::Damaged(_) => Fault::Damaged,
            Self::UnsupportedUrl
            | Self::InvalidSchema(_)
            | Self::InvalidTls(_)
            | Self::DataDirectory { .. }
            | Self::Migration(_)
            | Self::Database(_) => Fault::Bug,
        }
    }

    /// Whether a unique constraint refused the write (e.g. a duplicate idempotency key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether a NOT NULL constraint refused the write (a value a statement computed was
    /// missing, e.g. a row a guarded insert requires was not there).
    pub fn is_not_null_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e))
            if e.kind() == sqlx::error::ErrorKind::NotNullViolation)
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        let error = classify(error);
        health::observe_in_scope(&error);
        error
    }
}

fn classify(error: sqlx::Error) -> StorageError {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StorageError::Unavailable(error),
        sqlx::Error::Database(ref database) => match database.code().as_deref().map(cause) {
            Some(Some(Fault::Unavailable)) => StorageError::Unavailable(error),
            Some(Some(Fault::Exhausted)) => StorageError::Full(error),
            Some(Some(Fault::Damaged)) => StorageError::Damaged(error),
            _ => StorageError::Database(error),
        },
        other => StorageError::Database(other),
    }
}

/// The cause behind a database's error code, when it is not a bug or the statement's own fault:
/// SQLite's extended result codes (the primary code is the low byte) and PostgreSQL's SQLSTATEs.
fn cause(code: &str) -> Option<Fault> {
    // A SQLSTATE is always five characters (and may be all digits, e.g. 53100); SQLite's
    // extended codes have at most four digits.
    if code.len() < 5
        && let Ok(extended) = code.parse::<i32>()
    {
        // https://www.sqlite.org/rescode.html
        return match extended & 0xff {
            // SQLITE_BUSY, SQLITE_LOCKED: another connection holds the lock past the busy
            // timeout. SQLITE_READONLY: the file system or file is read-only (the storage's
            // health says so too). SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL: the file
            // system failed.
            5 | 6 | 8 | 10 | 14 | 15 => Some(Fault::Unavailable),
            // SQLITE_NOMEM, SQLITE_FULL.
            7 | 13 => Some(Fault::Exhausted),
            // SQLITE_CORRUPT, SQLITE_NOTADB.
            11 | 26 => Some(Fault::Damaged),
            _ => None,
        };
    }
    // https://www.postgresql.org/docs/current/errcodes-appendix.html
    match code {
        // serialization_failure, deadlock_detected, lock_not_available, query_canceled
        // (statement timeout), read_only_sql_transaction (a replica or a failover).
        "40001" | "40P01" | "55P03" | "57014" | "25006" => Some(Fault::Unavailable),
        // admin_shutdown, crash_shutdown, cannot_connect_now, and class 08: the connection.
        "57P01" | "57P02" | "57P03" => Some(Fault::Unavailable),
        _ if code.starts_with("08") => Some(Fault::Unavailable),
        // disk_full, out_of_memory, too_many_connections, configuration_limit_exceeded.
        "53100" | "53200" | "53300" | "53400" => Some(Fault::Exhausted),
        // data_corrupted, index_corrupted.
        "XX001" | "XX002" => Some(Fault::Damaged),
        _ => None,
    }
}

/// One connection pool's use at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `writer` or `readers`.
    pub role: &'static str,
    /// Connections open, idle or in use.
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// A service's database: its writers (one on SQLite) and its readers.
#[derive(Debug, Clone)]
pub struct Storage {
    backend: Backend,
    schema: Option<String>,
    writers: Writers,
    reader: AnyPool,
    /// The database file, on SQLite.
    sqlite_path: Option<PathBuf>,
    /// How long the start-up `quick_check` of a SQLite file may take.
    integrity_check_timeout: Duration,
    health: StorageHealth,
    /// Bumped by every commit through this storage and its clones ([`crate::ReadCache`]).
    write_generation: WriteGeneration,
}

impl Storage {
    /// Prepares the pools without connecting: the server can start and report `NOT_SERVING`
    /// while the database is still unreachable ([`Storage::wait_until_ready`]).
    pub fn open(settings: &StorageSettings) -> Result<Self, StorageError> {
        install_default_drivers();
        let backend = Backend::of_url(&settings.url).ok_or(StorageError::UnsupportedUrl)?;
        let acquire_timeout = Duration::from_millis(settings.acquire_timeout_ms);
        match backend {
            Backend::Sqlite => {
                if settings.tls.is_some() {
                    return Err(StorageError::InvalidTls(
                        "storage.tls applies to PostgreSQL only".to_owned(),
                    ));
                }
                let (url, path) = sqlite_url(&settings.url)?;
                // One writer: SQLite allows one at a time anyway, and queuing in the pool is
                // fairer than spinning on SQLITE_BUSY.
                let writers = Writers::new(
                    url.clone(),
                    1,
                    acquire_timeout,
                    None,
                    Arc::new(|connection| Box::pin(prepare_sqlite(connection))),
                );
                let reader = sqlite_pool(settings.max_connections.max(1), acquire_timeout)
                    .connect_lazy(&url)?;
                let write_generation = WriteGeneration::new(Some(&path));
                Ok(Self {
                    backend,
                    schema: None,
                    writers,
                    reader,
                    sqlite_path: Some(path),
                    integrity_check_timeout: Duration::from_millis(
                        settings.integrity_check_timeout_ms,
                    ),
                    health: StorageHealth::default(),
                    write_generation,
                })
            }
            Backend::Postgres => {
                if let Some(schema) = &settings.schema
                    && !is_plain_identifier(schema)
                {
                    return Err(StorageError::InvalidSchema(schema.clone()));
                }
                let url = settings.postgres_url().map_err(StorageError::InvalidTls)?;
                let reader = postgres_pool(
                    settings.max_connections.max(1),
                    acquire_timeout,
                    settings.schema.clone(),
                )
                .connect_lazy(&url)?;
                let schema = settings.schema.clone();
                let writers = Writers::new(
                    url,
                    settings.writer_connections,
                    acquire_timeout,
                    Some(PING_AFTER_IDLE),
                    Arc::new(move |connection| {
                        Box::pin(prepare_postgres(connection, schema.clone()))
                    }),
                );
                Ok(Self {
                    backend,
                    schema: settings.schema.clone(),
                    writers,
                    reader,
                    sqlite_path: None,
                    integrity_check_timeout: Duration::ZERO,
                    health: StorageHealth::default(),
                    write_generation: WriteGeneration::default(),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database file, on SQLite; `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }

    /// Whether this storage accepts writes, as its errors have shown.
    pub fn health(&self) -> &StorageHealth {
        &self.health
    }

    /// Proves the storage accepts writes again after a refusal: on a damaged SQLite file a
    /// `quick_check` must pass first; then a real write (a row in `storage_probe`) must commit.
    /// On success the refusal ends.
    pub async fn probe(&self) -> Result<(), StorageError> {
        let damaged = self
            .health
            .refusal()
            .is_some_and(|refusal| refusal.kind.stops_service());
        if damaged && self.backend == Backend::Sqlite {
            let mut lease = self.writers.lease().await?;
            let rows: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
                .fetch_all(lease.outside_transaction())
                .await?;
            lease.answered();
            if rows != ["ok"] {
                return Err(StorageError::Damaged(sqlx::Error::Protocol(format!(
                    "quick_check: {}",
                    rows.join("; ")
                ))));
            }
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO storage_probe (id, written_at_micros) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET written_at_micros = excluded.written_at_micros",
        )
        .bind(unix_micros_now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.health.clear();
        Ok(())
    }

    /// How busy each pool is, for metrics: the writers' (`writer`, one connection on SQLite)
    /// and the readers'.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let (open, idle, max) = self.writers.usage();
        vec![
            PoolUse {
                role: "writer",
                open,
                idle,
                max,
            },
            PoolUse {
                role: "readers",
                open: self.reader.size(),
                idle: u32::try_from(self.reader.num_idle()).unwrap_or(u32::MAX),
                max: self.reader.options().get_max_connections(),
            },
        ]
    }

    /// Counts this storage's commits, for [`crate::ReadCache`].
    pub(crate) fn write_generation(&self) -> &WriteGeneration {
        &self.write_generation
    }

    /// The pool for reads (outside a write transaction).
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken
    /// up front, so the transaction cannot fail later on a lock upgrade. No span of its own: a
    /// poll that finds nothing makes no trace (the caller's span covers it).
    pub async fn begin_write(&self) -> Result<WriteTransaction, StorageError> {
        Ok(self.begin(None).await?.0)
    }

    /// Starts a write transaction with its first statement, and returns that statement's
    /// first row: on PostgreSQL in the same round trip as the `BEGIN` (its simple protocol
    /// carries both; issue 23: alone, the BEGIN was a round trip after which the database
    /// waited idle inside the transaction). `first` therefore takes no parameters: the values
    /// in it are literals its caller made of values it parsed itself (an id), never text a
    /// client sent. On SQLite, where a statement costs no round trip, `BEGIN IMMEDIATE` and
    /// then `first`.
    pub async fn begin_write_with(
        &self,
        first: AssertSqlSafe<String>,
    ) -> Result<(WriteTransaction, Option<AnyRow>), StorageError> {
        self.begin(Some(first)).await
    }

    async fn begin(
        &self,
        first: Option<AssertSqlSafe<String>>,
    ) -> Result<(WriteTransaction, Option<AnyRow>), StorageError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        let begun = async {
            let mut lease = self.writers.lease().await?;
            let row = match first {
                None => {
                    lease.begin(begin).await?;
                    None
                }
                Some(first) => lease.begin_with(begin, first, self.backend).await?,
            };
            Ok::<_, sqlx::Error>((lease, row))
        }
        .await;
        match begun {
            Ok((lease, row)) => Ok((
                WriteTransaction {
                    lease,
                    health: self.health.clone(),
                    generation: self.write_generation.clone(),
                    commit_row_taken: false,
                },
                row,
            )),
            Err(error) => {
                let error = StorageError::from(error);
                self.health.observe(&error);
                Err(error)
            }
        }
    }

    /// Runs one write statement committed on its own, without BEGIN and COMMIT: a single
    /// statement is atomic, and on PostgreSQL this is one round trip instead of three (issue
    /// 23). The health sees it as a [`WriteTransaction`]'s commit, and reads cached before it
    /// are stale after it. Returns the rows it affected.
    pub async fn write_alone(
        &self,
        query: sqlx::query::Query<'_, Any, sqlx::any::AnyArguments>,
    ) -> Result<u64, StorageError> {
        let outcome = async {
            let mut lease = self.writers.lease().await?;
            let done = query.execute(lease.outside_transaction()).await?;
            lease.answered();
            Ok::<_, sqlx::Error>(done)
        }
        .await
        .map_err(StorageError::from);
        self.write_generation.bump();
        match outcome {
            Ok(done) => {
                self.health.write_succeeded();
                Ok(done.rows_affected())
            }
            Err(error) => {
                self.health.observe(&error);
                Err(error)
            }
        }
    }

    /// Runs the migrations not yet applied. Safe to call on every start.
    #[tracing::instrument(skip_all, fields(backend = %self.backend))]
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), StorageError> {
        // A pool of one connection of its own: sqlx's migrator takes a pool (on a connection
        // borrowed inside a future the compiler cannot prove it `Send`), and it runs before
        // the writers are needed.
        let timeout = self.writers.acquire_timeout();
        let pool = match self.backend {
            Backend::Sqlite => sqlite_pool(1, timeout),
            Backend::Postgres => postgres_pool(1, timeout, self.schema.clone()),
        }
        .connect_lazy(self.writers.url())?;
        if let Some(schema) = &self.schema {
            // Checked by `open` to be a plain identifier; DDL takes no bind parameters.
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}"
            )))
            .execute(&pool)
            .await?;
        }
        let migrated = migrations.migrator().run(&pool).await;
        pool.close().await;
        // A migration may rewrite rows (a backfill); it commits outside `begin_write`.
        self.write_generation.bump();
        migrated?;
        Ok(())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Retries [`Storage::migrate`] with capped exponential backoff until it succeeds: a service
    /// whose database is down at start keeps serving health (`NOT_SERVING`) and becomes ready
    /// when the database comes back.
    pub async fn wait_until_ready(&self, migrations: &Migrations) -> Result<(), StorageError> {
        // A damaged file is named before the pools meet it (they would only time out).
        if let Some(path) = self.sqlite_path() {
            crate::integrity::check_before_serving(path, self.integrity_check_timeout).await?;
        }
        let mut delay = Duration::from_millis(100);
        loop {
            match self.migrate(migrations).await {
                Ok(()) => return Ok(()),
                Err(error) if error.is_unavailable() => {
                    tracing::warn!(backend = %self.backend, error = %error, retry_in_ms = delay.as_millis() as u64, "storage not reachable yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                // A broken migration or a refused login does not heal by waiting.
                Err(error) => return Err(error),
            }
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.writers.close().await;
        self.reader.close().await;
    }
}

fn unix_micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
        })
}

/// A connection goes back to its pool only outside any transaction. A failed statement or
/// commit can leave one open: SQLite rolls a transaction back by itself on SQLITE_FULL or an I/O
/// error, and then sqlx's own ROLLBACK fails and its count of open transactions stays at one, so
/// every later `BEGIN` would fail ("non-zero transaction depth") until a restart (issue 20). Such
/// a connection is closed and the pool opens a fresh one.
async fn outside_any_transaction(connection: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    if !connection.is_in_transaction() {
        return Ok(true);
    }
    // A dropped transaction's ROLLBACK is queued: let it run, then look again.
    connection.ping().await?;
    let clean = !connection.is_in_transaction();
    if !clean {
        tracing::warn!("closing a connection left inside a failed transaction");
    }
    Ok(clean)
}

fn sqlite_pool(max_connections: u32, acquire_timeout: Duration) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        // No ping before each acquire: a connection to a file in this process cannot hang up
        // as a network one can, and each ping was a round trip to the connection's worker
        // thread on every read and write (issue 23's profile: a third of the CPU in thread
        // switches). A file gone bad fails the statement itself, which the health observes.
        .test_before_acquire(false)
        .after_release(|connection, _| Box::pin(outside_any_transaction(connection)))
        .after_connect(|connection, _| Box::pin(prepare_sqlite(connection)))
}

/// What every SQLite connection of the storage runs first, the writer's and the readers'.
async fn prepare_sqlite(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    // WAL: readers never block the writer nor the writer them.
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut *connection)
        .await?;
    // Wait for a lock held by another process (e.g. `rapport migrate`) instead of failing.
    sqlx::query("PRAGMA busy_timeout = 5000")
        .execute(&mut *connection)
        .await?;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *connection)
        .await?;
    // Durable at every checkpoint; in WAL mode NORMAL loses no committed transaction
    // on an application crash.
    sqlx::query("PRAGMA synchronous = NORMAL")
        .execute(&mut *connection)
        .await?;
    // A small page cache (SQLite's default is 2 MiB per connection): `rapport dev`
    // holds four databases of up to nine connections each, and their caches filling
    // up were most of its memory growth under mixed load: 90 s of `rapport-bench rss`
    // ended at 95 MiB with the default, 80 with 512 KiB, 57 with 128 KiB, at the
    // same calls/s (issue 23). A page not cached is a pread from the OS's cache.
    // mmap_size was no faster, and counts the mapped file in RSS once per connection.
    sqlx::query(crate::SQLITE_POOL_CACHE_PRAGMA)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// See `postgres_pool`: a pooled PostgreSQL connection idle this long is pinged before use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

fn postgres_pool(
    max_connections: u32,
    acquire_timeout: Duration,
    schema: Option<String>,
) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        // sqlx pings every connection as it goes back to the pool and closes one that fails
        // (sqlx-core's `Floating::return_to_pool`), so a connection idle for less than
        // `PING_AFTER_IDLE` answered a ping that recently: only those idle longer are pinged
        // again before use. Under load that is one round trip less per checkout (issue 23); a
        // database that went away within the window fails the checkout's first statement, which
        // callers see as UNAVAILABLE, as during any outage, and that connection is then closed.
        .test_before_acquire(false)
        .before_acquire(|connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= PING_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .after_release(|connection, _| Box::pin(outside_any_transaction(connection)))
        .after_connect(move |connection, _| Box::pin(prepare_postgres(connection, schema.clone())))
}

/// What every PostgreSQL connection of the storage runs first, the writers' and the readers'.
async fn prepare_postgres(
    connection: &mut AnyConnection,
    schema: Option<String>,
) -> Result<(), sqlx::Error> {
    if let Some(schema) = schema {
        // Checked to be a plain identifier by `Storage::open`.
        sqlx::query(AssertSqlSafe(format!("SET search_path TO {schema}")))
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// Adds `mode=rwc` (create the file if missing) and creates the file's directory; the URL and
/// the file's path.
fn sqlite_url(url: &str) -> Result<(String, PathBuf), StorageError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.contains(":memory:") {
        // Each pooled connection would get its own empty in-memory database.
        return Err(StorageError::UnsupportedUrl);
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| StorageError::DataDirectory {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok((format!("sqlite://{path}?{query}"), PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file_and_reject_memory() {
        let dir = std::env::temp_dir().join(format!("rapport-url-{}", rapport_ids::Id::new()));
        let url = format!("sqlite://{}/nested/x.db", dir.display());
        let (with_mode, path) = sqlite_url(&url).expect("valid");
        assert_eq!(with_mode, format!("{url}?mode=rwc"));
        assert_eq!(path, dir.join("nested/x.db"));
        assert!(dir.join("nested").is_dir());
        assert!(matches!(
            sqlite_url("sqlite::memory:"),
            Err(StorageError::UnsupportedUrl)
        ));
        std::fs::remove_dir_all(dir).ok();
    }
}

#[cfg(test)]
mod cause_tests {
    use super::*;

    #[test]
    fn database_codes_map_to_what_the_caller_can_do() {
        // SQLite: SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (517), SQLITE_FULL, SQLITE_CORRUPT, SQLITE_NOTADB.
        assert_eq!(cause("5"), Some(Fault::Unavailable));
        assert_eq!(cause("517"), Some(Fault::Unavailable));
        assert_eq!(cause("13"), Some(Fault::Exhausted));
        assert_eq!(cause("11"), Some(Fault::Damaged));
        assert_eq!(cause("26"), Some(Fault::Damaged));
        // SQLITE_CONSTRAINT_UNIQUE (2067) is the statement's own business.
        assert_eq!(cause("2067"), None);
        // PostgreSQL.
        assert_eq!(cause("40001"), Some(Fault::Unavailable));
        assert_eq!(cause("08006"), Some(Fault::Unavailable));
        assert_eq!(cause("53100"), Some(Fault::Exhausted));
        assert_eq!(cause("XX001"), Some(Fault::Damaged));
        assert_eq!(cause("23505"), None);
    }
}
