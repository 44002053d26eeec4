//! What plans needs to know about a customer, read from profiles through its generated client
//! (DESIGN.md, Between services: deadlines, retry on `UNAVAILABLE`, trace context passed on).

use std::fmt::Debug;
use std::time::Duration;

use jiff::civil::{Time, Weekday};
use rapport_ids::Id;
use rapport_proto::common::v1::Channel;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_telemetry::{ClientTraceLayer, ClientTraceService};
use tonic::Code;
use tonic::transport::{Channel as GrpcChannel, Endpoint};
use tower::ServiceBuilder;

use crate::error::PlansError;

/// How and when a customer may be contacted, as profiles records it.
#[derive(Debug, Clone)]
pub struct ContactProfile {
    pub time_zone: jiff::tz::TimeZone,
    /// (start, end, days): end before start wraps past midnight; no days = every day.
    pub quiet_hours: Vec<(Time, Time, Vec<Weekday>)>,
    pub preferred_channels: Vec<Channel>,
    pub refused_channels: Vec<Channel>,
    pub do_not_contact: bool,
    /// The latest decision on collections contact by electronic channels, if any.
    pub electronic_collections_consent: Option<bool>,
}

/// Where contact profiles come from.
#[tonic::async_trait]
pub trait CustomerDirectory: Send + Sync + Debug {
    async fn contact_profile(&self, customer_id: Id) -> Result<ContactProfile, PlansError>;
}

/// Profiles over gRPC.
#[derive(Debug, Clone)]
pub struct ProfilesClient {
    client: ProfileServiceClient<ClientTraceService<GrpcChannel>>,
}

/// A read of profiles gets this long, each try.
const DEADLINE: Duration = Duration::from_secs(2);
/// Tries for an `UNAVAILABLE` answer, with doubling backoff from 50 ms.
const TRIES: u32 = 3;

impl ProfilesClient {
    /// Connects lazily, so plans starts (and reports its own health) even while profiles is down.
    pub fn new(url: &str) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(url.to_owned())?
            .connect_timeout(DEADLINE)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Self {
            client: ProfileServiceClient::new(
                ServiceBuilder::new()
                    .layer(ClientTraceLayer)
                    .service(channel),
            ),
        })
    }

    async fn call<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, PlansError>
    where
        F: FnMut(ProfileServiceClient<ClientTraceService<GrpcChannel>>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=TRIES {
            match call(self.client.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if status.code() == Code::Unavailable && attempt < TRIES => {
                    tracing::warn!(what, attempt, "profiles unavailable; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(status) if status.code() == Code::NotFound => {
                    return Err(PlansError::NotFound {
                        entity: "customer",
                        id: what.to_owned(),
                    });
                }
                Err(status) => {
                    return Err(PlansError::Dependency(format!(
                        "profiles {what}: {}",
                        status.message()
                    )));
                }
            }
        }
        Err(PlansError::Dependency(format!(
            "profiles {what}: unavailable"
        )))
    }
}

fn with_deadline<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(DEADLINE);
    request
}

#[tonic::async_trait]
impl CustomerDirectory for ProfilesClient {
    async fn contact_profile(&self, customer_id: Id) -> Result<ContactProfile, PlansError> {
        let id = customer_id.to_string();
        let customer = self
            .call(&id, |mut c| {
                let request = with_deadline(profiles::GetCustomerRequest {
                    customer_id: id.clone(),
                    view: profiles::CustomerView::Full as i32,
                });
                async move { c.get_customer(request).await }
            })
            .await?
            .customer
            .ok_or_else(|| PlansError::Dependency("profiles answered without a customer".into()))?;
        let consents = self
            .call(&id, |mut c| {
                let request = with_deadline(profiles::ListConsentsRequest {
                    customer_id: id.clone(),
                    purpose: profiles::ConsentPurpose::CollectionsElectronic as i32,
                    include_history: false,
                    page: None,
                });
                async move { c.list_consents(request).await }
            })
            .await?
            .consents;
        let time_zone = jiff::tz::TimeZone::get(&customer.time_zone).map_err(|e| {
            PlansError::Dependency(format!("profiles time zone {:?}: {e}", customer.time_zone))
        })?;
        let preferences = customer.contact_preferences.unwrap_or_default();
        let channels = |values: &[i32]| {
            values
                .iter()
                .filter_map(|v| Channel::try_from(*v).ok())
                .collect::<Vec<_>>()
        };
        let quiet_hours = preferences
            .quiet_hours
            .iter()
            .filter_map(|q| {
                let time = |t: &Option<rapport_proto::common::v1::TimeOfDay>| {
                    t.as_ref().and_then(|t| {
                        Time::new(
                            i8::try_from(t.hours).ok()?,
                            i8::try_from(t.minutes).ok()?,
                            0,
                            0,
                        )
                        .ok()
                    })
                };
                let days = q
                    .days
                    .iter()
                    .filter_map(|d| Weekday::from_monday_one_offset(i8::try_from(*d).ok()?).ok())
                    .collect();
                Some((time(&q.start)?, time(&q.end)?, days))
            })
            .collect();
        Ok(ContactProfile {
            time_zone,
            quiet_hours,
            preferred_channels: channels(&preferences.preferred_channels),
            refused_channels: channels(&preferences.do_not_contact_channels),
            do_not_contact: preferences.do_not_contact,
            electronic_collections_consent: consents
                .iter()
                .find(|c| c.channel == Channel::Unspecified as i32)
                .or_else(|| consents.first())
                .map(|c| c.status == profiles::ConsentStatus::Granted as i32),
        })
    }
}
