use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rapport_security::{AuthMode, AuthSettings, RateLimitSettings};
use serde::{Deserialize, Serialize};

/// How a gRPC server listens, whom it lets in, and what it allows one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// The admin port, plaintext: `GET /metrics` (Prometheus), `/livez`, `/readyz`, and gRPC
    /// health for native Kubernetes probes (which do not speak TLS). Absent = no admin port.
    pub admin_listen: Option<SocketAddr>,
    /// Largest request or response message, in bytes (applied to every service); a larger
    /// request gets `RESOURCE_EXHAUSTED`.
    pub max_message_bytes: usize,
    /// A call still running after this long ends with `DEADLINE_EXCEEDED`; a shorter
    /// `grpc-timeout` sent by the client wins.
    pub request_timeout_ms: u64,
    /// After a shutdown signal, how long in-flight calls may take before the process exits anyway.
    pub shutdown_grace_ms: u64,
    /// TLS, and mutual TLS when `client_ca_file` is set. Absent = plaintext.
    pub tls: Option<TlsSettings>,
    /// Bearer tokens and roles.
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    /// Lets `rapport serve` start in plaintext or without authentication. It says so loudly.
    pub insecure: bool,
}

/// Certificates in PEM files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub certificate_file: PathBuf,
    pub key_file: PathBuf,
    /// The CA that signs client certificates; set = every client must present one (mTLS).
    pub client_ca_file: Option<PathBuf>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            admin_listen: None,
            max_message_bytes: 4 * 1024 * 1024,
            request_timeout_ms: 30_000,
            shutdown_grace_ms: 30_000,
            tls: None,
            auth: AuthSettings::default(),
            rate_limit: RateLimitSettings::default(),
            insecure: false,
        }
    }
}

/// Why `rapport serve` will not start with these settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsecureSettings {
    #[error(
        "server.tls is not set: production serves TLS (set server.insecure = true to allow plaintext)"
    )]
    Plaintext,
    #[error(
        "server.auth.mode is \"none\": production checks bearer tokens (set server.insecure = true to allow it)"
    )]
    NoAuthentication,
}

impl ServerSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// What is insecure about these settings (plaintext, no authentication); empty when nothing is.
    pub fn insecurities(&self) -> Vec<InsecureSettings> {
        let mut found = Vec::new();
        if self.tls.is_none() {
            found.push(InsecureSettings::Plaintext);
        }
        if self.auth.mode == AuthMode::None {
            found.push(InsecureSettings::NoAuthentication);
        }
        found
    }

    /// For production (`rapport serve`): refuses plaintext or no authentication unless
    /// `insecure` is set, and then logs each at error level at start.
    pub fn check_production(&self) -> Result<(), InsecureSettings> {
        let insecurities = self.insecurities();
        if let Some(first) = insecurities.first()
            && !self.insecure
        {
            return Err(first.clone());
        }
        for insecurity in insecurities {
            tracing::error!(
                "INSECURE: {insecurity}; server.insecure = true lets it start anyway. Never in production."
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_plaintext_and_no_authentication_unless_told() {
        let mut settings = ServerSettings::default();
        assert_eq!(
            settings.check_production(),
            Err(InsecureSettings::Plaintext)
        );
        settings.tls = Some(TlsSettings {
            certificate_file: "server.pem".into(),
            key_file: "server.key".into(),
            client_ca_file: Some("ca.pem".into()),
        });
        assert_eq!(
            settings.check_production(),
            Err(InsecureSettings::NoAuthentication)
        );
        settings.auth.mode = AuthMode::Jwt;
        assert_eq!(settings.check_production(), Ok(()));
        let insecure = ServerSettings {
            insecure: true,
            ..ServerSettings::default()
        };
        assert_eq!(insecure.check_production(), Ok(()));
        assert_eq!(insecure.insecurities().len(), 2);
    }
}
