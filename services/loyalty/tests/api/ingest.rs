//! IngestEvents: idempotent by event id, order-tolerant; and the score, its history and the
//! at-risk list that follow from it.

use jiff::SignedDuration;
use prost_types::{Struct, Value, value::Kind};
use rapport_clock::Clock;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{self, agent, start};

backend_tests!(
    replayed_and_shuffled_events_give_the_same_score,
    bad_events_are_rejected_and_the_rest_applied,
    history_and_at_risk_follow_the_score,
    batch_rescoring_scores_everyone_as_the_live_score_does,
    a_rerun_that_changes_nothing_adds_no_history_and_marks_the_score_current,
    merges_and_erasure_apply_whatever_the_order,
    a_merge_moves_every_row_and_erasure_reaches_every_merged_id,
    typed_events_mean_what_their_json_bodies_meant,
);

/// An event to send: (event type, payload fields, days before now).
type Template = (&'static str, Vec<(&'static str, Kind)>, i64);

fn life() -> Vec<Template> {
    let s = |v: &str| Kind::StringValue(v.into());
    vec![
        ("profiles.customer_created.v1", vec![], 400),
        (
            "core.products_held.v1",
            vec![("count", Kind::NumberValue(2.0))],
            380,
        ),
        (
            "core.products_held.v1",
            vec![("count", Kind::NumberValue(3.0))],
            20,
        ),
        (
            "profiles.interaction_recorded.v1",
            vec![("sentiment", s("SENTIMENT_POSITIVE"))],
            10,
        ),
        (
            "profiles.interaction_recorded.v1",
            vec![("sentiment", s("SENTIMENT_NEUTRAL"))],
            40,
        ),
        (
            "profiles.interaction_recorded.v1",
            vec![("sentiment", s("SENTIMENT_NEGATIVE"))],
            70,
        ),
        (
            "profiles.commitment_resolved.v1",
            vec![("kept", Kind::BoolValue(true))],
            15,
        ),
        (
            "profiles.commitment_resolved.v1",
            vec![("kept", Kind::BoolValue(false))],
            200,
        ),
        ("referrals.referral_created.v1", vec![], 120),
        ("referrals.referral_qualified.v1", vec![], 30),
        ("referrals.vouch_requested.v1", vec![], 50),
        (
            "referrals.vouch_answered.v1",
            vec![("answer", s("VOUCH_ANSWER_VOUCH"))],
            49,
        ),
        ("complaints.complaint_logged.v1", vec![], 300),
        ("plans.payment_reported.v1", vec![], 5),
    ]
}

/// A hardship episode kept through: case, protection, plan, five installments (one missed), done.
fn hardship() -> Vec<Template> {
    let mut episode = vec![
        ("plans.hardship_case_opened.v1", vec![], 250),
        ("plans.protection_set.v1", vec![], 249),
        ("plans.plan_accepted.v1", vec![], 240),
        ("plans.installment_missed.v1", vec![], 180),
    ];
    for i in 0..5 {
        episode.push(("plans.installment_paid.v1", vec![], 210 - 30 * i));
    }
    episode.push(("plans.plan_completed.v1", vec![], 90));
    episode
}

fn events(s: &support::Loyalty, customer: &str, template: &[Template]) -> Vec<common::DomainEvent> {
    let now = s.clock.now();
    template
        .iter()
        .map(|(event_type, payload, days)| common::DomainEvent {
            event_id: Id::new().to_string(),
            event_type: (*event_type).into(),
            customer_id: customer.into(),
            occurred_at: Some(rapport_wire::timestamp_to_pb(
                now - SignedDuration::from_hours(24 * days),
            )),
            source_service: event_type.split('.').next().unwrap().into(),
            payload: Some(Struct {
                fields: payload
                    .iter()
                    .map(|(k, v)| {
                        (
                            (*k).to_owned(),
                            Value {
                                kind: Some(v.clone()),
                            },
                        )
                    })
                    .collect(),
            }),
            ..Default::default()
        })
        .collect()
}

async fn ingest(
    s: &mut support::Loyalty,
    events: Vec<common::DomainEvent>,
) -> pb::IngestEventsResponse {
    s.loyalty
        .ingest_events(pb::IngestEventsRequest { events })
        .await
        .unwrap()
        .into_inner()
}

