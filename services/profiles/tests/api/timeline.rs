//! Touchpoints and commitments.

use rapport_clock::SignedDuration;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{agent, at, customer, date, start, violated_fields};

fn interaction(customer_id: &str, channel: common::Channel, when: &str) -> pb::Interaction {
    pb::Interaction {
        customer_id: customer_id.into(),
        channel: channel as i32,
        direction: common::Direction::Inbound as i32,
        topic: "collections".into(),
        outcome: pb::InteractionOutcome::Resolved as i32,
        agent_id: "agent-7".into(),
        sentiment: common::Sentiment::Positive as i32,
        occurred_at: Some(at(when)),
        summary: "Asked about a payment holiday.".into(),
        ..Default::default()
    }
}

async fn the_timeline_covers_every_channel_newest_first(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Vasile Alecsandri")).await;
    for (channel, when, request_id) in [
        (common::Channel::Phone, "2026-02-01T10:00:00Z", "i-1"),
        (common::Channel::InApp, "2026-02-03T10:00:00Z", "i-2"),
        (common::Channel::Branch, "2026-02-02T10:00:00Z", "i-3"),
        (common::Channel::Email, "2026-02-04T10:00:00Z", "i-4"),
    ] {
        profiles
            .client
            .record_interaction(pb::RecordInteractionRequest {
                interaction: Some(interaction(&c.customer_id, channel, when)),
                request_id: request_id.into(),
            })
            .await
            .unwrap();
    }
    // A retried call does not add a second touchpoint.
    let replay = profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(interaction(
                &c.customer_id,
                common::Channel::Phone,
                "2026-02-01T10:00:00Z",
            )),
            request_id: "i-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .interaction
        .unwrap();
    assert_eq!(replay.channel, common::Channel::Phone as i32);
    assert_eq!(profiles.count("SELECT COUNT(*) FROM interactions").await, 4);
    assert_eq!(
        profiles
            .count(
                "SELECT COUNT(*) FROM outbox WHERE event_type = 'profiles.interaction_recorded.v1'"
            )
            .await,
        4
    );

    let list = |channel: common::Channel, page_size: i32, page_token: String| {
        pb::ListInteractionsRequest {
            customer_id: c.customer_id.clone(),
            channel: channel as i32,
            interval: None,
            page: Some(common::PageRequest {
                page_size,
                page_token,
            }),
        }
    };
    let first = profiles
        .client
        .list_interactions(list(common::Channel::Unspecified, 3, String::new()))
        .await
        .unwrap()
        .into_inner();
    let channels: Vec<i32> = first.interactions.iter().map(|i| i.channel).collect();
    assert_eq!(
        channels,
        vec![
            common::Channel::Email as i32,
            common::Channel::InApp as i32,
            common::Channel::Branch as i32
        ]
    );
    let token = first.page.unwrap().next_page_token;
    assert!(!token.is_empty());
    let second = profiles
        .client
        .list_interactions(list(common::Channel::Unspecified, 3, token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.interactions.len(), 1);
    assert_eq!(
        second.interactions[0].channel,
        common::Channel::Phone as i32
    );
    assert!(second.page.unwrap().next_page_token.is_empty());
    let branch_only = profiles
        .client
        .list_interactions(list(common::Channel::Branch, 10, String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(branch_only.interactions.len(), 1);

    let future = profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(interaction(
                &c.customer_id,
                common::Channel::Phone,
                "2027-01-01T00:00:00Z",
            )),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&future), vec!["interaction.occurred_at"]);
    let no_channel = profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(interaction(
                &c.customer_id,
                common::Channel::Unspecified,
                "2026-02-01T10:00:00Z",
            )),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_channel), vec!["interaction.channel"]);
    let nobody = profiles
        .client
        .record_interaction(pb::RecordInteractionRequest {
            interaction: Some(interaction(
                &rapport_ids::Id::new().to_string(),
                common::Channel::Phone,
                "2026-02-01T10:00:00Z",
            )),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Code::NotFound);
    assert_eq!(profiles.count("SELECT COUNT(*) FROM interactions").await, 4);
}

