//! Outbox delivery to referrals' `IngestEvents`: good standing is defined once, in plans, and
//! published as events (DESIGN.md, "Good standing"); referrals uses it for vouchers, trust seeds
//! and reward qualification.

use rapport_clock::SharedClock;
use rapport_outbox::delivery::{Pending, Policy, Sink, SinkError};
use rapport_proto::referrals::v1 as referrals;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_server::ServiceUnit;

use crate::consumers::{Consumer, Consumers, deliver_outbox_to};
use crate::loyalty::{LoyaltyIngest, domain_event};
use crate::{ClientError, Traced, Upstream, request, with_retry};

/// The event types referrals consumes; a producer's other events are not sent to it.
pub const REFERRALS_CONSUMES: &[&str] = &[
    "plans.standing_changed.v1",
    "profiles.customer_merged.v1",
    "profiles.customer_erased.v1",
];

/// Delivers the events referrals consumes from a producer's outbox batches.
#[derive(Debug, Clone)]
pub struct ReferralsIngest {
    client: ReferralServiceClient<Traced>,
    source: &'static str,
}

impl ReferralsIngest {
    /// `source` names the producer in every event (`plans`).
    pub fn new(upstream: impl Into<Upstream>, source: &'static str) -> Result<Self, ClientError> {
        Ok(Self {
            client: ReferralServiceClient::new(crate::traced_channel(&upstream.into())?),
            source,
        })
    }
}

impl Sink for ReferralsIngest {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        let message = referrals::IngestEventsRequest {
            events: events
                .iter()
                .filter(|e| REFERRALS_CONSUMES.contains(&e.event_type.as_str()))
                .map(|e| domain_event(e, self.source))
                .collect(),
        };
        if message.events.is_empty() {
            return Ok(());
        }
        let answer = with_retry("referrals", "events", &self.client, |mut c, deadline| {
            let message = message.clone();
            async move { c.ingest_events(request(message, deadline)).await }
        })
        .await
        .map_err(|e| SinkError(e.to_string()))?;
        // As for loyalty: a rejected event is a producer's bug that a retry cannot fix.
        for rejected in &answer.rejected {
            tracing::warn!(
                event_id = %rejected.event_id,
                code = rejected.reason.as_ref().map_or("", |r| r.code.as_str()),
                "referrals rejected an event"
            );
        }
        Ok(())
    }
}

/// Adds a worker to plans' `unit` that delivers its outbox to loyalty (every event) and to
/// referrals (the events it consumes: good standing).
pub fn deliver_outbox_to_loyalty_and_referrals(
    unit: ServiceUnit,
    loyalty_url: impl Into<Upstream>,
    referrals_url: impl Into<Upstream>,
    clock: SharedClock,
    policy: Policy,
) -> Result<ServiceUnit, ClientError> {
    let consumers = Consumers(vec![
        Consumer::Loyalty(LoyaltyIngest::new(loyalty_url, unit.name())?),
        Consumer::Referrals(ReferralsIngest::new(referrals_url, unit.name())?),
    ]);
    Ok(deliver_outbox_to(unit, consumers, clock, policy))
}
