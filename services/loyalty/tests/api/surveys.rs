//! Surveys, consent and the throttle, the closed loop with its SLA, and the NPS.

use jiff::SignedDuration;
use rapport_clock::Clock;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{self, agent, at, start, violated_fields};

backend_tests!(
    a_detractor_opens_a_follow_up_that_goes_overdue_and_closes,
    surveys_need_consent_and_wait_thirty_days,
    a_replayed_answer_counts_once_and_bad_answers_change_nothing,
    nps_matches_the_hand_calculation,
);

async fn should(
    s: &mut support::Loyalty,
    customer: &str,
    channel: common::Channel,
) -> pb::ShouldSurveyResponse {
    s.loyalty
        .should_survey(pb::ShouldSurveyRequest {
            customer_id: customer.into(),
            kind: pb::SurveyKind::Relationship as i32,
            channel: channel as i32,
            at: None,
        })
        .await
        .unwrap()
        .into_inner()
}

fn codes(reasons: &[common::Reason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code.as_str()).collect()
}

async fn list(
    s: &mut support::Loyalty,
    status: pb::FollowUpStatus,
    owner: &str,
) -> Vec<pb::FollowUp> {
    s.loyalty
        .list_follow_ups(pb::ListFollowUpsRequest {
            status: status as i32,
            owner_id: owner.into(),
            customer_id: String::new(),
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .follow_ups
}

async fn a_detractor_opens_a_follow_up_that_goes_overdue_and_closes(database: TestDatabase) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2019, 5, 1)).await;
    let bob = s.customer("Bob Hughes", (2021, 7, 9)).await;

    // Passives and promoters open nothing; every detractor (0–6) opens one with a 48-hour SLA.
    assert!(s.answer(&bob, 8, "call_center").await.follow_up.is_none());
    assert!(s.answer(&bob, 10, "call_center").await.follow_up.is_none());
    let first = s
        .answer(&ana, 6, "card_replacement")
        .await
        .follow_up
        .expect("a 6 is a detractor");
    assert_eq!(
        first.due_at,
        Some(at("2026-03-04T09:00:00Z")),
        "opened + 48 h"
    );
    assert_eq!(first.status, pb::FollowUpStatus::Open as i32);
    assert_eq!(first.owner_id, "customer-care");
    assert_eq!(first.nps, 6);

    s.clock.advance(SignedDuration::from_hours(24));
    let second = s.answer(&ana, 0, "plan_setup").await.follow_up.unwrap();

    // 47 h 59 min after the first: nothing overdue yet.
    s.clock.advance(SignedDuration::from_mins(23 * 60 + 59));
    assert!(
        list(&mut s, pb::FollowUpStatus::Overdue, "")
            .await
            .is_empty()
    );
    assert_eq!(list(&mut s, pb::FollowUpStatus::Open, "").await.len(), 2);
    // Two minutes later the first is overdue, the second not.
    s.clock.advance(SignedDuration::from_mins(2));
    let overdue = list(&mut s, pb::FollowUpStatus::Overdue, "").await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].follow_up_id, first.follow_up_id);
    assert_eq!(overdue[0].status, pb::FollowUpStatus::Overdue as i32);
    assert_eq!(
        list(&mut s, pb::FollowUpStatus::Open, "customer-care")
            .await
            .len(),
        2
    );
    assert!(
        list(&mut s, pb::FollowUpStatus::Open, "someone-else")
            .await
            .is_empty()
    );
    let risky = s.score(&ana).await;
    assert!(risky.flags.contains(&(pb::LoyaltyFlag::AtRisk as i32)));
    assert!(
        risky
            .reasons
            .iter()
            .any(|r| r.code == "OPEN_DETRACTOR_FOLLOW_UP")
    );

    // Closing needs what the customer was told.
    let mut close = pb::CloseFollowUpRequest {
        follow_up_id: second.follow_up_id.clone(),
        customer_told: String::new(),
        outcome: pb::FollowUpOutcome::Resolved as i32,
        closed_by: Some(agent("agent-7")),
        closed_at: None,
    };
    let refused = s.loyalty.close_follow_up(close.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["customer_told"]);

    close.customer_told = "We refunded the duplicate fee and fixed the plan date.".into();
    let closed = s
        .loyalty
        .close_follow_up(close.clone())
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .unwrap();
    assert_eq!(closed.status, pb::FollowUpStatus::Closed as i32);
    assert_eq!(closed.customer_told, close.customer_told);
    assert_eq!(
        closed.time_to_close.unwrap().seconds,
        (23 * 60 + 61) * 60,
        "24 h 1 min"
    );
    // The same close again answers the same; a different one is refused.
    let again = s
        .loyalty
        .close_follow_up(close.clone())
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .unwrap();
    assert_eq!(again.closed_at, closed.closed_at);
    close.outcome = pb::FollowUpOutcome::NotResolved as i32;
    let twice = s.loyalty.close_follow_up(close).await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);

    // How fast the loop closed is a signal: in time counts for satisfaction, overdue against.
    let in_time = s.score(&ana).await;
    let points = |score: &pb::LoyaltyScore, signal: &str| {
        score
            .explanation
            .iter()
            .filter(|c| c.signal == signal)
            .map(|c| c.points)
            .sum::<f64>()
    };
    assert!(points(&in_time, "follow_ups_closed_in_time") > 0.0);
    assert!(
        points(&in_time, "follow_ups_overdue") < 0.0,
        "the first is still overdue"
    );
    let late = s
        .loyalty
        .close_follow_up(pb::CloseFollowUpRequest {
            follow_up_id: first.follow_up_id.clone(),
            customer_told: "Sorry for the wait: the card is on its way.".into(),
            outcome: pb::FollowUpOutcome::Resolved as i32,
            closed_by: Some(agent("agent-7")),
            closed_at: None,
        })
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .unwrap();
    assert!(late.time_to_close.unwrap().seconds > 48 * 3600);
    let after = s.score(&ana).await;
    assert_eq!(points(&after, "follow_ups_overdue"), 0.0);
    assert!(points(&after, "follow_ups_closed_late") > 0.0);
    assert!(after.satisfaction > in_time.satisfaction);
    assert!(list(&mut s, pb::FollowUpStatus::Open, "").await.is_empty());
    assert_eq!(list(&mut s, pb::FollowUpStatus::Closed, "").await.len(), 2);

    let missing = s
        .loyalty
        .close_follow_up(pb::CloseFollowUpRequest {
            follow_up_id: "0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60".into(),
            customer_told: "x".into(),
            outcome: pb::FollowUpOutcome::Resolved as i32,
            closed_by: Some(agent("agent-7")),
            closed_at: None,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

async fn surveys_need_consent_and_wait_thirty_days(database: TestDatabase) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2019, 5, 1)).await;

    let never_asked = should(&mut s, &ana, common::Channel::Email).await;
    assert!(!never_asked.should_survey);
    assert!(codes(&never_asked.reasons).contains(&"NO_SURVEY_CONSENT"));
    assert!(
        never_asked.next_eligible_at.is_none(),
        "no date makes it right without consent"
    );

    s.consent(&ana, true, common::Channel::Unspecified).await;
    let allowed = should(&mut s, &ana, common::Channel::Email).await;
    assert!(allowed.should_survey, "{:?}", allowed.reasons);
    assert!(codes(&allowed.reasons).contains(&"SURVEY_CONSENT_GRANTED"));

    // A refusal for SMS only closes SMS.
    s.consent(&ana, false, common::Channel::Sms).await;
    let sms = should(&mut s, &ana, common::Channel::Sms).await;
    assert!(!sms.should_survey);
    assert!(codes(&sms.reasons).contains(&"SURVEY_CONSENT_WITHDRAWN"));
    assert!(
        should(&mut s, &ana, common::Channel::Email)
            .await
            .should_survey
    );

    // One survey per 30 days: answered now, next eligible 30 days later to the microsecond.
    s.answer(&ana, 9, "call_center").await;
    s.clock.advance(SignedDuration::from_hours(24 * 29));
    let throttled = should(&mut s, &ana, common::Channel::Email).await;
    assert!(!throttled.should_survey);
    assert!(codes(&throttled.reasons).contains(&"SURVEY_THROTTLED"));
    assert_eq!(throttled.next_eligible_at, Some(at("2026-04-01T09:00:00Z")));
    s.clock.advance(SignedDuration::from_hours(24));
    let eligible = should(&mut s, &ana, common::Channel::Email).await;
    assert!(eligible.should_survey, "{:?}", eligible.reasons);

    // A send reported by the survey tool counts too, even unanswered.
    let sent = s
        .loyalty
        .ingest_events(pb::IngestEventsRequest {
            events: vec![common::DomainEvent {
                event_id: rapport_ids::Id::new().to_string(),
                event_type: "surveys.survey_sent.v1".into(),
                customer_id: ana.clone(),
                occurred_at: Some(rapport_wire::timestamp_to_pb(s.clock.now())),
                source_service: "survey-tool".into(),
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sent.accepted, 1);
    assert!(
        !should(&mut s, &ana, common::Channel::Email)
            .await
            .should_survey
    );

    let unknown = s
        .loyalty
        .should_survey(pb::ShouldSurveyRequest {
            customer_id: "0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

async fn a_replayed_answer_counts_once_and_bad_answers_change_nothing(database: TestDatabase) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2019, 5, 1)).await;
    let request = pb::RecordSurveyResponseRequest {
        response: Some(pb::SurveyResponse {
            customer_id: ana.clone(),
            kind: pb::SurveyKind::Relationship as i32,
            nps: Some(3),
            csat: Some(2),
            text: "Nobody called me back about the fee.".into(),
            touchpoint: "call_center".into(),
            ..Default::default()
        }),
        request_id: "survey-tool-123".into(),
    };
    let first = s
        .loyalty
        .record_survey_response(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = s
        .loyalty
        .record_survey_response(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first.response.as_ref().unwrap().response_id,
        again.response.as_ref().unwrap().response_id
    );
    assert_eq!(
        first.follow_up.as_ref().unwrap().follow_up_id,
        again.follow_up.unwrap().follow_up_id
    );
    // Concurrent replays too.
    let calls = (0..6).map(|_| {
        let mut client = s.loyalty.clone();
        let request = request.clone();
        async move {
            client
                .record_survey_response(request)
                .await
                .unwrap()
                .into_inner()
        }
    });
    for answer in futures_util::future::join_all(calls).await {
        assert_eq!(
            answer.response.unwrap().response_id,
            first.response.as_ref().unwrap().response_id
        );
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM survey_responses").await, 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM follow_ups").await, 1);

    let bad = |nps: Option<i32>, csat: Option<i32>, kind: pb::SurveyKind, customer: &str| {
        pb::RecordSurveyResponseRequest {
            response: Some(pb::SurveyResponse {
                customer_id: customer.into(),
                kind: kind as i32,
                nps,
                csat,
                ..Default::default()
            }),
            request_id: String::new(),
        }
    };
    for (request, field) in [
        (
            bad(Some(11), None, pb::SurveyKind::Transactional, &ana),
            "response.nps",
        ),
        (
            bad(Some(-1), None, pb::SurveyKind::Transactional, &ana),
            "response.nps",
        ),
        (
            bad(None, Some(0), pb::SurveyKind::Transactional, &ana),
            "response.csat",
        ),
        (
            bad(None, Some(6), pb::SurveyKind::Transactional, &ana),
            "response.csat",
        ),
        (
            bad(None, None, pb::SurveyKind::Transactional, &ana),
            "response.nps",
        ),
        (
            bad(Some(5), None, pb::SurveyKind::Unspecified, &ana),
            "response.kind",
        ),
        (
            bad(Some(5), None, pb::SurveyKind::Transactional, "nobody"),
            "response.customer_id",
        ),
    ] {
        let status = s.loyalty.record_survey_response(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), [field]);
    }
    let stranger = s
        .loyalty
        .record_survey_response(bad(
            Some(5),
            None,
            pb::SurveyKind::Transactional,
            "0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60",
        ))
        .await
        .unwrap_err();
    assert_eq!(stranger.code(), Code::NotFound);
    assert_eq!(s.count("SELECT COUNT(*) FROM survey_responses").await, 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM follow_ups").await, 1);
}

async fn nps_matches_the_hand_calculation(database: TestDatabase) {
    let mut s = start(database).await;
    let nps = |window: Option<(&str, &str)>, touchpoint: &str| pb::GetNpsRequest {
        window: window.map(|(from, to)| common::TimeInterval {
            start_time: Some(at(from)),
            end_time: Some(at(to)),
        }),
        touchpoint: touchpoint.into(),
        ..Default::default()
    };
    // n = 0: NPS 0 and margin 0, not NaN.
    let empty = s.loyalty.get_nps(nps(None, "")).await.unwrap().into_inner();
    assert_eq!((empty.n, empty.nps, empty.margin_of_error), (0, 0.0, 0.0));

    // Four passives: NPS 0, every answer the same, margin 0.
    let mut customers = Vec::new();
    for i in 0..10 {
        customers.push(s.customer(&format!("Customer {i}"), (2020, 1, 1)).await);
    }
    for c in &customers[..4] {
        s.answer(c, 7, "branch").await;
    }
    let passives = s
        .loyalty
        .get_nps(nps(None, "branch"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            passives.n,
            passives.passives,
            passives.nps,
            passives.margin_of_error
        ),
        (4, 4, 0.0, 0.0)
    );

    // Ten answers at the call centre: 5 promoters, 2 passives, 3 detractors.
    // NPS = 50 − 30 = 20. Variance = 0.5 + 0.3 − 0.2² = 0.76; MoE = 1.96 · 100 · √(0.76 / 10) = 54.03.
    for (c, answer) in customers.iter().zip([10, 9, 9, 10, 9, 8, 7, 6, 0, 3]) {
        s.answer(c, answer, "call_center").await;
    }
    let calls = s
        .loyalty
        .get_nps(nps(None, "call_center"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (calls.n, calls.promoters, calls.passives, calls.detractors),
        (10, 5, 2, 3)
    );
    assert!((calls.nps - 20.0).abs() < 1e-9, "{}", calls.nps);
    let expected = 1.96 * 100.0 * (0.76_f64 / 10.0).sqrt();
    assert!((calls.margin_of_error - expected).abs() < 1e-9);
    assert!((calls.margin_of_error - 54.03).abs() < 0.01);

    // Everything in the default window: 14 answers.
    let all = s.loyalty.get_nps(nps(None, "")).await.unwrap().into_inner();
    assert_eq!(all.n, 14);
    // A window before any answer: nothing.
    let before = s
        .loyalty
        .get_nps(nps(
            Some(("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z")),
            "",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.n, 0);
    // Only relationship surveys: none were.
    let relationship = s
        .loyalty
        .get_nps(pb::GetNpsRequest {
            kind: pb::SurveyKind::Relationship as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(relationship.n, 0);
    // By segment: the four segments partition the answers.
    let mut by_segment = 0;
    for segment in [
        pb::LoyaltySegment::Entrenched,
        pb::LoyaltySegment::Average,
        pb::LoyaltySegment::Shallow,
        pb::LoyaltySegment::Convertible,
    ] {
        by_segment += s
            .loyalty
            .get_nps(pb::GetNpsRequest {
                segment: segment as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .n;
    }
    assert_eq!(by_segment, 14);
    let backwards = s
        .loyalty
        .get_nps(nps(
            Some(("2026-03-01T00:00:00Z", "2026-01-01T00:00:00Z")),
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&backwards), ["window.end_time"]);
}
