//! What plans needs to know about a customer, read from profiles (`rapport-clients`: deadlines,
//! retry on `UNAVAILABLE`, trace context passed on).

use std::fmt::Debug;

use jiff::civil::{Time, Weekday};
use rapport_ids::Id;
use rapport_proto::common::v1::Channel;
use rapport_proto::profiles::v1 as profiles;

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
    /// Profiles records a vulnerability (any factor): contact goes through a specialist and is
    /// never automated, as under a vulnerability hold (FCA FG21/1).
    pub vulnerable: bool,
}

/// Who a message is addressed to, as profiles records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    pub legal_name: String,
    /// Empty when the customer gave none.
    pub preferred_name: String,
    /// BCP 47, e.g. "ro-RO".
    pub locale: String,
}

/// Where contact profiles come from.
#[tonic::async_trait]
pub trait CustomerDirectory: Send + Sync + Debug {
    async fn contact_profile(&self, customer_id: Id) -> Result<ContactProfile, PlansError>;

    /// The customer's IANA time zone, for dates on their calendar (installment due dates).
    async fn time_zone(&self, customer_id: Id) -> Result<jiff::tz::TimeZone, PlansError>;

    /// `Ok` when profiles knows the customer; NOT_FOUND naming `field` when it does not;
    /// UNAVAILABLE when profiles cannot answer, so the caller can tell the two apart.
    async fn ensure_known(&self, customer_id: Id, field: &'static str) -> Result<(), PlansError>;

    /// The customer's names and locale, for a rendered message; a customer profiles does not
    /// know is refused naming `field`.
    async fn addressee(
        &self,
        customer_id: Id,
        field: &'static str,
    ) -> Result<Addressee, PlansError> {
        let _ = field;
        Err(PlansError::Dependency(format!(
            "no addressee for customer {customer_id} in this directory"
        )))
    }
}

/// Profiles over gRPC.
#[derive(Debug, Clone)]
pub struct ProfilesClient {
    profiles: rapport_clients::Profiles,
    /// Contact profiles being asked for now: decisions about one customer that arrive together
    /// (the desk's CheckContact and NextBestAction) ask profiles once, not once each.
    contact_profiles: rapport_clients::InFlight<Id, Result<ContactProfile, Refusal>>,
}

impl ProfilesClient {
    /// Connects lazily, so plans starts (and reports its own health) even while profiles is down.
    pub fn new(
        url: impl Into<rapport_clients::Upstream>,
    ) -> Result<Self, rapport_clients::ClientError> {
        Ok(Self {
            profiles: rapport_clients::Profiles::new(url)?,
            contact_profiles: rapport_clients::InFlight::default(),
        })
    }
}

/// Why profiles gave no contact profile, as every caller waiting for it gets a copy.
#[derive(Debug, Clone)]
enum Refusal {
    NotFound(String),
    Failed(String),
}

impl From<rapport_clients::ClientError> for Refusal {
    fn from(error: rapport_clients::ClientError) -> Self {
        match error {
            rapport_clients::ClientError::NotFound(id) => Self::NotFound(id),
            other => Self::Failed(other.to_string()),
        }
    }
}

impl From<Refusal> for PlansError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound(id) => PlansError::NotFound {
                entity: "customer",
                id,
            },
            Refusal::Failed(message) => PlansError::Dependency(message),
        }
    }
}

fn failed(error: rapport_clients::ClientError) -> PlansError {
    match error {
        rapport_clients::ClientError::NotFound(id) => PlansError::NotFound {
            entity: "customer",
            id,
        },
        other => PlansError::Dependency(other.to_string()),
    }
}

#[tonic::async_trait]
impl CustomerDirectory for ProfilesClient {
    async fn ensure_known(&self, customer_id: Id, field: &'static str) -> Result<(), PlansError> {
        match self.profiles.customer(&customer_id.to_string()).await {
            Ok(_) => Ok(()),
            Err(rapport_clients::ClientError::NotFound(id)) => Err(PlansError::UnknownReference {
                field,
                entity: "customer",
                id,
                owner: "profiles",
            }),
            Err(other) => Err(failed(other)),
        }
    }

    async fn addressee(
        &self,
        customer_id: Id,
        field: &'static str,
    ) -> Result<Addressee, PlansError> {
        match self.profiles.customer(&customer_id.to_string()).await {
            Ok(customer) => Ok(Addressee {
                legal_name: customer.legal_name,
                preferred_name: customer.preferred_name,
                locale: customer.locale,
            }),
            Err(rapport_clients::ClientError::NotFound(id)) => Err(PlansError::UnknownReference {
                field,
                entity: "customer",
                id,
                owner: "profiles",
            }),
            Err(other) => Err(failed(other)),
        }
    }

    async fn time_zone(&self, customer_id: Id) -> Result<jiff::tz::TimeZone, PlansError> {
        let customer = self
            .profiles
            .customer(&customer_id.to_string())
            .await
            .map_err(failed)?;
        jiff::tz::TimeZone::get(&customer.time_zone).map_err(|e| {
            PlansError::Dependency(format!("profiles time zone {:?}: {e}", customer.time_zone))
        })
    }

    async fn contact_profile(&self, customer_id: Id) -> Result<ContactProfile, PlansError> {
        let profiles = self.profiles.clone();
        Ok(self
            .contact_profiles
            .ask(customer_id, move || {
                ask_contact_profile(profiles, customer_id)
            })
            .await?)
    }
}

/// The customer's contact profile: their record with its vulnerability (an audited read) and
/// their consent to electronic collections contact.
async fn ask_contact_profile(
    client: rapport_clients::Profiles,
    customer_id: Id,
) -> Result<ContactProfile, Refusal> {
    let id = customer_id.to_string();
    // Both asked at once: a decision waits for one round trip to profiles, not two. The
    // customer's answer (e.g. NOT_FOUND) comes first when both fail.
    let (customer, consents) = tokio::join!(
        client.customer_with_vulnerability(&id),
        client.consents(&id, profiles::ConsentPurpose::CollectionsElectronic),
    );
    let (customer, consents) = (customer?, consents?);
    let time_zone = jiff::tz::TimeZone::get(&customer.time_zone).map_err(|e| {
        Refusal::Failed(format!("profiles time zone {:?}: {e}", customer.time_zone))
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
        vulnerable: customer
            .vulnerability
            .as_ref()
            .is_some_and(|v| !v.factors.is_empty()),
    })
}
