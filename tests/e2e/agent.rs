//! The agent's command line against a running suite: what a call-center agent types and reads.

use rapport::agent;
use rapport_e2e::{Suite, hardship};
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_finds_a_customer_offers_options_and_reads_the_score() {
    let suite = Suite::start().await;
    let customer = ProfileServiceClient::new(suite.channel.clone())
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Ștefan Popescu".into(),
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                customer_since: Some(common::Date {
                    year: 2019,
                    month: 5,
                    day: 1,
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .customer_id;
    let connect = || agent::connect(&suite.url);

    let found = agent::customer_find(connect().await.unwrap(), "stefan")
        .await
        .unwrap();
    assert!(found.contains("Ștefan Popescu"), "{found}");
    assert!(found.contains(&customer));
    assert!(found.contains("2019-05-01"));
    let none = agent::customer_find(connect().await.unwrap(), "nobody")
        .await
        .unwrap();
    assert!(none.starts_with("No customer matches"));

    let connection = connect().await.unwrap();
    let account = hardship::account_behind(&connection, &customer, "GB-1", 35).await;
    let case = hardship::case_with_statement(&connection, &customer, &account).await;
    let options = agent::plan_options(connect().await.unwrap(), &account, &case, 0)
        .await
        .unwrap();
    assert!(options.contains("\nRANK"), "{options}");
    assert!(options.contains("Write-off would recover GBP"), "{options}");
    let first = PlanServiceClient::new(suite.channel.clone())
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account.clone(),
            case_id: case.clone(),
            payday: 0,
            locale: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .options
        .remove(0);
    assert!(
        options.contains(&first.summary),
        "the summary to read aloud"
    );
    let accepted = agent::plan_accept(
        connect().await.unwrap(),
        &account,
        &case,
        &first.option_id,
        "agent-5",
        "call-2026-0001",
    )
    .await
    .unwrap();
    assert!(accepted.starts_with("Plan "), "{accepted}");
    assert!(accepted.contains("accepted"));
    // The same command again (a retry) accepts once and says the same.
    let again = agent::plan_accept(
        connect().await.unwrap(),
        &account,
        &case,
        &first.option_id,
        "agent-5",
        "call-2026-0001",
    )
    .await
    .unwrap();
    assert_eq!(again.lines().next(), accepted.lines().next());

    // A refusal names the field.
    let refused = agent::plan_options(connect().await.unwrap(), "not-an-id", &case, 0)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.starts_with("InvalidArgument"), "{refused}");
    assert!(refused.contains("account_id"), "{refused}");

    // A detractor answer: the follow-up shows, and the score explains itself.
    LoyaltyServiceClient::new(suite.channel.clone())
        .record_survey_response(loyalty::RecordSurveyResponseRequest {
            response: Some(loyalty::SurveyResponse {
                customer_id: customer.clone(),
                kind: loyalty::SurveyKind::Transactional as i32,
                nps: Some(3),
                touchpoint: "plan_setup".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let waiting = agent::follow_ups(connect().await.unwrap(), false, "")
        .await
        .unwrap();
    assert!(waiting.contains(&customer), "{waiting}");
    assert!(waiting.contains("Open"));
    let overdue = agent::follow_ups(connect().await.unwrap(), true, "")
        .await
        .unwrap();
    assert_eq!(overdue, "No follow-ups waiting.\n");
    let score = agent::loyalty_score(connect().await.unwrap(), &customer)
        .await
        .unwrap();
    assert!(score.starts_with("Loyalty "), "{score}");
    assert!(score.contains("survey_scores"), "{score}");
    assert!(score.contains("OPEN_DETRACTOR_FOLLOW_UP"), "{score}");
    suite.stop().await.unwrap();
}
