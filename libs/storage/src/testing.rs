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

/// Counts the round trips clients make to PostgreSQL through it: each simple query (`Q`) and
/// each `Sync` (`S`, which ends an extended-protocol statement, and is all sqlx's ping sends)
/// waits for the server's ReadyForQuery. It reads the protocol's frames on the way in and
/// forwards them untouched.
#[derive(Debug)]
pub struct RoundTrips {
    address: std::net::SocketAddr,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl RoundTrips {
    /// Puts a counter between `database` (PostgreSQL) and whoever opens it: its URL is
    /// rewritten to the counter's address, in plain text (`sslmode=disable`) so the frames can
    /// be read.
    ///
    /// # Panics
    /// When the URL is not `postgres://user@host:port/database`.
    pub async fn in_front_of(database: &mut TestDatabase) -> Self {
        let url = database.settings.url.clone();
        let (authority, path) = url
            .trim_start_matches("postgres://")
            .split_once('/')
            .expect("postgres://user@host:port/database");
        let (user, host) = authority.rsplit_once('@').expect("a user in the test URL");
        let database_name = path.split('?').next().expect("a database name");
        let counter = Self::listening(host.to_owned()).await;
        database.settings.url = format!(
            "postgres://{user}@{}/{database_name}?sslmode=disable",
            counter.address
        );
        counter
    }

    async fn listening(server: String) -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the counter");
        let address = listener.local_addr().expect("its address");
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = count.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = tokio::net::TcpStream::connect(&server)
                    .await
                    .expect("PostgreSQL answers");
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = upstream.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                });
                let counted = counted.clone();
                tokio::spawn(async move {
                    // The startup message has no type byte: its length, then its body.
                    let mut typed = false;
                    loop {
                        let mut head = [0u8; 5];
                        let head = if typed { &mut head[..] } else { &mut head[1..] };
                        if from_client.read_exact(head).await.is_err() {
                            break;
                        }
                        let length = u32::from_be_bytes(
                            head[head.len() - 4..].try_into().expect("four bytes"),
                        ) as usize;
                        let mut body = vec![0u8; length.saturating_sub(4)];
                        if from_client.read_exact(&mut body).await.is_err() {
                            break;
                        }
                        if typed && matches!(head[0], b'Q' | b'S') {
                            counted.fetch_add(1, Ordering::SeqCst);
                        }
                        typed = true;
                        if to_server.write_all(head).await.is_err()
                            || to_server.write_all(&body).await.is_err()
                        {
                            break;
                        }
                    }
                });
            }
        });
        Self { address, count }
    }

    /// Round trips so far, over every connection through the counter.
    pub fn so_far(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}
