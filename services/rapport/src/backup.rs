//! `rapport backup DIR` and `rapport restore DIR`: online snapshots of the suite's SQLite
//! databases and bringing them back (deploy/RUNBOOK.md, "Backups and restore").
//!
//! A backup is SQLite's `VACUUM INTO` from a read-only connection: a transactionally consistent
//! copy taken while the services keep serving. With several databases (`rapport dev`'s four),
//! the backup holds each file's write lock (`BEGIN IMMEDIATE`, as the services' own writers do)
//! while the copies are made, so the files are one instant: an outbox event a producer marked
//! delivered is in its consumer's copy too. Writers wait for those milliseconds (their busy
//! timeout is 5 s) instead of failing. Each copy is written under a temporary name, checked with
//! `PRAGMA quick_check`, synced, then linked to its final name, which refuses to replace a file.
//! `manifest.json`, written last, is what makes a directory a complete backup.
//!
//! A restore refuses while anything has a database open: it asks SQLite for an exclusive lock
//! on each live file (`PRAGMA locking_mode = EXCLUSIVE` then `BEGIN EXCLUSIVE`, without
//! waiting). In WAL mode every open connection holds a shared lock on the file's shared memory
//! for as long as it is open, idle or not, so the lock is granted only when no process (a
//! running `rapport dev` or `rapport serve`, whose outbox workers keep a connection open) uses
//! the file. Releasing it checkpoints the old file's WAL; then each backup file, verified with
//! `PRAGMA integrity_check`, is copied to a temporary file beside the live one, synced, and
//! renamed over it, after the old file's `-wal`, `-shm` and `-journal` are removed (SQLite would
//! otherwise replay a stale WAL into the restored file). A suite started between the check and
//! the rename is not seen: nothing should start on the data directory while a restore runs.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rapport_storage::sqlx::any::install_default_drivers;
use rapport_storage::sqlx::{self, AnyConnection, Connection, Row};
use rapport_storage::{Backend, StorageError, StorageSettings};

use crate::service::ServiceName;

/// The file that lists a backup's databases; a directory without it is not a complete backup.
pub const MANIFEST: &str = "manifest.json";
/// Written into the manifest so a later release can read older backups.
const MANIFEST_FORMAT: u64 = 1;
/// As the services' own connections (libs/storage): wait for a lock rather than fail.
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000";

/// A service's SQLite database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub service: &'static str,
    pub file: PathBuf,
}

impl Database {
    /// The backup's copy is named after the service, whatever the live file is called.
    fn backup_name(&self) -> String {
        format!("{}.db", self.service)
    }
}

/// The four databases of `rapport dev --data-dir DIR` (dev.rs names them), producers before
/// consumers.
pub fn dev_databases(data_dir: &Path) -> Vec<Database> {
    [
        rapport_profiles::NAME,
        rapport_plans::NAME,
        rapport_referrals::NAME,
        rapport_loyalty::NAME,
    ]
    .into_iter()
    .map(|service| Database {
        service,
        file: data_dir.join(format!("{service}.db")),
    })
    .collect()
}

