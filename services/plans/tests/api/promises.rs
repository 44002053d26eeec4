//! Promises to pay: kept, kept with a small shortfall, broken.

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{agent, date, money, start, violated_fields};

async fn promises_are_kept_within_tolerance_or_broken_after_the_date(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let promise = |amount: i64, day: i32| pb::RecordPromiseToPayRequest {
        account_id: account.account_id.clone(),
        amount: Some(money("GBP", amount)),
        promised_date: Some(date(2026, 3, day)),
        channel: common::Channel::Phone as i32,
        recorded_by: Some(agent("agent-5")),
        note: String::new(),
        request_id: String::new(),
    };
    let kept = plans
        .plans
        .record_promise_to_pay(promise(10_000, 6))
        .await
        .unwrap()
        .into_inner()
        .promise
        .unwrap();
    assert_eq!(kept.status, pb::PromiseToPayStatus::Pending as i32);
    plans
        .clock
        .advance(rapport_clock::SignedDuration::from_mins(5));
    plans
        .accounts
        .report_payment(pb::ReportPaymentRequest {
            account_id: account.account_id.clone(),
            idempotency_key: "p1".into(),
            amount: Some(money("GBP", 9_600)), // 96 %: within the 95 % tolerance
            received_at: None,
            source_reference: String::new(),
        })
        .await
        .unwrap();
    let broken = plans
        .plans
        .record_promise_to_pay(promise(50_000, 9))
        .await
        .unwrap()
        .into_inner()
        .promise
        .unwrap();

    let list = |plans: &mut crate::support::Plans| {
        let mut client = plans.plans.clone();
        let account_id = account.account_id.clone();
        async move {
            client
                .list_promises_to_pay(pb::ListPromisesToPayRequest {
                    account_id,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .promises
        }
    };
    let now = list(&mut plans).await;
    let status_of = |all: &[pb::PromiseToPay], id: &str| {
        all.iter().find(|p| p.promise_id == id).unwrap().status
    };
    assert_eq!(
        status_of(&now, &kept.promise_id),
        pb::PromiseToPayStatus::Kept as i32
    );
    assert_eq!(
        status_of(&now, &broken.promise_id),
        pb::PromiseToPayStatus::Pending as i32,
        "its date has not passed"
    );

    plans.clock.set("2026-03-10T09:00:00Z".parse().unwrap());
    let later = list(&mut plans).await;
    let resolved = later
        .iter()
        .find(|p| p.promise_id == broken.promise_id)
        .unwrap();
    assert_eq!(resolved.status, pb::PromiseToPayStatus::Broken as i32);
    assert_eq!(
        resolved.paid_amount,
        Some(money("GBP", 0)),
        "paid before it was made does not count"
    );
    assert!(!resolved.reasons.is_empty());
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.promise_resolved.v1'")
            .await,
        2
    );

    let past = plans
        .plans
        .record_promise_to_pay(promise(1_000, 1))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&past), vec!["promised_date"]);
    let sub_zero = plans
        .plans
        .record_promise_to_pay(promise(-1, 20))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&sub_zero), vec!["amount.minor_units"]);
}

backend_tests!(promises_are_kept_within_tolerance_or_broken_after_the_date);
