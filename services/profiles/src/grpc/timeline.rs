//! Touchpoints and commitments: what happened with the customer and what we promised them.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;

use super::convert::{self, commitment_to_pb, interaction_to_pb};
use super::{ProfileApi, commit, live_customer};
use crate::domain::commitment::{Commitment, CommitmentState, Resolution};
use crate::domain::events::ProfileEvent;
use crate::domain::interaction::Interaction;
use crate::domain::tenure;
use crate::error::ProfilesError;
use crate::store::{self, commitments::StatusFilter, interactions::TimelineFilter};
use rapport_paging::Page;

impl ProfileApi {
    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(request.interaction.as_ref().map_or("", |i| &i.customer_id))
        )
    )]
    pub(super) async fn record_interaction(
        &self,
        request: pb::RecordInteractionRequest,
    ) -> Result<pb::RecordInteractionResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let request_id = convert::request_id("request_id", &request.request_id, &mut v);
        let Some(i) = request.interaction.as_ref() else {
            v.add("interaction", "is required");
            return Err(v.into());
        };
        let customer_id = convert::id("interaction.customer_id", &i.customer_id, &mut v);
        let channel = convert::known_enum(
            "interaction.channel",
            i.channel,
            |c| common::Channel::try_from(c).ok(),
            common::Channel::Unspecified,
            &mut v,
        );
        let direction = convert::optional_enum(
            "interaction.direction",
            i.direction,
            |c| common::Direction::try_from(c).ok(),
            &mut v,
        );
        let outcome = convert::optional_enum(
            "interaction.outcome",
            i.outcome,
            |c| pb::InteractionOutcome::try_from(c).ok(),
            &mut v,
        );
        let sentiment = convert::optional_enum(
            "interaction.sentiment",
            i.sentiment,
            |c| common::Sentiment::try_from(c).ok(),
            &mut v,
        );
        let occurred_at = convert::past_instant(
            "interaction.occurred_at",
            i.occurred_at.as_ref(),
            now,
            &mut v,
        );
        let topic = convert::optional_text(
            "interaction.topic",
            &i.topic,
            convert::MAX_CODE_CHARS,
            &mut v,
        );
        let agent_id = convert::optional_text(
            "interaction.agent_id",
            &i.agent_id,
            convert::MAX_CODE_CHARS,
            &mut v,
        );
        let summary = convert::optional_text(
            "interaction.summary",
            &i.summary,
            convert::MAX_TEXT_CHARS,
            &mut v,
        );
        let account_id = convert::optional_text(
            "interaction.account_id",
            &i.account_id,
            convert::MAX_CODE_CHARS,
            &mut v,
        );
        let source_system = convert::optional_text(
            "interaction.source_system",
            &i.source_system,
            convert::MAX_CODE_CHARS,
            &mut v,
        );
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let mut interaction = Interaction {
            id: Id::new(),
            customer_id: customer_id.ok_or_else(invalid)?,
            channel: channel.ok_or_else(invalid)?,
            direction: direction.ok_or_else(invalid)?,
            topic: topic.ok_or_else(invalid)?,
            outcome: outcome.ok_or_else(invalid)?,
            agent_id: agent_id.ok_or_else(invalid)?,
            sentiment: sentiment.ok_or_else(invalid)?,
            occurred_at: occurred_at.ok_or_else(invalid)?,
            summary: summary.ok_or_else(invalid)?,
            account_id: account_id.ok_or_else(invalid)?,
            source_system: source_system.ok_or_else(invalid)?,
        };

        let mut tx = self.write().await?;
        if let Some(request_id) = &request_id
            && let Some(earlier) = store::interactions::by_request(&mut tx, request_id).await?
        {
            return Ok(pb::RecordInteractionResponse {
                interaction: Some(interaction_to_pb(&earlier)),
            });
        }
        interaction.customer_id = live_customer(&mut tx, interaction.customer_id).await?.id;
        store::interactions::insert(&mut tx, &interaction, request_id.as_deref(), now).await?;
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::InteractionRecorded {
                customer_id: interaction.customer_id,
                interaction_id: interaction.id,
                channel: interaction.channel.as_str_name(),
                sentiment: interaction.sentiment.as_str_name(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::RecordInteractionResponse {
            interaction: Some(interaction_to_pb(&interaction)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn list_interactions(
        &self,
        request: pb::ListInteractionsRequest,
    ) -> Result<pb::ListInteractionsResponse, ProfilesError> {
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        let page = Page::parse(request.page.as_ref(), &mut v);
        let channel = convert::optional_enum(
            "channel",
            request.channel,
            |c| common::Channel::try_from(c).ok(),
            &mut v,
        );
        let mut filter = TimelineFilter {
            channel: channel.filter(|c| *c != common::Channel::Unspecified),
            ..TimelineFilter::default()
        };
        if let Some(interval) = &request.interval {
            filter.from = interval
                .start_time
                .as_ref()
                .and_then(|t| convert::timestamp("interval.start_time", t, &mut v));
            filter.until = interval
                .end_time
                .as_ref()
                .and_then(|t| convert::timestamp("interval.end_time", t, &mut v));
        }
        let after: Option<(i64, Id)> = page.after_pair(&mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(v))?;

        let mut conn = self.read().await?;
        let customer = super::live_or_erased(&mut conn, customer_id).await?;
        let items =
            store::interactions::list(&mut conn, customer.id, &filter, after, page.fetch_limit())
                .await?;
        let (items, page) = page.finish(items, |i| {
            vec![
                rapport_clock::to_unix_micros(i.occurred_at).to_string(),
                i.id.to_string(),
            ]
        });
        Ok(pb::ListInteractionsResponse {
            interactions: items.iter().map(interaction_to_pb).collect(),
            page,
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(request.commitment.as_ref().map_or("", |c| &c.customer_id))
        )
    )]
    pub(super) async fn record_commitment(
        &self,
        request: pb::RecordCommitmentRequest,
    ) -> Result<pb::RecordCommitmentResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let request_id = convert::request_id("request_id", &request.request_id, &mut v);
        let Some(c) = request.commitment.as_ref() else {
            v.add("commitment", "is required");
            return Err(v.into());
        };
        let customer_id = convert::id("commitment.customer_id", &c.customer_id, &mut v);
        let description = convert::required_text(
            "commitment.description",
            &c.description,
            convert::MAX_TEXT_CHARS,
            &mut v,
        );
        let promised_by = convert::actor("commitment.promised_by", c.promised_by.as_ref(), &mut v);
        let due_date = convert::date("commitment.due_date", c.due_date.as_ref(), &mut v);
        let interaction_id = if c.interaction_id.is_empty() {
            Some(String::new())
        } else {
            convert::id("commitment.interaction_id", &c.interaction_id, &mut v)
                .map(|id| id.to_string())
        };
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let mut commitment = Commitment {
            id: Id::new(),
            customer_id: customer_id.ok_or_else(invalid)?,
            description: description.ok_or_else(invalid)?,
            promised_by: promised_by.ok_or_else(invalid)?,
            due_date: due_date.ok_or_else(invalid)?,
            state: CommitmentState::Open,
            interaction_id: interaction_id.ok_or_else(invalid)?,
            created_at: now,
            resolution: None,
        };

        let mut tx = self.write().await?;
        let customer = live_customer(&mut tx, commitment.customer_id).await?;
        let today = tenure::today_in(&customer.profile.time_zone.time_zone(), now);
        if let Some(request_id) = &request_id
            && let Some(earlier) = store::commitments::by_request(&mut tx, request_id).await?
        {
            return Ok(pb::RecordCommitmentResponse {
                commitment: Some(commitment_to_pb(&earlier, today)),
            });
        }
        commitment.customer_id = customer.id;
        store::commitments::insert(&mut tx, &commitment, request_id.as_deref()).await?;
        commit(tx).await?;
        Ok(pb::RecordCommitmentResponse {
            commitment: Some(commitment_to_pb(&commitment, today)),
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            commitment_id = super::traced_id(&request.commitment_id)
        )
    )]
    pub(super) async fn resolve_commitment(
        &self,
        request: pb::ResolveCommitmentRequest,
    ) -> Result<pb::ResolveCommitmentResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let commitment_id = convert::id("commitment_id", &request.commitment_id, &mut v);
        let state = match pb::CommitmentStatus::try_from(request.outcome) {
            Ok(pb::CommitmentStatus::Kept) => Some(CommitmentState::Kept),
            Ok(pb::CommitmentStatus::Broken) => Some(CommitmentState::Broken),
            _ => {
                v.add("outcome", "must be KEPT or BROKEN");
                None
            }
        };
        let at = convert::past_instant("resolved_at", request.resolved_at.as_ref(), now, &mut v);
        let by = convert::actor("resolved_by", request.resolved_by.as_ref(), &mut v);
        let note = convert::optional_text("note", &request.note, convert::MAX_TEXT_CHARS, &mut v);
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let commitment_id = commitment_id.ok_or_else(invalid)?;
        let state = state.ok_or_else(invalid)?;
        let resolution = Resolution {
            at: at.ok_or_else(invalid)?,
            by: by.ok_or_else(invalid)?,
            note: note.ok_or_else(invalid)?,
        };

        let mut tx = self.write().await?;
        let mut commitment = store::commitments::get(&mut tx, commitment_id)
            .await?
            .ok_or_else(|| ProfilesError::NotFound {
                entity: "commitment",
                id: commitment_id.to_string(),
            })?;
        let customer = live_customer(&mut tx, commitment.customer_id).await?;
        let today = tenure::today_in(&customer.profile.time_zone.time_zone(), now);
        if commitment.state != CommitmentState::Open {
            // The same outcome again is a retry; a different one contradicts the record.
            if commitment.state == state {
                return Ok(pb::ResolveCommitmentResponse {
                    commitment: Some(commitment_to_pb(&commitment, today)),
                });
            }
            return Err(ProfilesError::FailedPrecondition(format!(
                "commitment {commitment_id} is already {}",
                commitment.state.as_str()
            )));
        }
        let earliest =
            commitment.created_at - crate::domain::commitment::RESOLVED_BEFORE_RECORDED_TOLERANCE;
        if resolution.at < earliest {
            return Err(Validation::single(
                "resolved_at",
                format!(
                    "must not be before the commitment was recorded ({}, less {} minutes)",
                    commitment.created_at,
                    crate::domain::commitment::RESOLVED_BEFORE_RECORDED_TOLERANCE.as_mins()
                ),
            )
            .into());
        }
        commitment.state = state;
        commitment.resolution = Some(resolution);
        // Another call may have resolved it between our read and this write (PostgreSQL read
        // committed): then nothing is written and the caller reads it again.
        if !store::commitments::resolve(&mut tx, &commitment).await? {
            return Err(ProfilesError::FailedPrecondition(format!(
                "commitment {commitment_id} was resolved by another call meanwhile; read it again"
            )));
        }
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::CommitmentResolved {
                customer_id: commitment.customer_id,
                commitment_id,
                kept: state == CommitmentState::Kept,
                promised_by: commitment.promised_by.id.clone(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::ResolveCommitmentResponse {
            commitment: Some(commitment_to_pb(&commitment, today)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn list_commitments(
        &self,
        request: pb::ListCommitmentsRequest,
    ) -> Result<pb::ListCommitmentsResponse, ProfilesError> {
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        let page = Page::parse(request.page.as_ref(), &mut v);
        let mut filter = if request.statuses.is_empty() {
            StatusFilter::all()
        } else {
            StatusFilter::default()
        };
        for (i, status) in request.statuses.iter().enumerate() {
            match pb::CommitmentStatus::try_from(*status) {
                Ok(pb::CommitmentStatus::Open) => filter.open = true,
                Ok(pb::CommitmentStatus::Overdue) => filter.overdue = true,
                Ok(pb::CommitmentStatus::Kept) => filter.kept = true,
                Ok(pb::CommitmentStatus::Broken) => filter.broken = true,
                _ => v.add(
                    format!("statuses[{i}]"),
                    "must be OPEN, OVERDUE, KEPT or BROKEN",
                ),
            }
        }
        let after: Option<(jiff::civil::Date, Id)> = page.after_pair(&mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(v))?;

        let mut conn = self.read().await?;
        let customer = super::live_or_erased(&mut conn, customer_id).await?;
        let today = tenure::today_in(&customer.profile.time_zone.time_zone(), self.now());
        let items = store::commitments::list(
            &mut conn,
            customer.id,
            filter,
            today,
            after,
            page.fetch_limit(),
        )
        .await?;
        let (items, page) = page.finish(items, |c| vec![c.due_date.to_string(), c.id.to_string()]);
        Ok(pb::ListCommitmentsResponse {
            commitments: items.iter().map(|c| commitment_to_pb(c, today)).collect(),
            page,
        })
    }
}
