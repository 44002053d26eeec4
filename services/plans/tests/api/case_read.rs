//! HardshipService/ListHardshipCases and GetHardshipCase: an agent finds a customer's cases,
//! each with its affordability, the plan accepted from it and what is left each month.

use rapport_clock::SignedDuration;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::merges::merged_event;
use crate::plans::{accept, in_arrears_with_a_statement, option_of, options};
use crate::support::{Plans, agent, create_customer, money, start, violated_fields};

fn by_customer(
    customer_id: &str,
    page_size: i32,
    page_token: &str,
) -> pb::ListHardshipCasesRequest {
    pb::ListHardshipCasesRequest {
        customer_id: customer_id.into(),
        page: Some(common::PageRequest {
            page_size,
            page_token: page_token.into(),
        }),
        ..Default::default()
    }
}

async fn list(
    plans: &mut Plans,
    r: pb::ListHardshipCasesRequest,
) -> (Vec<pb::HardshipCaseDetail>, String) {
    let answer = plans
        .hardship
        .list_hardship_cases(r)
        .await
        .unwrap()
        .into_inner();
    (answer.cases, answer.page.unwrap().next_page_token)
}

fn case_ids(cases: &[pb::HardshipCaseDetail]) -> Vec<&str> {
    cases
        .iter()
        .map(|c| c.hardship_case.as_ref().unwrap().case_id.as_str())
        .collect()
}

async fn open_case(plans: &mut Plans, customer_id: &str, account_id: &str) -> String {
    plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id: customer_id.into(),
            account_ids: vec![account_id.into()],
            reason: pb::HardshipReason::Illness as i32,
            opened_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap()
        .case_id
}

