//! PlanService: options the customer chooses, plans, payments, the missed/broken sequence.

use futures_util::future::join_all;
use rapport_clock::SignedDuration;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::hardship::statement;
use crate::support::{Plans, agent, money, start, violated_fields};

/// A GBP loan in arrears with a case and a statement leaving 600.00 a month.
pub(crate) async fn in_arrears_with_a_statement(plans: &mut Plans) -> (pb::Account, String) {
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
            case_id: case.case_id.clone(),
            income_expenditure: Some(statement("GBP")),
            submitted_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    (account, case.case_id)
}

pub(crate) async fn options(
    plans: &mut Plans,
    account_id: &str,
    payday: i32,
) -> pb::GetPlanOptionsResponse {
    plans
        .plans
        .get_plan_options(pb::GetPlanOptionsRequest {
            account_id: account_id.into(),
            case_id: String::new(),
            payday,
            locale: "en-GB".into(),
        })
        .await
        .unwrap()
        .into_inner()
}

pub(crate) fn accept(account_id: &str, option_id: &str, request_id: &str) -> pb::AcceptPlanRequest {
    pb::AcceptPlanRequest {
        account_id: account_id.into(),
        case_id: String::new(),
        option_id: option_id.into(),
        accepted_by: Some(agent("agent-5")),
        agreement: Some(pb::CustomerAgreement {
            method: pb::AgreementMethod::RecordedCall as i32,
            evidence_ref: "call-8812".into(),
            agreed_at: None,
        }),
        request_id: request_id.into(),
    }
}

pub(crate) fn option_of(
    response: &pb::GetPlanOptionsResponse,
    kind: pb::PlanOptionKind,
) -> pb::PlanOption {
    response
        .options
        .iter()
        .find(|o| o.kind == kind as i32)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{kind:?} not offered: {:?}",
                response.options.iter().map(|o| o.kind).collect::<Vec<_>>()
            )
        })
}

async fn options_are_affordable_explained_and_accepted_as_offered(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, _) = in_arrears_with_a_statement(&mut plans).await;
    let offered = options(&mut plans, &account.account_id, 28).await;
    assert!(!offered.options.is_empty());
    assert_eq!(
        offered.affordability.as_ref().unwrap().disposable_income,
        Some(money("GBP", 60_000))
    );
    for (i, option) in offered.options.iter().enumerate() {
        assert_eq!(option.rank, i as i32 + 1, "ranked in order");
        let monthly = option.monthly_amount.as_ref().unwrap().minor_units;
        assert!(
            monthly <= 60_000,
            "{:?} asks {monthly}, more than is left over",
            option.kind
        );
        let sum: i64 = option
            .schedule
            .iter()
            .map(|i| i.amount.as_ref().unwrap().minor_units)
            .sum();
        assert_eq!(
            sum,
            option.total_payable.as_ref().unwrap().minor_units,
            "schedule sums to its total"
        );
        assert!(
            option
                .schedule
                .iter()
                .all(|i| i.due_date.as_ref().unwrap().day == 28),
            "on the chosen payday"
        );
        assert!(!option.summary.is_empty() && !option.reasons.is_empty());
        assert!(option.write_off_recovery.is_some() && option.expected_recovery.is_some());
        // A true schedule on the wire: every row closes at opening + interest − amount, the next
        // opens there, and the last closing balance is what the option leaves owed.
        let minor = |m: &Option<rapport_proto::common::v1::Money>| m.as_ref().unwrap().minor_units;
        let mut owed = if option.kind == pb::PlanOptionKind::PaymentHoliday as i32 {
            minor(&option.schedule[0].opening_balance) // with the break's interest
        } else {
            300_000
        };
        for row in &option.schedule {
            assert_eq!(minor(&row.opening_balance), owed, "{:?}", option.kind);
            owed = minor(&row.opening_balance) + minor(&row.interest) - minor(&row.amount);
            assert_eq!(minor(&row.closing_balance), owed, "{:?}", option.kind);
        }
        assert_eq!(minor(&option.remaining_balance), owed, "{:?}", option.kind);
        assert_eq!(
            owed == 0,
            option.after_plan == pb::AfterPlan::PaidOff as i32,
            "{:?}",
            option.kind
        );
    }
    assert!(offered.write_off_baseline.is_some());
    // 12 × 150.00 + 300.00 = 2,100.00 of a 3,000.00 loan at 12.99 %: up to date, not paid off.
    let catch_up = option_of(&offered, pb::PlanOptionKind::CatchUp);
    assert_eq!(
        catch_up.schedule[0].opening_balance,
        Some(money("GBP", 300_000))
    );
    assert!(catch_up.remaining_balance.as_ref().unwrap().minor_units > 90_000);
    assert_eq!(catch_up.after_plan, pb::AfterPlan::ContractResumes as i32);

    let chosen = option_of(&offered, pb::PlanOptionKind::ReducedPayment);
    let plan = plans
        .plans
        .accept_plan(accept(&account.account_id, &chosen.option_id, "acc-1"))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(plan.status, pb::PlanStatus::Active as i32);
    assert_eq!(plan.total_payable, chosen.total_payable);
    assert_eq!(plan.schedule.len(), chosen.schedule.len());
    let again = plans
        .plans
        .accept_plan(accept(&account.account_id, &chosen.option_id, "acc-1"))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(
        again.plan_id, plan.plan_id,
        "a retried accept returns the same plan"
    );
    assert_eq!(
        plans.get_account(&account.account_id).await.active_plan_id,
        plan.plan_id
    );

    // The other options were offered before this plan: no longer valid.
    let other = offered
        .options
        .iter()
        .find(|o| o.option_id != chosen.option_id)
        .unwrap();
    let stale = plans
        .plans
        .accept_plan(accept(&account.account_id, &other.option_id, "acc-2"))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition, "{stale:?}");
    assert_eq!(plans.count("SELECT COUNT(*) FROM plans").await, 1);
}

