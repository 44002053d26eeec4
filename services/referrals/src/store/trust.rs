//! Stored trust: the graph's version, each subject's answer from the last batch, and the batches
//! that ran (migration 0010).

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};
use serde::{Deserialize, Serialize};

use super::{Conn, StoredReason, corrupt, id, instant, micros};
use crate::error::ReferralsError;

/// One subject's trust as GetTrust answers it, computed from one version of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTrust {
    #[serde(skip)]
    pub score: f64,
    pub paths: Vec<StoredPath>,
    pub signals: Vec<StoredSignal>,
    /// Every reason of the answer, in order.
    pub reasons: Vec<StoredReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPath {
    pub edges: Vec<StoredEdge>,
    #[serde(with = "exact")]
    pub contribution: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEdge {
    pub from_id: String,
    pub to_id: String,
    /// "REFERRAL" | "VOUCH"
    pub kind: String,
    #[serde(with = "exact")]
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSignal {
    pub code: String,
    pub description: String,
    #[serde(with = "exact")]
    pub effect: f64,
}

/// An f64 as the shortest decimal text that reads back to the same bits: JSON number parsing is
/// best-effort by default, and a stored answer must equal the computed one exactly.
mod exact {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn exact_text(value: f64) -> String {
    value.to_string()
}

fn parse_exact(text: &str) -> Result<f64, ReferralsError> {
    text.parse().map_err(|e| corrupt("trust score", e))
}

/// A stored answer with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub subject_id: Id,
    pub trust: StoredTrust,
    pub model_version: String,
    pub graph_version: i64,
    pub as_of: Timestamp,
    pub valid_until: Timestamp,
}

/// The graph's current version: changes committed so far.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn graph_version(conn: &mut Conn) -> Result<i64, ReferralsError> {
    let row = sqlx::query("SELECT version FROM trust_graph WHERE graph = 'referrals'")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

/// The graph's version and how far the worker's online updates have caught up with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// Changes committed so far.
    pub version: i64,
    /// The version of the batch online updates started from (-1: none yet).
    pub anchor: i64,
    /// The version the last online update (or the anchoring batch) settled; -1: none.
    pub settled: i64,
}

impl Versions {
    /// Whether an answer stamped with `graph_version` is current: computed from this version, or
    /// written at or after the anchoring batch while online updates have caught up with every
    /// change (each rewrote the answers that moved).
    pub fn current(&self, graph_version: i64) -> bool {
        graph_version == self.version
            || (self.settled == self.version && self.anchor >= 0 && graph_version >= self.anchor)
    }
}

/// The graph's version with the online updates' anchor and progress: one single-row read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn versions(conn: &mut Conn) -> Result<Versions, ReferralsError> {
    let row = sqlx::query(
        "SELECT version, anchor_version, settled_version FROM trust_graph WHERE graph = 'referrals'",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Versions {
        version: row.try_get(0)?,
        anchor: row.try_get(1)?,
        settled: row.try_get(2)?,
    })
}

/// A batch for `version` has stored every answer: online updates start from it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn anchored(
    conn: &mut Conn,
    version: i64,
    error_bound: f64,
) -> Result<(), ReferralsError> {
    sqlx::query(
        "UPDATE trust_graph SET anchor_version = $1, settled_version = $1, settled_error_bound = $2 \
         WHERE graph = 'referrals'",
    )
    .bind(version)
    .bind(exact_text(error_bound))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An online update from the batch at `anchor` settled `version`, in the transaction that wrote
/// its answers. Returns false (and changes nothing) when a batch re-anchored meanwhile.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn settled(
    conn: &mut Conn,
    anchor: i64,
    version: i64,
    error_bound: f64,
) -> Result<bool, ReferralsError> {
    let done = sqlx::query(
        "UPDATE trust_graph SET settled_version = $1, settled_error_bound = $2 \
         WHERE graph = 'referrals' AND anchor_version = $3 AND settled_version < $1",
    )
    .bind(version)
    .bind(exact_text(error_bound))
    .bind(anchor)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the graph changed, in the transaction of the change: stored answers from before it are
/// stale from its commit on, and the worker recomputes.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn graph_changed(conn: &mut Conn, at: Timestamp) -> Result<(), ReferralsError> {
    sqlx::query(
        "UPDATE trust_graph SET version = version + 1, changed_at_micros = $1 WHERE graph = 'referrals'",
    )
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The graph's version and when it last changed.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn graph_state(conn: &mut Conn) -> Result<(i64, Timestamp), ReferralsError> {
    let row =
        sqlx::query("SELECT version, changed_at_micros FROM trust_graph WHERE graph = 'referrals'")
            .fetch_one(&mut *conn)
            .await?;
    Ok((row.try_get(0)?, instant(row.try_get(1)?)?))
}

const COLUMNS: &str = "subject_id, score, explanation, model_version, graph_version, as_of_micros, valid_until_micros";

