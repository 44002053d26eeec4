//! One customer everywhere: profiles' merges and erasures, delivered to
//! `AccountService/IngestEvents`, move accounts, cases, protections, plans, promises and the
//! contact ledger to the survivor.

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::profiles::v1 as profiles;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::support::{Plans, agent, at, money, start, upsert_for};

async fn us_customer(plans: &mut Plans, name: &str) -> String {
    plans
        .profiles
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: name.into(),
                locale: "en-US".into(),
                time_zone: "America/New_York".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .customer_id
}

/// A US debt 30 days past due (no collections call without something past due, issue 19).
async fn us_account(plans: &mut Plans, customer_id: &str, external_id: &str) -> pb::Account {
    let mut request = upsert_for(customer_id, "USD", 500_000, 20_000, external_id);
    request.jurisdiction = "US".into();
    let account = plans
        .accounts
        .upsert_account(request)
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    plans
        .arrears(&account.account_id, 30, money("USD", 20_000))
        .await
}

/// `profiles.customer_merged.v1` as profiles' outbox publishes it (profiles/src/domain/events.rs).
pub(crate) fn merged_event(event_id: &str, survivor: &str, duplicate: &str) -> common::DomainEvent {
    let text = |s: &str| prost_types::Value {
        kind: Some(prost_types::value::Kind::StringValue(s.into())),
    };
    common::DomainEvent {
        event_id: event_id.into(),
        event_type: "profiles.customer_merged.v1".into(),
        customer_id: survivor.into(),
        occurred_at: Some(at("2026-03-01T12:00:00Z")),
        source_service: "profiles".into(),
        payload: Some(prost_types::Struct {
            fields: [
                ("survivor_customer_id".to_owned(), text(survivor)),
                ("duplicate_customer_id".to_owned(), text(duplicate)),
            ]
            .into(),
        }),
        ..Default::default()
    }
}