async fn an_option_no_longer_valid_is_refused(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, _) = in_arrears_with_a_statement(&mut plans).await;
    let offered = options(&mut plans, &account.account_id, 0).await;
    let option = offered.options[0].clone();

    // The account changed since: billing reported more arrears.
    plans
        .arrears(&account.account_id, 75, money("GBP", 45_000))
        .await;
    let changed = plans
        .plans
        .accept_plan(accept(&account.account_id, &option.option_id, ""))
        .await
        .unwrap_err();
    assert_eq!(changed.code(), Code::FailedPrecondition);

    let fresh = options(&mut plans, &account.account_id, 0).await.options[0].clone();
    plans.clock.advance(SignedDuration::from_mins(61));
    let expired = plans
        .plans
        .accept_plan(accept(&account.account_id, &fresh.option_id, ""))
        .await
        .unwrap_err();
    assert_eq!(expired.code(), Code::FailedPrecondition);
    assert!(expired.message().contains("expired"), "{expired:?}");

    let unknown = plans
        .plans
        .accept_plan(accept(
            &account.account_id,
            &rapport_ids::Id::new().to_string(),
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let other_account = plans.account("GBP", 100_000, 5_000).await;
    let fresh = options(&mut plans, &account.account_id, 0).await.options[0].clone();
    let mismatch = plans
        .plans
        .accept_plan(accept(&other_account.account_id, &fresh.option_id, ""))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&mismatch), vec!["option_id"]);
    let no_agreement = plans
        .plans
        .accept_plan(pb::AcceptPlanRequest {
            agreement: None,
            ..accept(&account.account_id, &fresh.option_id, "")
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_agreement), vec!["agreement"]);
    assert_eq!(plans.count("SELECT COUNT(*) FROM plans").await, 0);
}