async fn cases_come_newest_first_with_affordability_plan_and_headroom(database: TestDatabase) {
    let mut plans = start(database).await;
    // A statement leaving 600.00 a month, and a reduced-payment plan accepted from the case.
    let (account, first_case) = in_arrears_with_a_statement(&mut plans).await;
    let offered = options(&mut plans, &account.account_id, 15).await;
    let chosen = option_of(&offered, pb::PlanOptionKind::ReducedPayment);
    let plan = plans
        .plans
        .accept_plan(accept(&account.account_id, &chosen.option_id, ""))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    plans
        .hardship
        .refer_to_debt_advice(pb::ReferToDebtAdviceRequest {
            case_id: first_case.clone(),
            service_id: "stepchange".into(),
            referred_by: Some(agent("agent-5")),
            customer_consented: true,
            notes: String::new(),
        })
        .await
        .unwrap();
    plans.clock.advance(SignedDuration::from_hours(2));
    let other_account = plans.account("GBP", 100_000, 5_000).await;
    let customer = plans.customer_id.clone();
    let second_case = open_case(&mut plans, &customer, &other_account.account_id).await;

    let (page, token) = list(&mut plans, by_customer(&customer, 1, "")).await;
    assert_eq!(case_ids(&page), [second_case.as_str()]);
    let newest = &page[0];
    assert!(
        newest.affordability.is_none() && newest.headroom.is_none(),
        "no statement yet: no affordability, no headroom"
    );
    assert!(newest.accepted_plan.is_none());
    assert!(!token.is_empty());
    let (page, token) = list(&mut plans, by_customer(&customer, 1, &token)).await;
    assert!(token.is_empty(), "two cases, two pages");
    assert_eq!(case_ids(&page), [first_case.as_str()]);
    let detail = &page[0];
    let case = detail.hardship_case.as_ref().unwrap();
    assert_eq!(case.status, pb::HardshipCaseStatus::Open as i32);
    assert_eq!(case.account_ids, [account.account_id.as_str()]);
    let statement = case.income_expenditure.as_ref().unwrap();
    assert_eq!(
        statement.income[0].monthly_amount,
        Some(money("GBP", 200_000))
    );
    assert_eq!(
        statement.income[0].category,
        pb::IncomeCategory::Earnings as i32
    );
    assert_eq!(statement.flexible_costs.len(), 2);
    assert_eq!(statement.submitted_by, Some(agent("agent-5")));
    assert_eq!(case.debt_advice_referrals.len(), 1);
    assert_eq!(
        case.debt_advice_referrals[0]
            .service
            .as_ref()
            .unwrap()
            .service_id,
        "stepchange"
    );
    let affordability = detail.affordability.as_ref().unwrap();
    assert_eq!(affordability.disposable_income, Some(money("GBP", 60_000)));
    assert_eq!(affordability.flagged_costs.len(), 1);
    let accepted = detail.accepted_plan.as_ref().unwrap();
    assert_eq!(accepted.plan_id, plan.plan_id);
    let monthly = plan.monthly_amount.as_ref().unwrap().minor_units;
    assert!(monthly > 0);
    assert_eq!(
        detail.headroom,
        Some(money("GBP", 60_000 - monthly)),
        "an active plan's monthly amount is no longer free"
    );

    // GetHardshipCase answers the same detail.
    let got = plans
        .hardship
        .get_hardship_case(pb::GetHardshipCaseRequest {
            case_id: first_case.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .detail
        .unwrap();
    assert_eq!(&got, detail);

    // Filters: an account's cases; statuses.
    let (listed, _) = list(
        &mut plans,
        pb::ListHardshipCasesRequest {
            account_id: account.account_id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(case_ids(&listed), [first_case.as_str()]);
    let mut open = by_customer(&customer, 0, "");
    open.statuses = vec![pb::HardshipCaseStatus::Open as i32];
    let (listed, _) = list(&mut plans, open).await;
    assert_eq!(
        case_ids(&listed),
        [second_case.as_str(), first_case.as_str()]
    );
    let mut closed = by_customer(&customer, 0, "");
    closed.statuses = vec![pb::HardshipCaseStatus::Closed as i32];
    let (listed, _) = list(&mut plans, closed).await;
    assert!(listed.is_empty(), "no case is closed");
    let mut both = by_customer(&customer, 0, "");
    both.account_id = other_account.account_id.clone();
    let (listed, _) = list(&mut plans, both).await;
    assert_eq!(case_ids(&listed), [second_case.as_str()]);

    // Once the plan is cancelled, the whole disposable income is headroom again.
    plans
        .plans
        .cancel_plan(pb::CancelPlanRequest {
            plan_id: plan.plan_id.clone(),
            reason: "customer asked to stop".into(),
            cancelled_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    let got = plans
        .hardship
        .get_hardship_case(pb::GetHardshipCaseRequest {
            case_id: first_case.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .detail
        .unwrap();
    assert_eq!(
        got.accepted_plan.unwrap().status,
        pb::PlanStatus::Cancelled as i32
    );
    assert_eq!(got.headroom, Some(money("GBP", 60_000)));
}

async fn a_merged_away_customer_s_cases_are_the_survivor_s(database: TestDatabase) {
    let mut plans = start(database).await;
    let survivor = plans.customer_id.clone();
    let duplicate = create_customer(&mut plans.profiles, "Ana Ionescu").await;
    let account = plans
        .accounts
        .upsert_account(crate::support::upsert_for(
            &duplicate, "GBP", 100_000, 5_000, "dup-1",
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    let case = open_case(&mut plans, &duplicate, &account.account_id).await;
    plans
        .accounts
        .ingest_events(pb::IngestEventsRequest {
            events: vec![merged_event(
                &rapport_ids::Id::new().to_string(),
                &survivor,
                &duplicate,
            )],
        })
        .await
        .unwrap();
    let (listed, _) = list(&mut plans, by_customer(&duplicate, 0, "")).await;
    assert_eq!(case_ids(&listed), [case.as_str()]);
    assert_eq!(
        listed[0].hardship_case.as_ref().unwrap().customer_id,
        survivor
    );
}

async fn what_the_case_reads_cannot_answer_is_named(database: TestDatabase) {
    let plans = start(database).await;
    let customer = plans.customer_id.clone();
    let mut hardship = plans.hardship.clone();

    let neither = hardship
        .list_hardship_cases(pb::ListHardshipCasesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(neither.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&neither), ["customer_id", "account_id"]);

    let mut statuses = by_customer(&customer, 0, "");
    statuses.statuses = vec![pb::HardshipCaseStatus::Open as i32, 0];
    let bad = hardship.list_hardship_cases(statuses).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), ["statuses[1]"]);

    let bad = hardship
        .list_hardship_cases(by_customer("not-an-id", 0, "garbage"))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["customer_id", "page.page_token"]);

    let unknown_account = hardship
        .list_hardship_cases(pb::ListHardshipCasesRequest {
            account_id: rapport_ids::Id::new().to_string(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_account.code(), Code::NotFound);

    let unknown = hardship
        .get_hardship_case(pb::GetHardshipCaseRequest {
            case_id: rapport_ids::Id::new().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let missing = hardship
        .get_hardship_case(pb::GetHardshipCaseRequest::default())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&missing), ["case_id"]);
}

backend_tests!(
    cases_come_newest_first_with_affordability_plan_and_headroom,
    a_merged_away_customer_s_cases_are_the_survivor_s,
    what_the_case_reads_cannot_answer_is_named,
);
