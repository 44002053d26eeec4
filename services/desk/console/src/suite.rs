//! The suite as the console calls it: generated clients over traced, lazily connected channels
//! (built once; the console starts while the suite is down), each call with a deadline and the
//! signed-in agent's own bearer token, so every rule of the suite holds server-side for them.

use std::time::Duration;

use rapport_clients::{ClientSettings, Upstream};
use rapport_proto::desk::v1::desk_service_client::DeskServiceClient;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_telemetry::ClientTraceService;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::ConsoleSettings;
use crate::session::Agent;

type Traced = ClientTraceService<rapport_clients::BearerService<Channel>>;

/// Why the console could not be built: a suite address or TLS setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid console setting {setting}")]
pub struct SettingError {
    pub setting: &'static str,
    #[source]
    pub source: rapport_clients::ClientError,
}

#[derive(Debug, Clone)]
pub(crate) struct Suite {
    pub desk: DeskServiceClient<Traced>,
    pub profiles: ProfileServiceClient<Traced>,
    pub accounts: AccountServiceClient<Traced>,
    pub hardship: HardshipServiceClient<Traced>,
    pub plans: PlanServiceClient<Traced>,
    pub loyalty: LoyaltyServiceClient<Traced>,
    deadline: Duration,
}

impl Suite {
    pub fn new(settings: &ConsoleSettings) -> Result<Self, SettingError> {
        let desk = traced("desk_url", &settings.desk_url, &settings.client)?;
        let profiles = traced("profiles_url", &settings.profiles_url, &settings.client)?;
        let plans = traced("plans_url", &settings.plans_url, &settings.client)?;
        let loyalty = traced("loyalty_url", &settings.loyalty_url, &settings.client)?;
        Ok(Self {
            desk: DeskServiceClient::new(desk),
            profiles: ProfileServiceClient::new(profiles),
            accounts: AccountServiceClient::new(plans.clone()),
            hardship: HardshipServiceClient::new(plans.clone()),
            plans: PlanServiceClient::new(plans),
            loyalty: LoyaltyServiceClient::new(loyalty),
            deadline: settings.call_deadline(),
        })
    }

    /// `message` with the call's deadline and the agent's `authorization: Bearer` (none when
    /// the agent has no token: development without sign-in).
    pub fn request<T>(&self, message: T, agent: &Agent) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.deadline);
        if let Some(token) = agent.token()
            && let Ok(mut value) = MetadataValue::try_from(format!("Bearer {token}"))
        {
            value.set_sensitive(true);
            request.metadata_mut().insert("authorization", value);
        }
        request
    }
}

/// A channel with trace propagation and TLS as configured, and never a token of its own.
fn traced(
    setting: &'static str,
    url: &str,
    client: &ClientSettings,
) -> Result<Traced, SettingError> {
    let upstream = Upstream::new(
        url,
        ClientSettings {
            token_file: None,
            ..client.clone()
        },
    );
    rapport_clients::traced_channel(&upstream).map_err(|source| SettingError { setting, source })
}
