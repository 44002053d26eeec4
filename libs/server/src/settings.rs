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
    /// A movable business clock instead of the real one (development, demos and integration
    /// tests; `rapport dev --clock`). Absent = the system clock. Production refuses it.
    pub business_clock: Option<BusinessClockSettings>,
}

/// Where a movable business clock starts and how fast it runs; moved at runtime through the
/// admin port's `/clock` routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessClockSettings {
    /// RFC 3339 instant the clock starts at; empty = now.
    pub start: String,
    /// Business seconds per real second: 1 = real time, 60 = a minute a second, 0 = stopped.
    pub speed: f64,
}

impl Default for BusinessClockSettings {
    fn default() -> Self {
        Self {
            start: String::new(),
            speed: 1.0,
        }
    }
}

impl BusinessClockSettings {
    /// The clock these settings describe, over the system clock; the error names the bad key.
    pub fn build(&self) -> Result<rapport_clock::MovableClock, String> {
        let start = if self.start.trim().is_empty() {
            None
        } else {
            Some(self.start.trim().parse::<jiff::Timestamp>().map_err(|e| {
                format!("server.business_clock.start is not an RFC 3339 instant: {e}")
            })?)
        };
        rapport_clock::MovableClock::new(
            std::sync::Arc::new(rapport_clock::SystemClock),
            start,
            self.speed,
        )
        .map_err(|e| format!("server.business_clock.speed: {e}"))
    }
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
            business_clock: None,
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
    #[error(
        "server.business_clock is set: production follows the real clock (set server.insecure = true to allow a movable one)"
    )]
    MovableClock,
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
        if self.business_clock.is_some() {
            found.push(InsecureSettings::MovableClock);
        }
        found
    }

    /// For production (`rapport serve`): refuses plaintext, no authentication or a movable
    /// business clock unless
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

    #[test]
    fn production_refuses_a_movable_clock_unless_told() {
        let mut settings = ServerSettings {
            tls: Some(TlsSettings {
                certificate_file: "server.pem".into(),
                key_file: "server.key".into(),
                client_ca_file: None,
            }),
            business_clock: Some(BusinessClockSettings {
                start: "2026-03-01T09:00:00Z".into(),
                speed: 60.0,
            }),
            ..ServerSettings::default()
        };
        settings.auth.mode = AuthMode::Jwt;
        assert_eq!(
            settings.check_production(),
            Err(InsecureSettings::MovableClock)
        );
        settings.insecure = true;
        assert_eq!(settings.check_production(), Ok(()));
        let clock = settings
            .business_clock
            .as_ref()
            .map(BusinessClockSettings::build)
            .expect("set above")
            .expect("valid settings");
        assert_eq!(clock.speed(), 60.0);
        let bad = BusinessClockSettings {
            start: "tomorrow".into(),
            speed: 1.0,
        };
        assert!(
            bad.build()
                .expect_err("not an instant")
                .contains("server.business_clock.start")
        );
    }
}