/// The database of `rapport serve SERVICE --config FILE`, which must be SQLite.
pub fn served_database(service: ServiceName, config: Option<&Path>) -> anyhow::Result<Database> {
    let context = || format!("loading the {service:?} configuration");
    let (name, storage): (&'static str, StorageSettings) = match service {
        ServiceName::Profiles => (
            rapport_profiles::NAME,
            rapport_config::load::<rapport_profiles::Settings>(config)
                .with_context(context)?
                .storage,
        ),
        ServiceName::Plans => (
            rapport_plans::NAME,
            rapport_config::load::<rapport_plans::Settings>(config)
                .with_context(context)?
                .storage,
        ),
        ServiceName::Referrals => (
            rapport_referrals::NAME,
            rapport_config::load::<rapport_referrals::Settings>(config)
                .with_context(context)?
                .storage,
        ),
        ServiceName::Loyalty => (
            rapport_loyalty::NAME,
            rapport_config::load::<rapport_loyalty::Settings>(config)
                .with_context(context)?
                .storage,
        ),
        ServiceName::Desk => anyhow::bail!("desk keeps no data: there is nothing to back up"),
    };
    match Backend::of_url(&storage.url) {
        Some(Backend::Sqlite) => Ok(Database {
            service: name,
            file: sqlite_file(&storage.url)?,
        }),
        Some(Backend::Postgres) => bail!(
            "the {name} service keeps its data in PostgreSQL (storage.url); `rapport backup` copies \
             SQLite files only: back PostgreSQL up with pg_dump or pg_basebackup and WAL archiving \
             (deploy/RUNBOOK.md, \"Backups and restore\")"
        ),
        None => bail!("storage.url must start with sqlite:// or postgres://"),
    }
}

/// The file a `sqlite://` URL names (its query string dropped).
fn sqlite_file(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if path.is_empty() || path.contains(":memory:") {
        bail!("storage.url {url:?} names no file to back up");
    }
    Ok(PathBuf::from(path))
}

/// A connection of our own to one SQLite file; `mode` is `ro` or `rw` (never `rwc`: a missing
/// file is an error, not a new empty database).
async fn connect(file: &Path, mode: &str) -> anyhow::Result<AnyConnection> {
    install_default_drivers();
    // sqlx percent-decodes the path; keep `%`, `?` and `#` in file names literal.
    let path = file
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", file.display()))?
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    let mut connection = AnyConnection::connect(&format!("sqlite://{path}?mode={mode}"))
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    sqlx::query(BUSY_TIMEOUT).execute(&mut connection).await?;
    Ok(connection)
}

/// What `PRAGMA quick_check` or `PRAGMA integrity_check` found: `Ok` when SQLite says `ok`.
async fn check(connection: &mut AnyConnection, pragma: &'static str) -> anyhow::Result<()> {
    let findings: Vec<String> = sqlx::query(pragma)
        .fetch_all(&mut *connection)
        .await?
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    if findings == ["ok"] {
        Ok(())
    } else {
        let first: Vec<&str> = findings.iter().take(5).map(String::as_str).collect();
        bail!("{pragma} found: {}", first.join("; "))
    }
}

/// The newest migration applied to the database.
async fn migration_version(connection: &mut AnyConnection) -> anyhow::Result<i64> {
    let version: Option<i64> =
        sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *connection)
            .await
            .context("reading _sqlx_migrations (is it a migrated Rapport database?)")?
            .try_get(0)?;
    version.context("no migration has been applied")
}

/// Makes a file's data, or a directory's entries, durable.
fn sync(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        // Directories cannot be opened for syncing everywhere (Windows); where they can, a
        // rename or link is durable only once its directory is synced.
        #[cfg(unix)]
        File::open(path)?.sync_all()?;
        Ok(())
    } else {
        OpenOptions::new().write(true).open(path)?.sync_all()
    }
}

/// Files removed when dropped: the partial copies of a backup or restore that did not finish.
struct Partials(Vec<PathBuf>);

impl Drop for Partials {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = fs::remove_file(path);
        }
    }
}

/// One file of a finished backup, as the manifest records it.
struct Copied {
    service: &'static str,
    name: String,
    source: PathBuf,
    bytes: u64,
    migration_version: i64,
}

