//! HardshipService: cases, income & expenditure, affordability, debt advice, protections.

use rapport_clock::SignedDuration;
use rapport_proto::plans::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{Plans, agent, at, money, start, violated_fields};

async fn open_case(plans: &mut Plans, account_id: &str) -> pb::HardshipCase {
    plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id: plans.customer_id.clone(),
            account_ids: vec![account_id.into()],
            reason: pb::HardshipReason::JobLoss as i32,
            reason_detail: "made redundant in January".into(),
            opened_by: Some(agent("agent-5")),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap()
}

fn line<T>(
    category: T,
    amount: i64,
    currency: &str,
) -> (T, Option<rapport_proto::common::v1::Money>) {
    (category, Some(money(currency, amount)))
}

pub(crate) fn statement(currency: &str) -> pb::IncomeExpenditure {
    let income = [line(pb::IncomeCategory::Earnings, 200_000, currency)];
    let fixed = [line(
        pb::FixedCostCategory::HomeAndContents,
        90_000,
        currency,
    )];
    let flexible = [
        line(
            pb::FlexibleCostCategory::FoodAndHousekeeping,
            40_000,
            currency,
        ),
        line(
            pb::FlexibleCostCategory::CommunicationsAndLeisure,
            5_000,
            currency,
        ),
    ];
    pb::IncomeExpenditure {
        household: Some(pb::Household {
            adults: 1,
            children: 0,
            vehicles: 0,
        }),
        income: income
            .into_iter()
            .map(|(c, m)| pb::IncomeLine {
                category: c as i32,
                description: String::new(),
                monthly_amount: m,
            })
            .collect(),
        fixed_costs: fixed
            .into_iter()
            .map(|(c, m)| pb::FixedCostLine {
                category: c as i32,
                description: String::new(),
                monthly_amount: m,
            })
            .collect(),
        flexible_costs: flexible
            .into_iter()
            .map(|(c, m)| pb::FlexibleCostLine {
                category: c as i32,
                description: String::new(),
                monthly_amount: m,
            })
            .collect(),
        savings_allowance: Some(money(currency, 5_000)),
        ..Default::default()
    }
}

async fn income_and_expenditure_gives_disposable_income_and_flags_for_a_conversation(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let case = open_case(&mut plans, &account.account_id).await;
    assert_eq!(
        plans
            .get_account(&account.account_id)
            .await
            .open_hardship_case_id,
        case.case_id
    );

    let submit = |s: pb::IncomeExpenditure| pb::SubmitIncomeExpenditureRequest {
        case_id: case.case_id.clone(),
        income_expenditure: Some(s),
        submitted_by: Some(agent("agent-5")),
    };
    let mut negative = statement("GBP");
    negative.fixed_costs[0].monthly_amount = Some(money("GBP", -1));
    let refused = plans
        .hardship
        .submit_income_expenditure(submit(negative))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&refused),
        vec!["income_expenditure.fixed_costs[0].monthly_amount.minor_units"]
    );
    let mut mixed = statement("GBP");
    mixed.income[0].monthly_amount = Some(money("EUR", 200_000));
    let refused = plans
        .hardship
        .submit_income_expenditure(submit(mixed))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&refused),
        vec!["income_expenditure.income[0].monthly_amount.currency_code"]
    );
    let nothing_yet = plans
        .hardship
        .get_affordability(pb::GetAffordabilityRequest {
            case_id: case.case_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        nothing_yet.code(),
        Code::FailedPrecondition,
        "the refused statements were not stored"
    );

    let a = plans
        .hardship
        .submit_income_expenditure(submit(statement("GBP")))
        .await
        .unwrap()
        .into_inner()
        .affordability
        .unwrap();
    // 2000.00 − 900.00 − (400.00 + 50.00) − 50.00 savings
    assert_eq!(a.disposable_income, Some(money("GBP", 60_000)));
    assert_eq!(a.flagged_costs.len(), 1);
    let flag = &a.flagged_costs[0];
    assert_eq!(
        flag.category,
        pb::FlexibleCostCategory::FoodAndHousekeeping as i32
    );
    assert_eq!(flag.excess, Some(money("GBP", 5_000)));
    assert!(!flag.reason.as_ref().unwrap().message.is_empty());
    let again = plans
        .hardship
        .get_affordability(pb::GetAffordabilityRequest {
            case_id: case.case_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .affordability
        .unwrap();
    assert_eq!(again.disposable_income, a.disposable_income);
}

async fn referrals_come_from_the_directory(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let case = open_case(&mut plans, &account.account_id).await;
    let refer = |service_id: &str| pb::ReferToDebtAdviceRequest {
        case_id: case.case_id.clone(),
        service_id: service_id.into(),
        referred_by: Some(agent("agent-5")),
        customer_consented: true,
        notes: "warm transfer offered".into(),
    };
    let referral = plans
        .hardship
        .refer_to_debt_advice(refer("stepchange"))
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(referral.service.unwrap().name, "StepChange Debt Charity");
    let unknown = plans
        .hardship
        .refer_to_debt_advice(refer("loan-shark-ltd"))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), vec!["service_id"]);

    let elsewhere = plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id: rapport_ids::Id::new().to_string(),
            account_ids: vec![account.account_id.clone()],
            reason: pb::HardshipReason::Illness as i32,
            opened_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&elsewhere), vec!["account_ids[0]"]);
    let unknown_account = plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id: plans.customer_id.clone(),
            account_ids: vec![rapport_ids::Id::new().to_string()],
            reason: pb::HardshipReason::Illness as i32,
            opened_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_account.code(), Code::NotFound);
}