async fn with_no_money_left_there_is_still_help(database: TestDatabase) {
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
            reason: pb::HardshipReason::JobLoss as i32,
            opened_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap();
    let mut broke = statement("GBP");
    broke.income[0].monthly_amount = Some(money("GBP", 100_000)); // less than the costs
    plans
        .hardship
        .submit_income_expenditure(pb::SubmitIncomeExpenditureRequest {
            case_id: case.case_id,
            income_expenditure: Some(broke),
            submitted_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    let offered = options(&mut plans, &account.account_id, 0).await;
    let kinds: Vec<i32> = offered.options.iter().map(|o| o.kind).collect();
    assert!(
        kinds.contains(&(pb::PlanOptionKind::TokenPayment as i32)),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&(pb::PlanOptionKind::CatchUp as i32)));
    let token = option_of(&offered, pb::PlanOptionKind::TokenPayment);
    assert!(token.includes_debt_advice_referral && token.review_date.is_some());
    assert!(
        offered
            .options
            .iter()
            .all(|o| o.monthly_amount.as_ref().unwrap().minor_units == 0),
        "nothing asked that is not there"
    );
}

/// Issue 17: an accepted plan keeps the balances its option showed; a catch-up leaves the
/// contractual remainder, it does not close at 0.
async fn an_accepted_catch_up_keeps_the_remainder_its_option_showed(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, _) = in_arrears_with_a_statement(&mut plans).await;
    let offered = options(&mut plans, &account.account_id, 0).await;
    let catch_up = option_of(&offered, pb::PlanOptionKind::CatchUp);
    let plan = plans
        .plans
        .accept_plan(accept(&account.account_id, &catch_up.option_id, ""))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let closing: Vec<_> = plan
        .schedule
        .iter()
        .map(|i| i.closing_balance.clone())
        .collect();
    let offered_closing: Vec<_> = catch_up
        .schedule
        .iter()
        .map(|i| i.closing_balance.clone())
        .collect();
    assert_eq!(closing, offered_closing);
    assert_eq!(
        plan.schedule.last().unwrap().closing_balance,
        catch_up.remaining_balance
    );
    assert_ne!(catch_up.remaining_balance, Some(money("GBP", 0)));
}

pub(crate) async fn accept_reduced_payment(plans: &mut Plans) -> (pb::Account, pb::Plan) {
    let (account, _) = in_arrears_with_a_statement(plans).await;
    let offered = options(plans, &account.account_id, 15).await;
    let chosen = option_of(&offered, pb::PlanOptionKind::ReducedPayment);
    let plan = plans
        .plans
        .accept_plan(accept(&account.account_id, &chosen.option_id, ""))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    (account, plan)
}

fn payment(plan_id: &str, key: &str, amount: i64) -> pb::RecordPlanPaymentRequest {
    pb::RecordPlanPaymentRequest {
        plan_id: plan_id.into(),
        idempotency_key: key.into(),
        amount: Some(money("GBP", amount)),
        received_at: None,
        source_reference: "direct-debit".into(),
    }
}

async fn a_hundred_concurrent_replays_post_once(database: TestDatabase) {
    let mut plans = start(database).await;
    let (_, plan) = accept_reduced_payment(&mut plans).await;
    let monthly = plan.monthly_amount.unwrap().minor_units;
    let calls = (0..100).map(|_| {
        let mut client = plans.plans.clone();
        let request = payment(&plan.plan_id, "dd-2026-03", monthly + 7);
        async move {
            client
                .record_plan_payment(request)
                .await
                .unwrap()
                .into_inner()
        }
    });
    let answers = join_all(calls).await;
    assert_eq!(
        answers.iter().filter(|a| !a.replayed).count(),
        1,
        "posted exactly once"
    );
    let first = answers
        .iter()
        .find(|a| !a.replayed)
        .unwrap()
        .payment
        .clone()
        .unwrap();
    assert!(
        answers
            .iter()
            .all(|a| a.payment.as_ref().unwrap().payment_id == first.payment_id)
    );
    assert_eq!(plans.count("SELECT COUNT(*) FROM plan_payments").await, 1);
    // Oldest installment first; the rest goes to the next one.
    assert_eq!(first.allocations.len(), 2);
    assert_eq!(first.allocations[0].installment_sequence, 1);
    let applied: i64 = first
        .allocations
        .iter()
        .map(|a| a.amount.as_ref().unwrap().minor_units)
        .sum();
    assert_eq!(
        applied + first.overpayment.unwrap().minor_units,
        monthly + 7,
        "no minor unit lost or made"
    );
    let current = plans
        .plans
        .get_plan(pb::GetPlanRequest {
            plan_id: plan.plan_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(current.paid_to_date, Some(money("GBP", monthly + 7)));
    let bad = plans
        .plans
        .record_plan_payment(payment(&plan.plan_id, "neg", -5))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), vec!["amount.minor_units"]);
    let mixed = plans
        .plans
        .record_plan_payment(pb::RecordPlanPaymentRequest {
            amount: Some(money("EUR", 100)),
            ..payment(&plan.plan_id, "eur", 1)
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&mixed), vec!["amount.currency_code"]);
}

