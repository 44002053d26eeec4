use serde::{Deserialize, Serialize};

/// Where and how a service keeps its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host/db`.
    pub url: String,
    /// PostgreSQL only: the schema this service's tables live in (created if missing).
    pub schema: Option<String>,
    /// PostgreSQL pool size; for SQLite, the number of reader connections (there is one writer).
    pub max_connections: u32,
    /// How long a call waits for a free connection before it fails as unavailable.
    pub acquire_timeout_ms: u64,
    /// SQLite only: how long the start-up `PRAGMA quick_check` of the file may run. A check cut
    /// off by it logs a warning naming the file and start-up goes on (a huge file cannot hold
    /// start-up forever); damage found within it stops start-up with the file and the cause.
    pub integrity_check_timeout_ms: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://.rapport/rapport.db".to_owned(),
            schema: None,
            max_connections: 8,
            acquire_timeout_ms: 5_000,
            integrity_check_timeout_ms: crate::integrity::DEFAULT_START_UP_BOUND_MS,
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
    fn schema_names_are_plain_identifiers() {
        assert!(is_plain_identifier("profiles"));
        assert!(is_plain_identifier("t_0190a1b2"));
        assert!(!is_plain_identifier("Profiles"));
        assert!(!is_plain_identifier("x; DROP TABLE y"));
        assert!(!is_plain_identifier(""));
        assert!(!is_plain_identifier("1abc"));
    }
}