async fn score_at(s: &mut support::Loyalty, customer: &str) -> pb::LoyaltyScore {
    s.loyalty
        .get_loyalty_score(pb::GetLoyaltyScoreRequest {
            customer_id: customer.into(),
            as_of: Some(rapport_wire::timestamp_to_pb(s.clock.now())),
        })
        .await
        .unwrap()
        .into_inner()
        .score
        .unwrap()
}

/// Two scores of different customers with the same inputs: equal in every number.
fn assert_same(a: &pb::LoyaltyScore, b: &pb::LoyaltyScore) {
    assert_eq!(
        (
            a.loyalty,
            a.satisfaction,
            a.involvement,
            a.affinity,
            a.segment
        ),
        (
            b.loyalty,
            b.satisfaction,
            b.involvement,
            b.affinity,
            b.segment
        )
    );
    let points = |s: &pb::LoyaltyScore| {
        s.explanation
            .iter()
            .map(|c| (c.signal.clone(), c.points))
            .collect::<Vec<_>>()
    };
    assert_eq!(points(a), points(b));
}

async fn replayed_and_shuffled_events_give_the_same_score(database: TestDatabase) {
    let mut s = start(database).await;
    let ordered = s.customer("Ana Popescu", (2018, 4, 1)).await;
    let shuffled = s.customer("Ana Popescu", (2018, 4, 1)).await;
    let kept_plan = s.customer("Ana Popescu", (2018, 4, 1)).await;

    let first = {
        let batch = events(&s, &ordered, &life());
        ingest(&mut s, batch).await
    };
    assert_eq!((first.accepted, first.duplicates), (14, 0));
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);

    // The same life for another customer: out of order, in small batches, every batch twice,
    // then the whole set once more.
    let mut mixed = events(&s, &shuffled, &life());
    mixed.reverse();
    let n = mixed.len();
    let mut order: Vec<usize> = (0..n).map(|i| (i * 5) % n).collect();
    order.dedup();
    let mixed: Vec<common::DomainEvent> = order.iter().map(|i| mixed[*i].clone()).collect();
    assert_eq!(mixed.len(), 14, "5 and 14 are coprime: a permutation");
    for batch in mixed.chunks(3) {
        let once = ingest(&mut s, batch.to_vec()).await;
        assert_eq!(once.accepted as usize, batch.len());
        let twice = ingest(&mut s, batch.to_vec()).await;
        assert_eq!(
            (twice.accepted, twice.duplicates as usize),
            (0, batch.len())
        );
    }
    let all_again = ingest(&mut s, mixed).await;
    assert_eq!((all_again.accepted, all_again.duplicates), (0, 14));

    let a = score_at(&mut s, &ordered).await;
    let b = score_at(&mut s, &shuffled).await;
    assert_same(&a, &b);
    // Each component's contributions add up to it.
    for (component, value) in [
        (pb::ScoreComponent::Satisfaction, a.satisfaction),
        (pb::ScoreComponent::Involvement, a.involvement),
        (pb::ScoreComponent::Affinity, a.affinity),
    ] {
        let sum: f64 = a
            .explanation
            .iter()
            .filter(|c| c.component == component as i32)
            .map(|c| c.points)
            .sum();
        assert!(
            (sum - value).abs() < 0.01,
            "{component:?}: {sum} against {value}"
        );
    }
    assert_eq!(a.model_version, "loyalty-2026.11-1");
    // Products: the report of 20 days ago (3) wins over the older one whatever the arrival order.
    assert!(
        a.explanation
            .iter()
            .any(|c| c.signal == "products_held" && c.points == 10.0)
    );

    // The same life with a hardship episode kept through: never lower.
    let mut with_plan = life();
    with_plan.extend(hardship());
    let mut plan_events = events(&s, &kept_plan, &with_plan);
    plan_events.reverse();
    ingest(&mut s, plan_events).await;
    let c = score_at(&mut s, &kept_plan).await;
    assert!(c.loyalty >= a.loyalty, "{} < {}", c.loyalty, a.loyalty);
    assert!(
        c.involvement > a.involvement,
        "keeping a plan raises involvement"
    );
    assert!(c.satisfaction >= a.satisfaction);
    assert!(c.reasons.iter().any(|r| r.code == "HARDSHIP_NEUTRAL"));
}

