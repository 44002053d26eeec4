//! Data for the scenarios, made through the suite's own API (the paths a bank's systems use):
//! customers with every contact point the FULL view shows, accounts in arrears, hardship cases
//! with an income and expenditure, so GetPlanOptions has something to rank.

use anyhow::Context;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tonic::transport::Channel;

/// Every account is in this currency and jurisdiction.
pub(crate) const CURRENCY: &str = "GBP";
const JURISDICTION: &str = "GB";

pub(crate) fn money(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: CURRENCY.into(),
        minor_units,
    })
}

pub(crate) fn agent() -> Option<common::Actor> {
    Some(common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: "agent-bench".into(),
    })
}

/// A customer with two emails, two phones, an address and contact preferences; names of one
/// length, so every FULL answer has the same encoded size.
pub(crate) async fn customer(channel: &Channel, n: usize) -> anyhow::Result<String> {
    let mut client = ProfileServiceClient::new(channel.clone());
    let customer = client
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: format!("Ștefania Bench-Popescu {n:06}"),
                preferred_name: format!("Ștefania {n:06}"),
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                emails: vec![
                    profiles::EmailAddress {
                        address: format!("stefania.{n:06}@example.co.uk"),
                        verified: true,
                        primary: true,
                    },
                    profiles::EmailAddress {
                        address: format!("s.popescu.{n:06}@example.org"),
                        verified: false,
                        primary: false,
                    },
                ],
                phones: vec![
                    profiles::PhoneNumber {
                        e164: format!("+447700{n:06}"),
                        verified: true,
                        primary: true,
                    },
                    profiles::PhoneNumber {
                        e164: format!("+447911{n:06}"),
                        verified: false,
                        primary: false,
                    },
                ],
                addresses: vec![profiles::Address {
                    address: Some(common::PostalAddress {
                        lines: vec![format!("{:03} Acacia Avenue", n % 1000), "Flat 2".into()],
                        locality: "Manchester".into(),
                        region: "Greater Manchester".into(),
                        postal_code: "M1 1AE".into(),
                        country_code: "GB".into(),
                    }),
                    verified: true,
                    primary: true,
                }],
                customer_since: Some(common::Date {
                    year: 2015,
                    month: 6,
                    day: 15,
                }),
                ..Default::default()
            }),
            request_id: format!("bench-customer-{n}"),
        })
        .await
        .context("CreateCustomer")?
        .into_inner()
        .customer
        .context("CreateCustomer answered without a customer")?
        .customer_id;
    client
        .set_contact_preferences(profiles::SetContactPreferencesRequest {
            customer_id: customer.clone(),
            preferences: Some(profiles::ContactPreferences {
                preferred_channels: vec![
                    common::Channel::Email as i32,
                    common::Channel::Sms as i32,
                    common::Channel::Phone as i32,
                ],
                ..Default::default()
            }),
        })
        .await
        .context("SetContactPreferences")?;
    Ok(customer)
}

/// An account of `customer`, `n`-th of the run, with a balance that many small payments do not
/// exhaust.
pub(crate) async fn account(channel: &Channel, customer: &str, n: usize) -> anyhow::Result<String> {
    let account = AccountServiceClient::new(channel.clone())
        .upsert_account(plans::UpsertAccountRequest {
            source_system: "bench-cards".into(),
            external_account_id: format!("BENCH-{n:06}"),
            customer_id: customer.to_owned(),
            kind: plans::AccountKind::CreditCard as i32,
            currency_code: CURRENCY.into(),
            balance: money(500_000_000),
            contractual_payment: money(25_000),
            annual_rate: "0.199".into(),
            due_day: 10,
            remaining_term_months: 0,
            jurisdiction: JURISDICTION.into(),
            as_of: None,
        })
        .await
        .context("UpsertAccount")?
        .into_inner()
        .account
        .context("UpsertAccount answered without an account")?
        .account_id;
    Ok(account)
}

/// Puts `account` 65 days in arrears and opens a hardship case for it with an income and
/// expenditure; the case's id.
pub(crate) async fn hardship(
    channel: &Channel,
    customer: &str,
    account: &str,
    n: usize,
) -> anyhow::Result<String> {
    AccountServiceClient::new(channel.clone())
        .report_arrears(plans::ReportArrearsRequest {
            account_id: account.to_owned(),
            days_past_due: 65,
            arrears_amount: money(75_000),
            as_of: None,
        })
        .await
        .context("ReportArrears")?;
    let mut hardship = HardshipServiceClient::new(channel.clone());
    let case = hardship
        .open_hardship_case(plans::OpenHardshipCaseRequest {
            customer_id: customer.to_owned(),
            account_ids: vec![account.to_owned()],
            reason: plans::HardshipReason::JobLoss as i32,
            reason_detail: String::new(),
            opened_by: agent(),
            request_id: format!("bench-case-{n}"),
        })
        .await
        .context("OpenHardshipCase")?
        .into_inner()
        .hardship_case
        .context("OpenHardshipCase answered without a case")?
        .case_id;
    hardship
        .submit_income_expenditure(plans::SubmitIncomeExpenditureRequest {
            case_id: case.clone(),
            income_expenditure: Some(plans::IncomeExpenditure {
                household: Some(plans::Household {
                    adults: 2,
                    children: 1,
                    vehicles: 1,
                }),
                income: vec![plans::IncomeLine {
                    category: plans::IncomeCategory::Earnings as i32,
                    description: String::new(),
                    monthly_amount: money(320_000),
                }],
                fixed_costs: vec![plans::FixedCostLine {
                    category: plans::FixedCostCategory::HomeAndContents as i32,
                    description: String::new(),
                    monthly_amount: money(150_000),
                }],
                flexible_costs: vec![plans::FlexibleCostLine {
                    category: plans::FlexibleCostCategory::FoodAndHousekeeping as i32,
                    description: String::new(),
                    monthly_amount: money(90_000),
                }],
                ..Default::default()
            }),
            submitted_by: agent(),
        })
        .await
        .context("SubmitIncomeExpenditure")?;
    Ok(case)
}
