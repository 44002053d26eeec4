//! Outbox delivery to profiles: a detractor follow-up is a promise to the customer, so loyalty's
//! follow-up events become a commitment on the customer's timeline — recorded when the follow-up
//! opens, kept or broken (by its SLA) when it closes.

use rapport_clock::SharedClock;
use rapport_outbox::delivery::{self, Pending, Policy, Sink, SinkError};
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServiceUnit;
use tonic::Code;

use crate::{ClientError, DEADLINE, Traced, Upstream, request, traced_channel};

/// Delivers loyalty's follow-up events to profiles as commitments.
#[derive(Debug, Clone)]
pub struct ProfilesTimeline {
    client: ProfileServiceClient<Traced>,
    /// The producer, named as the one who promised.
    source: &'static str,
}

/// What a follow-up event says, for the commitment.
struct FollowUp {
    customer_id: String,
    follow_up_id: String,
    nps: u64,
    due: jiff::Timestamp,
    within_sla: bool,
    outcome: String,
}

fn read(event: &Pending) -> Option<FollowUp> {
    let payload: serde_json::Value = serde_json::from_str(&event.payload).ok()?;
    Some(FollowUp {
        customer_id: payload["customer_id"].as_str()?.to_owned(),
        follow_up_id: payload["follow_up_id"].as_str()?.to_owned(),
        nps: payload["nps"].as_u64()?,
        due: payload["due_at"].as_str()?.parse().ok()?,
        within_sla: payload["within_sla"].as_bool().unwrap_or(false),
        outcome: payload["outcome"].as_str().unwrap_or_default().to_owned(),
    })
}

/// Refusals a retry cannot fix (the customer is gone, the record says otherwise): logged and
/// passed over, so one event does not hold back every later one.
fn permanent(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::NotFound | Code::FailedPrecondition | Code::InvalidArgument
    )
}

impl ProfilesTimeline {
    pub fn new(upstream: impl Into<Upstream>, source: &'static str) -> Result<Self, ClientError> {
        Ok(Self {
            client: ProfileServiceClient::new(traced_channel(&upstream.into())?),
            source,
        })
    }

    fn system(&self) -> Option<common::Actor> {
        Some(common::Actor {
            kind: common::ActorKind::System as i32,
            id: self.source.to_owned(),
        })
    }

    /// Records the promise; the same request id makes a replay (and the close) find it again.
    async fn promise(&self, f: &FollowUp) -> Result<profiles::Commitment, tonic::Status> {
        let due = f.due.to_zoned(jiff::tz::TimeZone::UTC).date();
        let message = profiles::RecordCommitmentRequest {
            commitment: Some(profiles::Commitment {
                customer_id: f.customer_id.clone(),
                description: format!(
                    "Answer the customer's feedback (NPS {}) and tell them what we did",
                    f.nps
                ),
                promised_by: self.system(),
                due_date: Some(common::Date {
                    year: i32::from(due.year()),
                    month: i32::from(due.month()),
                    day: i32::from(due.day()),
                }),
                ..Default::default()
            }),
            request_id: format!("{}-follow-up-{}", self.source, f.follow_up_id),
        };
        let mut client = self.client.clone();
        let answer = client
            .record_commitment(request(message, DEADLINE))
            .await?
            .into_inner();
        answer
            .commitment
            .ok_or_else(|| tonic::Status::internal("profiles answered without a commitment"))
    }

    async fn apply(&self, event: &Pending) -> Result<(), tonic::Status> {
        let opened = event.event_type.ends_with(".follow_up_opened.v1");
        let closed = event.event_type.ends_with(".follow_up_closed.v1");
        if !opened && !closed {
            return Ok(());
        }
        let Some(f) = read(event) else {
            return Err(tonic::Status::invalid_argument(
                "a follow-up event without its fields",
            ));
        };
        let commitment = self.promise(&f).await?;
        if closed && commitment.status == profiles::CommitmentStatus::Open as i32 {
            let message = profiles::ResolveCommitmentRequest {
                commitment_id: commitment.commitment_id,
                outcome: if f.within_sla {
                    profiles::CommitmentStatus::Kept
                } else {
                    profiles::CommitmentStatus::Broken
                } as i32,
                resolved_at: Some(prost_types::Timestamp {
                    seconds: event.occurred_at.as_second(),
                    nanos: event.occurred_at.subsec_nanosecond(),
                }),
                resolved_by: self.system(),
                note: f.outcome,
            };
            let mut client = self.client.clone();
            client
                .resolve_commitment(request(message, DEADLINE))
                .await?;
        }
        Ok(())
    }
}

impl Sink for ProfilesTimeline {
    async fn deliver(&self, events: &[Pending]) -> Result<(), SinkError> {
        for event in events {
            match self.apply(event).await {
                Ok(()) => {}
                Err(status) if permanent(&status) => tracing::warn!(
                    event_id = %event.event_id,
                    code = ?status.code(),
                    "profiles refused a follow-up commitment; passing over it"
                ),
                Err(status) => return Err(SinkError(format!("profiles: {}", status.message()))),
            }
        }
        Ok(())
    }
}

/// Adds a worker to loyalty's `unit` that records its follow-ups on the profiles timeline.
pub fn deliver_outbox_to_profiles(
    unit: ServiceUnit,
    profiles_url: impl Into<Upstream>,
    clock: SharedClock,
    policy: Policy,
) -> Result<ServiceUnit, ClientError> {
    let sink = ProfilesTimeline::new(profiles_url, unit.name())?;
    Ok(delivery::deliver_from(unit, sink, clock, policy))
}
