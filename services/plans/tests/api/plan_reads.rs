//! The call-center overview's reads do not queue behind the one writer (DESIGN.md, Storage):
//! ListPlans, GetPlan and ListPromisesToPay answer from a reader while nothing about the
//! customer's plans or promises would change, and take the writer only when time has moved a
//! plan or a promise on, which is then saved and published as before.

use std::time::Duration;

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, backend_tests};

use crate::merges::{merged_event, profiles_merge};
use crate::plans::accept_reduced_payment;
use crate::support::{Plans, agent, create_customer, date, money, start, upsert_for};

/// How long a read may take while another write holds the writer: well under SQLite's busy
/// timeout (5 s), which a read queued behind the writer would wait out.
const PROMPTLY: Duration = Duration::from_secs(2);

async fn overview(plans: &Plans) -> (Vec<pb::Plan>, Vec<pb::PromiseToPay>) {
    let mut client = plans.plans.clone();
    let listed_plans = client
        .list_plans(pb::ListPlansRequest {
            customer_id: plans.customer_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plans;
    let listed_promises = client
        .list_promises_to_pay(pb::ListPromisesToPayRequest {
            customer_id: plans.customer_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .promises;
    (listed_plans, listed_promises)
}

async fn get_plan(plans: &Plans, plan_id: &str) -> pb::Plan {
    plans
        .plans
        .clone()
        .get_plan(pb::GetPlanRequest {
            plan_id: plan_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap()
}

async fn the_overview_answers_while_the_writer_is_held_and_refreshes_once_time_moves_on(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let (account, plan) = accept_reduced_payment(&mut plans).await;
    let promise = plans
        .plans
        .record_promise_to_pay(pb::RecordPromiseToPayRequest {
            account_id: account.account_id.clone(),
            amount: Some(money("GBP", 10_000)),
            promised_date: Some(date(2026, 3, 9)),
            channel: common::Channel::Phone as i32,
            recorded_by: Some(agent("agent-5")),
            note: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .promise
        .unwrap();
    let before = overview(&plans).await;
    assert_eq!(before.0.len(), 1);
    assert_eq!(before.1.len(), 1);
    let outbox_before = plans.count("SELECT COUNT(*) FROM outbox").await;

    // Nothing is due yet: with another write holding the writer (on SQLite, the file's write
    // lock) the overview and the plan still answer, the same as before.
    let other = Storage::open(&plans.database.settings).unwrap();
    let held = other.begin_write().await.unwrap();
    let during = tokio::time::timeout(PROMPTLY, overview(&plans))
        .await
        .expect("ListPlans and ListPromisesToPay answer while the writer is held");
    let plan_during = tokio::time::timeout(PROMPTLY, get_plan(&plans, &plan.plan_id))
        .await
        .expect("GetPlan answers while the writer is held");
    held.rollback().await.unwrap();
    other.close().await;
    assert_eq!(during, before);
    assert_eq!(plan_during, before.0[0]);
    assert_eq!(
        plans.count("SELECT COUNT(*) FROM outbox").await,
        outbox_before,
        "a look that changes nothing publishes nothing"
    );

    // The first installment (15 March) and the promise (9 March) have passed unpaid: the next
    // look brings both up to date, saves and publishes it.
    plans.clock.set("2026-03-16T09:00:00Z".parse().unwrap());
    let (listed_plans, listed_promises) = overview(&plans).await;
    assert_eq!(listed_plans[0].consecutive_missed, 1);
    assert_eq!(
        listed_plans[0].schedule[0].status,
        pb::InstallmentStatus::Missed as i32
    );
    assert_eq!(listed_promises[0].promise_id, promise.promise_id);
    assert_eq!(
        listed_promises[0].status,
        pb::PromiseToPayStatus::Broken as i32
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM installments WHERE status = 'INSTALLMENT_STATUS_MISSED'")
            .await,
        1
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM promises WHERE status = 'PROMISE_TO_PAY_STATUS_BROKEN'")
            .await,
        1
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.installment_missed.v1'")
            .await,
        1
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.promise_resolved.v1'")
            .await,
        1
    );

    // Looked at again, nothing more changes: the reader's answer is the one the writer gave.
    let again = overview(&plans).await;
    assert_eq!(again, (listed_plans.clone(), listed_promises));
    assert_eq!(get_plan(&plans, &plan.plan_id).await, listed_plans[0]);
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.installment_missed.v1'")
            .await,
        1,
        "each miss is published once"
    );
}

async fn merged_away_and_unknown_ids_answer_as_before_while_the_writer_is_held(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let survivor = plans.customer_id.clone();
    let duplicate = create_customer(&mut plans.profiles, "Ana Ionescu").await;
    let account = plans
        .accounts
        .upsert_account(upsert_for(&duplicate, "GBP", 300_000, 15_000, "loan-dup"))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    plans
        .plans
        .record_promise_to_pay(pb::RecordPromiseToPayRequest {
            account_id: account.account_id.clone(),
            amount: Some(money("GBP", 10_000)),
            promised_date: Some(date(2026, 3, 9)),
            channel: common::Channel::Phone as i32,
            recorded_by: Some(agent("agent-5")),
            note: String::new(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    profiles_merge(&mut plans, &survivor, &duplicate).await;
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

    let other = Storage::open(&plans.database.settings).unwrap();
    let held = other.begin_write().await.unwrap();
    let reads = async {
        let mut client = plans.plans.clone();
        // The merged-away id names the survivor: its promises, and no plans (not NOT_FOUND).
        let promises = client
            .list_promises_to_pay(pb::ListPromisesToPayRequest {
                customer_id: duplicate.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .promises;
        let listed_plans = client
            .list_plans(pb::ListPlansRequest {
                customer_id: duplicate.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .plans;
        // An empty list is only true of an account or a customer that exists.
        let unknown = rapport_ids::Id::new().to_string();
        let codes = [
            client
                .list_plans(pb::ListPlansRequest {
                    account_id: unknown.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_err()
                .code(),
            client
                .list_promises_to_pay(pb::ListPromisesToPayRequest {
                    account_id: unknown.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_err()
                .code(),
            client
                .list_plans(pb::ListPlansRequest {
                    customer_id: unknown.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_err()
                .code(),
            client
                .list_promises_to_pay(pb::ListPromisesToPayRequest {
                    customer_id: unknown,
                    ..Default::default()
                })
                .await
                .unwrap_err()
                .code(),
        ];
        (promises, listed_plans, codes)
    };
    let (promises, listed_plans, codes) = tokio::time::timeout(PROMPTLY, reads)
        .await
        .expect("the lists answer while the writer is held");
    held.rollback().await.unwrap();
    other.close().await;
    assert_eq!(promises.len(), 1);
    assert_eq!(promises[0].customer_id, survivor);
    assert!(listed_plans.is_empty());
    assert_eq!(codes, [tonic::Code::NotFound; 4]);
}

backend_tests!(
    the_overview_answers_while_the_writer_is_held_and_refreshes_once_time_moves_on,
    merged_away_and_unknown_ids_answer_as_before_while_the_writer_is_held,
);