/// The subject's stored answer, if a batch wrote one.
#[tracing::instrument(level = "debug", skip_all, fields(subject_id = %subject_id))]
pub async fn get(conn: &mut Conn, subject_id: Id) -> Result<Option<Stored>, ReferralsError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM trust_results WHERE subject_id = $1"
    )))
    .bind(subject_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let explanation: String = row.try_get(2)?;
    let mut trust: StoredTrust =
        serde_json::from_str(&explanation).map_err(|e| corrupt("trust explanation", e))?;
    trust.score = parse_exact(&row.try_get::<String, _>(1)?)?;
    Ok(Some(Stored {
        subject_id: id(&row.try_get::<String, _>(0)?)?,
        trust,
        model_version: row.try_get(3)?,
        graph_version: row.try_get(4)?,
        as_of: instant(row.try_get(5)?)?,
        valid_until: instant(row.try_get(6)?)?,
    }))
}

/// Rows per INSERT: 7 parameters a row stays far below SQLite's and PostgreSQL's limits.
const ROWS_PER_STATEMENT: usize = 100;

/// Writes a page of answers; a row already holding a newer answer (a later batch) keeps it.
#[tracing::instrument(level = "debug", skip_all, fields(rows = rows.len()))]
pub async fn put_page(conn: &mut Conn, rows: &[Stored]) -> Result<(), ReferralsError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values = (0..chunk.len())
            .map(|i| {
                let p = i * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO trust_results ({COLUMNS}) VALUES {values} \
             ON CONFLICT (subject_id) DO UPDATE SET score = excluded.score, explanation = excluded.explanation, \
             model_version = excluded.model_version, graph_version = excluded.graph_version, \
             as_of_micros = excluded.as_of_micros, valid_until_micros = excluded.valid_until_micros \
             WHERE trust_results.as_of_micros <= excluded.as_of_micros"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            let explanation =
                serde_json::to_string(&row.trust).map_err(|e| corrupt("trust explanation", e))?;
            query = query
                .bind(row.subject_id.to_string())
                .bind(exact_text(row.trust.score))
                .bind(explanation)
                .bind(row.model_version.clone())
                .bind(row.graph_version)
                .bind(micros(row.as_of))
                .bind(micros(row.valid_until));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops the answers of subjects a finished batch no longer scored (merged away, say): anything
/// older than that batch.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drop_older_than(conn: &mut Conn, as_of: Timestamp) -> Result<u64, ReferralsError> {
    let done = sqlx::query("DELETE FROM trust_results WHERE as_of_micros < $1")
        .bind(micros(as_of))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Whether the subject has an edge in the trust graph: a referral that named them referee or
/// that they made and someone signed up through, or a vouch given by or for them.
#[tracing::instrument(level = "debug", skip_all, fields(subject_id = %subject_id))]
pub async fn connected(conn: &mut Conn, subject_id: Id) -> Result<bool, ReferralsError> {
    let row = sqlx::query(
        "SELECT 1 FROM referrals WHERE referee_id = $1 OR (referrer_id = $1 AND referee_id IS NOT NULL) \
         UNION ALL SELECT 1 FROM vouches WHERE status = 'VOUCH_STATUS_VOUCHED' \
           AND (voucher_id = $1 OR prospect_customer_id = $1 OR (prospect_id = $1 AND prospect_customer_id = '')) \
         LIMIT 1",
    )
    .bind(subject_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// A finished batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub run_id: Id,
    pub graph_version: i64,
    pub as_of: Timestamp,
    pub valid_until: Timestamp,
    pub subjects: i64,
    /// Pre-trusted customers in the graph.
    pub seeds: i64,
    /// Long-standing members in the graph whom their standing keeps out of the seeds.
    pub removed_seeds: i64,
    pub iterations: i64,
    /// L1 bound on the raw scores' distance from the exact fixed point.
    pub error_bound: f64,
    pub finished_at: Timestamp,
}

#[tracing::instrument(level = "debug", skip_all, fields(run_id = %run.run_id))]
pub async fn record_run(conn: &mut Conn, run: &Run) -> Result<(), ReferralsError> {
    sqlx::query(
        "INSERT INTO trust_runs (run_id, graph_version, as_of_micros, valid_until_micros, subjects, seeds, removed_seeds, iterations, error_bound, finished_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(run.run_id.to_string())
    .bind(run.graph_version)
    .bind(micros(run.as_of))
    .bind(micros(run.valid_until))
    .bind(run.subjects)
    .bind(run.seeds)
    .bind(run.removed_seeds)
    .bind(run.iterations)
    .bind(exact_text(run.error_bound))
    .bind(micros(run.finished_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The batch with the latest graph snapshot, if any finished.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn latest_run(conn: &mut Conn) -> Result<Option<Run>, ReferralsError> {
    let row = sqlx::query(
        "SELECT run_id, graph_version, as_of_micros, valid_until_micros, subjects, seeds, removed_seeds, iterations, error_bound, finished_at_micros \
         FROM trust_runs ORDER BY as_of_micros DESC, run_id DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(Run {
            run_id: id(&row.try_get::<String, _>(0)?)?,
            graph_version: row.try_get(1)?,
            as_of: instant(row.try_get(2)?)?,
            valid_until: instant(row.try_get(3)?)?,
            subjects: row.try_get(4)?,
            seeds: row.try_get(5)?,
            removed_seeds: row.try_get(6)?,
            iterations: row.try_get(7)?,
            error_bound: parse_exact(&row.try_get::<String, _>(8)?)?,
            finished_at: instant(row.try_get(9)?)?,
        })
    })
    .transpose()
}
