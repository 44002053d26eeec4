//! Reading another Rapport service (DESIGN.md, Between services): generated clients with a
//! deadline on every call, retry with backoff on `UNAVAILABLE`, and the W3C trace context passed
//! on by [`rapport_telemetry::ClientTraceLayer`].

mod consumers;
mod in_flight;
mod loyalty;
mod referrals;
mod timeline;
mod typed_events;
mod upstream;

pub use in_flight::InFlight;
pub use typed_events::{
    TYPE_URL_PREFIX, TYPED_EVENTS, producer_events_agree, typed_message_name, typed_payload,
};

use std::time::Duration;

use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_telemetry::{ClientTraceLayer, ClientTraceService};
use tonic::Code;
use tonic::transport::Channel;
use tower::ServiceBuilder;

/// Each try of a read gets this long.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// Tries for an `UNAVAILABLE` answer, with doubling backoff from 50 ms.
pub const TRIES: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} was not found")]
    NotFound(String),
    /// The other service did not answer usefully; the caller may retry later.
    #[error("{service}: {message}")]
    Failed {
        service: &'static str,
        message: String,
    },
    #[error("invalid service address or TLS settings")]
    Address(#[from] tonic::transport::Error),
    #[error("the bearer token is not valid header text")]
    Token,
    #[error("cannot read {path}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A customer another service does not know is NOT_FOUND for the caller; any other failure of
/// the other service is a dependency the caller may retry.
impl From<ClientError> for rapport_storage::ServiceError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::NotFound(id) => Self::NotFound {
                entity: "customer",
                id,
            },
            other => Self::Dependency(other.to_string()),
        }
    }
}

pub use consumers::{
    Consumer, Consumers, Downstream, PLANS_CONSUMES, PlansIngest, deliver_outbox_as_configured,
    deliver_outbox_to, deliver_outbox_to_loyalty_plans_and_referrals,
};
pub use loyalty::{LoyaltyIngest, deliver_outbox_to_loyalty};
pub use referrals::{REFERRALS_CONSUMES, ReferralsIngest, deliver_outbox_to_loyalty_and_referrals};
pub use timeline::{ProfilesTimeline, deliver_outbox_to_profiles};
pub use upstream::{BearerService, ClientSettings, Upstream};

type Traced = ClientTraceService<BearerService<Channel>>;

/// A lazily connected channel with trace propagation, TLS when configured, and the service's
/// bearer token: a service starts (and reports its own health) even while the one it reads is
/// down.
pub fn traced_channel(upstream: &Upstream) -> Result<Traced, ClientError> {
    let channel = upstream.endpoint()?.connect_lazy();
    Ok(ServiceBuilder::new()
        .layer(ClientTraceLayer)
        .service(BearerService::new(
            channel,
            upstream.client.token_file.as_deref(),
        )))
}

/// Calls `call` with a deadline, retrying `UNAVAILABLE` with backoff.
pub async fn with_retry<C, T, F, Fut>(
    service: &'static str,
    what: &str,
    client: &C,
    mut call: F,
) -> Result<T, ClientError>
where
    C: Clone,
    F: FnMut(C, Duration) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=TRIES {
        match call(client.clone(), DEADLINE).await {
            Ok(response) => return Ok(response.into_inner()),
            Err(status) if status.code() == Code::Unavailable && attempt < TRIES => {
                tracing::warn!(service, what, attempt, "unavailable; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(status) if status.code() == Code::NotFound => {
                return Err(ClientError::NotFound(what.to_owned()));
            }
            Err(status) => {
                return Err(ClientError::Failed {
                    service,
                    message: status.message().to_owned(),
                });
            }
        }
    }
    Err(ClientError::Failed {
        service,
        message: "unavailable".to_owned(),
    })
}

/// A request with its deadline.
pub fn request<T>(message: T, deadline: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(deadline);
    request
}

/// Reads customers from profiles.
#[derive(Debug, Clone)]
pub struct Profiles {
    client: ProfileServiceClient<Traced>,
}

impl Profiles {
    pub fn new(upstream: impl Into<Upstream>) -> Result<Self, ClientError> {
        Ok(Self {
            client: ProfileServiceClient::new(traced_channel(&upstream.into())?),
        })
    }

    /// The customer in the FULL view (contact points and preferences, no vulnerability).
    pub async fn customer(&self, customer_id: &str) -> Result<profiles::Customer, ClientError> {
        let id = customer_id.to_owned();
        with_retry("profiles", customer_id, &self.client, |mut c, deadline| {
            let message = profiles::GetCustomerRequest {
                customer_id: id.clone(),
                view: profiles::CustomerView::Full as i32,
            };
            async move { c.get_customer(request(message, deadline)).await }
        })
        .await?
        .customer
        .ok_or_else(|| ClientError::Failed {
            service: "profiles",
            message: "answered without a customer".to_owned(),
        })
    }

    /// The customer with their vulnerability record: only for decisions that must protect them
    /// (contact rules), never for display.
    pub async fn customer_with_vulnerability(
        &self,
        customer_id: &str,
    ) -> Result<profiles::Customer, ClientError> {
        let id = customer_id.to_owned();
        with_retry("profiles", customer_id, &self.client, |mut c, deadline| {
            let message = profiles::GetCustomerRequest {
                customer_id: id.clone(),
                view: profiles::CustomerView::WithVulnerability as i32,
            };
            async move { c.get_customer(request(message, deadline)).await }
        })
        .await?
        .customer
        .ok_or_else(|| ClientError::Failed {
            service: "profiles",
            message: "answered without a customer".to_owned(),
        })
    }

    /// The consent decisions in force for one purpose.
    pub async fn consents(
        &self,
        customer_id: &str,
        purpose: profiles::ConsentPurpose,
    ) -> Result<Vec<profiles::Consent>, ClientError> {
        let id = customer_id.to_owned();
        Ok(
            with_retry("profiles", customer_id, &self.client, |mut c, deadline| {
                let message = profiles::ListConsentsRequest {
                    customer_id: id.clone(),
                    purpose: purpose as i32,
                    include_history: false,
                    page: None,
                };
                async move { c.list_consents(request(message, deadline)).await }
            })
            .await?
            .consents,
        )
    }

    /// One page of the tenure anniversaries falling in `[start, end]` (each customer's own
    /// calendar; a 29 February start on 28 February in other years).
    pub async fn anniversaries(
        &self,
        range: rapport_proto::common::v1::DateRange,
        page_token: String,
    ) -> Result<profiles::ListAnniversariesResponse, ClientError> {
        with_retry(
            "profiles",
            "anniversaries",
            &self.client,
            |mut c, deadline| {
                let message = profiles::ListAnniversariesRequest {
                    range: Some(range),
                    page: Some(rapport_proto::common::v1::PageRequest {
                        page_size: 100,
                        page_token: page_token.clone(),
                    }),
                };
                async move { c.list_anniversaries(request(message, deadline)).await }
            },
        )
        .await
    }
}
