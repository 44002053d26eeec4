use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a gRPC server listens and what it allows one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Largest request or response message, in bytes (applied to every service).
    pub max_message_bytes: usize,
    /// A call still running after this long ends with `DEADLINE_EXCEEDED`; a shorter
    /// `grpc-timeout` sent by the client wins.
    pub request_timeout_ms: u64,
    /// After a shutdown signal, how long in-flight calls may take before the process exits anyway.
    pub shutdown_grace_ms: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            max_message_bytes: 4 * 1024 * 1024,
            request_timeout_ms: 30_000,
            shutdown_grace_ms: 30_000,
        }
    }
}

impl ServerSettings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}