fn breathing_space(account: &pb::Account) -> pb::SetProtectionRequest {
    pb::SetProtectionRequest {
        customer_id: account.customer_id.clone(),
        account_ids: vec![account.account_id.clone()],
        kind: pb::ProtectionKind::BreathingSpace as i32,
        starts_at: None,
        reference: "BS-2026-0042".into(),
        reason: "debt adviser applied".into(),
        case_id: String::new(),
        set_by: Some(agent("agent-5")),
        request_id: String::new(),
    }
}

async fn breathing_space_freezes_interest_for_sixty_days_once_a_year(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let protection = plans
        .hardship
        .set_protection(breathing_space(&account))
        .await
        .unwrap()
        .into_inner()
        .protection
        .unwrap();
    assert_eq!(
        protection.ends_at,
        Some(at("2026-05-01T09:00:00Z")),
        "60 days"
    );

    let protected = plans.get_account(&account.account_id).await;
    assert!(
        protected.interest_frozen && protected.fees_frozen && protected.payment_demands_blocked
    );
    // A contractual payment can still be received.
    plans
        .accounts
        .report_payment(pb::ReportPaymentRequest {
            account_id: account.account_id.clone(),
            idempotency_key: "during-bs".into(),
            amount: Some(money("GBP", 15_000)),
            received_at: None,
            source_reference: String::new(),
        })
        .await
        .unwrap();

    plans.clock.advance(SignedDuration::from_hours(24 * 59));
    assert!(
        plans.get_account(&account.account_id).await.interest_frozen,
        "day 60: still protected"
    );
    plans.clock.advance(SignedDuration::from_hours(24));
    let after = plans.get_account(&account.account_id).await;
    assert!(
        !after.interest_frozen && !after.payment_demands_blocked,
        "day 61: the breathing space has ended"
    );

    let too_soon = plans
        .hardship
        .set_protection(breathing_space(&account))
        .await
        .unwrap_err();
    assert_eq!(too_soon.code(), Code::FailedPrecondition);
    assert!(too_soon.message().contains("12 months"), "{too_soon:?}");
    plans.clock.set("2027-03-02T09:00:00Z".parse().unwrap());
    plans
        .hardship
        .set_protection(breathing_space(&account))
        .await
        .unwrap();
    assert_eq!(plans.count("SELECT COUNT(*) FROM protections").await, 2);
}

async fn a_crisis_moratorium_ends_thirty_days_after_treatment(database: TestDatabase) {
    let mut plans = start(database).await;
    let account = plans.account("GBP", 300_000, 15_000).await;
    let crisis = plans
        .hardship
        .set_protection(pb::SetProtectionRequest {
            kind: pb::ProtectionKind::MentalHealthCrisis as i32,
            ..breathing_space(&account)
        })
        .await
        .unwrap()
        .into_inner()
        .protection
        .unwrap();
    assert!(
        crisis.ends_at.is_none(),
        "open-ended while treatment goes on"
    );
    plans.clock.advance(SignedDuration::from_hours(24 * 100));
    assert!(plans.get_account(&account.account_id).await.interest_frozen);

    let clear = |treatment_ended_at: Option<prost_types::Timestamp>| pb::ClearProtectionRequest {
        protection_id: crisis.protection_id.clone(),
        reason: "treatment ended".into(),
        cleared_by: Some(agent("agent-5")),
        treatment_ended_at,
    };
    let missing = plans
        .hardship
        .clear_protection(clear(None))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing), vec!["treatment_ended_at"]);
    let ending = plans
        .hardship
        .clear_protection(clear(Some(at("2026-06-01T00:00:00Z"))))
        .await
        .unwrap()
        .into_inner()
        .protection
        .unwrap();
    assert_eq!(ending.status, pb::ProtectionStatus::Ending as i32);
    assert_eq!(ending.ends_at, Some(at("2026-07-01T00:00:00Z")));
    assert!(
        plans.get_account(&account.account_id).await.interest_frozen,
        "still protected until treatment + 30 days"
    );
    plans.clock.set("2026-07-01T00:00:00Z".parse().unwrap());
    assert!(!plans.get_account(&account.account_id).await.interest_frozen);
}

backend_tests!(
    income_and_expenditure_gives_disposable_income_and_flags_for_a_conversation,
    referrals_come_from_the_directory,
    breathing_space_freezes_interest_for_sixty_days_once_a_year,
    a_crisis_moratorium_ends_thirty_days_after_treatment,
);
