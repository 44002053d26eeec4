use rapport_server::ServerSettings;
use rapport_storage::StorageSettings;
use rapport_telemetry::TelemetrySettings;
use serde::{Deserialize, Serialize};

/// Everything the profiles service reads at start (`RAPPORT_` environment variables override a
/// TOML file, which overrides these defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub telemetry: TelemetrySettings,
    /// How this service calls the others: TLS, its client certificate, its bearer token.
    pub client: rapport_clients::ClientSettings,
    /// Where loyalty serves: the outbox worker delivers this service's domain events to its
    /// `IngestEvents`. Empty: no delivery (events wait in the outbox, and the start says so).
    pub loyalty_url: String,
    /// Where plans serves: merges and erasures are delivered to its `IngestEvents` too (by the
    /// same worker), so accounts and the contact ledger follow the survivor. Empty: events wait
    /// in the outbox until it is set (and the start says so).
    pub plans_url: String,
    /// Where referrals serves: merges and erasures are delivered to its `IngestEvents` too, so
    /// codes, referrals, vouches and members follow the survivor and erasure reaches them. Empty:
    /// referrals does not learn them (and the start says so).
    pub referrals_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            storage: StorageSettings {
                url: format!("sqlite://.rapport/{}.db", crate::NAME),
                ..StorageSettings::default()
            },
            client: rapport_clients::ClientSettings::default(),
            telemetry: TelemetrySettings {
                service_name: format!("rapport-{}", crate::NAME),
                ..TelemetrySettings::default()
            },
            loyalty_url: String::new(),
            plans_url: String::new(),
            referrals_url: String::new(),
        }
    }
}