async fn bad_events_are_rejected_and_the_rest_applied(database: TestDatabase) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2018, 4, 1)).await;
    let mut batch = events(&s, &ana, &life()[..3]);
    let mut unknown = batch[0].clone();
    unknown.event_id = Id::new().to_string();
    unknown.event_type = "plans.teleported.v1".into();
    let mut no_id = batch[0].clone();
    no_id.event_id = "42".into();
    let mut future = batch[0].clone();
    future.event_id = Id::new().to_string();
    future.occurred_at = Some(rapport_wire::timestamp_to_pb(
        s.clock.now() + SignedDuration::from_hours(2),
    ));
    let mut no_payload = batch[0].clone();
    no_payload.event_id = Id::new().to_string();
    no_payload.event_type = "profiles.commitment_resolved.v1".into();
    batch.extend([unknown.clone(), no_id, future, no_payload]);
    let answer = ingest(&mut s, batch).await;
    assert_eq!(answer.accepted, 3);
    let codes: Vec<(String, String)> = answer
        .rejected
        .iter()
        .map(|r| (r.event_id.clone(), r.reason.clone().unwrap().code))
        .collect();
    assert_eq!(
        codes.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
        [
            "UNKNOWN_EVENT_TYPE",
            "INVALID_EVENT_ID",
            "INVALID_OCCURRED_AT",
            "INVALID_PAYLOAD"
        ]
    );
    assert_eq!(codes[0].0, unknown.event_id);
    assert_eq!(s.count("SELECT COUNT(*) FROM ingested_events").await, 3);

    let too_many = s
        .loyalty
        .ingest_events(pb::IngestEventsRequest {
            events: vec![common::DomainEvent::default(); 501],
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), tonic::Code::InvalidArgument);
}

