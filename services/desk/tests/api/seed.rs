//! A customer in hardship with something in every section of the overview, seeded through the
//! four services' own APIs as a bank's systems and an agent would.

use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::referrals::v1 as referrals;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_security::Role;

use crate::support::{Four, with};

/// Who seeds: an agent (who also posts as the billing system).
pub const SEEDER: &str = "agent-seed";

pub fn gbp(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "GBP".into(),
        minor_units,
    })
}

fn seeder() -> Option<common::Actor> {
    Some(common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: SEEDER.into(),
    })
}

/// What was seeded for one customer.
#[derive(Debug, Clone)]
pub struct InHardship {
    pub customer_id: String,
    pub account_id: String,
    pub plan_id: String,
}

/// A customer known to profiles and nothing else.
pub async fn customer(four: &Four, name: &str) -> String {
    let token = four.token(SEEDER, &[Role::Agent]);
    ProfileServiceClient::new(four.server.channel.clone())
        .create_customer(with(
            token.as_deref(),
            profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: name.into(),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    customer_since: Some(common::Date {
                        year: 2015,
                        month: 6,
                        day: 1,
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .customer_id
}

/// A customer with an account 35 days behind, an open case with income and expenditure, the
/// plan they accepted, a breathing space, a promise to pay, a detractor's follow-up, a
/// commitment, and a friend they referred (before falling behind).
pub async fn in_hardship(four: &Four, name: &str) -> InHardship {
    let token = four.token(SEEDER, &[Role::Agent, Role::BillingSystem]);
    let token = token.as_deref();
    let channel = four.server.channel.clone();
    let customer_id = customer(four, name).await;
    let mut profiles_client = ProfileServiceClient::new(channel.clone());
    profiles_client
        .set_consent(with(
            token,
            profiles::SetConsentRequest {
                consent: Some(profiles::Consent {
                    customer_id: customer_id.clone(),
                    purpose: profiles::ConsentPurpose::Surveys as i32,
                    status: profiles::ConsentStatus::Granted as i32,
                    source: profiles::ConsentSource::Web as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();

    let mut referral_client = ReferralServiceClient::new(channel.clone());
    let code = referral_client
        .issue_referral_code(with(
            token,
            referrals::IssueReferralCodeRequest {
                customer_id: customer_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .referral_code
        .unwrap()
        .code;
    referral_client
        .create_referral(with(
            token,
            referrals::CreateReferralRequest {
                referrer_customer_id: customer_id.clone(),
                code,
                prospect: Some(referrals::ProspectContact {
                    name: "Ioana Marin".into(),
                    email: format!("friend.of.{}@example.co.uk", &customer_id[..8]),
                    ..Default::default()
                }),
                device: None,
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();

    let mut accounts = AccountServiceClient::new(channel.clone());
    let account_id = accounts
        .upsert_account(with(
            token,
            plans::UpsertAccountRequest {
                source_system: "cards".into(),
                external_account_id: format!("CARD-{}", &customer_id[..8]),
                customer_id: customer_id.clone(),
                kind: plans::AccountKind::CreditCard as i32,
                currency_code: "GBP".into(),
                balance: gbp(120_000),
                contractual_payment: gbp(10_000),
                annual_rate: "0.199".into(),
                due_day: 10,
                remaining_term_months: 0,
                jurisdiction: "GB".into(),
                as_of: None,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap()
        .account_id;
    accounts
        .report_arrears(with(
            token,
            plans::ReportArrearsRequest {
                account_id: account_id.clone(),
                days_past_due: 35,
                arrears_amount: gbp(20_000),
                as_of: None,
            },
        ))
        .await
        .unwrap();

    let mut hardship = HardshipServiceClient::new(channel.clone());
    let case_id = hardship
        .open_hardship_case(with(
            token,
            plans::OpenHardshipCaseRequest {
                customer_id: customer_id.clone(),
                account_ids: vec![account_id.clone()],
                reason: plans::HardshipReason::JobLoss as i32,
                reason_detail: String::new(),
                opened_by: seeder(),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap()
        .case_id;
    hardship
        .submit_income_expenditure(with(
            token,
            plans::SubmitIncomeExpenditureRequest {
                case_id: case_id.clone(),
                income_expenditure: Some(plans::IncomeExpenditure {
                    household: Some(plans::Household {
                        adults: 1,
                        children: 0,
                        vehicles: 0,
                    }),
                    income: vec![plans::IncomeLine {
                        category: plans::IncomeCategory::Earnings as i32,
                        description: String::new(),
                        monthly_amount: gbp(150_000),
                    }],
                    fixed_costs: vec![plans::FixedCostLine {
                        category: plans::FixedCostCategory::HomeAndContents as i32,
                        description: String::new(),
                        monthly_amount: gbp(90_000),
                    }],
                    flexible_costs: vec![plans::FlexibleCostLine {
                        category: plans::FlexibleCostCategory::FoodAndHousekeeping as i32,
                        description: String::new(),
                        monthly_amount: gbp(30_000),
                    }],
                    ..Default::default()
                }),
                submitted_by: seeder(),
            },
        ))
        .await
        .unwrap();

    let mut plan_client = PlanServiceClient::new(channel.clone());
    let options = plan_client
        .get_plan_options(with(
            token,
            plans::GetPlanOptionsRequest {
                account_id: account_id.clone(),
                case_id: case_id.clone(),
                payday: 0,
                locale: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .options;
    let plan = plan_client
        .accept_plan(with(
            token,
            plans::AcceptPlanRequest {
                account_id: account_id.clone(),
                case_id: case_id.clone(),
                option_id: options.first().unwrap().option_id.clone(),
                accepted_by: seeder(),
                agreement: Some(plans::CustomerAgreement {
                    method: plans::AgreementMethod::RecordedCall as i32,
                    evidence_ref: "call-1".into(),
                    agreed_at: None,
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let next = plan.schedule.first().unwrap().clone();

    let in_force = hardship
        .list_protections(with(
            token,
            plans::ListProtectionsRequest {
                customer_id: customer_id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .protections;
    if in_force.is_empty() {
        hardship
            .set_protection(with(
                token,
                plans::SetProtectionRequest {
                    customer_id: customer_id.clone(),
                    account_ids: vec![account_id.clone()],
                    kind: plans::ProtectionKind::BreathingSpace as i32,
                    starts_at: None,
                    reference: "BS-0001".into(),
                    reason: String::new(),
                    case_id: case_id.clone(),
                    set_by: seeder(),
                    request_id: String::new(),
                },
            ))
            .await
            .unwrap();
    }
    plan_client
        .record_promise_to_pay(with(
            token,
            plans::RecordPromiseToPayRequest {
                account_id: account_id.clone(),
                amount: next.amount,
                promised_date: next.due_date,
                channel: common::Channel::Phone as i32,
                recorded_by: seeder(),
                note: String::new(),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
    profiles_client
        .record_commitment(with(
            token,
            profiles::RecordCommitmentRequest {
                commitment: Some(profiles::Commitment {
                    customer_id: customer_id.clone(),
                    description: "Call back on the first payment date.".into(),
                    promised_by: seeder(),
                    due_date: next.due_date,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
    LoyaltyServiceClient::new(channel)
        .record_survey_response(with(
            token,
            loyalty::RecordSurveyResponseRequest {
                response: Some(loyalty::SurveyResponse {
                    customer_id: customer_id.clone(),
                    kind: loyalty::SurveyKind::Transactional as i32,
                    nps: Some(3),
                    touchpoint: "hardship_call".into(),
                    channel: common::Channel::Phone as i32,
                    locale: "en-GB".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
    InHardship {
        customer_id,
        account_id,
        plan_id: plan.plan_id,
    }
}

/// Merges `duplicate` into `survivor` (the four without authentication).
pub async fn merge(four: &Four, survivor: &str, duplicate: &str) {
    ProfileServiceClient::new(four.server.channel.clone())
        .merge_customers(profiles::MergeCustomersRequest {
            survivor_customer_id: survivor.into(),
            duplicate_customer_id: duplicate.into(),
            reason: "the same person, twice".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
}