/// Takes a consistent online snapshot of every database into `into` (created if missing), with
/// a manifest; says what it wrote. Refuses to replace an earlier backup's files.
pub async fn backup(databases: &[Database], into: &Path) -> anyhow::Result<String> {
    if into.join(MANIFEST).exists() {
        bail!(
            "{} already holds a backup ({MANIFEST}); backups are never overwritten: give a new directory",
            into.display()
        );
    }
    for database in databases {
        if !database.file.is_file() {
            bail!(
                "no {} database at {} (is the data directory or configuration right?)",
                database.service,
                database.file.display()
            );
        }
        let target = into.join(database.backup_name());
        if target.exists() {
            bail!(
                "{} exists; backups are never overwritten: give a new directory",
                target.display()
            );
        }
    }
    fs::create_dir_all(into).with_context(|| format!("creating {}", into.display()))?;

    let mut partials = Partials(Vec::new());
    let mut readers = Vec::with_capacity(databases.len());
    for database in databases {
        readers.push(connect(&database.file, "ro").await?);
    }
    // One instant across several files: no service commits while the copies are made.
    let mut writers = Vec::new();
    if databases.len() > 1 {
        for database in databases {
            writers.push(connect(&database.file, "rw").await?);
        }
    }
    let mut write_locks = Vec::with_capacity(writers.len());
    for (writer, database) in writers.iter_mut().zip(databases) {
        write_locks.push(
            writer
                .begin_with("BEGIN IMMEDIATE")
                .await
                .with_context(|| format!("pausing writes to {}", database.file.display()))?,
        );
    }
    let taken_at = jiff::Timestamp::now();
    for (reader, database) in readers.iter_mut().zip(databases) {
        let partial = into.join(format!(".{}.partial", database.backup_name()));
        // A partial file is only ever a crashed backup's; VACUUM INTO refuses to write over it.
        match fs::remove_file(&partial) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("removing {}", partial.display()));
            }
            _ => {}
        }
        partials.0.push(partial.clone());
        let partial_name = partial
            .to_str()
            .with_context(|| format!("{} is not a UTF-8 path", partial.display()))?
            .to_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(partial_name)
            .execute(&mut *reader)
            .await
            .with_context(|| format!("copying {}", database.file.display()))?;
    }
    for lock in write_locks {
        lock.rollback().await?;
    }
    for connection in writers.into_iter().chain(readers) {
        connection.close().await?;
    }

    let mut copied = Vec::with_capacity(databases.len());
    for (database, partial) in databases.iter().zip(&partials.0) {
        let mut snapshot = connect(partial, "ro").await?;
        check(&mut snapshot, "PRAGMA quick_check")
            .await
            .with_context(|| format!("the copy of {} does not check", database.file.display()))?;
        let migration_version = migration_version(&mut snapshot)
            .await
            .with_context(|| format!("{}", database.file.display()))?;
        snapshot.close().await?;
        sync(partial).with_context(|| format!("syncing {}", partial.display()))?;
        copied.push(Copied {
            service: database.service,
            name: database.backup_name(),
            source: database.file.clone(),
            bytes: fs::metadata(partial)?.len(),
            migration_version,
        });
    }
    // A link fails if the name exists, where a rename would replace it.
    for (file, partial) in copied.iter().zip(&partials.0) {
        let target = into.join(&file.name);
        fs::hard_link(partial, &target).with_context(|| {
            format!(
                "naming {} (backups are never overwritten)",
                target.display()
            )
        })?;
    }
    drop(partials);

    let manifest = serde_json::json!({
        "format": MANIFEST_FORMAT,
        "taken_at": taken_at.to_string(),
        "rapport_version": env!("CARGO_PKG_VERSION"),
        "databases": copied.iter().map(|file| serde_json::json!({
            "service": file.service,
            "file": file.name,
            "bytes": file.bytes,
            "migration_version": file.migration_version,
            "source": file.source.display().to_string(),
        })).collect::<Vec<_>>(),
    });
    let partial_manifest = into.join(format!(".{MANIFEST}.partial"));
    let partials = Partials(vec![partial_manifest.clone()]);
    fs::write(&partial_manifest, serde_json::to_vec_pretty(&manifest)?)?;
    sync(&partial_manifest)?;
    fs::hard_link(&partial_manifest, into.join(MANIFEST))
        .with_context(|| format!("naming {}", into.join(MANIFEST).display()))?;
    drop(partials);
    sync(into).with_context(|| format!("syncing {}", into.display()))?;

    let mut text = format!(
        "backup of {} database(s) in {}, taken at {taken_at}{}:\n",
        copied.len(),
        into.display(),
        if copied.len() > 1 {
            " (one instant across the files)"
        } else {
            ""
        },
    );
    for file in &copied {
        let _ = writeln!(
            text,
            "  {:<10} {:<14} {:>12} bytes  migration {:<4} quick_check ok  (from {})",
            file.service,
            file.name,
            file.bytes,
            file.migration_version,
            file.source.display()
        );
    }
    let _ = writeln!(text, "  manifest   {}", into.join(MANIFEST).display());
    Ok(text)
}

