//! Desk asks as its caller: each service applies its own roles to what it shows, and audits the
//! caller, not desk.

use rapport_proto::audit::v1 as audit;
use rapport_proto::audit::v1::audit_service_client::AuditServiceClient;
use rapport_proto::common::v1 as common;
use rapport_proto::desk::v1::SectionStatus;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_security::Role;
use tonic::Code;

use crate::overview::ROOMY_BUDGET_MS;
use crate::seed;
use crate::support::{Four, not, with};

const GET_CUSTOMER: &str = "/rapport.profiles.v1.ProfileService/GetCustomer";

async fn vulnerable(four: &Four, customer_id: &str) {
    let token = four.token(seed::SEEDER, &[Role::Agent]);
    ProfileServiceClient::new(four.server.channel.clone())
        .set_vulnerability(with(
            token.as_deref(),
            profiles::SetVulnerabilityRequest {
                customer_id: customer_id.into(),
                vulnerability: Some(profiles::Vulnerability {
                    factors: vec![profiles::VulnerabilityFactor {
                        driver: profiles::VulnerabilityDriver::LifeEvent as i32,
                        detail: String::new(),
                        temporary: true,
                    }],
                    customer_consented: true,
                    ..Default::default()
                }),
                recorded_by: Some(common::Actor {
                    kind: common::ActorKind::Agent as i32,
                    id: seed::SEEDER.into(),
                }),
            },
        ))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_what_its_own_roles_allow_and_the_trail_names_the_caller() {
    let four = Four::start_secured().await;
    let seeded = seed::in_hardship(&four, "Ana Ionescu").await;
    vulnerable(&four, &seeded.customer_id).await;
    let desk = four.desk(|s| s.desk.budget_ms = ROOMY_BUDGET_MS).await;
    let id = seeded.customer_id.as_str();

    // An agent: everything, in the FULL view (no vulnerability).
    let agent = four.token("agent-1", &[Role::Agent]).unwrap();
    let overview = desk.overview(Some(&agent), id).await.unwrap();
    assert_eq!(not(&overview, SectionStatus::Ok), vec![], "{overview:#?}");
    let customer = overview.customer.unwrap().customer.unwrap();
    assert!(customer.vulnerability.is_none(), "{customer:?}");

    // A supervisor: the vulnerability too, and profiles audits that read as hers.
    let supervisor = four.token("supervisor-1", &[Role::Supervisor]).unwrap();
    let overview = desk.overview(Some(&supervisor), id).await.unwrap();
    assert_eq!(not(&overview, SectionStatus::Ok), vec![], "{overview:#?}");
    let customer = overview.customer.unwrap().customer.unwrap();
    assert!(customer.vulnerability.is_some(), "{customer:?}");
    let auditor = four.token("auditor-1", &[Role::Auditor]).unwrap();
    let entries = AuditServiceClient::new(four.server.channel.clone())
        .list_audit_entries(with(
            Some(&auditor),
            audit::ListAuditEntriesRequest {
                service: "profiles".into(),
                rpc: GET_CUSTOMER.into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    // (Plans reads vulnerability too, as the suite's service, for its contact decisions.)
    let people: Vec<_> = entries
        .iter()
        .map(|e| e.actor.as_str())
        .filter(|actor| *actor != "rapport-suite")
        .collect();
    assert_eq!(
        people,
        ["supervisor-1"],
        "the supervisor's read, as hers; the agent's FULL view is not a sensitive read: {entries:#?}"
    );

    // The billing system: the customer, accounts and commitments, nothing of hardship, plans,
    // contact, loyalty or referrals.
    let billing = four.token("billing-1", &[Role::BillingSystem]).unwrap();
    let overview = desk.overview(Some(&billing), id).await.unwrap();
    let refused = not(&overview, SectionStatus::Ok);
    let names: Vec<_> = refused.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "contact",
            "next_best_action",
            "protections",
            "hardship",
            "plans",
            "promises",
            "loyalty",
            "follow_ups",
            "referrals"
        ],
        "{refused:#?}"
    );
    for (name, state) in &refused {
        assert_eq!(
            state.status,
            SectionStatus::NotPermitted as i32,
            "{name}: {state:?}"
        );
    }
    assert!(overview.hardship.unwrap().open_cases.is_empty());
    let customer = overview.customer.unwrap().customer.unwrap();
    assert!(customer.vulnerability.is_none());

    // Desk itself lets nobody in who may not read customers.
    let status = desk.overview(Some(&auditor), id).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = desk.overview(None, id).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
}
