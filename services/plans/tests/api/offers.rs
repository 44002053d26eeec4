//! GetPlanOptions does not wait for the writer (issue 23): the options are read and computed
//! without it and stored behind the answer, so an agent asking while the single SQLite writer
//! is busy still gets an answer, and accepting an option just offered finds it.

use std::time::Duration;

use rapport_proto::plans::v1 as pb;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, backend_tests};

use crate::hardship::statement;
use crate::support::{agent, money, start};

async fn options_are_offered_while_another_write_holds_the_writer(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    plans
        .arrears(&account.account_id, 45, money("GBP", 30_000))
        .await;
    let case = plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id: plans.customer_id.clone(),
            account_ids: vec![account.account_id.clone()],
            reason: pb::HardshipReason::ReducedIncome as i32,
            opened_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap();
    plans
        .hardship
        .submit_income_expenditure(pb::SubmitIncomeExpenditureRequest {
            case_id: case.case_id,
            income_expenditure: Some(statement("GBP")),
            submitted_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();

    // Another write holds the database's writer (on SQLite, the file's write lock).
    let other = Storage::open(&plans.database.settings).unwrap();
    let held = other.begin_write().await.unwrap();
    let asked = plans.plans.get_plan_options(pb::GetPlanOptionsRequest {
        account_id: account.account_id.clone(),
        payday: 15,
        ..Default::default()
    });
    let offered = tokio::time::timeout(Duration::from_secs(2), asked)
        .await
        .expect("the options are answered while the writer is held")
        .unwrap()
        .into_inner();
    held.rollback().await.unwrap();
    other.close().await;

    // The offer was stored behind the answer: the option the customer heard can be taken.
    let chosen = offered
        .options
        .iter()
        .find(|o| o.kind == pb::PlanOptionKind::ReducedPayment as i32)
        .expect("a reduced payment is offered");
    let plan = plans
        .plans
        .accept_plan(pb::AcceptPlanRequest {
            account_id: account.account_id.clone(),
            option_id: chosen.option_id.clone(),
            accepted_by: Some(agent("agent-5")),
            agreement: Some(pb::CustomerAgreement {
                method: pb::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-8813".into(),
                agreed_at: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(plan.status, pb::PlanStatus::Active as i32);
}

backend_tests!(options_are_offered_while_another_write_holds_the_writer);
