//! A private, throwaway PostgreSQL cluster for a test (the machine's shared cluster, which
//! other suites use at the same time, is never touched): restarted under load by the fault
//! tests, served over TLS with a test CA by the TLS test.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Whether this machine can run a private PostgreSQL cluster here (root, to run it as the
/// `postgres` user; PostgreSQL 15 in [`PG_BIN`]). Where it cannot: a failure in CI, a loud skip
/// elsewhere.
pub fn private_postgres_possible(test: &str) -> bool {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_default();
    let missing = if uid != "0" {
        Some(format!("not running as root (uid {uid:?})"))
    } else if !Path::new(PG_BIN).join("initdb").exists() {
        Some(format!("no PostgreSQL 15 in {PG_BIN}"))
    } else if Command::new("id")
        .arg("postgres")
        .output()
        .map_or(true, |output| !output.status.success())
    {
        Some("no `postgres` OS user".to_owned())
    } else {
        None
    };
    let Some(missing) = missing else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs a private PostgreSQL cluster: {missing}. CI must run it as root with PostgreSQL 15 in {PG_BIN}."
    );
    // Straight to stderr, past the test harness's capture: a skip is never silent.
    let _ = writeln!(
        std::io::stderr().lock(),
        "!!!!!!!! SKIPPED {test}: {missing}; it needs root and PostgreSQL 15 in {PG_BIN} (in CI this fails) !!!!!!!!"
    );
    false
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `runuser -u postgres -- <PG_BIN>/<program> args…`, which must succeed.
fn as_postgres(program: &str, args: &[&str]) {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(Path::new(PG_BIN).join(program))
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("runuser {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How to start and stop one cluster with `pg_ctl`; cheap to clone into a blocking task.
#[derive(Debug, Clone)]
pub struct PgCtl {
    data: String,
    log: String,
    /// The server's options: its port, its socket directory.
    options: String,
}

impl PgCtl {
    /// Starts the server and returns once it accepts connections (`-w`).
    pub fn start(&self) {
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                &self.data,
                "-l",
                &self.log,
                "-o",
                &self.options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server as an operator restarting it would: `-m fast` ends every session.
    pub fn stop_fast(&self) {
        as_postgres(
            "pg_ctl",
            &["-D", &self.data, "-m", "fast", "-w", "-t", "60", "stop"],
        );
    }

    /// Runs `pg_ctl` in a blocking task: the test's own runtime keeps serving its callers.
    pub async fn run(&self, action: fn(&Self)) {
        let ctl = self.clone();
        tokio::task::spawn_blocking(move || action(&ctl))
            .await
            .expect("pg_ctl task");
    }
}

/// A throwaway PostgreSQL cluster of this test alone (the machine's shared cluster is never
/// touched), stopped when dropped, even on a panic.
pub struct PrivateCluster {
    pub port: u16,
    pub ctl: PgCtl,
    // Removed after the cluster is stopped (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

/// A server certificate and key (PEM) for a cluster that accepts TLS connections only.
pub struct ServerTls<'a> {
    pub certificate: &'a str,
    pub key: &'a str,
}

impl PrivateCluster {
    /// A cluster that accepts plaintext connections (trust auth).
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A cluster that accepts only TLS connections (`hostssl` in pg_hba.conf), with `tls`.
    pub fn start_tls_only(tls: &ServerTls<'_>) -> Self {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<&ServerTls<'_>>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rapport-pg-")
            .tempdir()
            .expect("cluster directory");
        let postgres_id = |flag: &str| -> u32 {
            let output = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .expect("id runs");
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .expect("a numeric id")
        };
        std::os::unix::fs::chown(dir.path(), Some(postgres_id("-u")), Some(postgres_id("-g")))
            .expect("the cluster directory belongs to postgres");
        let data = dir.path().join("data").display().to_string();
        as_postgres(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let mut ssl = String::new();
        if let Some(tls) = tls {
            // The key must belong to the server's user and be private to it.
            let certificate = dir.path().join("server.crt");
            let key = dir.path().join("server.key");
            std::fs::write(&certificate, tls.certificate).expect("server certificate");
            std::fs::write(&key, tls.key).expect("server key");
            for file in [&certificate, &key] {
                std::os::unix::fs::chown(file, Some(postgres_id("-u")), Some(postgres_id("-g")))
                    .expect("the key belongs to postgres");
            }
            std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("the key is private");
            std::fs::write(
                Path::new(&data).join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
            )
            .expect("pg_hba.conf");
            ssl = format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certificate.display(),
                key.display()
            );
        }
        let port = free_port();
        let cluster = Self {
            port,
            ctl: PgCtl {
                data,
                log: dir.path().join("postgres.log").display().to_string(),
                // Its socket in its own directory; no fsync: nothing here outlives the test.
                options: format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off{ssl}",
                    dir.path().display()
                ),
            },
            _dir: dir,
        };
        cluster.ctl.start();
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(Path::new(PG_BIN).join("pg_ctl"))
            .args(["-D", &self.ctl.data, "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
