use serde::{Deserialize, Serialize};

/// Where and how a service keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host/db`.
    pub url: String,
    /// PostgreSQL only: the schema this service's tables live in (created if missing).
    pub schema: Option<String>,
    /// The readers' pool size (on SQLite and on PostgreSQL).
    pub max_connections: u32,
    /// PostgreSQL only: the writers' pool size, beside the readers' (SQLite has one writer). A
    /// pod opens at most `max_connections + writer_connections` connections.
    pub writer_connections: u32,
    /// How long a call waits for a free connection before it fails as unavailable.
    pub acquire_timeout_ms: u64,
    /// SQLite only: how long the start-up `PRAGMA quick_check` of the file may run. A check cut
    /// off by it logs a warning naming the file and start-up goes on (a huge file cannot hold
    /// start-up forever); damage found within it stops start-up with the file and the cause.
    pub integrity_check_timeout_ms: u64,
    /// PostgreSQL only: TLS to the database server (issue 21). Absent = what the URL says
    /// (`sslmode`, default `prefer`); production sets `mode = "verify-full"` and `ca_file`.
    pub tls: Option<PostgresTls>,
}

/// TLS to PostgreSQL, through rustls with ring (the suite's one TLS stack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresTls {
    /// `require` (encrypted, the server not checked), `verify-ca` (its certificate is signed by
    /// the CA) or `verify-full` (and names the host in the URL): PostgreSQL's `sslmode`.
    pub mode: PostgresTlsMode,
    /// The CA that signs the server's certificate (PEM); absent = the public web roots.
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PostgresTlsMode {
    Require,
    VerifyCa,
    VerifyFull,
}

impl PostgresTlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

impl StorageSettings {
    /// The URL to connect with: `url` with `storage.tls` as `sslmode` and `sslrootcert`.
    /// Refuses `storage.tls` beside an `sslmode` already in the URL (which would win is not
    /// obvious to a reader), a CA file that does not exist, and `storage.tls` on SQLite.
    pub(crate) fn postgres_url(&self) -> Result<String, String> {
        let Some(tls) = &self.tls else {
            return Ok(self.url.clone());
        };
        if Backend::of_url(&self.url) != Some(Backend::Postgres) {
            return Err("storage.tls applies to PostgreSQL only".to_owned());
        }
        if self.url.contains("sslmode=") || self.url.contains("sslrootcert=") {
            return Err(
                "storage.tls is set and storage.url has sslmode or sslrootcert: say it once"
                    .to_owned(),
            );
        }
        let mut url = self.url.clone();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("sslmode=");
        url.push_str(tls.mode.as_str());
        if let Some(ca_file) = &tls.ca_file {
            if !std::path::Path::new(ca_file).is_file() {
                return Err(format!(
                    "storage.tls.ca_file {ca_file:?} is not a readable file"
                ));
            }
            url.push_str("&sslrootcert=");
            url.push_str(&percent_encoded(ca_file));
        }
        Ok(url)
    }
}

/// A file path as a URL query value.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://.rapport/rapport.db".to_owned(),
            schema: None,
            max_connections: 8,
            writer_connections: 8,
            acquire_timeout_ms: 5_000,
            integrity_check_timeout_ms: crate::integrity::DEFAULT_START_UP_BOUND_MS,
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Which backend a URL names, from its scheme.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme)?;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// A schema name goes into `SET search_path` and `CREATE SCHEMA`, which take no bind parameters,
/// so only plain lowercase identifiers are accepted.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://h/db"), Some(Backend::Postgres));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://h/db"), None);
        assert_eq!(Backend::of_url("nonsense"), None);
    }

    #[test]
    fn postgres_tls_becomes_the_url_s_sslmode_and_ca() {
        let ca = std::env::temp_dir().join(format!("rapport ca {}.pem", std::process::id()));
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----").expect("write");
        let mut settings = StorageSettings {
            url: "postgres://rapport@db.internal/rapport".into(),
            tls: Some(PostgresTls {
                mode: PostgresTlsMode::VerifyFull,
                ca_file: Some(ca.display().to_string()),
            }),
            ..StorageSettings::default()
        };
        let url = settings.postgres_url().expect("valid");
        assert!(
            url.starts_with(
                "postgres://rapport@db.internal/rapport?sslmode=verify-full&sslrootcert=/"
            ),
            "{url}"
        );
        assert!(url.contains("rapport%20ca%20"), "{url}");
        settings.url.push_str("?sslmode=disable");
        assert!(settings.postgres_url().is_err(), "said twice");
        settings.url = "postgres://h/db".into();
        settings.tls = Some(PostgresTls {
            mode: PostgresTlsMode::VerifyCa,
            ca_file: Some("/no/such/ca.pem".into()),
        });
        assert!(
            settings
                .postgres_url()
                .expect_err("missing CA")
                .contains("storage.tls.ca_file")
        );
        std::fs::remove_file(ca).ok();
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(is_plain_identifier("profiles"));
        assert!(is_plain_identifier("t_0190a1b2"));
        assert!(!is_plain_identifier("Profiles"));
        assert!(!is_plain_identifier("x; DROP TABLE y"));
        assert!(!is_plain_identifier(""));
        assert!(!is_plain_identifier("1abc"));
    }
}
