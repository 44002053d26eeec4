//! Installment due dates are the customer's calendar dates (issue 17): the "today" that starts a
//! schedule and judges a missed installment is the date where the customer lives, read from the
//! time zone profiles records — across a change of daylight saving time, at a month's end and on
//! 29 February.

use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::hardship::statement;
use crate::support::{Plans, agent, date, money, start, upsert_for};

/// A customer living in `time_zone`, with a GBP loan 45 days behind (due on `due_day`) and an
/// affordability statement; the account.
async fn customer_in(plans: &mut Plans, time_zone: &str, due_day: i32) -> pb::Account {
    let customer_id = plans
        .profiles
        .create_customer(rapport_proto::profiles::v1::CreateCustomerRequest {
            customer: Some(rapport_proto::profiles::v1::Customer {
                legal_name: "Mara Lupu".into(),
                locale: "en-GB".into(),
                time_zone: time_zone.into(),
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
    let mut upsert = upsert_for(&customer_id, "GBP", 300_000, 15_000, &customer_id);
    upsert.due_day = due_day;
    let account = plans
        .accounts
        .upsert_account(upsert)
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    plans
        .arrears(&account.account_id, 45, money("GBP", 30_000))
        .await;
    let case = plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id,
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
    account
}

/// The reduced-payment plan on `payday`, offered and accepted now.
async fn plan_on(plans: &mut Plans, account_id: &str, payday: i32) -> pb::Plan {
    let offered = plans
        .plans
        .get_plan_options(pb::GetPlanOptionsRequest {
            account_id: account_id.into(),
            payday,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let chosen = offered
        .options
        .iter()
        .find(|o| o.kind == pb::PlanOptionKind::ReducedPayment as i32)
        .expect("a reduced payment is offered");
    plans
        .plans
        .accept_plan(pb::AcceptPlanRequest {
            account_id: account_id.into(),
            option_id: chosen.option_id.clone(),
            accepted_by: Some(agent("agent-5")),
            agreement: Some(pb::CustomerAgreement {
                method: pb::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-1".into(),
                agreed_at: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap()
}

async fn plan_at(plans: &mut Plans, plan_id: &str, instant: &str) -> pb::Plan {
    plans.clock.set(instant.parse().unwrap());
    plans
        .plans
        .get_plan(pb::GetPlanRequest {
            plan_id: plan_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap()
}

fn due(plan: &pb::Plan, index: usize) -> rapport_proto::common::v1::Date {
    plan.schedule[index].due_date.unwrap()
}

fn status(plan: &pb::Plan, index: usize) -> pb::InstallmentStatus {
    pb::InstallmentStatus::try_from(plan.schedule[index].status).unwrap()
}

/// London moves to summer time at 01:00 UTC on Sunday 29 March 2026. Before, 23:30 UTC is still
/// the same day in London; after, it is already the next day there.
async fn a_miss_is_judged_by_the_customers_midnight_across_the_change_to_summer_time(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let account = customer_in(&mut plans, "Europe/London", 15).await;
    let plan = plan_on(&mut plans, &account.account_id, 28).await;
    assert_eq!(due(&plan, 0), date(2026, 3, 28));
    assert_eq!(due(&plan, 1), date(2026, 4, 28));

    // 23:30 GMT on the 28th: still the due day in London.
    let on_the_day = plan_at(&mut plans, &plan.plan_id, "2026-03-28T23:30:00Z").await;
    assert_eq!(status(&on_the_day, 0), pb::InstallmentStatus::Scheduled);
    let monthly = plan.monthly_amount.unwrap().minor_units;
    plans
        .plans
        .record_plan_payment(pb::RecordPlanPaymentRequest {
            plan_id: plan.plan_id.clone(),
            idempotency_key: "march".into(),
            amount: Some(money("GBP", monthly)),
            received_at: None,
            source_reference: "card-march".into(),
        })
        .await
        .unwrap();

    // 23:30 UTC on 28 April is 00:30 BST on the 29th: the April installment was missed.
    let before_midnight = plan_at(&mut plans, &plan.plan_id, "2026-04-28T22:59:00Z").await;
    assert_eq!(
        status(&before_midnight, 1),
        pb::InstallmentStatus::Scheduled
    );
    assert_eq!(before_midnight.consecutive_missed, 0);
    let after_midnight = plan_at(&mut plans, &plan.plan_id, "2026-04-28T23:30:00Z").await;
    assert_eq!(status(&after_midnight, 0), pb::InstallmentStatus::Paid);
    assert_eq!(status(&after_midnight, 1), pb::InstallmentStatus::Missed);
    assert_eq!(after_midnight.consecutive_missed, 1);
}

/// Plans start on the first payday after today, and a payday 31 falls on 30 April. At 20:00 on
/// 29 April in Los Angeles it is already 30 April in UTC: for this customer 30 April is still to
/// come, and on the evening of 30 April it is still the due day.
async fn a_schedule_starts_on_the_customers_date_at_the_end_of_a_month(database: TestDatabase) {
    let mut plans = start(database).await;
    plans.clock.set("2026-04-30T03:00:00Z".parse().unwrap());
    let account = customer_in(&mut plans, "America/Los_Angeles", 31).await;
    let plan = plan_on(&mut plans, &account.account_id, 31).await;
    assert_eq!(due(&plan, 0), date(2026, 4, 30));
    assert_eq!(due(&plan, 1), date(2026, 5, 31));
    assert_eq!(due(&plan, 2), date(2026, 6, 30));

    // 20:00 on 30 April in Los Angeles, 1 May in UTC.
    plans.clock.set("2026-05-01T03:00:00Z".parse().unwrap());
    assert_eq!(
        plans.get_account(&account.account_id).await.next_due_date,
        Some(date(2026, 4, 30)),
        "the account's next due date is the customer's date too"
    );
    // Still 30 April at 23:59 in Los Angeles (06:59 UTC on 1 May): not yet missed.
    let late_evening = plan_at(&mut plans, &plan.plan_id, "2026-05-01T06:59:00Z").await;
    assert_eq!(status(&late_evening, 0), pb::InstallmentStatus::Scheduled);
    let next_morning = plan_at(&mut plans, &plan.plan_id, "2026-05-01T07:30:00Z").await;
    assert_eq!(status(&next_morning, 0), pb::InstallmentStatus::Missed);
}

/// Auckland is 13 hours ahead in February. Payday 29 in a leap year falls on 29 February: a plan
/// agreed once the 29th has begun in Auckland starts in March, and the February installment is
/// missed once the 29th is over there, while it is still the 29th in UTC.
async fn payday_29_in_a_leap_year_is_judged_on_the_customers_29_february(database: TestDatabase) {
    let mut plans = start(database).await;
    // 01:00 on 28 February 2028 in Auckland (12:00 UTC on the 27th).
    plans.clock.set("2028-02-27T12:00:00Z".parse().unwrap());
    let early = customer_in(&mut plans, "Pacific/Auckland", 29).await;
    let february = plan_on(&mut plans, &early.account_id, 29).await;
    assert_eq!(due(&february, 0), date(2028, 2, 29));
    assert_eq!(due(&february, 1), date(2028, 3, 29));

    // 00:30 on 29 February in Auckland, 11:30 on the 28th in UTC: the 29th is today, so the
    // first payday after it is in March.
    plans.clock.set("2028-02-28T11:30:00Z".parse().unwrap());
    let late = customer_in(&mut plans, "Pacific/Auckland", 29).await;
    let march = plan_on(&mut plans, &late.account_id, 29).await;
    assert_eq!(due(&march, 0), date(2028, 3, 29));

    // 23:59 on 29 February in Auckland: still the due day.
    let on_the_day = plan_at(&mut plans, &february.plan_id, "2028-02-29T10:59:00Z").await;
    assert_eq!(status(&on_the_day, 0), pb::InstallmentStatus::Scheduled);
    // 00:30 on 1 March in Auckland, 11:30 on 29 February in UTC.
    let missed = plan_at(&mut plans, &february.plan_id, "2028-02-29T11:30:00Z").await;
    assert_eq!(status(&missed, 0), pb::InstallmentStatus::Missed);
    assert_eq!(missed.consecutive_missed, 1);
}

backend_tests!(
    a_miss_is_judged_by_the_customers_midnight_across_the_change_to_summer_time,
    a_schedule_starts_on_the_customers_date_at_the_end_of_a_month,
    payday_29_in_a_leap_year_is_judged_on_the_customers_29_february,
);
