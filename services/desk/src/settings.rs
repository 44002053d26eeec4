use std::time::Duration;

use rapport_server::ServerSettings;
use rapport_telemetry::TelemetrySettings;
use serde::{Deserialize, Serialize};

/// Where each of the four services serves when not told otherwise: `rapport dev`'s address.
const DEFAULT_URL: &str = "http://127.0.0.1:50051";

/// Everything desk reads at start (`RAPPORT_` environment variables override a TOML file, which
/// overrides these defaults). No `[storage]`: desk keeps nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub telemetry: TelemetrySettings,
    /// How desk reaches the four: TLS and its client certificate. Its `token_file` is not
    /// used: every call carries the caller's own token, never one of desk's.
    pub client: rapport_clients::ClientSettings,
    pub desk: DeskSettings,
}

/// `[desk]`: the four services the overview asks, and how long it waits for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSettings {
    pub profiles_url: String,
    pub plans_url: String,
    pub referrals_url: String,
    pub loyalty_url: String,
    /// The overview's deadline budget in milliseconds: a section whose service has not answered
    /// by then is UNAVAILABLE, and the overview answers with the rest.
    pub budget_ms: u64,
    /// Where the agents' browser console listens (docs/console.md); none = no console. With
    /// `server.auth.mode = "jwt"` it asks each agent for their token, and with `server.tls` it
    /// serves HTTPS with desk's certificate.
    pub console_listen: Option<std::net::SocketAddr>,
}

impl Default for DeskSettings {
    fn default() -> Self {
        Self {
            profiles_url: DEFAULT_URL.to_owned(),
            plans_url: DEFAULT_URL.to_owned(),
            referrals_url: DEFAULT_URL.to_owned(),
            loyalty_url: DEFAULT_URL.to_owned(),
            budget_ms: 150,
            console_listen: None,
        }
    }
}

impl DeskSettings {
    pub fn budget(&self) -> Duration {
        Duration::from_millis(self.budget_ms)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings::default(),
            telemetry: TelemetrySettings {
                service_name: format!("rapport-{}", crate::NAME),
                ..TelemetrySettings::default()
            },
            client: rapport_clients::ClientSettings::default(),
            desk: DeskSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_defaults_to_the_dev_address_and_the_budget_to_150_ms() {
        let desk = Settings::default().desk;
        for url in [
            &desk.profiles_url,
            &desk.plans_url,
            &desk.referrals_url,
            &desk.loyalty_url,
        ] {
            assert_eq!(url, "http://127.0.0.1:50051");
        }
        assert_eq!(desk.budget(), Duration::from_millis(150));
    }

    #[test]
    fn the_desk_table_is_read_from_a_file_and_an_unknown_key_is_named() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("desk.toml");
        std::fs::write(
            &file,
            "[desk]\nplans_url = \"http://plans:50051\"\nbudget_ms = 300\n",
        )
        .expect("write");
        let settings: Settings = rapport_config::load(Some(&file)).expect("loads");
        assert_eq!(settings.desk.plans_url, "http://plans:50051");
        assert_eq!(settings.desk.budget(), Duration::from_millis(300));
        assert_eq!(settings.desk.loyalty_url, "http://127.0.0.1:50051");

        std::fs::write(&file, "[desk]\nconsole_lisen = \"x\"\n").expect("write");
        let error = rapport_config::load::<Settings>(Some(&file))
            .expect_err("unknown key")
            .to_string();
        assert!(error.contains("desk.console_lisen"), "{error}");
    }
}