async fn history_and_at_risk_follow_the_score(database: TestDatabase) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2018, 4, 1)).await;
    let bob = s.customer("Bob Hughes", (2015, 4, 1)).await;
    {
        let batch = events(&s, &bob, &life());
        ingest(&mut s, batch).await
    };
    s.answer(&ana, 10, "call_center").await;
    let first = score_at(&mut s, &ana).await;
    s.clock.advance(SignedDuration::from_hours(24));
    s.answer(&ana, 2, "call_center").await;

    let history = s
        .loyalty
        .get_score_history(pb::GetScoreHistoryRequest {
            customer_id: ana.clone(),
            interval: None,
            include_explanation: false,
            page: Some(common::PageRequest {
                page_size: 1,
                page_token: String::new(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.scores.len(), 1);
    let newest = &history.scores[0];
    assert!(newest.explanation.is_empty());
    let next = s
        .loyalty
        .get_score_history(pb::GetScoreHistoryRequest {
            customer_id: ana.clone(),
            interval: None,
            include_explanation: true,
            page: Some(common::PageRequest {
                page_size: 10,
                page_token: history.page.unwrap().next_page_token,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.scores.len(), 1, "one score per change");
    let older = &next.scores[0];
    let seconds = |s: &pb::LoyaltyScore| s.as_of.unwrap().seconds;
    assert!(seconds(older) < seconds(newest), "newest first");
    assert!(older.satisfaction > newest.satisfaction, "a 10 then a 2");
    assert!(!older.explanation.is_empty());
    // The history keeps each contribution's figures and describes it again when read: the
    // same sentences as the score computed at the time.
    let described = |s: &pb::LoyaltyScore| {
        s.explanation
            .iter()
            .map(|c| (c.signal.clone(), c.description.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(described(older), described(&first));
    // Figures in `contributions`; `explanation` left `[]`, which a previous version reads
    // as an empty explanation rather than failing on a format it does not know (migration 9).
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM score_history WHERE explanation <> '[]' OR contributions IS NULL"
        )
        .await,
        0
    );
    assert!(
        described(older)
            .iter()
            .any(|(signal, text)| signal == "survey_scores"
                && text.starts_with("Survey answers weighted by recency (")),
        "{:?}",
        described(older)
    );

    // Ana has an open detractor follow-up: at risk. Bob is not.
    let at_risk = s
        .loyalty
        .list_at_risk(pb::ListAtRiskRequest::default())
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(at_risk.len(), 1, "{at_risk:?}");
    assert_eq!(at_risk[0].customer_id, ana);
    // Previous is the loyalty before the latest change: the score after the 10.
    assert_ne!(older.loyalty, newest.loyalty, "a 10 then a 2 moves loyalty");
    assert_eq!(at_risk[0].previous_loyalty, older.loyalty);
    assert_eq!(at_risk[0].score.as_ref().unwrap().loyalty, newest.loyalty);
    assert!(
        at_risk[0]
            .reasons
            .iter()
            .any(|r| r.code == "OPEN_DETRACTOR_FOLLOW_UP")
    );
    assert!(
        at_risk[0]
            .reasons
            .iter()
            .all(|r| r.effect == common::ReasonEffect::Opposes as i32)
    );
}

async fn batch_rescoring_scores_everyone_as_the_live_score_does(database: TestDatabase) {
    let mut s = start(database).await;
    let mut customers = Vec::new();
    for year in [2010, 2016, 2022] {
        let c = s.customer("Ana Popescu", (year, 4, 1)).await;
        let batch = events(&s, &c, &life());
        ingest(&mut s, batch).await;
        // Tenure is learned from profiles on the first score read.
        s.score(&c).await;
        customers.push(c);
    }
    let answered = s.customer("Bob Hughes", (2019, 1, 1)).await;
    s.answer(&answered, 4, "branch").await;
    customers.push(answered);
    s.clock.advance(SignedDuration::from_hours(24 * 10));

    let storage = rapport_storage::Storage::open(&s.database.settings).unwrap();
    let rules = rapport_loyalty::Rules {
        rescore_batch_size: 3,
        ..rapport_loyalty::Rules::default()
    };
    let history_before = s.count("SELECT COUNT(*) FROM score_history").await;
    let report = rapport_loyalty::rescore::rescore_all(&storage, &rules, s.clock.now())
        .await
        .unwrap();
    assert_eq!((report.customers, report.pages), (4, 2));
    // A row per customer whose score changed in ten days; the others are marked unchanged.
    assert_eq!(
        s.count("SELECT COUNT(*) FROM score_history").await,
        history_before + 4 - report.unchanged as i64
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM scores_current").await, 4);
    for c in &customers {
        let newest = s
            .loyalty
            .get_score_history(pb::GetScoreHistoryRequest {
                customer_id: c.clone(),
                page: Some(common::PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .scores
            .remove(0);
        let live = score_at(&mut s, c).await;
        assert_eq!(newest.as_of, live.as_of);
        assert_eq!(
            (
                newest.loyalty,
                newest.satisfaction,
                newest.involvement,
                newest.affinity
            ),
            (
                live.loyalty,
                live.satisfaction,
                live.involvement,
                live.affinity
            )
        );
    }
    // A run as of an earlier time (a slow batch overtaken by newer scores) never replaces a newer
    // current score.
    let earlier = s.clock.now() - SignedDuration::from_hours(24 * 5);
    rapport_loyalty::rescore::rescore_all(&storage, &rules, earlier)
        .await
        .unwrap();
    let (newest,): (i64,) =
        rapport_storage::sqlx::query_as("SELECT MIN(as_of_micros) FROM scores_current")
            .fetch_one(storage.reader())
            .await
            .unwrap();
    assert_eq!(newest, rapport_clock::to_unix_micros(s.clock.now()));
    storage.close().await;
}

async fn a_rerun_that_changes_nothing_adds_no_history_and_marks_the_score_current(
    database: TestDatabase,
) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2016, 4, 1)).await;
    let batch = events(&s, &ana, &life());
    ingest(&mut s, batch).await;
    // An open detractor follow-up: at risk, with reasons to show.
    s.answer(&ana, 3, "branch").await;
    s.score(&ana).await;
    let storage = rapport_storage::Storage::open(&s.database.settings).unwrap();
    let rules = rapport_loyalty::Rules::default();
    rapport_loyalty::rescore::rescore_all(&storage, &rules, s.clock.now())
        .await
        .unwrap();
    let history = |s: &mut support::Loyalty| {
        let mut client = s.loyalty.clone();
        let ana = ana.clone();
        async move {
            client
                .get_score_history(pb::GetScoreHistoryRequest {
                    customer_id: ana,
                    include_explanation: true,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .scores
        }
    };
    let before = history(&mut s).await;
    let current_as_of = "SELECT MAX(as_of_micros) FROM scores_current";

    s.clock.advance(SignedDuration::from_secs(60));
    let rerun = rapport_loyalty::rescore::rescore_all(&storage, &rules, s.clock.now())
        .await
        .unwrap();
    assert_eq!((rerun.customers, rerun.unchanged), (1, 1));
    assert_eq!(
        history(&mut s).await,
        before,
        "no history row for no change"
    );
    assert_eq!(
        s.count(current_as_of).await,
        rapport_clock::to_unix_micros(s.clock.now()),
        "the current score is unchanged as of the rerun"
    );
    assert!(!before[0].explanation.is_empty());

    // A slower run as of an earlier time moves "as of" back no more than it overwrites a score.
    let earlier = s.clock.now() - SignedDuration::from_secs(30);
    let late = rapport_loyalty::rescore::rescore_all(&storage, &rules, earlier)
        .await
        .unwrap();
    assert_eq!(late.unchanged, 1);
    assert_eq!(
        s.count(current_as_of).await,
        rapport_clock::to_unix_micros(s.clock.now())
    );

    // The at-risk list still shows the stored score with its reasons.
    let at_risk = s
        .loyalty
        .list_at_risk(pb::ListAtRiskRequest::default())
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(at_risk.len(), 1);
    assert_eq!(at_risk[0].score.as_ref(), Some(&before[0]));
    assert!(
        at_risk[0]
            .reasons
            .iter()
            .any(|r| r.code == "OPEN_DETRACTOR_FOLLOW_UP")
    );

    // A change writes a history row again, and the next run compares with it.
    s.answer(&ana, 10, "branch").await;
    assert_eq!(history(&mut s).await.len(), before.len() + 1);
    storage.close().await;
}

async fn merges_and_erasure_apply_whatever_the_order(database: TestDatabase) {
    let mut s = start(database).await;
    let survivor = s.customer("Ana Popescu", (2015, 4, 1)).await;
    let duplicate = s.customer("Ana Popescu", (2019, 4, 1)).await;
    let warm = |s: &support::Loyalty, customer: &str| {
        let mut batch = events(s, customer, &life()[3..4]);
        batch[0].event_id = Id::new().to_string();
        batch
    };
    // One touchpoint of the duplicate before the merge arrives, one after.
    let before = warm(&s, &duplicate);
    ingest(&mut s, before).await;
    let mut merged = events(&s, &survivor, &[("profiles.customer_merged.v1", vec![], 0)]);
    merged[0].payload = Some(Struct {
        fields: [
            ("survivor_customer_id", survivor.clone()),
            ("duplicate_customer_id", duplicate.clone()),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_owned(),
                Value {
                    kind: Some(Kind::StringValue(v)),
                },
            )
        })
        .collect(),
    });
    assert_eq!(ingest(&mut s, merged).await.accepted, 1);
    let after = warm(&s, &duplicate);
    ingest(&mut s, after).await;

    // Asking for the duplicate answers with the survivor, who has both touchpoints.
    let score = score_at(&mut s, &duplicate).await;
    assert_eq!(score.customer_id, survivor);
    let activity = score
        .explanation
        .iter()
        .find(|c| c.signal == "touchpoint_activity")
        .unwrap();
    // Two touchpoints 10 days old: 2 · 0.5^(10/90) = 1.85.
    assert!(
        activity.description.contains("1.85"),
        "{}",
        activity.description
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM signals WHERE kind = 'interaction'")
            .await,
        2
    );

    // Erasure in profiles: the customer's own words go, the numbers stay.
    s.loyalty
        .record_survey_response(pb::RecordSurveyResponseRequest {
            response: Some(pb::SurveyResponse {
                customer_id: survivor.clone(),
                kind: pb::SurveyKind::Relationship as i32,
                nps: Some(9),
                text: "Lovely people at the Cluj branch.".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let erased = events(&s, &survivor, &[("profiles.customer_erased.v1", vec![], 0)]);
    ingest(&mut s, erased).await;
    assert_eq!(
        s.count("SELECT COUNT(*) FROM survey_responses WHERE text <> ''")
            .await,
        0
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM survey_responses").await, 1);
}

/// A profiles event naming both sides of a merge.
fn merge_event(s: &support::Loyalty, survivor: &str, duplicate: &str) -> common::DomainEvent {
    let mut merged = events(s, survivor, &[("profiles.customer_merged.v1", vec![], 0)]);
    merged[0].payload = Some(Struct {
        fields: [
            ("survivor_customer_id", survivor),
            ("duplicate_customer_id", duplicate),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_owned(),
                Value {
                    kind: Some(Kind::StringValue(v.to_owned())),
                },
            )
        })
        .collect(),
    });
    merged.remove(0)
}

/// The duplicate's own words in every place loyalty keeps words: a survey comment, what its
/// follow-up told the customer, a recognition.
async fn words_of(s: &mut support::Loyalty, customer: &str, words: &str) {
    let answered = s
        .loyalty
        .record_survey_response(pb::RecordSurveyResponseRequest {
            response: Some(pb::SurveyResponse {
                customer_id: customer.into(),
                kind: pb::SurveyKind::Transactional as i32,
                nps: Some(3),
                text: format!("{words}: the branch staff were kind"),
                touchpoint: "branch".into(),
                channel: common::Channel::Email as i32,
                locale: "en-GB".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    s.loyalty
        .close_follow_up(pb::CloseFollowUpRequest {
            follow_up_id: answered.follow_up.unwrap().follow_up_id,
            customer_told: format!("{words}: we refunded the fee"),
            outcome: pb::FollowUpOutcome::Resolved as i32,
            closed_by: Some(agent("agent-7")),
            closed_at: None,
        })
        .await
        .unwrap();
    s.loyalty
        .record_recognition(pb::RecordRecognitionRequest {
            recognition: Some(pb::Recognition {
                customer_id: customer.into(),
                kind: pb::RecognitionKind::ThankYou as i32,
                description: format!("{words}: a card for the years with us"),
                given_by: Some(agent("agent-3")),
                customer_response: common::Sentiment::Positive as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
}

/// Every row of loyalty's that still holds `words`, as "table.column".
async fn holding(s: &support::Loyalty, words: &str) -> Vec<String> {
    let storage = rapport_storage::Storage::open(&s.database.settings).unwrap();
    let mut found = Vec::new();
    for (table, column) in [
        ("survey_responses", "text"),
        ("follow_ups", "customer_told"),
        ("recognitions", "description"),
    ] {
        let (n,): (i64,) = rapport_storage::sqlx::query_as(rapport_storage::sqlx::AssertSqlSafe(
            format!("SELECT COUNT(*) FROM {table} WHERE {column} LIKE $1"),
        ))
        .bind(format!("%{words}%"))
        .fetch_one(storage.reader())
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    storage.close().await;
    found
}

async fn a_merge_moves_every_row_and_erasure_reaches_every_merged_id(database: TestDatabase) {
    let mut s = start(database).await;
    let survivor = s.customer("Ana Popescu", (2015, 4, 1)).await;
    let duplicate = s.customer("Ana Popescu", (2019, 4, 1)).await;
    let late = s.customer("A. Popescu", (2020, 4, 1)).await;
    words_of(&mut s, &duplicate, "Duplicate").await;
    words_of(&mut s, &late, "Late").await;

    let merged = merge_event(&s, &survivor, &duplicate);
    ingest(&mut s, vec![merged.clone()]).await;
    // Applying the same merge again is a duplicate and changes nothing.
    assert_eq!(ingest(&mut s, vec![merged]).await.duplicates, 1);
    for table in ["survey_responses", "follow_ups", "recognitions", "signals"] {
        let storage = rapport_storage::Storage::open(&s.database.settings).unwrap();
        let (left,): (i64,) =
            rapport_storage::sqlx::query_as(rapport_storage::sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE customer_id = $1"
            )))
            .bind(&duplicate)
            .fetch_one(storage.reader())
            .await
            .unwrap();
        storage.close().await;
        assert_eq!(left, 0, "{table} still holds rows under the merged-away id");
    }
    // Asking about the duplicate answers for the survivor, with the duplicate's follow-up.
    let follow_ups = s
        .loyalty
        .list_follow_ups(pb::ListFollowUpsRequest {
            customer_id: duplicate.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .follow_ups;
    assert_eq!(follow_ups.len(), 1);
    assert_eq!(follow_ups[0].customer_id, survivor);

    // Erasing the survivor erases the words of the id merged into it.
    let erased = events(&s, &survivor, &[("profiles.customer_erased.v1", vec![], 0)]);
    ingest(&mut s, erased).await;
    assert_eq!(holding(&s, "Duplicate").await, Vec::<String>::new());
    // A merge profiles made before the erasure, arriving after it, still erases.
    assert_eq!(
        holding(&s, "Late").await,
        [
            "survey_responses.text",
            "follow_ups.customer_told",
            "recognitions.description"
        ]
    );
    let late_merge = merge_event(&s, &survivor, &late);
    ingest(&mut s, vec![late_merge]).await;
    assert_eq!(holding(&s, "Late").await, Vec::<String>::new());
    // The numbers stay: three answers, three detractors' follow-ups closed, two recognitions.
    assert_eq!(s.count("SELECT COUNT(*) FROM survey_responses").await, 2);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM survey_responses WHERE nps = 3")
            .await,
        2
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM follow_ups WHERE closed_at_micros IS NOT NULL")
            .await,
        2
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM recognitions").await, 2);
}

/// The same events with the producers' typed message alone (no JSON payload, so loyalty can
/// only have read the typed one); outside systems' events as they were.
fn typed_only(events: Vec<common::DomainEvent>) -> Vec<common::DomainEvent> {
    events
        .into_iter()
        .map(|mut event| {
            let fields = event.payload.clone().unwrap_or_default().fields;
            let body = serde_json::Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v.kind {
                            Some(Kind::StringValue(text)) => text.into(),
                            Some(Kind::BoolValue(flag)) => flag.into(),
                            Some(Kind::NumberValue(n)) => n.into(),
                            _ => serde_json::Value::Null,
                        };
                        (k, v)
                    })
                    .collect(),
            );
            event.typed_payload = rapport_clients::typed_payload(&event.event_type, &body);
            if event.typed_payload.is_some() {
                event.payload = None;
            }
            event
        })
        .collect()
}

async fn typed_events_mean_what_their_json_bodies_meant(database: TestDatabase) {
    let mut s = start(database).await;
    let as_json = s.customer("Ana Popescu", (2018, 4, 1)).await;
    let as_typed = s.customer("Ana Popescu", (2018, 4, 1)).await;
    let batch = events(&s, &as_json, &life());
    assert!(ingest(&mut s, batch).await.rejected.is_empty());
    let batch = typed_only(events(&s, &as_typed, &life()));
    let typed = batch.iter().filter(|e| e.typed_payload.is_some()).count();
    assert_eq!(
        typed, 11,
        "every producer's event of the life travels typed"
    );
    let answer = ingest(&mut s, batch).await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    assert_eq!(answer.accepted, 14);
    let (json_score, typed_score) = (
        score_at(&mut s, &as_json).await,
        score_at(&mut s, &as_typed).await,
    );
    assert_same(&json_score, &typed_score);

    // A typed body must be the event type it is sent as.
    let mut mismatch = typed_only(events(&s, &as_typed, &life()[..1])).remove(0);
    mismatch.event_type = "plans.plan_accepted.v1".into();
    let answer = ingest(&mut s, vec![mismatch]).await;
    assert_eq!(
        answer.rejected[0].reason.as_ref().unwrap().code,
        "INVALID_PAYLOAD"
    );
}
