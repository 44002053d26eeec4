//! Anniversary rewards exactly once (29 February included) and recognition.

use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{agent, start, violated_fields};

backend_tests!(
    anniversary_rewards_are_issued_exactly_once,
    no_reward_for_an_anniversary_not_yet_reached,
    recognition_is_recorded_once_and_warms_affinity,
);

fn run(year: i32, month: i32, day: i32) -> pb::IssueAnniversaryRewardsRequest {
    pb::IssueAnniversaryRewardsRequest {
        date: Some(common::Date { year, month, day }),
    }
}

async fn anniversary_rewards_are_issued_exactly_once(database: TestDatabase) {
    let mut s = start(database).await;
    let six_years = s.customer("Ana Popescu", (2020, 3, 2)).await;
    let one_year = s.customer("Bob Hughes", (2025, 3, 2)).await;
    let _joined_today = s.customer("Chen Wei", (2026, 3, 2)).await;
    let leap = s.customer("Dara Leap", (2024, 2, 29)).await;
    let _other_day = s.customer("Eve Other", (2019, 3, 3)).await;

    // 2026 has no 29 February: a 29 February joiner's anniversary is the 28th.
    let leap_run = s
        .loyalty
        .issue_anniversary_rewards(run(2026, 2, 28))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((leap_run.issued, leap_run.already_issued), (1, 0));
    let reward = &leap_run.rewards[0];
    assert_eq!(reward.customer_id, leap);
    assert_eq!(reward.tenure_year, 2);
    assert_eq!(reward.tenure_band, "1-4 years");
    assert_eq!(reward.value.as_ref().unwrap().minor_units, 500);
    let again = s
        .loyalty
        .issue_anniversary_rewards(run(2026, 2, 28))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.issued, again.already_issued), (0, 1));

    // Eight concurrent runs for 2 March: each of the two customers rewarded once in all.
    let runs = (0..8).map(|_| {
        let mut client = s.loyalty.clone();
        async move {
            client
                .issue_anniversary_rewards(run(2026, 3, 2))
                .await
                .unwrap()
                .into_inner()
        }
    });
    let results = futures_util::future::join_all(runs).await;
    let issued: i32 = results.iter().map(|r| r.issued).sum();
    let already: i32 = results.iter().map(|r| r.already_issued).sum();
    assert_eq!(issued, 2, "{results:?}");
    assert_eq!(already, 2 * 7);
    assert_eq!(s.count("SELECT COUNT(*) FROM rewards").await, 3);

    let listed = s
        .loyalty
        .list_rewards(pb::ListRewardsRequest {
            customer_id: six_years.clone(),
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .rewards;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].tenure_year, 6);
    assert_eq!(listed[0].tenure_band, "5-9 years");
    assert_eq!(listed[0].value.as_ref().unwrap().minor_units, 1_500);
    let first_year = s
        .loyalty
        .list_rewards(pb::ListRewardsRequest {
            customer_id: one_year,
            page: None,
        })
        .await
        .unwrap()
        .into_inner()
        .rewards;
    assert_eq!(first_year[0].tenure_year, 1);
    // Paging over all three, one per page.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = s
            .loyalty
            .list_rewards(pb::ListRewardsRequest {
                customer_id: String::new(),
                page: Some(common::PageRequest {
                    page_size: 1,
                    page_token: token,
                }),
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.rewards.into_iter().map(|r| r.reward_id));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 3);

    let bad = s
        .loyalty
        .issue_anniversary_rewards(run(2026, 2, 30))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["date"]);
}

async fn recognition_is_recorded_once_and_warms_affinity(database: TestDatabase) {
    let mut s = start(database).await;
    let ana = s.customer("Ana Popescu", (2012, 5, 1)).await;
    let request = pb::RecordRecognitionRequest {
        recognition: Some(pb::Recognition {
            customer_id: ana.clone(),
            kind: pb::RecognitionKind::ThankYou as i32,
            description: "Handwritten card for 14 years with us".into(),
            value: None,
            given_by: Some(agent("agent-3")),
            occurred_at: None,
            customer_response: common::Sentiment::Positive as i32,
            ..Default::default()
        }),
        request_id: "card-1".into(),
    };
    let first = s
        .loyalty
        .record_recognition(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = s
        .loyalty
        .record_recognition(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first.recognition.unwrap().recognition_id,
        again.recognition.unwrap().recognition_id
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM recognitions").await, 1);
    let score = s.score(&ana).await;
    let warmth: f64 = score
        .explanation
        .iter()
        .filter(|c| c.signal == "recognition_response")
        .map(|c| c.points)
        .sum();
    assert!(warmth > 0.0, "{:?}", score.explanation);

    let mut negative = request.clone();
    negative.request_id = String::new();
    if let Some(r) = negative.recognition.as_mut() {
        r.value = Some(common::Money {
            currency_code: "GBP".into(),
            minor_units: -5,
        });
        r.given_by = None;
    }
    let refused = s.loyalty.record_recognition(negative).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&refused),
        ["recognition.value.minor_units", "recognition.given_by"]
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM recognitions").await, 1);
}

/// DESIGN.md, "Money and time": no reward for a date not reached; a day ahead of UTC is allowed
/// because the earliest time zone (UTC+14) is already there.
async fn no_reward_for_an_anniversary_not_yet_reached(database: TestDatabase) {
    let mut s = start(database).await;
    let bob = s.customer("Bob Hughes", (2025, 3, 12)).await;

    // 2 March 2026: the first anniversary on 12 March has not been reached.
    let early = s
        .loyalty
        .issue_anniversary_rewards(run(2026, 3, 12))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&early), ["date"]);
    assert!(
        early.message().contains("2026-03-03"),
        "{}",
        early.message()
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM rewards").await, 0);
    let tomorrow = s
        .loyalty
        .issue_anniversary_rewards(run(2026, 3, 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tomorrow.issued, 0);

    s.clock.set("2026-03-12T00:30:00Z".parse().unwrap());
    let reached = s
        .loyalty
        .issue_anniversary_rewards(run(2026, 3, 12))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reached.issued, 1);
    assert_eq!(reached.rewards[0].customer_id, bob);
}
