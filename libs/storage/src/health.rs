//! Whether a service's storage accepts writes, as the storage itself has shown it (issue 20):
//! a full disk, a read-only file system or a damaged file is seen in the errors of the calls
//! and workers that use the storage, and reported here for the server's health and readiness.
//!
//! Errors are seen in two ways: [`crate::Storage`]'s own operations (begin, commit, probe)
//! report to their storage directly, and any other statement's error is reported to the storage
//! of the call or worker it runs in — the one named by [`CallScope`], a task-local the server
//! sets around each call and each worker. A handler converts its `sqlx::Error` into a
//! [`crate::StorageError`], which is where it is seen.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use sqlx::AnyConnection;

use crate::store::StorageError;
pub use rapport_errors::Fault;

/// Why a storage refuses writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// The database's own words (e.g. "database or disk is full"), for people and logs.
    pub reason: String,
    pub since: SystemTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The disk or the database is full: reads still work, writes fail until there is room.
    Full,
    /// The file system or the database is read-only.
    ReadOnly,
    /// The file or an index is damaged: nothing is served until it is restored.
    Damaged,
}

impl RefusalKind {
    /// A label for metrics and `/readyz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::ReadOnly => "read_only",
            Self::Damaged => "damaged",
        }
    }

    /// Whether the service must not answer at all (a damaged file is never served).
    pub fn stops_service(self) -> bool {
        self == Self::Damaged
    }
}

/// One storage's state, shared by its clones.
#[derive(Debug, Clone)]
pub struct StorageHealth {
    state: Arc<tokio::sync::watch::Sender<Option<Refusal>>>,
}

impl Default for StorageHealth {
    fn default() -> Self {
        Self {
            state: Arc::new(tokio::sync::watch::Sender::new(None)),
        }
    }
}

impl StorageHealth {
    /// What the storage refuses now, if anything.
    pub fn refusal(&self) -> Option<Refusal> {
        self.state.borrow().clone()
    }

    /// Told of every change of [`StorageHealth::refusal`].
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Option<Refusal>> {
        self.state.subscribe()
    }

    /// Takes note of an error: a full, read-only or damaged storage starts refusing. Damage is
    /// never downgraded to a lesser refusal.
    pub fn observe(&self, error: &StorageError) {
        let Some(kind) = refusal_kind(error) else {
            return;
        };
        self.state.send_if_modified(|state| match state {
            Some(current) if current.kind == RefusalKind::Damaged || current.kind == kind => false,
            _ => {
                *state = Some(Refusal {
                    kind,
                    reason: rapport_errors::chain(error).to_string(),
                    since: SystemTime::now(),
                });
                true
            }
        });
    }

    /// A write committed: a full or read-only storage has room again. Damage stays until a
    /// check passes ([`StorageHealth::clear`]).
    pub(crate) fn write_succeeded(&self) {
        self.state.send_if_modified(|state| match state {
            Some(current) if current.kind != RefusalKind::Damaged => {
                *state = None;
                true
            }
            _ => false,
        });
    }

    /// The storage's probe passed: it accepts writes again.
    pub fn clear(&self) {
        self.state.send_if_modified(|state| state.take().is_some());
    }

    fn same_as(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}

/// The kind of refusal an error shows, if it shows one.
fn refusal_kind(error: &StorageError) -> Option<RefusalKind> {
    match error {
        StorageError::Full(_) => Some(RefusalKind::Full),
        StorageError::Damaged(_) => Some(RefusalKind::Damaged),
        StorageError::Unavailable(sqlx::Error::Database(database))
            if database.code().as_deref().is_some_and(is_read_only) =>
        {
            Some(RefusalKind::ReadOnly)
        }
        _ => None,
    }
}

/// SQLITE_READONLY and its extended codes (https://www.sqlite.org/rescode.html#readonly);
/// PostgreSQL's read_only_sql_transaction (a replica, or a primary demoted by a failover).
fn is_read_only(code: &str) -> bool {
    code == "25006" || (code.len() < 5 && code.parse::<i32>().is_ok_and(|c| c & 0xff == 8))
}

/// A row written in the same transaction as a call's change, just before it commits (the audit
/// entry's pending half: the change and its entry cannot be separated, issue 20). Its insert
/// does nothing when the row is there already, so every transaction of the call may write it. A
/// transaction may instead write it within a statement of its own
/// ([`crate::WriteTransaction::take_commit_row`]: on PostgreSQL a statement is a round trip).
#[derive(Clone)]
pub struct CommitRow {
    insert: Arc<dyn Fn(usize) -> String + Send + Sync>,
    bind: Arc<dyn for<'q> Fn(AnyQuery<'q>) -> AnyQuery<'q> + Send + Sync>,
}

