//! The four services desk asks, each through a lazily connected channel built once at start:
//! W3C trace context injected on every call (one overview is one trace across the four), TLS
//! and desk's client certificate when configured, and no bearer token of desk's own — the
//! caller's travels on each request instead (see `grpc::fan_out`).

use rapport_clients::{BearerService, ClientSettings, Upstream};
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_telemetry::ClientTraceService;
use tonic::transport::Channel;

use crate::UnitError;
use crate::settings::DeskSettings;

/// A channel that propagates the trace and adds no token (see [`traced`]).
pub type Traced = ClientTraceService<BearerService<Channel>>;

/// Generated clients for every RPC the overview uses; cheap to clone per call.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub(crate) profiles: ProfileServiceClient<Traced>,
    pub(crate) accounts: AccountServiceClient<Traced>,
    pub(crate) hardship: HardshipServiceClient<Traced>,
    pub(crate) plans: PlanServiceClient<Traced>,
    pub(crate) outreach: OutreachServiceClient<Traced>,
    pub(crate) referrals: ReferralServiceClient<Traced>,
    pub(crate) loyalty: LoyaltyServiceClient<Traced>,
}

impl Upstreams {
    pub fn new(desk: &DeskSettings, client: &ClientSettings) -> Result<Self, UnitError> {
        let profiles = traced("profiles_url", &desk.profiles_url, client)?;
        let plans = traced("plans_url", &desk.plans_url, client)?;
        let referrals = traced("referrals_url", &desk.referrals_url, client)?;
        let loyalty = traced("loyalty_url", &desk.loyalty_url, client)?;
        Ok(Self {
            profiles: ProfileServiceClient::new(profiles),
            accounts: AccountServiceClient::new(plans.clone()),
            hardship: HardshipServiceClient::new(plans.clone()),
            plans: PlanServiceClient::new(plans.clone()),
            outreach: OutreachServiceClient::new(plans),
            referrals: ReferralServiceClient::new(referrals),
            loyalty: LoyaltyServiceClient::new(loyalty),
        })
    }
}

/// `rapport_clients::traced_channel` without the token file: desk acts as its caller, so the
/// `authorization` a request carries must be the caller's, never replaced by desk's own.
fn traced(setting: &'static str, url: &str, client: &ClientSettings) -> Result<Traced, UnitError> {
    let upstream = Upstream::new(
        url,
        ClientSettings {
            token_file: None,
            ..client.clone()
        },
    );
    rapport_clients::traced_channel(&upstream)
        .map_err(|source| UnitError::Upstream { setting, source })
}