async fn one_miss_is_a_check_in_and_broken_needs_two_and_a_replan_offer(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, plan) = accept_reduced_payment(&mut plans).await;
    let get = |plans: &mut Plans| {
        let mut client = plans.plans.clone();
        let plan_id = plan.plan_id.clone();
        async move {
            client
                .get_plan(pb::GetPlanRequest { plan_id })
                .await
                .unwrap()
                .into_inner()
                .plan
                .unwrap()
        }
    };
    let first_due = plan.schedule[0].due_date.unwrap();
    assert_eq!(
        (first_due.year, first_due.month, first_due.day),
        (2026, 3, 15)
    );

    // The day after the first payday, nothing paid: a gentle check-in, still active.
    plans.clock.set("2026-03-16T09:00:00Z".parse().unwrap());
    let after_one = get(&mut plans).await;
    assert_eq!(after_one.status, pb::PlanStatus::Active as i32);
    assert_eq!(after_one.consecutive_missed, 1);
    assert_eq!(
        after_one.schedule[0].status,
        pb::InstallmentStatus::Missed as i32
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.installment_missed.v1'")
            .await,
        1
    );

    // A second miss, but no new plan offered yet: still active, never escalated.
    plans.clock.set("2026-04-16T09:00:00Z".parse().unwrap());
    let after_two = get(&mut plans).await;
    assert_eq!(after_two.consecutive_missed, 2);
    assert_eq!(after_two.status, pb::PlanStatus::Active as i32);
    assert!(!after_two.replan_offered);

    // Offering options is the re-plan offer; only now can the plan be called broken.
    options(&mut plans, &account.account_id, 15).await;
    let broken = get(&mut plans).await;
    assert_eq!(broken.status, pb::PlanStatus::Broken as i32);
    assert!(broken.replan_offered);
    assert!(!broken.end_reasons.is_empty());
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.plan_broken.v1'")
            .await,
        1
    );
    let too_late = plans
        .plans
        .record_plan_payment(payment(&plan.plan_id, "late", 100))
        .await
        .unwrap_err();
    assert_eq!(too_late.code(), Code::FailedPrecondition);
}

