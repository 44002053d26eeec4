//! The connections that write, pooled by the storage itself (issue 23).
//!
//! sqlx's pool pings every connection it takes back (`Floating::return_to_pool` in sqlx-core
//! 0.9), whatever the caller did with it: on PostgreSQL one round trip more per write, on SQLite
//! a hop to the connection's worker thread while the next write waits for the one writer. Here a
//! write that ended as it should (committed, or rolled back, or one statement that answered)
//! gives its connection straight back. Only a lease that ended otherwise — dropped inside a
//! transaction, a statement that failed, a caller cancelled mid-statement — has its connection
//! cleaned first, by a task of its own before anyone else may take it: inside a transaction a
//! `ROLLBACK` (which also drains what a cancelled statement left unread), else a ping. A
//! connection that fails its cleaning is closed, and the next lease opens a fresh one.
//!
//! Transactions are plain statements here (`BEGIN`, `COMMIT`, `ROLLBACK`): the lease knows
//! whether it is inside one, and sqlx's count of open transactions is never involved (so a
//! transaction the database ended by itself, as SQLite does on a full disk, cannot leave a
//! connection that refuses every later `BEGIN`: issue 20).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::settings::Backend;

/// What a fresh connection runs before its first use (the PRAGMAs or the `search_path` of the
/// storage's pools).
pub(crate) type Setup = Arc<
    dyn Fn(
            &mut AnyConnection,
        ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + '_>>
        + Send
        + Sync,
>;

/// A pool of writing connections: at most `max` open, each leased to one writer at a time.
#[derive(Clone)]
pub(crate) struct Writers(Arc<Pool>);

impl std::fmt::Debug for Writers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writers")
            .field("max", &self.0.max)
            .field("open", &self.0.open.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

struct Pool {
    url: String,
    setup: Setup,
    max: u32,
    acquire_timeout: Duration,
    /// A connection idle at least this long is pinged before it is leased (a network
    /// connection may have died meanwhile); `None` for a file in this process.
    ping_after_idle: Option<Duration>,
    leases: Arc<Semaphore>,
    idle: Mutex<Vec<(AnyConnection, Instant)>>,
    open: AtomicU32,
    closed: AtomicBool,
}

/// Where a leased connection stands, which decides what it needs before its next lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any transaction, every statement answered: ready as it is.
    Ready,
    /// Inside a transaction this lease began and has not ended.
    InTransaction,
    /// A statement failed or was cut off: whether it can be used again is not known.
    Unsure,
}

impl Writers {
    /// `ping_after_idle`: a connection idle at least this long is pinged before it is leased;
    /// `None` for a file in this process, which cannot hang up.
    pub(crate) fn new(
        url: String,
        max: u32,
        acquire_timeout: Duration,
        ping_after_idle: Option<Duration>,
        setup: Setup,
    ) -> Self {
        let max = max.max(1);
        Self(Arc::new(Pool {
            url,
            setup,
            max,
            acquire_timeout,
            ping_after_idle,
            leases: Arc::new(Semaphore::new(max as usize)),
            idle: Mutex::new(Vec::new()),
            open: AtomicU32::new(0),
            closed: AtomicBool::new(false),
        }))
    }

    /// A connection of its own for one writer: an idle one, or a new one while fewer than `max`
    /// are open. Waits up to the acquire timeout for one to come back
    /// (`sqlx::Error::PoolTimedOut`, which the storage reports as unavailable).
    pub(crate) async fn lease(&self) -> Result<Lease, sqlx::Error> {
        let pool = &self.0;
        if pool.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let permit = tokio::time::timeout(
            pool.acquire_timeout,
            Arc::clone(&pool.leases).acquire_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
        .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match idle {
            Some((mut connection, since)) => {
                let stale = pool
                    .ping_after_idle
                    .is_some_and(|after| since.elapsed() >= after);
                if stale && connection.ping().await.is_err() {
                    // Gone while idle: a fresh one instead (the failed one is not closed
                    // politely: its peer is gone).
                    drop(connection);
                    pool.open.fetch_sub(1, Ordering::AcqRel);
                    self.connect().await?
                } else {
                    connection
                }
            }
            None => self.connect().await?,
        };
        Ok(Lease {
            connection: Some(connection),
            state: State::Ready,
            permit: Some(permit),
            pool: Arc::clone(pool),
        })
    }

    async fn connect(&self) -> Result<AnyConnection, sqlx::Error> {
        let pool = &self.0;
        let mut connection = AnyConnection::connect(&pool.url).await?;
        (pool.setup)(&mut connection).await?;
        pool.open.fetch_add(1, Ordering::AcqRel);
        Ok(connection)
    }

    /// Where the writers connect.
    pub(crate) fn url(&self) -> &str {
        &self.0.url
    }

    /// How long a lease waits for a connection.
    pub(crate) fn acquire_timeout(&self) -> Duration {
        self.0.acquire_timeout
    }

    /// Connections open (idle or leased), idle, and the most it opens.
    pub(crate) fn usage(&self) -> (u32, u32, u32) {
        let pool = &self.0;
        let idle = pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        (
            pool.open.load(Ordering::Acquire),
            u32::try_from(idle).unwrap_or(u32::MAX),
            pool.max,
        )
    }

    /// Refuses new leases, waits for every leased connection to come back (cleaned), and
    /// closes them all.
    pub(crate) async fn close(&self) {
        let pool = &self.0;
        pool.closed.store(true, Ordering::Release);
        let all = pool.leases.acquire_many(pool.max).await;
        let idle = std::mem::take(&mut *pool.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for (connection, _) in idle {
            let _ = connection.close().await;
            pool.open.fetch_sub(1, Ordering::AcqRel);
        }
        drop(all);
    }
}

/// One writer's connection. Use it as a connection; say how it ended with [`Lease::begin`],
/// [`Lease::commit`], [`Lease::rollback`] or [`Lease::answered`]. Dropped in any other state, it
/// is cleaned before its next lease (see the module's doc).
pub(crate) struct Lease {
    connection: Option<AnyConnection>,
    state: State,
    permit: Option<OwnedSemaphorePermit>,
    pool: Arc<Pool>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// Runs `begin` (`BEGIN`, `BEGIN IMMEDIATE`): inside a transaction from then on.
    pub(crate) async fn begin(&mut self, begin: &'static str) -> Result<(), sqlx::Error> {
        // Marked first: a BEGIN cut off may have begun, and ROLLBACK ends it either way.
        self.state = State::InTransaction;
        self.connection_mut().execute(begin).await?;
        Ok(())
    }

    /// Runs `begin` and then `first`, and returns `first`'s first row: on PostgreSQL both in
    /// one simple-protocol message, one round trip (`Storage::begin_write_with` says what
    /// `first` may hold).
    pub(crate) async fn begin_with(
        &mut self,
        begin: &'static str,
        first: AssertSqlSafe<String>,
        backend: Backend,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        self.state = State::InTransaction;
        let connection = self.connection_mut();
        // Every row read (sqlx's `fetch_optional` looks only at the first result, which here
        // is the BEGIN's); `first` reads one.
        let rows = match backend {
            Backend::Postgres => {
                sqlx::raw_sql(AssertSqlSafe(format!("{begin}; {}", first.0)))
                    .fetch_all(connection)
                    .await?
            }
            Backend::Sqlite => {
                connection.execute(begin).await?;
                sqlx::raw_sql(first).fetch_all(connection).await?
            }
        };
        Ok(rows.into_iter().next())
    }

    /// Commits the lease's transaction. On failure it stays marked as inside one, so its
    /// cleaning rolls back whatever the database did not end by itself.
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.connection_mut().execute("COMMIT").await?;
        self.state = State::Ready;
        Ok(())
    }

    /// Rolls the lease's transaction back now.
    pub(crate) async fn rollback(&mut self) -> Result<(), sqlx::Error> {
        self.connection_mut().execute("ROLLBACK").await?;
        self.state = State::Ready;
        Ok(())
    }

    /// The connection for statements outside any transaction: until [`Lease::answered`] says
    /// they all succeeded, it is cleaned before its next lease.
    pub(crate) fn outside_transaction(&mut self) -> &mut AnyConnection {
        self.state = State::Unsure;
        self.connection_mut()
    }

    /// The statements since [`Lease::outside_transaction`] all answered: ready again as it is.
    pub(crate) fn answered(&mut self) {
        if self.state == State::Unsure {
            self.state = State::Ready;
        }
    }

    fn connection_mut(&mut self) -> &mut AnyConnection {
        self.connection
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl Deref for Lease {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        self.connection
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.connection_mut()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (Some(connection), Some(permit)) = (self.connection.take(), self.permit.take()) else {
            return;
        };
        let pool = Arc::clone(&self.pool);
        if self.state == State::Ready {
            give_back(&pool, connection, permit);
            return;
        }
        let state = self.state;
        match tokio::runtime::Handle::try_current() {
            // The permit goes with the connection: no lease opens another while it is cleaned.
            Ok(runtime) => {
                runtime.spawn(async move {
                    match clean(connection, state).await {
                        Some(connection) => give_back(&pool, connection, permit),
                        None => {
                            pool.open.fetch_sub(1, Ordering::AcqRel);
                            drop(permit);
                        }
                    }
                });
            }
            // No runtime to clean it on: closing the socket or the file ends any transaction.
            Err(_) => {
                drop(connection);
                pool.open.fetch_sub(1, Ordering::AcqRel);
                drop(permit);
            }
        }
    }
}

fn give_back(pool: &Pool, connection: AnyConnection, permit: OwnedSemaphorePermit) {
    pool.idle
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((connection, Instant::now()));
    drop(permit);
}

/// The connection ready for another lease, or `None` when it cannot be made so (it is closed).
async fn clean(mut connection: AnyConnection, state: State) -> Option<AnyConnection> {
    let cleaned = match state {
        State::Ready => Ok(()),
        // Also drains a response a cancelled statement left unread.
        State::InTransaction => connection.execute("ROLLBACK").await.map(drop),
        State::Unsure => connection.ping().await,
    };
    match cleaned {
        Ok(()) => Some(connection),
        Err(error) => {
            tracing::warn!(%error, "closing a writing connection that could not be cleaned");
            None
        }
    }
}
