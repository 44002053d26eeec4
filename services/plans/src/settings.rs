use rapport_server::ServerSettings;
use rapport_storage::StorageSettings;
use rapport_telemetry::TelemetrySettings;
use serde::{Deserialize, Serialize};

/// Everything the plans service reads at start (`RAPPORT_` environment variables override a
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
    /// Where referrals serves: the same worker delivers good standing
    /// (`plans.standing_changed.v1`) to its `IngestEvents`, for vouchers, trust seeds and reward
    /// qualification. Empty: loyalty only (referrals keeps the standing it last heard, and the
    /// start says so).
    pub referrals_url: String,
    pub rules: crate::rules::Rules,
    /// Where profiles serves (customers' time zones, contact preferences, consent).
    pub profiles_url: String,
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
            referrals_url: String::new(),
            rules: crate::rules::Rules::default(),
            profiles_url: "http://127.0.0.1:50051".to_owned(),
        }
    }
}