async fn paying_a_missed_installment_keeps_the_plan_on_track(database: TestDatabase) {
    let mut plans = start(database).await;
    let (_, plan) = accept_reduced_payment(&mut plans).await;
    let monthly = plan.monthly_amount.unwrap().minor_units;
    plans.clock.set("2026-03-20T09:00:00Z".parse().unwrap());
    let paid = plans
        .plans
        .record_plan_payment(payment(&plan.plan_id, "late-1", monthly))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(paid.consecutive_missed, 0);
    assert_eq!(paid.schedule[0].status, pb::InstallmentStatus::Paid as i32);
    let cancelled = plans
        .plans
        .cancel_plan(pb::CancelPlanRequest {
            plan_id: plan.plan_id.clone(),
            reason: "customer repaid through a consolidation loan".into(),
            cancelled_by: Some(agent("agent-5")),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(cancelled.status, pb::PlanStatus::Cancelled as i32);
    let listed = plans
        .plans
        .list_plans(pb::ListPlansRequest {
            customer_id: plans.customer_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plans;
    assert_eq!(listed.len(), 1);
}

/// `Account.interest_frozen` and `fees_frozen` say "protection or plan" (plans_types.proto): a
/// reduced payment freezes both while it is active (its summary says so), and a cancelled one
/// no longer does. Found in the console's browser test: the flags followed protections only.
async fn an_active_plan_that_freezes_interest_and_fees_shows_on_its_account(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let (account, plan) = accept_reduced_payment(&mut plans).await;
    assert!(
        !account.interest_frozen && !account.fees_frozen,
        "{account:?}"
    );
    let during = plans.get_account(&account.account_id).await;
    assert_eq!(during.active_plan_id, plan.plan_id);
    assert!(during.interest_frozen, "a reduced payment freezes interest");
    assert!(during.fees_frozen, "and fees");
    plans
        .plans
        .cancel_plan(pb::CancelPlanRequest {
            plan_id: plan.plan_id.clone(),
            reason: "the customer's income recovered".into(),
            cancelled_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    let after = plans.get_account(&account.account_id).await;
    assert!(after.active_plan_id.is_empty());
    assert!(!after.interest_frozen && !after.fees_frozen, "{after:?}");
}

backend_tests!(
    an_active_plan_that_freezes_interest_and_fees_shows_on_its_account,
    an_agreement_dated_before_its_option_was_offered_is_refused,
    an_accepted_catch_up_keeps_the_remainder_its_option_showed,
    options_are_affordable_explained_and_accepted_as_offered,
    an_option_no_longer_valid_is_refused,
    with_no_money_left_there_is_still_help,
    a_hundred_concurrent_replays_post_once,
    one_miss_is_a_check_in_and_broken_needs_two_and_a_replan_offer,
    paying_a_missed_installment_keeps_the_plan_on_track,
    options_after_an_unseen_miss_are_the_replan_offer,
);

/// A miss nobody has looked at yet (no GetPlan since) still makes the next options the re-plan
/// offer: GetPlanOptions brings the plan up to date before deciding.
async fn options_after_an_unseen_miss_are_the_replan_offer(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, plan) = accept_reduced_payment(&mut plans).await;
    plans.clock.set("2026-03-16T09:00:00Z".parse().unwrap());
    options(&mut plans, &account.account_id, 15).await;
    let seen = plans
        .plans
        .get_plan(pb::GetPlanRequest {
            plan_id: plan.plan_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(seen.consecutive_missed, 1);
    assert!(
        seen.replan_offered,
        "the options offered after the miss were the re-plan offer"
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.installment_missed.v1'")
            .await,
        1,
        "the miss is published once"
    );
}

/// DESIGN.md, "Money and time": nobody agrees to an option before it was offered.
async fn an_agreement_dated_before_its_option_was_offered_is_refused(database: TestDatabase) {
    let mut plans = start(database).await;
    let (account, _) = in_arrears_with_a_statement(&mut plans).await;
    let offered = options(&mut plans, &account.account_id, 28).await;
    let chosen = option_of(&offered, pb::PlanOptionKind::ReducedPayment);
    let mut backdated = accept(&account.account_id, &chosen.option_id, "backdated");
    if let Some(agreement) = backdated.agreement.as_mut() {
        // The clock reads 2 March 2026, 09:00; the option was offered just now.
        agreement.agreed_at = Some(crate::support::at("2026-02-20T10:00:00Z"));
    }
    let refused = plans.plans.accept_plan(backdated).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), ["agreement.agreed_at"]);
    assert!(
        refused.message().contains("before the option was offered"),
        "{}",
        refused.message()
    );
    let mut honest = accept(&account.account_id, &chosen.option_id, "honest");
    if let Some(agreement) = honest.agreement.as_mut() {
        agreement.agreed_at = Some(crate::support::at("2026-03-02T08:58:00Z"));
    }
    plans.plans.accept_plan(honest).await.unwrap();
}