/// One database named by a backup's manifest.
#[derive(Debug)]
struct Entry {
    service: String,
    name: String,
    bytes: u64,
    migration_version: Option<i64>,
}

fn read_manifest(from: &Path) -> anyhow::Result<(String, Vec<Entry>)> {
    let path = from.join(MANIFEST);
    let text = fs::read(&path).with_context(|| {
        format!(
            "reading {} (a backup is complete only with its manifest)",
            path.display()
        )
    })?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("reading {}", path.display()))?;
    if manifest["format"].as_u64() != Some(MANIFEST_FORMAT) {
        bail!(
            "{} has format {}, this rapport reads format {MANIFEST_FORMAT}",
            path.display(),
            manifest["format"]
        );
    }
    let taken_at = manifest["taken_at"].as_str().unwrap_or("?").to_owned();
    let databases = manifest["databases"]
        .as_array()
        .with_context(|| format!("{} lists no databases", path.display()))?;
    let mut entries = Vec::with_capacity(databases.len());
    for database in databases {
        let (Some(service), Some(name), Some(bytes)) = (
            database["service"].as_str(),
            database["file"].as_str(),
            database["bytes"].as_u64(),
        ) else {
            bail!(
                "{} has an entry without service, file or bytes",
                path.display()
            );
        };
        // Only a plain file name: a manifest must not write outside the data directory.
        if Path::new(name).file_name() != Some(std::ffi::OsStr::new(name)) || !name.ends_with(".db")
        {
            bail!("{} names an unexpected file {name:?}", path.display());
        }
        entries.push(Entry {
            service: service.to_owned(),
            name: name.to_owned(),
            bytes,
            migration_version: database["migration_version"].as_i64(),
        });
    }
    if entries.is_empty() {
        bail!("{} lists no databases", path.display());
    }
    Ok((taken_at, entries))
}

/// Takes SQLite's exclusive lock on a live database without waiting, to show that nothing else
/// has it open; the connection holds the lock until it is closed. `None` when SQLite cannot read
/// the file at all (it is damaged, which is a reason to restore), so there is nothing to lock.
async fn claim(live: &Path) -> anyhow::Result<Option<AnyConnection>> {
    let mut connection = connect(live, "rw").await?;
    sqlx::query("PRAGMA busy_timeout = 0")
        .execute(&mut connection)
        .await?;
    sqlx::query("PRAGMA locking_mode = EXCLUSIVE")
        .execute(&mut connection)
        .await?;
    let claimed = match connection.begin_with("BEGIN EXCLUSIVE").await {
        Ok(transaction) => transaction.commit().await,
        Err(error) => Err(error),
    };
    match claimed.map_err(StorageError::from) {
        Ok(()) => Ok(Some(connection)),
        Err(error) if error.is_unavailable() => bail!(
            "{} is in use by another process (a running `rapport dev` or `rapport serve`?): \
             stop it before restoring",
            live.display()
        ),
        Err(StorageError::Damaged(_)) => Ok(None),
        Err(error) => Err(error).with_context(|| format!("locking {}", live.display())),
    }
}

