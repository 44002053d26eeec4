//! One account of the money (issue 17): a payment under a plan moves the account once, whether
//! billing reports it (ReportPayment), an agent records it (RecordPlanPayment), or both do, in
//! either order. The two reports are one payment when RecordPlanPayment's source_reference is
//! billing's idempotency key (docs/payments.md).

use futures_util::future::join_all;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::hardship::statement;
use crate::support::{Plans, agent, at, date, money, start};

/// The bank's reference for the customer's transfer: billing's idempotency key, and what the
/// agent writes as the plan payment's source reference.
const BANK_REF: &str = "BACS-20260302-0001";
const RECEIVED: &str = "2026-03-02T08:30:00Z";

/// A GBP loan 45 days behind (300.00 in arrears) with a reduced-payment plan on the 15th.
pub(crate) async fn account_with_a_plan(plans: &mut Plans) -> (pb::Account, pb::Plan) {
    let account = plans.account("GBP", 300_000, 15_000).await;
    behind_since_the_day_before(plans, &account.account_id).await;
    account_with_a_plan_on(plans, account).await
}

/// 45 days behind (300.00), by billing's snapshot from the day before the money arrives
/// (RECEIVED): the recovery report counts money received after an account became delinquent
/// (issue 19).
async fn behind_since_the_day_before(plans: &mut Plans, account_id: &str) {
    plans
        .accounts
        .report_arrears(pb::ReportArrearsRequest {
            account_id: account_id.into(),
            days_past_due: 45,
            arrears_amount: Some(money("GBP", 30_000)),
            as_of: Some(at("2026-03-01T09:00:00Z")),
        })
        .await
        .unwrap();
}