impl std::fmt::Debug for CommitRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitRow")
            .field("insert", &self.insert_sql(1))
            .finish_non_exhaustive()
    }
}

/// A statement with its parameters, on either backend.
pub type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

impl CommitRow {
    /// `insert(first)`: the row's insert (doing nothing on conflict), its parameters numbered
    /// from `first`; `bind`: binds them, in order.
    pub fn new(
        insert: impl Fn(usize) -> String + Send + Sync + 'static,
        bind: impl for<'q> Fn(AnyQuery<'q>) -> AnyQuery<'q> + Send + Sync + 'static,
    ) -> Self {
        Self {
            insert: Arc::new(insert),
            bind: Arc::new(bind),
        }
    }

    /// The row's insert, its parameters numbered from `first`.
    pub fn insert_sql(&self, first: usize) -> String {
        (self.insert)(first)
    }

    /// Binds the insert's parameters, in order.
    pub fn bind<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        (self.bind)(query)
    }

    /// Writes the row on `connection`, in its transaction.
    pub async fn write(&self, connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
        self.bind(sqlx::query(sqlx::AssertSqlSafe(self.insert_sql(1))))
            .execute(connection)
            .await?;
        Ok(())
    }
}

/// What a call or a worker runs under: the storage its errors are reported to, and what its
/// commits on that storage write with them.
#[derive(Clone)]
pub struct CallScope {
    pub health: StorageHealth,
    pub on_commit: Option<CommitRow>,
}

impl std::fmt::Debug for CallScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallScope")
            .field("on_commit", &self.on_commit.is_some())
            .finish_non_exhaustive()
    }
}

tokio::task_local! {
    static SCOPE: CallScope;
}

impl CallScope {
    /// Runs `future` under this scope.
    pub async fn run<F: Future>(self, future: F) -> F::Output {
        SCOPE.scope(self, future).await
    }
}

/// Reports `error` to the storage of the call or worker it happened in, if any.
pub(crate) fn observe_in_scope(error: &StorageError) {
    let _ = SCOPE.try_with(|scope| scope.health.observe(error));
}

/// The row to write before a commit on the storage whose health is `health`: only a call's own
/// storage carries its audit entry.
pub(crate) fn commit_row_for(health: &StorageHealth) -> Option<CommitRow> {
    SCOPE
        .try_with(|scope| {
            scope
                .health
                .same_as(health)
                .then(|| scope.on_commit.clone())
                .flatten()
        })
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> StorageError {
        StorageError::Full(sqlx::Error::PoolClosed)
    }

    fn damaged() -> StorageError {
        StorageError::Damaged(sqlx::Error::PoolClosed)
    }

    #[test]
    fn refusals_start_on_errors_and_end_on_a_write_unless_damaged() {
        let health = StorageHealth::default();
        health.observe(&StorageError::Unavailable(sqlx::Error::PoolTimedOut));
        assert_eq!(health.refusal(), None, "busy is not a refusal");
        health.observe(&full());
        assert_eq!(health.refusal().map(|r| r.kind), Some(RefusalKind::Full));
        health.write_succeeded();
        assert_eq!(health.refusal(), None);
        health.observe(&damaged());
        health.observe(&full());
        assert_eq!(
            health.refusal().map(|r| r.kind),
            Some(RefusalKind::Damaged),
            "damage is not downgraded"
        );
        health.write_succeeded();
        assert!(health.refusal().is_some(), "a write does not heal damage");
        health.clear();
        assert_eq!(health.refusal(), None);
    }

    #[test]
    fn read_only_codes() {
        assert!(is_read_only("8"));
        assert!(is_read_only("1032")); // SQLITE_READONLY_DBMOVED
        assert!(is_read_only("25006"));
        assert!(!is_read_only("5"));
        assert!(!is_read_only("40001"));
    }

    #[tokio::test]
    async fn errors_reach_the_storage_of_their_scope_only() {
        let mine = StorageHealth::default();
        let other = StorageHealth::default();
        CallScope {
            health: mine.clone(),
            on_commit: None,
        }
        .run(async { observe_in_scope(&full()) })
        .await;
        assert!(mine.refusal().is_some());
        assert!(other.refusal().is_none());
        // Outside any scope nothing is reported (and nothing panics).
        observe_in_scope(&full());
        assert!(other.refusal().is_none());
    }
}
