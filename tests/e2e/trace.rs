//! One journey, one trace (issue 8, test 6): a hardship journey through `rapport dev`, made inside
//! one span with the trace layer on the client, produces one trace id whose spans come from
//! profiles, plans and loyalty (loyalty's through the outbox), every span's parent present.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rapport::agent;
use rapport_e2e::Suite;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

fn gbp(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "GBP".into(),
        minor_units,
    })
}

fn agent_actor() -> Option<common::Actor> {
    Some(common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: "agent-5".into(),
    })
}

/// Which service a span belongs to: its `rpc.service` (server spans), or loyalty for the events
/// it applies.
fn service_of(span: &opentelemetry_sdk::trace::SpanData) -> Option<String> {
    if span.name == "loyalty.apply_event" {
        return Some("loyalty".into());
    }
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == "rpc.service")
        .map(|kv| kv.value.to_string())
        .and_then(|s| s.split('.').nth(1).map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hardship_journey_is_one_trace_across_the_services() {
    rapport_telemetry::install_propagator();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("journey"))),
    )
    .unwrap();

    let suite = Suite::start().await;
    let connection = agent::connect(&suite.url).await.unwrap();
    let journey = tracing::info_span!("journey");
    let trace_id = journey.context().span().span_context().trace_id();

    let customer = async {
        let customer = ProfileServiceClient::new(connection.clone())
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: "Ana Popescu".into(),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    customer_since: Some(common::Date {
                        year: 2020,
                        month: 3,
                        day: 2,
                    }),
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
        let mut accounts = AccountServiceClient::new(connection.clone());
        let account = accounts
            .upsert_account(plans::UpsertAccountRequest {
                source_system: "cards".into(),
                external_account_id: "GB-TRACE".into(),
                customer_id: customer.clone(),
                kind: plans::AccountKind::CreditCard as i32,
                currency_code: "GBP".into(),
                balance: gbp(120_000),
                contractual_payment: gbp(10_000),
                annual_rate: "0.199".into(),
                due_day: 10,
                remaining_term_months: 0,
                jurisdiction: "GB".into(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
            .account_id;
        accounts
            .report_arrears(plans::ReportArrearsRequest {
                account_id: account.clone(),
                days_past_due: 35,
                arrears_amount: gbp(20_000),
                as_of: None,
            })
            .await
            .unwrap();
        // Plans asks profiles (time zone, preferences) before deciding.
        OutreachServiceClient::new(connection.clone())
            .check_contact(plans::CheckContactRequest {
                customer_id: customer.clone(),
                account_id: account.clone(),
                channel: common::Channel::Phone as i32,
                purpose: plans::ContactPurpose::Support as i32,
                requested_by: agent_actor(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut hardship = HardshipServiceClient::new(connection.clone());
        let case = hardship
            .open_hardship_case(plans::OpenHardshipCaseRequest {
                customer_id: customer.clone(),
                account_ids: vec![account.clone()],
                reason: plans::HardshipReason::JobLoss as i32,
                reason_detail: String::new(),
                opened_by: agent_actor(),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .hardship_case
            .unwrap()
            .case_id;
        hardship
            .submit_income_expenditure(plans::SubmitIncomeExpenditureRequest {
                case_id: case.clone(),
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
                    ..Default::default()
                }),
                submitted_by: agent_actor(),
            })
            .await
            .unwrap();
        let mut plan_service = PlanServiceClient::new(connection.clone());
        let option = plan_service
            .get_plan_options(plans::GetPlanOptionsRequest {
                account_id: account.clone(),
                case_id: case.clone(),
                payday: 0,
                locale: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .options
            .remove(0);
        plan_service
            .accept_plan(plans::AcceptPlanRequest {
                account_id: account,
                case_id: case,
                option_id: option.option_id,
                accepted_by: agent_actor(),
                agreement: Some(plans::CustomerAgreement {
                    method: plans::AgreementMethod::RecordedCall as i32,
                    evidence_ref: "call-1".into(),
                    agreed_at: None,
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
        customer
    }
    .instrument(journey.clone())
    .await;

    // The plan's events reach loyalty through the outbox; then the agent reads the score.
    let mut loyalty_client = LoyaltyServiceClient::new(connection.clone());
    let mut applied = false;
    for _ in 0..200 {
        let score = loyalty_client
            .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
                customer_id: customer.clone(),
                as_of: None,
            })
            .instrument(journey.clone())
            .await
            .unwrap()
            .into_inner()
            .score
            .unwrap();
        if score.explanation.iter().any(|c| c.signal == "plan_kept") {
            applied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(applied, "the plan reached loyalty");
    drop(journey);
    suite.stop().await.unwrap();
    provider.force_flush().unwrap();

    let spans: Vec<_> = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace_id)
        .collect();
    let services: BTreeSet<String> = spans.iter().filter_map(service_of).collect();
    assert!(
        ["profiles", "plans", "loyalty"]
            .iter()
            .all(|s| services.contains(*s)),
        "services in the trace: {services:?}"
    );
    assert!(
        spans.iter().any(|s| s.name == "loyalty.apply_event"),
        "an event delivered through the outbox is applied in the journey's trace"
    );
    let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent_span_id))
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(
        roots,
        ["journey"],
        "every span's parent is in the trace but the journey's"
    );
}