/// A hardship case, a statement and an accepted reduced-payment plan on the 15th for `account`.
async fn account_with_a_plan_on(
    plans: &mut Plans,
    account: pb::Account,
) -> (pb::Account, pb::Plan) {
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
    let offered = plans
        .plans
        .get_plan_options(pb::GetPlanOptionsRequest {
            account_id: account.account_id.clone(),
            payday: 15,
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
    let plan = plans
        .plans
        .accept_plan(pb::AcceptPlanRequest {
            account_id: account.account_id.clone(),
            option_id: chosen.option_id.clone(),
            accepted_by: Some(agent("agent-5")),
            agreement: Some(pb::CustomerAgreement {
                method: pb::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-8812".into(),
                agreed_at: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let account = plans.get_account(&account.account_id).await;
    (account, plan)
}

pub(crate) fn billing_report(account_id: &str, amount: i64) -> pb::ReportPaymentRequest {
    pb::ReportPaymentRequest {
        account_id: account_id.into(),
        idempotency_key: BANK_REF.into(),
        amount: Some(money("GBP", amount)),
        received_at: Some(at(RECEIVED)),
        source_reference: "bacs".into(),
    }
}

fn agent_record(plan_id: &str, amount: i64) -> pb::RecordPlanPaymentRequest {
    pb::RecordPlanPaymentRequest {
        plan_id: plan_id.into(),
        idempotency_key: "agent-call-8812-payment".into(),
        amount: Some(money("GBP", amount)),
        received_at: Some(at(RECEIVED)),
        source_reference: BANK_REF.into(),
    }
}

/// What the account should look like after exactly one payment of `paid`.
struct Expected {
    balance: i64,
    arrears: i64,
    stage: pb::DelinquencyStage,
}

fn after_one_payment(before: &pb::Account, paid: i64) -> Expected {
    let arrears = (before.arrears_amount.as_ref().unwrap().minor_units - paid).max(0);
    Expected {
        balance: before.balance.as_ref().unwrap().minor_units - paid,
        arrears,
        stage: if arrears == 0 {
            pb::DelinquencyStage::Current
        } else {
            pb::DelinquencyStage::Mid
        },
    }
}

fn assert_moved_once(account: &pb::Account, expected: &Expected, when: &str) {
    assert_eq!(
        account.balance,
        Some(money("GBP", expected.balance)),
        "{when}: balance"
    );
    assert_eq!(
        account.arrears_amount,
        Some(money("GBP", expected.arrears)),
        "{when}: arrears"
    );
    assert_eq!(account.stage, expected.stage as i32, "{when}: stage");
    assert_eq!(
        account.last_payment_at,
        Some(at(RECEIVED)),
        "{when}: last_payment_at"
    );
}

async fn recovered_in_march(plans: &mut Plans) -> i64 {
    plans
        .reporting
        .get_recovery_report(pb::GetRecoveryReportRequest {
            period: Some(common::DateRange {
                start: Some(date(2026, 3, 1)),
                end: Some(date(2026, 3, 31)),
            }),
            currency_code: "GBP".into(),
            jurisdiction: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .recovered
        .unwrap()
        .minor_units
}

async fn get_plan(plans: &mut Plans, plan_id: &str) -> pb::Plan {
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

/// One movement of the account, one allocation to the plan, one payment in the report.
async fn assert_one_account_of_the_money(
    plans: &mut Plans,
    account_id: &str,
    plan_id: &str,
    expected: &Expected,
    paid: i64,
) {
    let account = plans.get_account(account_id).await;
    assert_moved_once(&account, expected, "GetAccount");
    let plan = get_plan(plans, plan_id).await;
    assert_eq!(
        plan.paid_to_date,
        Some(money("GBP", paid)),
        "one allocation"
    );
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 1);
    assert_eq!(plans.count("SELECT COUNT(*) FROM plan_payments").await, 1);
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.payment_reported.v1'")
            .await,
        1,
        "the account moved once, so it is published once"
    );
    assert_eq!(recovered_in_march(plans).await, paid, "counted once");
}

async fn an_agents_plan_payment_confirmed_by_billing_moves_the_account_once(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let (before, plan) = account_with_a_plan(&mut plans).await;
    let monthly = plan.monthly_amount.unwrap().minor_units;
    let expected = after_one_payment(&before, monthly);

    // The agent takes the payment on the phone: the account moves now, not when billing catches up.
    let recorded = plans
        .plans
        .record_plan_payment(agent_record(&plan.plan_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(!recorded.replayed && !recorded.reconciled);
    assert_moved_once(
        recorded.account.as_ref().unwrap(),
        &expected,
        "RecordPlanPayment",
    );
    let plan_payment = recorded.payment.clone().unwrap();
    let account_payment = recorded.account_payment.clone().unwrap();
    assert_eq!(plan_payment.allocations[0].installment_sequence, 1);
    assert_eq!(plan_payment.account_payment_id, account_payment.payment_id);
    assert_eq!(account_payment.reference, BANK_REF);
    assert_eq!(account_payment.plan_payment_id, plan_payment.payment_id);
    assert_eq!(
        account_payment.posted_by,
        pb::PaymentSource::PlanPayment as i32
    );
    assert_eq!(
        account_payment.applied_to_balance,
        Some(money("GBP", monthly))
    );
    assert_eq!(
        account_payment.applied_to_arrears,
        Some(money(
            "GBP",
            before.arrears_amount.as_ref().unwrap().minor_units - expected.arrears
        ))
    );
    assert!(account_payment.plan_recorded_at.is_some());
    assert!(account_payment.billing_reported_at.is_none());

    // Billing reports the same money a day later: matched by the reference, nothing moves.
    plans.clock.set("2026-03-03T09:00:00Z".parse().unwrap());
    let reported = plans
        .accounts
        .report_payment(billing_report(&before.account_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(!reported.replayed && reported.reconciled, "{reported:?}");
    assert_moved_once(
        reported.account.as_ref().unwrap(),
        &expected,
        "ReportPayment",
    );
    let confirmed = reported.payment.unwrap();
    assert_eq!(confirmed.payment_id, account_payment.payment_id);
    assert!(confirmed.billing_reported_at.is_some());
    assert_eq!(confirmed.posted_by, pb::PaymentSource::PlanPayment as i32);
    let allocated = reported.plan_payment.unwrap();
    assert_eq!(allocated.payment_id, plan_payment.payment_id);
    assert_eq!(allocated.allocations, plan_payment.allocations);

    // Retries from either side answer as before and post nothing.
    let billing_again = plans
        .accounts
        .report_payment(billing_report(&before.account_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(billing_again.replayed && billing_again.reconciled);
    let agent_again = plans
        .plans
        .record_plan_payment(agent_record(&plan.plan_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(agent_again.replayed && !agent_again.reconciled);
    assert_eq!(
        agent_again.payment.unwrap().payment_id,
        plan_payment.payment_id
    );
    let different = plans
        .accounts
        .report_payment(billing_report(&before.account_id, monthly + 1))
        .await
        .unwrap_err();
    assert_eq!(different.code(), Code::AlreadyExists, "{different:?}");

    assert_one_account_of_the_money(
        &mut plans,
        &before.account_id,
        &plan.plan_id,
        &expected,
        monthly,
    )
    .await;
}

async fn billings_report_on_an_account_with_a_plan_pays_the_installments_and_the_agent_matches_it(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let (before, plan) = account_with_a_plan(&mut plans).await;
    let monthly = plan.monthly_amount.unwrap().minor_units;
    let expected = after_one_payment(&before, monthly);

    // Billing first: the account moves and the money is allocated to the plan's installments.
    let reported = plans
        .accounts
        .report_payment(billing_report(&before.account_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(!reported.replayed && !reported.reconciled);
    assert_moved_once(
        reported.account.as_ref().unwrap(),
        &expected,
        "ReportPayment",
    );
    let account_payment = reported.payment.clone().unwrap();
    assert_eq!(account_payment.posted_by, pb::PaymentSource::Billing as i32);
    assert_eq!(account_payment.reference, BANK_REF);
    let allocated = reported.plan_payment.clone().unwrap();
    assert_eq!(allocated.plan_id, plan.plan_id);
    assert_eq!(allocated.account_payment_id, account_payment.payment_id);
    assert_eq!(allocated.allocations[0].installment_sequence, 1);
    assert_eq!(allocated.allocations[0].amount, Some(money("GBP", monthly)));

    // The agent, on the phone, records the payment the customer says they made.
    let recorded = plans
        .plans
        .record_plan_payment(agent_record(&plan.plan_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(!recorded.replayed && recorded.reconciled, "{recorded:?}");
    assert_moved_once(
        recorded.account.as_ref().unwrap(),
        &expected,
        "RecordPlanPayment",
    );
    assert_eq!(recorded.payment.unwrap().payment_id, allocated.payment_id);
    let seen_from_both = recorded.account_payment.unwrap();
    assert_eq!(seen_from_both.payment_id, account_payment.payment_id);
    assert!(
        seen_from_both.billing_reported_at.is_some() && seen_from_both.plan_recorded_at.is_some()
    );

    let agent_again = plans
        .plans
        .record_plan_payment(agent_record(&plan.plan_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(agent_again.replayed && agent_again.reconciled);
    let billing_again = plans
        .accounts
        .report_payment(billing_report(&before.account_id, monthly))
        .await
        .unwrap()
        .into_inner();
    assert!(billing_again.replayed && !billing_again.reconciled);
    let different = plans
        .plans
        .record_plan_payment(pb::RecordPlanPaymentRequest {
            idempotency_key: "another-key".into(),
            ..agent_record(&plan.plan_id, monthly - 1)
        })
        .await
        .unwrap_err();
    assert_eq!(different.code(), Code::AlreadyExists, "{different:?}");
    assert!(different.message().contains(BANK_REF), "{different:?}");
    // The same reference under another key is not a second payment, nor silently the first.
    let again_under_another_key = plans
        .plans
        .record_plan_payment(pb::RecordPlanPaymentRequest {
            idempotency_key: "another-key".into(),
            ..agent_record(&plan.plan_id, monthly)
        })
        .await
        .unwrap_err();
    assert_eq!(
        again_under_another_key.code(),
        Code::AlreadyExists,
        "{again_under_another_key:?}"
    );

    assert_one_account_of_the_money(
        &mut plans,
        &before.account_id,
        &plan.plan_id,
        &expected,
        monthly,
    )
    .await;
}

/// Billing and the agent report the same money at the same moment, many times over.
async fn concurrent_reports_from_both_sides_post_once(database: TestDatabase) {
    let mut plans = start(database).await;
    let (before, plan) = account_with_a_plan(&mut plans).await;
    let monthly = plan.monthly_amount.unwrap().minor_units;
    let expected = after_one_payment(&before, monthly);
    let billing = (0..25).map(|_| {
        let mut client = plans.accounts.clone();
        let request = billing_report(&before.account_id, monthly);
        async move {
            let answer = client.report_payment(request).await.unwrap().into_inner();
            (answer.replayed, answer.reconciled)
        }
    });
    let agents = (0..25).map(|_| {
        let mut client = plans.plans.clone();
        let request = agent_record(&plan.plan_id, monthly);
        async move {
            let answer = client
                .record_plan_payment(request)
                .await
                .unwrap()
                .into_inner();
            (answer.replayed, answer.reconciled)
        }
    });
    let (billing, agents) = tokio::join!(join_all(billing), join_all(agents));
    let posted = |answers: &[(bool, bool)]| answers.iter().filter(|(r, _)| !r).count();
    assert_eq!(
        posted(&billing),
        1,
        "billing's first report is not a replay"
    );
    assert_eq!(
        posted(&agents),
        1,
        "the agent's first record is not a replay"
    );
    let first_posters = billing
        .iter()
        .chain(&agents)
        .filter(|(replayed, reconciled)| !replayed && !reconciled)
        .count();
    assert_eq!(first_posters, 1, "exactly one report moved the account");
    assert_one_account_of_the_money(
        &mut plans,
        &before.account_id,
        &plan.plan_id,
        &expected,
        monthly,
    )
    .await;
}

/// Billing saw the money before the account had a plan; the agent, setting the plan up, records
/// it as the first installment: the plan is paid, the account is not moved a second time.
async fn money_billing_reported_before_the_plan_pays_the_plan_when_the_agent_records_it(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    behind_since_the_day_before(&mut plans, &account.account_id).await;
    let paid = 12_500;
    let reported = plans
        .accounts
        .report_payment(billing_report(&account.account_id, paid))
        .await
        .unwrap()
        .into_inner();
    assert!(reported.plan_payment.is_none(), "no plan to pay yet");
    let moved = reported.account.unwrap();
    assert_eq!(moved.balance, Some(money("GBP", 300_000 - paid)));

    let (_, plan) = account_with_a_plan_on(&mut plans, moved).await;
    let recorded = plans
        .plans
        .record_plan_payment(agent_record(&plan.plan_id, paid))
        .await
        .unwrap()
        .into_inner();
    assert!(!recorded.replayed && recorded.reconciled, "{recorded:?}");
    assert_eq!(
        recorded.account.unwrap().balance,
        Some(money("GBP", 300_000 - paid)),
        "the account moved once, when billing reported it"
    );
    assert_eq!(
        recorded.plan.unwrap().paid_to_date,
        Some(money("GBP", paid))
    );
    let entry = recorded.account_payment.unwrap();
    assert_eq!(entry.posted_by, pb::PaymentSource::Billing as i32);
    assert_eq!(entry.plan_payment_id, recorded.payment.unwrap().payment_id);
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 1);
    assert_eq!(recovered_in_march(&mut plans).await, paid);
}

backend_tests!(
    money_billing_reported_before_the_plan_pays_the_plan_when_the_agent_records_it,
    an_agents_plan_payment_confirmed_by_billing_moves_the_account_once,
    billings_report_on_an_account_with_a_plan_pays_the_installments_and_the_agent_matches_it,
    concurrent_reports_from_both_sides_post_once,
    a_payment_is_not_received_in_the_future,
    standing_follows_a_payment_that_clears_the_arrears_and_only_then,
    with_profiles_unreachable_and_the_zone_unknown_a_payment_is_unavailable_and_nothing_moves,
);

/// ReportPayment takes the account's lock first and asks profiles for the customer's time zone
/// only when it is not at hand, after dropping its transaction (issue 23). A plans process that
/// never read this customer's zone, with profiles unreachable, cannot date the payment: the
/// caller gets UNAVAILABLE (retry), and nothing is written: no money, no event, no movement.
async fn with_profiles_unreachable_and_the_zone_unknown_a_payment_is_unavailable_and_nothing_moves(
    database: TestDatabase,
) {
    const EVENTS: &str = "SELECT COUNT(*) FROM outbox";
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let events_before = plans.count(EVENTS).await;

    // A second plans process on the same database, its profiles unreachable.
    let other =
        crate::support::with_profiles_unreachable(&plans.database.settings, plans.clock.clone())
            .await;
    let mut accounts = pb::account_service_client::AccountServiceClient::new(other.channel.clone());
    let refused = accounts
        .report_payment(billing_report(&account.account_id, 15_000))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("retry"), "{}", refused.message());

    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 0);
    assert_eq!(plans.count(EVENTS).await, events_before);
    let unmoved = plans.get_account(&account.account_id).await;
    assert_eq!(unmoved.balance, account.balance);
    // The process that knows the zone posts the same report.
    plans
        .accounts
        .report_payment(billing_report(&account.account_id, 15_000))
        .await
        .unwrap();
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 1);
}

/// Standing reads each account's days past due and its plans' statuses. ReportPayment
/// re-evaluates it only when the payment moved one of them (issue 23: three statements saved on
/// every other payment): a part payment leaves the customer out of good standing without a new
/// verdict, the payment that clears the arrears publishes the regained standing, and one more
/// payment on a current account publishes nothing.
async fn standing_follows_a_payment_that_clears_the_arrears_and_only_then(database: TestDatabase) {
    const PUBLISHED: &str =
        "SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.standing_changed.v1'";
    const IN_GOOD_STANDING: &str =
        "SELECT COUNT(*) FROM customer_standing WHERE in_good_standing = 1";
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    behind_since_the_day_before(&mut plans, &account.account_id).await;
    assert_eq!(plans.count(PUBLISHED).await, 1, "45 days behind: lost");
    assert_eq!(plans.count(IN_GOOD_STANDING).await, 0);

    let pay = |key: &str, amount: i64| {
        let mut report = billing_report(&account.account_id, amount);
        report.idempotency_key = key.into();
        report
    };
    let part = plans
        .accounts
        .report_payment(pay("PART", 10_000))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(part.account.unwrap().days_past_due, 45);
    assert_eq!(plans.count(PUBLISHED).await, 1, "still behind: nothing new");

    let rest = plans
        .accounts
        .report_payment(pay("REST", 20_000))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.account.unwrap().days_past_due, 0);
    assert_eq!(plans.count(PUBLISHED).await, 2, "arrears cleared: regained");
    assert_eq!(plans.count(IN_GOOD_STANDING).await, 1);

    plans
        .accounts
        .report_payment(pay("MORE", 5_000))
        .await
        .unwrap();
    assert_eq!(plans.count(PUBLISHED).await, 2, "current before and after");
    assert_eq!(plans.count(IN_GOOD_STANDING).await, 1);
}

/// DESIGN.md, "Money and time": a payment's `received_at` cannot be in the future; five minutes
/// of skew between billing's clock and ours is allowed (`wire::CLOCK_SKEW_TOLERANCE`).
async fn a_payment_is_not_received_in_the_future(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, plan) = account_with_a_plan(&mut plans).await;
    // The clock reads 2 March 2026, 09:00.
    let mut report = billing_report(&account.account_id, 15_000);
    report.received_at = Some(at("2026-03-02T09:06:00Z"));
    let refused = plans.accounts.report_payment(report).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("received_at")
            && refused.message().contains("at most 5 minutes ahead"),
        "{}",
        refused.message()
    );
    let mut record = agent_record(&plan.plan_id, 15_000);
    record.received_at = Some(at("2026-04-01T09:00:00Z"));
    let refused = plans.plans.record_plan_payment(record).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("at most 5 minutes ahead"),
        "{}",
        refused.message()
    );
    assert_eq!(plans.count("SELECT COUNT(*) FROM payments").await, 0);

    // Within the skew: accepted.
    let mut report = billing_report(&account.account_id, 15_000);
    report.received_at = Some(at("2026-03-02T09:04:00Z"));
    plans.accounts.report_payment(report).await.unwrap();
}
