//! Damage found and named (issue 20): before a SQLite file is served, one plain read-only
//! connection runs `PRAGMA quick_check` within a time bound, so a damaged header, a truncated file
//! or pages overwritten mid-file stop start-up with the file, SQLite's own words and what to do,
//! instead of a pool timing out or damaged pages being served. `rapport check` runs the full
//! `PRAGMA integrity_check` ([`integrity_check`]).
//!
//! The check opens its own connection, not the pools: a pool retries a failed connection until
//! its acquire timeout and then reports only that it timed out.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

use crate::store::StorageError;

/// What an operator does about a damaged file (deploy/RUNBOOK.md, "Damaged database").
const REMEDY: &str = "stop the service and restore the file from a backup \
     (`rapport restore BACKUP_DIR --data-dir DIR`); see deploy/RUNBOOK.md, \"Damaged database\"";

/// The start-up check's bound unless `storage.integrity_check_timeout_ms` says otherwise.
pub(crate) const DEFAULT_START_UP_BOUND_MS: u64 = 10_000;

/// How many of the check's findings an error quotes (the full list is `rapport check`'s).
const FINDINGS_QUOTED: usize = 5;

/// SQLite's primary result codes (https://www.sqlite.org/rescode.html) the check tells apart.
const SQLITE_INTERRUPT: i32 = 9;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_NOTADB: i32 = 26;

/// How often (in SQLite virtual-machine steps, or pages during a check) the bound is looked at.
const PROGRESS_STEPS: i32 = 64;

/// A database file SQLite refuses or whose check found problems. Its message names the file,
/// the cause in SQLite's words and what to do.
#[derive(Debug, thiserror::Error)]
#[error("the database file {} is damaged: {detail}; {REMEDY}", path.display())]
pub struct DamagedDatabase {
    path: PathBuf,
    /// SQLite's error (with its code) or the check's first findings.
    detail: String,
    /// SQLite's extended result code: the error's, or SQLITE_CORRUPT for the check's findings.
    code: i32,
}