async fn commitments_go_overdue_and_are_kept_or_broken(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Mircea Eliade")).await;
    let record = |description: &str, due: common::Date| pb::RecordCommitmentRequest {
        commitment: Some(pb::Commitment {
            customer_id: c.customer_id.clone(),
            description: description.into(),
            promised_by: Some(agent("agent-3")),
            due_date: Some(due),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let refund = profiles
        .client
        .record_commitment(record("Refund the late fee", date(2026, 3, 5)))
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap();
    assert_eq!(refund.status, pb::CommitmentStatus::Open as i32);
    let call_back = profiles
        .client
        .record_commitment(record("Call back about the plan", date(2026, 3, 20)))
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap();

    // Six days later the refund is overdue (in the customer's calendar); the call-back is not.
    profiles.clock.advance(SignedDuration::from_hours(24 * 6));
    let statuses = |statuses: Vec<pb::CommitmentStatus>| pb::ListCommitmentsRequest {
        customer_id: c.customer_id.clone(),
        statuses: statuses.into_iter().map(|s| s as i32).collect(),
        page: None,
    };
    let overdue = profiles
        .client
        .list_commitments(statuses(vec![pb::CommitmentStatus::Overdue]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overdue.commitments.len(), 1);
    assert_eq!(overdue.commitments[0].commitment_id, refund.commitment_id);
    assert_eq!(
        overdue.commitments[0].status,
        pb::CommitmentStatus::Overdue as i32
    );
    let open = profiles
        .client
        .list_commitments(statuses(vec![pb::CommitmentStatus::Open]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.commitments.len(), 1);
    assert_eq!(open.commitments[0].commitment_id, call_back.commitment_id);

    let resolve = |id: &str, outcome: pb::CommitmentStatus| pb::ResolveCommitmentRequest {
        commitment_id: id.into(),
        outcome: outcome as i32,
        resolved_at: None,
        resolved_by: Some(agent("agent-3")),
        note: "done late, apologised".into(),
    };
    let kept = profiles
        .client
        .resolve_commitment(resolve(&refund.commitment_id, pb::CommitmentStatus::Kept))
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap();
    assert_eq!(kept.status, pb::CommitmentStatus::Kept as i32);
    assert_eq!(kept.resolution_note, "done late, apologised");
    // The same outcome again is a retry; a different one contradicts the record.
    profiles
        .client
        .resolve_commitment(resolve(&refund.commitment_id, pb::CommitmentStatus::Kept))
        .await
        .unwrap();
    let contradiction = profiles
        .client
        .resolve_commitment(resolve(&refund.commitment_id, pb::CommitmentStatus::Broken))
        .await
        .unwrap_err();
    assert_eq!(contradiction.code(), Code::FailedPrecondition);
    let not_an_outcome = profiles
        .client
        .resolve_commitment(resolve(
            &call_back.commitment_id,
            pb::CommitmentStatus::Overdue,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&not_an_outcome), vec!["outcome"]);
    profiles
        .client
        .resolve_commitment(resolve(
            &call_back.commitment_id,
            pb::CommitmentStatus::Broken,
        ))
        .await
        .unwrap();
    let all = profiles
        .client
        .list_commitments(statuses(vec![]))
        .await
        .unwrap()
        .into_inner();
    let outcomes: Vec<i32> = all.commitments.iter().map(|c| c.status).collect();
    assert_eq!(
        outcomes,
        vec![
            pb::CommitmentStatus::Kept as i32,
            pb::CommitmentStatus::Broken as i32
        ]
    );
    assert_eq!(
        profiles
            .count(
                "SELECT COUNT(*) FROM outbox WHERE event_type = 'profiles.commitment_resolved.v1'"
            )
            .await,
        2,
        "the retried resolution published nothing new"
    );

    let no_promiser = profiles
        .client
        .record_commitment(pb::RecordCommitmentRequest {
            commitment: Some(pb::Commitment {
                customer_id: c.customer_id.clone(),
                description: String::new(),
                due_date: Some(date(2026, 2, 31)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&no_promiser),
        vec![
            "commitment.description",
            "commitment.promised_by",
            "commitment.due_date"
        ]
    );
}

backend_tests!(
    the_timeline_covers_every_channel_newest_first,
    commitments_go_overdue_and_are_kept_or_broken,
    a_commitment_is_not_resolved_before_it_was_made,
);

/// DESIGN.md, "Money and time": a promise cannot be kept or broken before it was made.
async fn a_commitment_is_not_resolved_before_it_was_made(database: TestDatabase) {
    let mut profiles = start(database).await;
    let c = profiles.create(customer("Mircea Eliade")).await;
    let recorded = profiles
        .client
        .record_commitment(pb::RecordCommitmentRequest {
            commitment: Some(pb::Commitment {
                customer_id: c.customer_id.clone(),
                description: "Refund the late fee".into(),
                promised_by: Some(agent("agent-3")),
                due_date: Some(date(2026, 3, 5)),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap();
    profiles.clock.advance(SignedDuration::from_hours(24));
    let resolve = |resolved_at: &str| pb::ResolveCommitmentRequest {
        commitment_id: recorded.commitment_id.clone(),
        outcome: pb::CommitmentStatus::Kept as i32,
        resolved_at: Some(at(resolved_at)),
        resolved_by: Some(agent("agent-3")),
        note: "refunded".into(),
    };
    let backdated = profiles
        .client
        .resolve_commitment(resolve("2026-02-20T09:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(backdated.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&backdated), vec!["resolved_at"]);
    assert!(
        backdated
            .message()
            .contains("before the commitment was recorded"),
        "{}",
        backdated.message()
    );
    let kept = profiles
        .client
        .resolve_commitment(resolve("2026-03-01T15:00:00Z"))
        .await
        .unwrap()
        .into_inner()
        .commitment
        .unwrap();
    assert_eq!(kept.status, pb::CommitmentStatus::Kept as i32);
}
