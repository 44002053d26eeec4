//! A fresh database per test, on either backend.
//!
//! SQLite: a new file in a temporary directory. PostgreSQL: a new schema in the database named by
//! `RAPPORT_TEST_DATABASE_URL`. When that variable is unset the PostgreSQL variant of a test says
//! so on stderr and passes; with `CI` set it fails instead, so CI can never skip it silently.
//! [`backend_tests!`](crate::backend_tests) writes both variants of a test.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyPoolOptions;

use crate::{Storage, StorageSettings};

/// The variable naming the PostgreSQL database tests may create schemas in.
pub const TEST_DATABASE_URL_VAR: &str = "RAPPORT_TEST_DATABASE_URL";

/// Settings for one test's private database; keeps its temporary directory alive.
#[derive(Debug)]
pub struct TestDatabase {
    pub settings: StorageSettings,
    _directory: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new SQLite file in its own temporary directory.
    pub fn sqlite() -> Self {
        let directory = tempfile::tempdir().expect("temporary directory");
        let settings = StorageSettings {
            url: format!("sqlite://{}/test.db", directory.path().display()),
            ..StorageSettings::default()
        };
        Self {
            settings,
            _directory: Some(directory),
        }
    }

    /// A new, empty schema in the PostgreSQL test database, or `None` when
    /// `RAPPORT_TEST_DATABASE_URL` is not set (outside CI).
    ///
    /// # Panics
    /// When `CI` is set but the database URL is not, or the database cannot be reached.
    pub async fn postgres() -> Option<Self> {
        let Ok(url) = std::env::var(TEST_DATABASE_URL_VAR) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{TEST_DATABASE_URL_VAR} must be set in CI: the PostgreSQL suite may not be skipped"
            );
            // Tests print nothing on success; this line shows under `--nocapture` and in
            // nextest's output, so a local run without PostgreSQL is visible, not silent.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("postgres variant not run: {TEST_DATABASE_URL_VAR} is not set");
            }
            return None;
        };
        let schema = format!("t_{}", rapport_ids::Id::new().as_uuid().simple());
        sqlx::any::install_default_drivers();
        let admin = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap_or_else(|error| panic!("{TEST_DATABASE_URL_VAR} is not reachable: {error}"));
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .expect("create the test schema");
        admin.close().await;
        Some(Self {
            settings: StorageSettings {
                url,
                schema: Some(schema),
                max_connections: 4,
                writer_connections: 2,
                ..StorageSettings::default()
            },
            _directory: None,
        })
    }

    /// Opens the storage (without migrating it).
    pub fn open(&self) -> Storage {
        Storage::open(&self.settings).expect("test storage opens")
    }
}

/// Writes a test twice, once per backend:
///
/// ```text
/// async fn records_survive(db: TestDatabase) { ... }
/// rapport_storage::backend_tests!(records_survive);
/// ```
/// produces `records_survive::sqlite` and `records_survive::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test($crate::testing::TestDatabase::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(database) = $crate::testing::TestDatabase::postgres().await {
                        super::$test(database).await;
                    }
                }
            }
        )+
    };
}