async fn call(
    plans: &Plans,
    customer_id: &str,
    account_id: &str,
    when: &str,
) -> pb::CheckContactResponse {
    let decision = plans
        .plans_outreach()
        .check_contact(pb::CheckContactRequest {
            customer_id: customer_id.into(),
            account_id: account_id.into(),
            channel: common::Channel::Phone as i32,
            at: Some(at(when)),
            purpose: pb::ContactPurpose::PaymentDemand as i32,
            automated: false,
            reserve: true,
            requested_by: Some(agent("dialer-1")),
        })
        .await
        .unwrap()
        .into_inner();
    if decision.allowed {
        plans
            .plans_outreach()
            .record_contact_attempt(pb::RecordContactAttemptRequest {
                customer_id: customer_id.into(),
                account_id: account_id.into(),
                channel: common::Channel::Phone as i32,
                direction: common::Direction::Outbound as i32,
                outcome: pb::ContactOutcome::NoAnswer as i32,
                occurred_at: Some(at(when)),
                decision_id: decision.decision_id.clone(),
                made_by: Some(agent("dialer-1")),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    decision
}

async fn a_merge_moves_the_debt_and_its_call_count_to_the_survivor(database: TestDatabase) {
    let mut plans = start(database).await;
    let a = us_customer(&mut plans, "Alex Morgan").await;
    let b = us_customer(&mut plans, "Alex Morgan").await;
    let debt = us_account(&mut plans, &b, "loan-b").await;
    plans.clock.set("2026-03-10T15:00:00Z".parse().unwrap()); // 11:00 in New York
    // Four calls about B's debt, logged under B (Reg F §1006.14(b): 7 in 7 days per debt).
    for n in 0..4 {
        let when = format!("2026-03-10T14:{:02}:00Z", 10 + n * 2);
        assert!(call(&plans, &b, &debt.account_id, &when).await.allowed);
    }
    // Before the event reaches plans, A cannot be asked about B's debt.
    let before = plans
        .plans_outreach()
        .check_contact(pb::CheckContactRequest {
            customer_id: a.clone(),
            account_id: debt.account_id.clone(),
            channel: common::Channel::Phone as i32,
            purpose: pb::ContactPurpose::PaymentDemand as i32,
            requested_by: Some(agent("dialer-1")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(before.code(), tonic::Code::InvalidArgument);

    profiles_merge(&mut plans, &a, &b).await;
    let event = merged_event(&rapport_ids::Id::new().to_string(), &a, &b);
    let first = plans
        .accounts
        .ingest_events(pb::IngestEventsRequest {
            events: vec![event.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.accepted, first.duplicates), (1, 0));
    let again = plans
        .accounts
        .ingest_events(pb::IngestEventsRequest {
            events: vec![event],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.accepted, again.duplicates),
        (0, 1),
        "a redelivered event is applied once"
    );

    assert_eq!(plans.get_account(&debt.account_id).await.customer_id, a);
    // Three more calls, under A: seven in all.
    for n in 0..3 {
        let when = format!("2026-03-10T14:{:02}:00Z", 40 + n * 2);
        let decision = call(&plans, &a, &debt.account_id, &when).await;
        assert!(decision.allowed, "call {}: {:?}", n + 5, decision.reasons);
    }
    // The eighth is refused, whichever id names the customer.
    for who in [&a, &b] {
        let eighth = call(&plans, who, &debt.account_id, "2026-03-10T14:59:00Z").await;
        assert!(!eighth.allowed, "the calls under both ids add up");
        assert!(
            eighth.reasons.iter().any(|r| r.code == "CALL_FREQUENCY"),
            "{:?}",
            eighth.reasons
        );
    }
    // An account billing posts under the merged-away id afterwards is the survivor's too.
    let late = us_account(&mut plans, &b, "card-b").await;
    assert_eq!(late.customer_id, a);
}

async fn events_plans_does_not_consume_are_rejected_one_by_one(database: TestDatabase) {
    let mut plans = start(database).await;
    let a = us_customer(&mut plans, "Alex Morgan").await;
    let mut unknown = merged_event(&rapport_ids::Id::new().to_string(), &a, &a);
    unknown.event_type = "profiles.customer_created.v1".into();
    let self_merge = merged_event(&rapport_ids::Id::new().to_string(), &a, &a);
    let answer = plans
        .accounts
        .ingest_events(pb::IngestEventsRequest {
            events: vec![unknown, self_merge],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.accepted, 0);
    let codes: Vec<_> = answer
        .rejected
        .iter()
        .map(|r| r.reason.as_ref().unwrap().code.as_str())
        .collect();
    assert_eq!(codes, ["UNKNOWN_EVENT_TYPE", "INVALID_PAYLOAD"]);
}

/// `profiles.customer_erased.v1` as profiles' outbox publishes it.
fn erased_event(customer: &str) -> common::DomainEvent {
    common::DomainEvent {
        event_id: rapport_ids::Id::new().to_string(),
        event_type: "profiles.customer_erased.v1".into(),
        customer_id: customer.into(),
        occurred_at: Some(at("2026-03-01T12:00:00Z")),
        source_service: "profiles".into(),
        ..Default::default()
    }
}

async fn erasure_reaches_the_free_text_of_every_merged_id_and_keeps_the_amounts(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    // The harness customer is the duplicate: its case and statement carry free text.
    let duplicate = plans.customer_id.clone();
    let account = plans.account("GBP", 500_000, 20_000).await;
    let case = plans
        .hardship
        .open_hardship_case(pb::OpenHardshipCaseRequest {
            customer_id: duplicate.clone(),
            account_ids: vec![account.account_id.clone()],
            reason: pb::HardshipReason::JobLoss as i32,
            reason_detail: "made redundant by Ionescu & Fiii in January".into(),
            opened_by: Some(agent("agent-5")),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap();
    let mut statement = crate::hardship::statement("GBP");
    statement.fixed_costs[0].description = "rent to my sister Maria".into();
    plans
        .hardship
        .submit_income_expenditure(pb::SubmitIncomeExpenditureRequest {
            case_id: case.case_id.clone(),
            income_expenditure: Some(statement),
            submitted_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    let survivor = us_customer(&mut plans, "Ana Ionescu").await;
    let answer = plans
        .accounts
        .ingest_events(pb::IngestEventsRequest {
            events: vec![
                merged_event(&rapport_ids::Id::new().to_string(), &survivor, &duplicate),
                erased_event(&survivor),
            ],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.accepted, 2, "{:?}", answer.rejected);

    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM hardship_cases WHERE reason_detail LIKE '%Ionescu%' OR statement LIKE '%Maria%'")
            .await,
        0,
        "the free text is gone"
    );
    assert_eq!(
        plans
            .count("SELECT COUNT(*) FROM hardship_cases WHERE reason = 'HARDSHIP_REASON_JOB_LOSS' AND statement LIKE '%90000%'")
            .await,
        1,
        "the decision's reason and the amounts stay"
    );
    assert_eq!(
        plans.get_account(&account.account_id).await.customer_id,
        survivor
    );
}

/// The whole path: a merge in profiles reaches plans through profiles' outbox worker (the one
/// `rapport dev` and `rapport serve profiles` run), with no call from the test to plans.
async fn a_merge_in_profiles_reaches_plans_through_the_outbox(database: TestDatabase) {
    use std::sync::Arc;

    use rapport_clients::{Consumer, Consumers, PlansIngest};
    use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
    use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;

    let clock = Arc::new(rapport_clock::ManualClock::new(
        crate::support::start_instant(),
    ));
    let settings = rapport_server::ServerSettings::default();
    let profiles_database = TestDatabase::sqlite();
    let server = rapport_server::testing::TestServer::start_with(settings.clone(), |address| {
        let url = format!("http://{address}");
        let profiles = rapport_profiles::unit_with_clock(
            &settings,
            &profiles_database.settings,
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let consumers = Consumers(vec![Consumer::Plans(
            PlansIngest::new(url.as_str(), rapport_profiles::NAME).map_err(|e| e.to_string())?,
        )]);
        let profiles = rapport_clients::deliver_outbox_to(
            profiles,
            consumers,
            clock.clone(),
            rapport_outbox::delivery::Policy::default(),
        );
        let plans = crate::support::assembled(&settings, &database.settings, clock.clone(), &url)?;
        Ok::<_, String>(vec![profiles, plans])
    })
    .await;
    let mut profiles = ProfileServiceClient::new(server.channel.clone());
    let mut accounts = AccountServiceClient::new(server.channel.clone());
    let a = crate::support::create_customer(&mut profiles, "Ana Ionescu").await;
    let b = crate::support::create_customer(&mut profiles, "Ana Ionescu").await;
    let debt = accounts
        .upsert_account(upsert_for(&b, "GBP", 100_000, 5_000, "loan-b"))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    profiles
        .merge_customers(profiles::MergeCustomersRequest {
            survivor_customer_id: a.clone(),
            duplicate_customer_id: b.clone(),
            reason: "same person".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    // Delivery is asynchronous: wait for its effect, with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let owner = accounts
            .get_account(pb::GetAccountRequest {
                account_id: debt.account_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
            .customer_id;
        if owner == a {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the merge did not reach plans"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub(crate) async fn profiles_merge(plans: &mut Plans, survivor: &str, duplicate: &str) {
    plans
        .profiles
        .merge_customers(profiles::MergeCustomersRequest {
            survivor_customer_id: survivor.into(),
            duplicate_customer_id: duplicate.into(),
            reason: "same person".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
}

backend_tests!(
    a_merge_moves_the_debt_and_its_call_count_to_the_survivor,
    events_plans_does_not_consume_are_rejected_one_by_one,
    erasure_reaches_the_free_text_of_every_merged_id_and_keeps_the_amounts,
    a_merge_in_profiles_reaches_plans_through_the_outbox,
);