/// Brings the backup in `from` back into `data_dir` (created if missing), replacing the
/// databases it names; says what it did. Refuses while anything uses them, and before changing
/// anything if a backup file does not check.
pub async fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<String> {
    let (taken_at, entries) = read_manifest(from)?;
    for entry in &entries {
        let file = from.join(&entry.name);
        let bytes = fs::metadata(&file)
            .with_context(|| format!("the backup lacks {}", file.display()))?
            .len();
        if bytes != entry.bytes {
            bail!(
                "{} has {bytes} bytes, the manifest says {}: the backup is incomplete or altered",
                file.display(),
                entry.bytes
            );
        }
        let mut connection = connect(&file, "ro").await?;
        check(&mut connection, "PRAGMA integrity_check")
            .await
            .with_context(|| format!("{} is damaged; nothing was restored", file.display()))?;
        connection.close().await?;
    }
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;

    let mut claims = Vec::new();
    let mut replaced = Vec::with_capacity(entries.len());
    for entry in &entries {
        let live = data_dir.join(&entry.name);
        let previous = fs::metadata(&live).ok().map(|m| m.len());
        if previous.is_some()
            && let Some(connection) = claim(&live).await?
        {
            claims.push(connection);
        }
        replaced.push(previous);
    }
    // The last connection to close checkpoints its WAL into the old file and removes it.
    for connection in claims {
        connection.close().await?;
    }

    let mut text = format!(
        "restored {} database(s) into {} from {} (taken at {taken_at}):\n",
        entries.len(),
        data_dir.display(),
        from.display()
    );
    for (entry, previous) in entries.iter().zip(replaced) {
        let live = data_dir.join(&entry.name);
        let partial = data_dir.join(format!(".{}.restoring", entry.name));
        let partials = Partials(vec![partial.clone()]);
        fs::copy(from.join(&entry.name), &partial)
            .with_context(|| format!("copying into {}", partial.display()))?;
        sync(&partial).with_context(|| format!("syncing {}", partial.display()))?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let stale = data_dir.join(format!("{}{suffix}", entry.name));
            match fs::remove_file(&stale) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(error).with_context(|| format!("removing {}", stale.display()));
                }
                _ => {}
            }
        }
        fs::rename(&partial, &live)
            .with_context(|| format!("moving the copy to {}", live.display()))?;
        drop(partials);
        sync(data_dir).with_context(|| format!("syncing {}", data_dir.display()))?;
        let _ = writeln!(
            text,
            "  {:<10} {}  {}, migration {}, integrity_check ok",
            entry.service,
            live.display(),
            match previous {
                Some(bytes) => format!("replaced (was {bytes} bytes)"),
                None => "created".to_owned(),
            },
            entry
                .migration_version
                .map_or_else(|| "?".to_owned(), |v| v.to_string()),
        );
    }
    text.push_str(
        "start the suite on it, then check /readyz and VerifyAuditChain (deploy/RUNBOOK.md, \"Backups and restore\")\n",
    );
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/plans.db?mode=rwc").expect("a file"),
            PathBuf::from("data/plans.db")
        );
        assert_eq!(
            sqlite_file("sqlite:/var/lib/rapport/loyalty.db").expect("a file"),
            PathBuf::from("/var/lib/rapport/loyalty.db")
        );
        assert!(sqlite_file("sqlite::memory:").is_err());
    }

    #[test]
    fn a_manifest_cannot_name_a_file_outside_the_data_directory() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let manifest = serde_json::json!({
            "format": MANIFEST_FORMAT,
            "taken_at": "2026-01-01T00:00:00Z",
            "databases": [{"service": "profiles", "file": "../profiles.db", "bytes": 1}],
        });
        fs::write(dir.path().join(MANIFEST), manifest.to_string()).expect("write");
        let error = read_manifest(dir.path()).expect_err("refused");
        assert!(error.to_string().contains("unexpected file"), "{error}");
    }
}
