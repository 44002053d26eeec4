//! `GetPlanOptions` must be fast enough for a live call: an agent asks while the customer waits.
//! Measures the whole RPC (gRPC, storage reads, affordability, the options engine, storing the
//! offered options) against the service on embedded SQLite, first alone (sequentially), then
//! under a mixed load of 8 clients (issue 23: p99 at most 10 ms): 2 asking for options, 2
//! reading accounts, 2 checking contact with a reservation (a write) and 2 posting payments (a
//! write each), and prints p50/p99.
//!
//! `cargo bench -p rapport-plans --bench plan_options` (set `PLAN_OPTIONS_CALLS` to change the
//! count alone, `PLAN_OPTIONS_MIXED_SECONDS` the mixed load's length, default 10).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::{Application, ServerSettings};
use rapport_storage::testing::TestDatabase;

fn money(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "GBP".into(),
        minor_units,
    })
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("PLAN_OPTIONS_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let database = TestDatabase::sqlite();
    let settings = ServerSettings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..ServerSettings::default()
    };
    // Profiles beside plans: an account must name a customer profiles knows.
    let profiles_database = TestDatabase::sqlite();
    let application = Application::build_with(settings.clone(), |address| {
        let profiles = rapport_profiles::unit_with_clock(
            &settings,
            &profiles_database.settings,
            Arc::new(rapport_clock::SystemClock),
        )?;
        // Plans as `rapport serve plans` builds it, reading customers from profiles beside it.
        let plans = rapport_plans::assemble(
            &rapport_plans::Settings {
                server: settings.clone(),
                storage: database.settings.clone(),
                rules: rapport_plans::Rules::default(),
                profiles_url: format!("http://{address}"),
                loyalty_url: String::new(),
                referrals_url: String::new(),
                ..rapport_plans::Settings::default()
            },
            Arc::new(rapport_clock::SystemClock),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, Box<dyn std::error::Error>>(vec![profiles, plans])
    })
    .await
    .unwrap()
    .unwrap();
    let address = application.local_addr();
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut profiles = ProfileServiceClient::new(channel.clone());
    let mut accounts = AccountServiceClient::new(channel.clone());
    let mut hardship = HardshipServiceClient::new(channel.clone());
    let mut plans = PlanServiceClient::new(channel.clone());

    // The service answers UNAVAILABLE until migrated; wait for the first account to go through.
    let customer_id = loop {
        let request = rapport_proto::profiles::v1::CreateCustomerRequest {
            customer: Some(rapport_proto::profiles::v1::Customer {
                legal_name: "Bench Customer".into(),
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        match profiles.create_customer(request).await {
            Ok(answer) => break answer.into_inner().customer.unwrap().customer_id,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let customer = customer_id.clone();
    let account = loop {
        let request = pb::UpsertAccountRequest {
            source_system: "bench".into(),
            external_account_id: "L-1".into(),
            customer_id: customer_id.clone(),
            kind: pb::AccountKind::PersonalLoan as i32,
            currency_code: "GBP".into(),
            balance: money(1_250_000),
            contractual_payment: money(32_000),
            annual_rate: "0.1499".into(),
            due_day: 28,
            remaining_term_months: 48,
            jurisdiction: "GB".into(),
            as_of: None,
        };
        match accounts.upsert_account(request).await {
            Ok(answer) => break answer.into_inner().account.unwrap(),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    accounts
        .report_arrears(pb::ReportArrearsRequest {
            account_id: account.account_id.clone(),
            days_past_due: 62,
            arrears_amount: money(64_000),
            as_of: None,
        })
        .await
        .unwrap();
    let case = hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id,
            account_ids: vec![account.account_id.clone()],
            reason: pb::HardshipReason::ReducedIncome as i32,
            opened_by: Some(common::Actor {
                kind: common::ActorKind::Agent as i32,
                id: "bench".into(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap();
    hardship
        .submit_income_expenditure(pb::SubmitIncomeExpenditureRequest {
            case_id: case.case_id,
            income_expenditure: Some(pb::IncomeExpenditure {
                household: Some(pb::Household {
                    adults: 2,
                    children: 1,
                    vehicles: 1,
                }),
                income: vec![pb::IncomeLine {
                    category: pb::IncomeCategory::Earnings as i32,
                    description: String::new(),
                    monthly_amount: money(240_000),
                }],
                fixed_costs: vec![pb::FixedCostLine {
                    category: pb::FixedCostCategory::HomeAndContents as i32,
                    description: String::new(),
                    monthly_amount: money(120_000),
                }],
                flexible_costs: vec![pb::FlexibleCostLine {
                    category: pb::FlexibleCostCategory::FoodAndHousekeeping as i32,
                    description: String::new(),
                    monthly_amount: money(70_000),
                }],
                savings_allowance: money(10_000),
                ..Default::default()
            }),
            submitted_by: Some(common::Actor {
                kind: common::ActorKind::Agent as i32,
                id: "bench".into(),
            }),
        })
        .await
        .unwrap();

    let request = pb::GetPlanOptionsRequest {
        account_id: account.account_id.clone(),
        case_id: String::new(),
        payday: 28,
        locale: "en-GB".into(),
    };
    for _ in 0..20 {
        plans.get_plan_options(request.clone()).await.unwrap(); // warm-up
    }
    let mut timings = Vec::with_capacity(calls);
    let mut offered = 0;
    for _ in 0..calls {
        let started = Instant::now();
        let answer = plans
            .get_plan_options(request.clone())
            .await
            .unwrap()
            .into_inner();
        timings.push(started.elapsed());
        offered = answer.options.len();
    }
    timings.sort();
    let at = |q: f64| timings[((timings.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "GetPlanOptions over gRPC on SQLite: {calls} calls, {offered} options each: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        timings.last().unwrap().as_secs_f64() * 1e3
    );

    let seconds: u64 = std::env::var("PLAN_OPTIONS_MIXED_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    mixed_load(&channel, &customer, &account, &request, seconds).await;
}

fn percentiles(mut timings: Vec<Duration>) -> (f64, f64, f64) {
    timings.sort();
    let at = |q: f64| timings[((timings.len() as f64 - 1.0) * q).round() as usize];
    (
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        timings.last().unwrap().as_secs_f64() * 1e3,
    )
}

/// 8 clients for `seconds`: 2 GetPlanOptions (timed), 2 GetAccount, 2 CheckContact with a
/// reservation, 2 ReportPayment on accounts of their own.
async fn mixed_load(
    channel: &tonic::transport::Channel,
    customer_id: &str,
    account: &pb::Account,
    request: &pb::GetPlanOptionsRequest,
    seconds: u64,
) {
    let mut accounts = AccountServiceClient::new(channel.clone());
    let mut paid_accounts = Vec::new();
    for n in 0..2 {
        let paid = accounts
            .upsert_account(pb::UpsertAccountRequest {
                source_system: "bench".into(),
                external_account_id: format!("PAY-{n}"),
                customer_id: customer_id.to_owned(),
                kind: pb::AccountKind::PersonalLoan as i32,
                currency_code: "GBP".into(),
                balance: money(1_000_000_000),
                contractual_payment: money(32_000),
                annual_rate: "0.1499".into(),
                due_day: 28,
                remaining_term_months: 48,
                jurisdiction: "GB".into(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap();
        paid_accounts.push(paid.account_id);
    }
    let until = Instant::now() + Duration::from_secs(seconds);
    let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = {
        let calls = calls.clone();
        move || {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let mut timed = Vec::new();
    for _ in 0..2 {
        let mut plans = PlanServiceClient::new(channel.clone());
        let request = request.clone();
        let count = count.clone();
        timed.push(tokio::spawn(async move {
            let mut timings = Vec::new();
            while Instant::now() < until {
                let started = Instant::now();
                plans.get_plan_options(request.clone()).await.unwrap();
                timings.push(started.elapsed());
                count();
            }
            timings
        }));
    }
    let mut load = Vec::new();
    for _ in 0..2 {
        let mut accounts = AccountServiceClient::new(channel.clone());
        let account_id = account.account_id.clone();
        let count = count.clone();
        load.push(tokio::spawn(async move {
            while Instant::now() < until {
                let _ = accounts
                    .get_account(pb::GetAccountRequest {
                        account_id: account_id.clone(),
                    })
                    .await;
                count();
            }
        }));
    }
    for n in 0..2 {
        let mut outreach = OutreachServiceClient::new(channel.clone());
        let (customer_id, account_id) = (customer_id.to_owned(), account.account_id.clone());
        let count = count.clone();
        load.push(tokio::spawn(async move {
            while Instant::now() < until {
                let _ = outreach
                    .check_contact(pb::CheckContactRequest {
                        customer_id: customer_id.clone(),
                        account_id: account_id.clone(),
                        channel: if n == 0 {
                            common::Channel::Email as i32
                        } else {
                            common::Channel::Sms as i32
                        },
                        at: None,
                        purpose: pb::ContactPurpose::Support as i32,
                        automated: false,
                        reserve: true,
                        requested_by: Some(common::Actor {
                            kind: common::ActorKind::Agent as i32,
                            id: "bench".into(),
                        }),
                    })
                    .await;
                count();
            }
        }));
    }
    for (n, account_id) in paid_accounts.into_iter().enumerate() {
        let mut accounts = AccountServiceClient::new(channel.clone());
        let count = count.clone();
        load.push(tokio::spawn(async move {
            let mut key = 0_u64;
            while Instant::now() < until {
                key += 1;
                let _ = accounts
                    .report_payment(pb::ReportPaymentRequest {
                        account_id: account_id.clone(),
                        idempotency_key: format!("mixed-{n}-{key}"),
                        amount: money(100),
                        received_at: None,
                        source_reference: String::new(),
                    })
                    .await;
                count();
            }
        }));
    }
    let mut timings = Vec::new();
    for task in timed {
        timings.extend(task.await.unwrap());
    }
    for task in load {
        task.await.unwrap();
    }
    let total = calls.load(std::sync::atomic::Ordering::Relaxed);
    let (p50, p99, max) = percentiles(timings.clone());
    println!(
        "GetPlanOptions under a mixed load of 8 clients on SQLite ({} calls/s in all, {} of them GetPlanOptions): \
         p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
        total / seconds.max(1),
        timings.len()
    );
}
