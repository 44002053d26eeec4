//! One service's trail in its own database (`audit_log`, created by [`crate::MIGRATION_SQL`]).

use std::sync::Arc;

use std::sync::Mutex;

use rapport_storage::batch::{chunked, placeholders};
use rapport_storage::sqlx::{self, AnyConnection, AssertSqlSafe, Row};
use rapport_storage::{Backend, Storage, StorageError};
use tokio::sync::oneshot;

use crate::chain::{self, Entry, GENESIS, NewEntry, Verification, Verifier};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit storage")]
    Storage(#[from] StorageError),
    #[error("an audit entry's targets are not a JSON array")]
    Targets(#[source] serde_json::Error),
    #[error("the audit trail kept changing under {0} tries to append")]
    Contended(u32),
    #[error("a pending audit entry is not the JSON this version writes")]
    Pending(#[source] serde_json::Error),
    /// The append was written with others in one transaction, which failed.
    #[error("the audit append written with this one failed")]
    Batch(#[source] Arc<AuditError>),
    #[error("the audit append stopped before it answered")]
    Interrupted,
}

impl From<sqlx::Error> for AuditError {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Appends to and reads one service's trail. Clones share one append turn: callers that arrive
/// while an append is being written queue, and the next turn writes all of them in one
/// transaction, one after the other in the one chain (group commit: the chain needs its entries
/// in order, not a transaction each). Other processes on the same database are kept in order by
/// the primary key (a lost race is retried on the new head).
#[derive(Debug, Clone)]
pub struct AuditLog {
    storage: Storage,
    appending: Arc<tokio::sync::Mutex<()>>,
    queue: Arc<Mutex<Vec<Queued>>>,
    /// The head this process last appended (seq, hash): the next append builds on it without
    /// reading it back. Cleared whenever an append fails, so a head another process moved is
    /// read again (its insert then loses on the primary key).
    head: Arc<Mutex<Option<(i64, String)>>>,
}

/// An append waiting for its turn.
#[derive(Debug)]
struct Queued {
    entry: NewEntry,
    targets: String,
    settle: Settlement,
    reply: oneshot::Sender<Result<Option<Entry>, AuditError>>,
}

/// [`Settle`], owned by a queued append.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Settlement {
    Nothing,
    Finished(String),
    Abandoned(String),
}

/// The most appends one transaction writes; more wait for the next turn.
const MOST_PER_TURN: usize = 64;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What an append settles besides adding its entry.
#[derive(Debug, Clone, Copy)]
enum Settle<'k> {
    Nothing,
    /// The call ended here: its pending half (if any) goes.
    Finished(&'k str),
    /// Nobody finished the call: append only if the pending half is still there.
    Abandoned(&'k str),
}

/// An audited call about to run: what its change's transaction writes with it, so the change
/// and its audit entry cannot be separated by a hang-up, a deadline or a crash (issue 20).
#[derive(Debug, Clone)]
pub struct PendingCall {
    key: String,
    finish_by_micros: i64,
    entry: String,
}

impl PendingCall {
    /// `entry` as known before the call runs (request targets, outcome still unknown); the call
    /// must end before `finish_by_micros` or its entry is written by
    /// [`AuditLog::settle_abandoned`].
    pub fn new(entry: &NewEntry, finish_by_micros: i64) -> Self {
        let json = serde_json::json!({
            "recorded_at_micros": entry.recorded_at_micros,
            "actor": entry.actor,
            "role": entry.role,
            "rpc": entry.rpc,
            "targets": entry.targets,
            "trace_id": entry.trace_id,
        });
        Self {
            key: rapport_ids::Id::new().to_string(),
            finish_by_micros,
            entry: json.to_string(),
        }
    }

    /// The row a [`rapport_storage::WriteTransaction`] of the call writes before it commits:
    /// this pending half (once, however many transactions the call commits).
    pub fn commit_row(&self) -> rapport_storage::health::CommitRow {
        let call = self.clone();
        rapport_storage::health::CommitRow::new(
            |first| {
                format!(
                    "INSERT INTO audit_pending (call_key, finish_by_micros, entry) VALUES (${first}, ${}, ${}) \
                     ON CONFLICT (call_key) DO NOTHING",
                    first + 1,
                    first + 2
                )
            },
            move |query| {
                query
                    .bind(call.key.clone())
                    .bind(call.finish_by_micros)
                    .bind(call.entry.clone())
            },
        )
    }
}

fn pending_entry_of(text: &str) -> Result<NewEntry, AuditError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(AuditError::Pending)?;
    let text_of = |field: &str| {
        value
            .get(field)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(NewEntry {
        recorded_at_micros: value
            .get("recorded_at_micros")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or_default(),
        actor: text_of("actor"),
        role: text_of("role"),
        rpc: text_of("rpc"),
        targets: value
            .get("targets")
            .and_then(serde_json::Value::as_array)
            .map(|targets| {
                targets
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        outcome: String::new(),
        trace_id: text_of("trace_id"),
    })
}

/// What a listing is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub rpc: Option<String>,
    pub target_id: Option<String>,
    /// Entries older than this sequence (the page token).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

const COLUMNS: &str =
    "seq, recorded_at_micros, actor, role, rpc, targets, outcome, trace_id, previous_hash, hash";
/// Appends racing on one head: a loser retries after a random wait growing with each loss, so
/// a writer that keeps winning (it appends again at once) cannot starve another.
const TRIES: u32 = 32;

/// Up to 1, 2, 4, … 32 ms (from the 5th loss on), at random within that.
fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_micros = 1_000_u64 << attempt.saturating_sub(1).min(5);
    // Random enough for spreading retries: the low bits of a fresh UUIDv7's random part.
    let random = rapport_ids::Id::new().as_uuid().as_u128() as u64;
    std::time::Duration::from_micros(random % ceiling_micros)
}

impl AuditLog {
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            appending: Arc::new(tokio::sync::Mutex::new(())),
            queue: Arc::default(),
            head: Arc::default(),
        }
    }

    /// The storage the trail is kept in (the unit's own).
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Appends `entry` after the current head, in its own transaction.
    pub async fn append(&self, entry: &NewEntry) -> Result<Entry, AuditError> {
        let appended = self.append_settling(entry, Settle::Nothing).await?;
        // Only an abandoned call's append can find nothing to do.
        appended.ok_or(AuditError::Contended(0))
    }

    /// Appends the entry of a call whose pending half (if its change committed) is `call`'s,
    /// deleting that half in the same transaction.
    pub async fn append_for(
        &self,
        call: &PendingCall,
        entry: &NewEntry,
    ) -> Result<Entry, AuditError> {
        let appended = self
            .append_settling(entry, Settle::Finished(&call.key))
            .await?;
        // Only an abandoned call's append can find nothing to do.
        appended.ok_or(AuditError::Contended(0))
    }

    /// Turns pending halves whose calls can no longer end (their deadline and margin have
    /// passed before `now_micros`) into entries with the outcome
    /// [`crate::COMMITTED_NO_ANSWER`]: the change committed, and nobody recorded how the call
    /// ended. Safe to run from several processes on one database. How many were turned.
    pub async fn settle_abandoned(&self, now_micros: i64) -> Result<usize, AuditError> {
        // No span for a sweep that finds nothing (issue 20: quiet traces).
        let rows = sqlx::query(
            "SELECT call_key, entry FROM audit_pending WHERE finish_by_micros < $1 \
             ORDER BY finish_by_micros LIMIT 100",
        )
        .bind(now_micros)
        .fetch_all(self.storage.reader())
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let span = tracing::info_span!(parent: None, "audit.settle_abandoned", calls = rows.len());
        tracing::Instrument::instrument(self.settle_rows(&rows), span).await
    }

    async fn settle_rows(&self, rows: &[sqlx::any::AnyRow]) -> Result<usize, AuditError> {
        let mut settled = 0;
        for row in rows {
            let key: String = row.try_get(0)?;
            let text: String = row.try_get(1)?;
            let mut entry = pending_entry_of(&text)?;
            entry.outcome = crate::COMMITTED_NO_ANSWER.to_owned();
            if self
                .append_settling(&entry, Settle::Abandoned(&key))
                .await?
                .is_some()
            {
                tracing::warn!(rpc = %entry.rpc, actor = %entry.actor, "audit entry of a committed change recorded without its outcome (the call did not finish here)");
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// `None` only for [`Settle::Abandoned`] when another process settled it first.
    async fn append_settling(
        &self,
        entry: &NewEntry,
        settle: Settle<'_>,
    ) -> Result<Option<Entry>, AuditError> {
        let targets = serde_json::to_string(&entry.targets).map_err(AuditError::Targets)?;
        let settle = match settle {
            Settle::Nothing => Settlement::Nothing,
            Settle::Finished(key) => Settlement::Finished(key.to_owned()),
            Settle::Abandoned(key) => Settlement::Abandoned(key.to_owned()),
        };
        let (reply, answer) = oneshot::channel();
        lock(&self.queue).push(Queued {
            entry: entry.clone(),
            targets,
            settle,
            reply,
        });
        let turn = Arc::clone(&self.appending).lock_owned().await;
        let batch: Vec<Queued> = {
            let mut queue = lock(&self.queue);
            let take = queue.len().min(MOST_PER_TURN);
            queue.drain(..take).collect()
        };
        if batch.is_empty() {
            // An earlier turn wrote this append with its own.
            drop(turn);
        } else {
            // Written by a task of its own that keeps the turn: a caller that goes away (a
            // client hanging up) must not cut off the appends queued behind it.
            let log = self.clone();
            let write = async move {
                log.write_batch(batch).await;
                drop(turn);
            };
            tokio::spawn(tracing::Instrument::in_current_span(write));
        }
        answer.await.unwrap_or(Err(AuditError::Interrupted))
    }

    /// Writes a turn's appends and answers each.
    async fn write_batch(&self, batch: Vec<Queued>) {
        let written = self.write_entries(&batch).await;
        match written {
            Ok(entries) => {
                for (queued, entry) in batch.into_iter().zip(entries) {
                    let _ = queued.reply.send(Ok(entry));
                }
            }
            Err(error) if batch.len() == 1 => {
                if let Some(queued) = batch.into_iter().next() {
                    let _ = queued.reply.send(Err(error));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for queued in batch {
                    let _ = queued
                        .reply
                        .send(Err(AuditError::Batch(Arc::clone(&error))));
                }
            }
        }
    }

    /// One transaction: the pending halves the appends settle go, and their entries follow the
    /// head in queue order. An abandoned call's entry whose pending half another process settled
    /// first is left out (`None`).
    async fn write_entries(&self, batch: &[Queued]) -> Result<Vec<Option<Entry>>, AuditError> {
        if let Some(entries) = self.write_in_one_statement(batch).await? {
            return Ok(entries);
        }
        for attempt in 0..TRIES {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let mut tx = self.storage.begin_write().await?;
            let settled = settle_pending(&mut tx, batch).await;
            let keep = match settled {
                Ok(keep) => keep,
                Err(error) => {
                    *lock(&self.head) = None;
                    return Err(error);
                }
            };
            if !keep.contains(&true) {
                tx.rollback().await?;
                return Ok(vec![None; batch.len()]);
            }
            // The head as stored, not as remembered: the database may have lost what this
            // process remembers (see `write_in_one_statement`). On SQLite, where every turn
            // comes here, this point read costs no round trip; on PostgreSQL this path is the
            // fallback of the one-statement turn.
            let head = read_head(&mut tx).await?;
            let (entries, (seq, previous_hash)) = chain_after(head, batch, |i| keep[i]);
            let rows: Vec<(&Entry, &str)> = batch
                .iter()
                .zip(&entries)
                .filter_map(|(queued, entry)| entry.as_ref().map(|e| (e, queued.targets.as_str())))
                .collect();
            let inserted = insert_entries(&mut tx, &rows).await;
            match inserted.map_err(StorageError::from) {
                Ok(()) => {
                    // Only the trail was written: reads cached before stay valid (profiles
                    // audits each vulnerability read; its cache of customers survives them).
                    if let Err(error) = tx.commit_keeping_reads().await {
                        *lock(&self.head) = None;
                        return Err(error.into());
                    }
                    *lock(&self.head) = Some((seq, previous_hash));
                    return Ok(entries);
                }
                // Another process appended after our head: build on its entries instead. Roll
                // back now: a dropped transaction gives its connection back only later.
                Err(error) if error.is_unique_violation() => {
                    *lock(&self.head) = None;
                    tx.rollback().await?;
                    continue;
                }
                Err(error) => {
                    *lock(&self.head) = None;
                    return Err(error.into());
                }
            }
        }
        Err(AuditError::Contended(TRIES))
    }

    /// The common turn on PostgreSQL in one statement committed on its own, instead of BEGIN,
    /// the deletes, the inserts and COMMIT (issue 23: four round trips): the head is remembered
    /// and no append settles an abandoned call (whose entry depends on what the delete finds).
    /// One statement is atomic: the pending halves go exactly when the entries are in. `None`
    /// when the turn is not of that kind, or when another process moved the head (the primary
    /// key refuses the insert and nothing is written): the transaction then reads the head.
    async fn write_in_one_statement(
        &self,
        batch: &[Queued],
    ) -> Result<Option<Vec<Option<Entry>>>, AuditError> {
        if self.storage.backend() != Backend::Postgres
            || batch
                .iter()
                .any(|queued| matches!(queued.settle, Settlement::Abandoned(_)))
        {
            return Ok(None);
        }
        let Some(head) = lock(&self.head).clone() else {
            return Ok(None);
        };
        let seq_before = head.0;
        let (chained, (seq, previous_hash)) = chain_after(head, batch, |_| true);
        let entries: Vec<Entry> = chained.into_iter().flatten().collect();
        let finished = finished_keys(batch);
        let first = finished.len() + 1;
        // The remembered head must still be the trail's last entry as stored: the first new
        // entry's previous hash is read from it, so a head the database no longer has (entries
        // lost with an asynchronous commit when PostgreSQL crashed, or a restored backup) makes
        // it NULL and the insert is refused (NOT NULL) instead of leaving a gap in the chain.
        let head_seq = first + entries.len() * 10;
        let previous = first + 8;
        let mut guard =
            format!("(SELECT hash FROM audit_log WHERE seq = ${head_seq} AND hash = ${previous})");
        // When every entry settles a pending half and all of them were there, each change these
        // entries describe already committed (synchronously) with its pending half, so this
        // turn may commit without waiting for the WAL flush (`synchronous_commit = off` for this
        // statement's transaction only): if PostgreSQL crashed before the flush, the entries and
        // the deletes would be lost together, and the sweep turns the halves into entries
        // (COMMITTED_NO_ANSWER). Anything else (a read's entry, a failed call's) waits for the
        // flush as before. Referenced from the guard so that it runs; it adds nothing to it.
        let relaxed = finished.len() == batch.len() && !finished.is_empty();
        if relaxed {
            guard.push_str(" || (SELECT COALESCE(MAX(LEFT(relaxed, 0)), '') FROM relaxed)");
        }
        // `placeholders` joins with ", ": the first entry's previous hash is the one `$previous, `.
        let insert = format!(
            "INSERT INTO audit_log ({COLUMNS}) VALUES {}",
            placeholders(entries.len(), 10, first).replacen(
                &format!("${previous}, "),
                &format!("{guard}, "),
                1
            )
        );
        // Only placeholders are formatted in; the keys and values are bound.
        let sql = if finished.is_empty() {
            insert
        } else {
            let keys: Vec<String> = (1..=finished.len()).map(|n| format!("${n}")).collect();
            let relax = if relaxed {
                format!(
                    ", relaxed AS (SELECT set_config('synchronous_commit', 'off', true) AS relaxed \
                     WHERE (SELECT COUNT(*) FROM settled) = {})",
                    finished.len()
                )
            } else {
                String::new()
            };
            format!(
                "WITH settled AS (DELETE FROM audit_pending WHERE call_key IN ({}) RETURNING 1){relax} {insert}",
                keys.join(", ")
            )
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for key in &finished {
            query = query.bind(*key);
        }
        for (entry, queued) in entries.iter().zip(batch) {
            query = bind_entry(query, entry, &queued.targets);
        }
        let query = query.bind(seq_before);
        match self.storage.write_alone(query).await {
            Ok(_) => {
                *lock(&self.head) = Some((seq, previous_hash));
                Ok(Some(entries.into_iter().map(Some).collect()))
            }
            Err(error) => {
                *lock(&self.head) = None;
                // Another process appended after our head (the primary key), or the head is
                // gone (the guard): the transaction reads the head and tries again.
                if error.is_unique_violation() || error.is_not_null_violation() {
                    Ok(None)
                } else {
                    Err(error.into())
                }
            }
        }
    }

    /// Entries newest first.
    #[tracing::instrument(skip_all)]
    pub async fn list(&self, filter: &Filter) -> Result<Vec<Entry>, AuditError> {
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut next = |condition: &str, value: String, binds: &mut Vec<String>| {
            binds.push(value);
            conditions.push(condition.replace('?', &format!("${}", binds.len())));
        };
        if let Some(actor) = &filter.actor {
            next("actor = ?", actor.clone(), &mut binds);
        }
        if let Some(rpc) = &filter.rpc {
            next("rpc = ?", rpc.clone(), &mut binds);
        }
        if let Some(target) = &filter.target_id {
            // Targets are stored as a JSON array of "field=id": match "=id" up to its closing quote.
            next(
                "targets LIKE ? ESCAPE '\\'",
                format!("%={}\"%", escape_like(target)),
                &mut binds,
            );
        }
        let seq_condition = filter.before_seq.map(|before| format!("seq < {before}"));
        let mut all: Vec<String> = conditions;
        all.extend(seq_condition);
        let where_clause = if all.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", all.join(" AND "))
        };
        // Only our own condition texts and an integer are formatted in; values are bound.
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log {where_clause} ORDER BY seq DESC LIMIT {}",
            filter.limit
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.storage.reader()).await?;
        rows.iter().map(entry_of).collect()
    }

    /// Recomputes the chain from the first entry, a page at a time.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self) -> Result<Verification, AuditError> {
        let mut verifier = Verifier::default();
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000"
            )))
            .bind(after)
            .fetch_all(self.storage.reader())
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            for row in &rows {
                verifier.check(&entry_of(row)?);
            }
        }
        Ok(verifier.finish())
    }
}

fn entry_of(row: &sqlx::any::AnyRow) -> Result<Entry, AuditError> {
    let targets: String = row.try_get(5)?;
    Ok(Entry {
        seq: row.try_get(0)?,
        entry: NewEntry {
            recorded_at_micros: row.try_get(1)?,
            actor: row.try_get(2)?,
            role: row.try_get(3)?,
            rpc: row.try_get(4)?,
            targets: serde_json::from_str(&targets).map_err(AuditError::Targets)?,
            outcome: row.try_get(6)?,
            trace_id: row.try_get(7)?,
        },
        previous_hash: row.try_get(8)?,
        hash: row.try_get(9)?,
    })
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The batch's entries chained after `head` (seq and hash), each kept one (`keep(index)`)
/// taking the next seq and the hash of the one before it (`None` for one not kept), and the new
/// head.
fn chain_after(
    head: (i64, String),
    batch: &[Queued],
    keep: impl Fn(usize) -> bool,
) -> (Vec<Option<Entry>>, (i64, String)) {
    let (mut seq, mut previous_hash) = head;
    let entries = batch
        .iter()
        .enumerate()
        .map(|(i, queued)| {
            keep(i).then(|| {
                seq += 1;
                let hash = chain::hash(seq, &queued.entry, &previous_hash);
                Entry {
                    seq,
                    entry: queued.entry.clone(),
                    previous_hash: std::mem::replace(&mut previous_hash, hash.clone()),
                    hash,
                }
            })
        })
        .collect();
    (entries, (seq, previous_hash))
}

/// The pending halves of the batch's finished calls.
fn finished_keys(batch: &[Queued]) -> Vec<&str> {
    batch
        .iter()
        .filter_map(|queued| match &queued.settle {
            Settlement::Finished(key) => Some(key.as_str()),
            Settlement::Nothing | Settlement::Abandoned(_) => None,
        })
        .collect()
}

/// Deletes the pending halves the batch settles: those of finished calls in as few statements as
/// the batch's size allows, an abandoned call's on its own (its entry is kept only if the half
/// was still there). Which entries to keep.
async fn settle_pending(
    conn: &mut AnyConnection,
    batch: &[Queued],
) -> Result<Vec<bool>, AuditError> {
    let finished = finished_keys(batch);
    for keys in chunked(&finished) {
        let numbers: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
        // Only placeholders are formatted in; the keys are bound.
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM audit_pending WHERE call_key IN ({})",
            numbers.join(", ")
        )));
        for key in keys {
            query = query.bind(*key);
        }
        query.execute(&mut *conn).await?;
    }
    let mut keep = Vec::with_capacity(batch.len());
    for queued in batch {
        keep.push(match &queued.settle {
            Settlement::Abandoned(key) => {
                sqlx::query("DELETE FROM audit_pending WHERE call_key = $1")
                    .bind(key)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                    == 1
            }
            Settlement::Nothing | Settlement::Finished(_) => true,
        });
    }
    Ok(keep)
}