impl DamagedDatabase {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's error or the check's first findings.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// A damaged file becomes [`StorageError::Damaged`] carrying it as the database's error, so its
/// path and cause stay in the error chain and its SQLite code classifies it like any other.
impl From<DamagedDatabase> for StorageError {
    fn from(damaged: DamagedDatabase) -> Self {
        StorageError::from(sqlx::Error::Database(Box::new(damaged)))
    }
}

impl DatabaseError for DamagedDatabase {
    fn message(&self) -> &str {
        &self.detail
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// What a check found.
#[derive(Debug)]
pub enum IntegrityReport {
    /// SQLite found nothing wrong.
    Sound,
    /// There is no file yet; it is created empty on first start.
    Missing,
    Damaged(DamagedDatabase),
}

impl IntegrityReport {
    pub fn is_damaged(&self) -> bool {
        matches!(self, Self::Damaged(_))
    }
}

/// A check that did not come to a verdict: the file is not known to be damaged.
#[derive(Debug, thiserror::Error)]
pub enum CheckNotFinished {
    #[error("the check of {} was cut off after {} ms (a large file or a slow disk); it found no damage before then", path.display(), bound.as_millis())]
    CutOff { path: PathBuf, bound: Duration },
    /// The file could not be opened or read for a reason other than damage (permissions, a lock,
    /// the file system).
    #[error("the database file {} could not be checked", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
}

/// The start-up check: `PRAGMA quick_check` (pages and records, not index contents) within
/// `bound`. A missing file passes (it will be created). A check cut off by the bound, or one
/// that could not open the file for a reason other than damage, logs a warning naming the file
/// and passes, so a huge file or a slow disk cannot hold start-up forever; the pools then meet
/// any such problem themselves.
#[tracing::instrument(skip_all, fields(path = %path.display()))]
pub async fn check_before_serving(path: &Path, bound: Duration) -> Result<(), DamagedDatabase> {
    match run_check(path, "PRAGMA quick_check", Some(bound)).await {
        Ok(IntegrityReport::Sound | IntegrityReport::Missing) => Ok(()),
        // Logged once, by whoever gives up on it (the server: "cannot become ready").
        Ok(IntegrityReport::Damaged(damaged)) => Err(damaged),
        Err(unfinished) => {
            tracing::warn!(
                error = %rapport_errors::chain(&unfinished),
                "the start-up integrity check did not finish; serving without it (`rapport check` runs the full check)"
            );
            Ok(())
        }
    }
}

/// The full check, `PRAGMA integrity_check` (also every index against its table), without a
/// time bound: what `rapport check` runs.
#[tracing::instrument(skip_all, fields(path = %path.display()))]
pub async fn integrity_check(path: &Path) -> Result<IntegrityReport, CheckNotFinished> {
    run_check(path, "PRAGMA integrity_check", None).await
}

async fn run_check(
    path: &Path,
    pragma: &'static str,
    bound: Option<Duration>,
) -> Result<IntegrityReport, CheckNotFinished> {
    match tokio::fs::try_exists(path).await {
        Ok(false) => return Ok(IntegrityReport::Missing),
        Ok(true) => {}
        Err(error) => {
            return Err(CheckNotFinished::Unreadable {
                path: path.to_owned(),
                source: sqlx::Error::Io(error),
            });
        }
    }
    let cut_off = || CheckNotFinished::CutOff {
        path: path.to_owned(),
        bound: bound.unwrap_or_default(),
    };
    let check = check_rows(path, pragma, bound.map(|bound| Instant::now() + bound));
    let outcome = match bound {
        // The progress handler interrupts the check itself; this also bounds opening the file,
        // with a little slack so the handler is what normally ends it.
        Some(bound) => match tokio::time::timeout(bound + Duration::from_secs(1), check).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => return Err(cut_off()),
        },
        None => check.await,
    };
    match outcome {
        Ok(findings) if findings.len() == 1 && findings[0] == "ok" => Ok(IntegrityReport::Sound),
        Ok(findings) => Ok(IntegrityReport::Damaged(DamagedDatabase {
            path: path.to_owned(),
            detail: quote(&findings),
            code: SQLITE_CORRUPT,
        })),
        Err(sqlx::Error::Database(error)) => {
            let code = error
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .unwrap_or_default();
            match code & 0xff {
                SQLITE_CORRUPT | SQLITE_NOTADB => Ok(IntegrityReport::Damaged(DamagedDatabase {
                    path: path.to_owned(),
                    detail: format!("{} (SQLite code {code})", error.message()),
                    code,
                })),
                SQLITE_INTERRUPT if bound.is_some() => Err(cut_off()),
                _ => Err(CheckNotFinished::Unreadable {
                    path: path.to_owned(),
                    source: sqlx::Error::Database(error),
                }),
            }
        }
        Err(source) => Err(CheckNotFinished::Unreadable {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Opens `path` read-only (never creating it) and returns the check's rows. With a deadline, a
/// progress handler interrupts the check once it has passed (SQLITE_INTERRUPT).
async fn check_rows(
    path: &Path,
    pragma: &'static str,
    deadline: Option<Instant>,
) -> Result<Vec<String>, sqlx::Error> {
    // Options rather than a URL: a path needs no escaping this way.
    let mut connection: SqliteConnection = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        .connect()
        .await?;
    if let Some(deadline) = deadline {
        connection
            .lock_handle()
            .await?
            .set_progress_handler(PROGRESS_STEPS, move || Instant::now() < deadline);
    }
    let rows = sqlx::query(pragma).fetch_all(&mut connection).await;
    connection.close().await.ok();
    rows?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect()
}

/// The check's first findings, on one line.
fn quote(findings: &[String]) -> String {
    let mut text = findings
        .iter()
        .take(FINDINGS_QUOTED)
        .map(|finding| finding.trim())
        .collect::<Vec<_>>()
        .join("; ");
    if findings.len() > FINDINGS_QUOTED {
        text.push_str(&format!(
            "; and {} more (`rapport check` lists them)",
            findings.len() - FINDINGS_QUOTED
        ));
    }
    if text.is_empty() {
        text.push_str("the check returned nothing");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use super::*;

    const BOUND: Duration = Duration::from_secs(10);

    /// A database with a few thousand rows in several tables and an index, closed (so nothing
    /// waits in a journal).
    async fn populated_database(dir: &Path) -> PathBuf {
        let path = dir.join("populated.db");
        let mut connection = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .expect("create database");
        for statement in [
            "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, notes TEXT NOT NULL)",
            "CREATE TABLE payments (id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, amount_minor BIGINT NOT NULL, paid_at BIGINT NOT NULL)",
            "CREATE TABLE touchpoints (id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, channel TEXT NOT NULL, summary TEXT NOT NULL)",
            "CREATE INDEX payments_by_customer ON payments (customer_id, paid_at)",
            "BEGIN",
        ] {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .expect("schema");
        }
        for n in 0..3_000_i64 {
            let customer = format!("customer-{n:06}");
            sqlx::query("INSERT INTO customers (id, name, notes) VALUES ($1, $2, $3)")
                .bind(&customer)
                .bind(format!("Customer number {n}"))
                .bind("prefers a call after six; hardship case closed last spring".repeat(2))
                .execute(&mut connection)
                .await
                .expect("customer");
            sqlx::query(
                "INSERT INTO payments (customer_id, amount_minor, paid_at) VALUES ($1, $2, $3)",
            )
            .bind(&customer)
            .bind(n * 37 % 10_000)
            .bind(1_700_000_000_000_000 + n)
            .execute(&mut connection)
            .await
            .expect("payment");
            sqlx::query(
                "INSERT INTO touchpoints (customer_id, channel, summary) VALUES ($1, 'phone', $2)",
            )
            .bind(&customer)
            .bind(format!("agreed a plan of {} monthly payments", n % 24 + 1))
            .execute(&mut connection)
            .await
            .expect("touchpoint");
        }
        sqlx::query("COMMIT")
            .execute(&mut connection)
            .await
            .expect("commit");
        connection.close().await.expect("close");
        path
    }

    fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .expect("open for damage");
        file.seek(SeekFrom::Start(at)).expect("seek");
        file.write_all(bytes).expect("write");
        file.sync_all().expect("sync");
    }

    /// Bytes that look random (xorshift64*), so the damage does not depend on a random crate.
    fn noise(len: usize) -> Vec<u8> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..len)
            .map(|_| {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    fn assert_names_the_file(error: &DamagedDatabase, path: &Path) {
        let message = error.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "names the file: {message}"
        );
        assert!(
            message.contains("rapport restore"),
            "says what to do: {message}"
        );
        assert!(message.contains("deploy/RUNBOOK.md"), "{message}");
    }

    #[tokio::test]
    async fn a_healthy_file_passes_both_checks() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = populated_database(dir.path()).await;
        check_before_serving(&path, BOUND)
            .await
            .expect("a healthy file is served");
        let report = integrity_check(&path).await.expect("checked");
        assert!(matches!(report, IntegrityReport::Sound), "{report:?}");
    }

    #[tokio::test]
    async fn a_missing_file_passes_and_is_not_created() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("not-yet.db");
        check_before_serving(&path, BOUND)
            .await
            .expect("a missing file is created later");
        let report = integrity_check(&path).await.expect("checked");
        assert!(matches!(report, IntegrityReport::Missing), "{report:?}");
        assert!(!path.exists(), "the check creates nothing");
    }

    #[tokio::test]
    async fn an_overwritten_header_is_damage_that_names_the_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = populated_database(dir.path()).await;
        overwrite(&path, 0, &noise(100));

        let error = check_before_serving(&path, BOUND)
            .await
            .expect_err("a file that is not a database is not served");
        assert_names_the_file(&error, &path);
        assert!(
            error.to_string().contains("not a database"),
            "SQLite's words: {error}"
        );
        let storage_error = StorageError::from(error);
        assert!(
            matches!(storage_error, StorageError::Damaged(_)),
            "{storage_error:?}"
        );
        assert_eq!(storage_error.fault(), crate::store::Fault::Damaged);
        assert!(
            rapport_errors::chain(&storage_error).contains(&path.display().to_string()),
            "the chain keeps the path: {storage_error:?}"
        );
    }

    #[tokio::test]
    async fn a_file_truncated_to_half_is_damage() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = populated_database(dir.path()).await;
        let length = std::fs::metadata(&path).expect("metadata").len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(length / 2)
            .expect("truncate");

        let error = check_before_serving(&path, BOUND)
            .await
            .expect_err("a truncated file is not served");
        assert_names_the_file(&error, &path);
        let report = integrity_check(&path).await.expect("checked");
        assert!(report.is_damaged(), "{report:?}");
    }

    #[tokio::test]
    async fn random_bytes_mid_file_fail_the_quick_check() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = populated_database(dir.path()).await;
        let length = std::fs::metadata(&path).expect("metadata").len();
        assert!(
            length > 256 * 1024,
            "big enough to damage mid-file: {length}"
        );
        overwrite(&path, length / 2, &noise(16 * 1024));

        let error = check_before_serving(&path, BOUND)
            .await
            .expect_err("pages of noise are not served");
        assert_names_the_file(&error, &path);
        let IntegrityReport::Damaged(full) = integrity_check(&path).await.expect("checked") else {
            panic!("the full check finds the damage too");
        };
        assert_names_the_file(&full, &path);
    }

    #[tokio::test]
    async fn a_check_cut_off_by_its_bound_lets_start_up_go_on() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = populated_database(dir.path()).await;
        let length = std::fs::metadata(&path).expect("metadata").len();
        overwrite(&path, length / 2, &noise(16 * 1024));

        let unfinished = run_check(&path, "PRAGMA quick_check", Some(Duration::ZERO))
            .await
            .expect_err("no time to check");
        assert!(
            matches!(unfinished, CheckNotFinished::CutOff { .. }),
            "{unfinished:?}"
        );
        assert!(unfinished.to_string().contains(&path.display().to_string()));
        check_before_serving(&path, Duration::ZERO)
            .await
            .expect("a check that could not finish does not stop start-up");
    }

    #[test]
    fn findings_are_quoted_on_one_line_and_counted_past_five() {
        let findings: Vec<String> = (1..=7).map(|n| format!("problem {n}\n")).collect();
        assert_eq!(
            quote(&findings),
            "problem 1; problem 2; problem 3; problem 4; problem 5; and 2 more (`rapport check` lists them)"
        );
    }
}
