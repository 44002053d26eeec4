//! One outbox worker, several consumers: each consumer takes the event types it consumes from
//! the same batches (loyalty every event; referrals good standing; plans profiles' merges and
//! erasures, DESIGN.md "One customer everywhere").

use rapport_clock::SharedClock;
use rapport_outbox::delivery::{self, Pending, Policy, Sink, SinkError};
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_server::ServiceUnit;

use crate::loyalty::{LoyaltyIngest, domain_event};
use crate::referrals::ReferralsIngest;
use crate::{ClientError, Traced, Upstream, request, with_retry};

/// The event types plans consumes: accounts, cases, protections, plans, promises and the
/// contact ledger follow a merge; an erasure pseudonymises plans' free text.
pub const PLANS_CONSUMES: &[&str] = &["profiles.customer_merged.v1", "profiles.customer_erased.v1"];

/// Delivers the events plans consumes to its `AccountService/IngestEvents`.
#[derive(Debug, Clone)]
pub struct PlansIngest {
    client: AccountServiceClient<Traced>,
    source: &'static str,
}

impl PlansIngest {
    /// `source` names the producer in every event (`profiles`).
    pub fn new(upstream: impl Into<Upstream>, source: &'static str) -> Result<Self, ClientError> {
        Ok(Self {
            client: AccountServiceClient::new(crate::traced_channel(&upstream.into())?),
            source,
        })
    }
}

impl Sink for PlansIngest {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        let message = plans::IngestEventsRequest {
            events: events
                .iter()
                .filter(|e| PLANS_CONSUMES.contains(&e.event_type.as_str()))
                .map(|e| domain_event(e, self.source))
                .collect(),
        };
        if message.events.is_empty() {
            return Ok(());
        }
        let answer = with_retry("plans", "events", &self.client, |mut c, deadline| {
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
                "plans rejected an event"
            );
        }
        Ok(())
    }
}

/// One consumer of a producer's outbox.
#[derive(Debug, Clone)]
pub enum Consumer {
    Loyalty(LoyaltyIngest),
    Referrals(ReferralsIngest),
    Plans(PlansIngest),
}

impl Sink for Consumer {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        match self {
            Self::Loyalty(sink) => sink.deliver(events).await,
            Self::Referrals(sink) => sink.deliver(events).await,
            Self::Plans(sink) => sink.deliver(events).await,
        }
    }
}

/// One outbox, several consumers. The outbox marks an event delivered once, so a batch counts
/// delivered when every consumer has it; when one fails the batch is retried to all, and those
/// that had it already count it a duplicate (each deduplicates by event id). The cost: while one
/// consumer is down, the others' events wait too (nothing is lost).
#[derive(Debug, Clone)]
pub struct Consumers(pub Vec<Consumer>);

impl Sink for Consumers {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        // Every consumer is offered the batch even after one fails, so one down consumer does
        // not hold back what the others could take now (they deduplicate the retry).
        let mut first_failure = None;
        for consumer in &self.0 {
            if let Err(error) = consumer.deliver(events).await {
                first_failure.get_or_insert(error);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }
}

/// Adds one worker to `unit` that delivers its outbox to every consumer.
pub fn deliver_outbox_to(
    unit: ServiceUnit,
    consumers: Consumers,
    clock: SharedClock,
    policy: Policy,
) -> ServiceUnit {
    delivery::deliver_from(unit, consumers, clock, policy)
}

/// Adds a worker to profiles' `unit` that delivers its outbox to loyalty (every event), and its
/// merges and erasures to plans and referrals (one customer everywhere, DESIGN.md).
pub fn deliver_outbox_to_loyalty_plans_and_referrals(
    unit: ServiceUnit,
    loyalty_url: impl Into<Upstream>,
    plans_url: impl Into<Upstream>,
    referrals_url: impl Into<Upstream>,
    clock: SharedClock,
    policy: Policy,
) -> Result<ServiceUnit, ClientError> {
    let consumers = Consumers(vec![
        Consumer::Loyalty(LoyaltyIngest::new(loyalty_url, unit.name())?),
        Consumer::Plans(PlansIngest::new(plans_url, unit.name())?),
        Consumer::Referrals(ReferralsIngest::new(referrals_url, unit.name())?),
    ]);
    Ok(deliver_outbox_to(unit, consumers, clock, policy))
}

/// A consumer of part of a producer's outbox besides loyalty, with where it is.
#[derive(Debug, Clone)]
pub enum Downstream {
    /// Plans: profiles' merges and erasures.
    Plans(Upstream),
    /// Referrals: good standing (plans), merges and erasures (profiles).
    Referrals(Upstream),
}

impl Downstream {
    fn upstream(&self) -> &Upstream {
        match self {
            Self::Plans(upstream) | Self::Referrals(upstream) => upstream,
        }
    }

    fn setting(&self) -> &'static str {
        match self {
            Self::Plans(_) => "plans_url",
            Self::Referrals(_) => "referrals_url",
        }
    }
}

/// Delivers `unit`'s outbox as its settings say, the one wiring of every producer (issue 22):
/// to loyalty (every event) and to each of `others` (what it consumes). With loyalty's URL unset
/// nothing is delivered: the events wait in the outbox, and the log says so. An unset other is
/// left out, and the log says what it will miss: the outbox marks an event delivered once.
pub fn deliver_outbox_as_configured(
    unit: ServiceUnit,
    loyalty: Upstream,
    others: Vec<Downstream>,
    clock: SharedClock,
) -> Result<ServiceUnit, ClientError> {
    if loyalty.url.is_empty() {
        tracing::warn!(
            service = unit.name(),
            "loyalty_url is not set: domain events wait in the outbox until it is"
        );
        return Ok(unit);
    }
    let mut consumers = vec![Consumer::Loyalty(LoyaltyIngest::new(loyalty, unit.name())?)];
    for other in others {
        if other.upstream().url.is_empty() {
            tracing::warn!(
                service = unit.name(),
                "{} is not set: that service does not learn the events it consumes from {} (they are marked delivered once loyalty has them)",
                other.setting(),
                unit.name()
            );
            continue;
        }
        consumers.push(match other {
            Downstream::Plans(upstream) => {
                Consumer::Plans(PlansIngest::new(upstream, unit.name())?)
            }
            Downstream::Referrals(upstream) => {
                Consumer::Referrals(ReferralsIngest::new(upstream, unit.name())?)
            }
        });
    }
    Ok(deliver_outbox_to(
        unit,
        Consumers(consumers),
        clock,
        Policy::default(),
    ))
}