/// The last entry's seq and hash (0 and the genesis value for an empty trail).
async fn read_head(conn: &mut AnyConnection) -> Result<(i64, String), AuditError> {
    let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match head {
        Some(row) => (row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?),
        None => (0, GENESIS.to_owned()),
    })
}

/// Inserts entries (with their targets' JSON), a chunk a statement.
async fn insert_entries(
    conn: &mut AnyConnection,
    rows: &[(&Entry, &str)],
) -> Result<(), sqlx::Error> {
    for chunk in chunked(rows) {
        // Only placeholders are formatted in; the values are bound.
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO audit_log ({COLUMNS}) VALUES {}",
            placeholders(chunk.len(), 10, 1)
        )));
        for (entry, targets) in chunk {
            query = bind_entry(query, entry, targets);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Binds the ten values of one `audit_log` row, in [`COLUMNS`]' order.
fn bind_entry<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    entry: &Entry,
    targets: &str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(entry.seq)
        .bind(entry.entry.recorded_at_micros)
        .bind(entry.entry.actor.clone())
        .bind(entry.entry.role.clone())
        .bind(entry.entry.rpc.clone())
        .bind(targets.to_owned())
        .bind(entry.entry.outcome.clone())
        .bind(entry.entry.trace_id.clone())
        .bind(entry.previous_hash.clone())
        .bind(entry.hash.clone())
}
