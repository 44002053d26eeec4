//! The agent's desk in `rapport dev`: the overview of the demo's customer in hardship fills every
//! section; with one service down its sections say so and the rest answer; the admin port counts
//! the desk's calls like any service's.

use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use rapport::{agent, demo, dev};
use rapport_e2e::Suite;
use rapport_proto::desk::v1 as pb;
use rapport_proto::desk::v1::SectionStatus;
use rapport_proto::desk::v1::desk_service_client::DeskServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_security::Role;
use rapport_security::dev::{DevMaterial, mint_hs256};
use rapport_server::testing::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

/// The suite with the demo seeded, and the id of its customer in hardship.
async fn demo_suite() -> (Suite, tempfile::TempDir, String) {
    let suite = Suite::start().await;
    let dir = tempfile::tempdir().unwrap();
    demo::seed_when_ready(&suite.url, dir.path())
        .await
        .unwrap()
        .expect("seeded");
    let found = ProfileServiceClient::new(suite.channel.clone())
        .search_customers(profiles::SearchCustomersRequest {
            name: demo::IN_HARDSHIP.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(found.len(), 1, "{found:?}");
    let id = found[0].customer_id.clone();
    (suite, dir, id)
}

async fn overview(channel: &Channel, customer_id: &str) -> pb::GetCustomerOverviewResponse {
    DeskServiceClient::new(channel.clone())
        .get_customer_overview(pb::GetCustomerOverviewRequest {
            customer_id: customer_id.into(),
            channel: 0,
        })
        .await
        .unwrap()
        .into_inner()
}

/// Every section's name and state.
fn states(o: &pb::GetCustomerOverviewResponse) -> Vec<(&'static str, pb::SectionState)> {
    let s = |state: Option<&pb::SectionState>| state.cloned().unwrap_or_default();
    vec![
        (
            "customer",
            s(o.customer.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "contact",
            s(o.contact.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "next_best_action",
            s(o.next_best_action.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "protections",
            s(o.protections.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "accounts",
            s(o.accounts.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "hardship",
            s(o.hardship.as_ref().and_then(|x| x.state.as_ref())),
        ),
        ("plans", s(o.plans.as_ref().and_then(|x| x.state.as_ref()))),
        (
            "promises",
            s(o.promises.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "loyalty",
            s(o.loyalty.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "follow_ups",
            s(o.follow_ups.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "commitments",
            s(o.commitments.as_ref().and_then(|x| x.state.as_ref())),
        ),
        (
            "referrals",
            s(o.referrals.as_ref().and_then(|x| x.state.as_ref())),
        ),
    ]
}

fn not_ok(o: &pb::GetCustomerOverviewResponse) -> Vec<(&'static str, pb::SectionState)> {
    states(o)
        .into_iter()
        .filter(|(_, state)| state.status != SectionStatus::Ok as i32)
        .collect()
}

/// `/metrics` from the admin port, as Prometheus reads it.
async fn metrics(admin: SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(admin).await.unwrap();
    stream
        .write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_customer_in_hardship_fills_every_section_of_the_overview() {
    let (suite, _dir, stefan) = demo_suite().await;

    // `rapport dev`'s desk, with its default budget of 150 ms. The first overview also opens
    // desk's channels to the suite; the one judged is the agent's next.
    let _ = overview(&suite.channel, &stefan).await;
    let o = overview(&suite.channel, &stefan).await;

    assert_eq!(not_ok(&o), vec![], "{o:#?}");
    for (name, state) in states(&o) {
        assert_eq!(state.status, SectionStatus::Ok as i32, "{name}");
    }
    assert_eq!(o.customer_id, stefan);
    let customer = o.customer.unwrap().customer.unwrap();
    assert_eq!(customer.legal_name, demo::IN_HARDSHIP);
    let accounts = o.accounts.unwrap().accounts;
    assert!(accounts.iter().any(|a| a.days_past_due > 0), "{accounts:?}");
    let contact = o.contact.unwrap();
    assert_eq!(contact.account_id, accounts[0].account_id);
    assert!(contact.decision.is_some());
    assert!(o.next_best_action.unwrap().action.is_some());
    assert!(!o.protections.unwrap().protections.is_empty());
    let cases = o.hardship.unwrap().open_cases;
    assert!(!cases.is_empty());
    assert!(
        cases.iter().all(|c| c.affordability.is_some()),
        "income and expenditure in: {cases:?}"
    );
    let plans = o.plans.unwrap().plans;
    assert!(!plans.is_empty());
    assert!(plans[0].next_installment.is_some(), "{:?}", plans[0]);
    assert!(!o.promises.unwrap().promises.is_empty());
    assert!(o.loyalty.unwrap().score.is_some());
    assert!(!o.follow_ups.unwrap().follow_ups.is_empty());
    assert!(!o.commitments.unwrap().commitments.is_empty());
    let referrals = o.referrals.unwrap();
    assert!(!referrals.referrals_made.is_empty());
    assert!(referrals.trust.is_some());

    // The admin port counts the desk's calls as it counts every service's.
    let text = metrics(suite.admin.unwrap()).await;
    assert!(
        text.contains(
            r#"rpc_service="rapport.desk.v1.DeskService",rpc_method="GetCustomerOverview",rpc_response_status_code="OK""#
        ),
        "{text}"
    );
    suite.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_referrals_down_its_section_is_unavailable_and_the_rest_of_the_overview_answers() {
    let (suite, _dir, stefan) = demo_suite().await;
    // A desk beside the suite that finds referrals nowhere (a port where nothing listens).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let settings = rapport_desk::Settings {
        desk: rapport_desk::DeskSettings {
            profiles_url: suite.url.clone(),
            plans_url: suite.url.clone(),
            referrals_url: nowhere,
            loyalty_url: suite.url.clone(),
            // Generous: this test is about which sections answer, not how fast.
            budget_ms: 10_000,
            console_listen: None,
        },
        ..rapport_desk::Settings::default()
    };
    let unit = rapport_desk::assemble(&settings, Arc::new(rapport_clock::SystemClock)).unwrap();
    let desk = TestServer::start(settings.server.clone(), vec![unit]).await;

    let o = overview(&desk.channel, &stefan).await;

    let down = not_ok(&o);
    assert_eq!(
        down.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        ["referrals"],
        "{down:#?}"
    );
    let state = &down[0].1;
    assert_eq!(
        (state.status, state.service.as_str()),
        (SectionStatus::Unavailable as i32, "referrals")
    );
    let referrals = o.referrals.unwrap();
    assert!(referrals.referrals_made.is_empty() && referrals.trust.is_none());
    assert!(
        !o.follow_ups.unwrap().follow_ups.is_empty(),
        "loyalty still answers"
    );
    desk.stop().await.unwrap();
    suite.stop().await.unwrap();
}

/// `rapport dev --secure DIR`: desk reaches the four over mutual TLS with the suite's client
/// certificate and each caller's own token, so an agent and a supervisor see what their roles
/// allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secured_suite_s_desk_asks_over_mutual_tls_as_each_caller() {
    let data = tempfile::tempdir().unwrap();
    let material = DevMaterial::ensure(&data.path().join("secure")).unwrap();
    let suite = dev::build_secured(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
        data.path(),
        Some(&material),
    )
    .await
    .unwrap();
    assert_eq!(suite.desk, ["rapport.desk.v1.DeskService"]);
    assert!(suite.banner().contains("rapport.desk.v1.DeskService"));
    let (url, credentials) =
        demo::target(suite.application.local_addr(), suite.security.as_ref()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(suite.application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    demo::seed_when_ready_with(&url, &credentials, data.path())
        .await
        .unwrap()
        .expect("seeded");
    let secret = rapport_security::token::read_secret(&material.secret).unwrap();
    let as_whom = |subject: &str, role: Role| agent::Credentials {
        token: Some(mint_hs256(&secret, subject, &[role], Duration::from_secs(600)).unwrap()),
        tls: credentials.tls.clone(),
    };
    let agent_connection = agent::connect_with(&url, &as_whom("agent-1", Role::Agent))
        .await
        .unwrap();
    let stefan = ProfileServiceClient::new(agent_connection.clone())
        .search_customers(profiles::SearchCustomersRequest {
            name: demo::IN_HARDSHIP.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers
        .remove(0)
        .customer_id;
    let mut desk = DeskServiceClient::new(agent_connection);
    let request = || pb::GetCustomerOverviewRequest {
        customer_id: stefan.clone(),
        channel: 0,
    };
    // The first overview also opens desk's TLS channels; the agent's next one is judged.
    let _ = desk.get_customer_overview(request()).await.unwrap();
    let o = desk
        .get_customer_overview(request())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(not_ok(&o), vec![], "{o:#?}");
    assert!(
        o.customer
            .unwrap()
            .customer
            .unwrap()
            .vulnerability
            .is_none(),
        "an agent's view has no vulnerability"
    );

    let supervisor = agent::connect_with(&url, &as_whom("supervisor-1", Role::Supervisor))
        .await
        .unwrap();
    let o = DeskServiceClient::new(supervisor)
        .get_customer_overview(request())
        .await
        .unwrap()
        .into_inner();
    let customer = o.customer.unwrap();
    assert_eq!(
        customer.state.map(|s| s.status),
        Some(SectionStatus::Ok as i32)
    );
    assert_eq!(customer.customer.unwrap().customer_id, stefan);

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
