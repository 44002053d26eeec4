//! CheckContact and NextBestAction ask profiles for the customer's contact profile. While
//! profiles is slow to answer, plans' other writes go on; and decisions about one customer
//! arriving together ask profiles once. Profiles sits behind a gate the test closes: its answers
//! wait there until the test opens it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rapport_clock::ManualClock;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::support::{agent, assembled, at, create_customer, start_instant, upsert_for};

/// A TCP proxy in front of profiles whose answers (bytes from profiles to plans) pass only
/// while it is open; `held` is told when it holds some back.
struct Gate {
    address: SocketAddr,
    open: watch::Sender<bool>,
    held: Arc<Notify>,
}

impl Gate {
    async fn before(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (open, _) = watch::channel(true);
        let held = Arc::new(Notify::new());
        let (opened, notify) = (open.clone(), held.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(upstream).await.unwrap();
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let (mut open, notify) = (opened.subscribe(), notify.clone());
                tokio::spawn(async move {
                    let mut buffer = vec![0_u8; 16 * 1024];
                    loop {
                        let n = match server_read.read(&mut buffer).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if !*open.borrow_and_update() {
                            notify.notify_one();
                            if open.wait_for(|open| *open).await.is_err() {
                                break;
                            }
                        }
                        if client_write.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            address,
            open,
            held,
        }
    }
}

/// Profiles behind its gate, plans asking profiles through it, and one customer's account.
struct Suite {
    gate: Gate,
    plans: TestServer,
    customer_id: String,
    account: pb::Account,
    profiles_database: TestDatabase,
    _profiles: TestServer,
}

impl Suite {
    async fn start(database: &TestDatabase) -> Self {
        let clock = Arc::new(ManualClock::new(start_instant()));
        let settings = ServerSettings::default();
        let profiles_database = TestDatabase::sqlite();
        let profiles = TestServer::start(
            settings.clone(),
            vec![
                rapport_profiles::unit_with_clock(
                    &settings,
                    &profiles_database.settings,
                    clock.clone(),
                )
                .unwrap(),
            ],
        )
        .await;
        let gate = Gate::before(profiles.address).await;
        let plans = TestServer::start(
            settings.clone(),
            vec![
                assembled(
                    &settings,
                    &database.settings,
                    clock,
                    &format!("http://{}", gate.address),
                )
                .unwrap(),
            ],
        )
        .await;
        let customer_id = create_customer(
            &mut ProfileServiceClient::new(profiles.channel.clone()),
            "Ana Ionescu",
        )
        .await;
        let account = AccountServiceClient::new(plans.channel.clone())
            .upsert_account(upsert_for(
                &customer_id,
                "GBP",
                500_000,
                20_000,
                &rapport_ids::Id::new().to_string(),
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap();
        Self {
            gate,
            plans,
            customer_id,
            account,
            profiles_database,
            _profiles: profiles,
        }
    }
}

async fn a_slow_profiles_does_not_hold_up_other_writes(database: TestDatabase) {
    let suite = Suite::start(&database).await;
    let Suite {
        gate,
        plans,
        customer_id,
        account,
        ..
    } = &suite;
    let outreach = OutreachServiceClient::new(plans.channel.clone());

    // Profiles' answers now wait at the gate, so the contact check waits for its profile.
    gate.open.send_replace(false);
    let check = tokio::spawn({
        let mut outreach = outreach.clone();
        let request = support_call_check(customer_id, &account.account_id);
        async move { outreach.check_contact(request).await }
    });
    tokio::time::timeout(Duration::from_secs(10), gate.held.notified())
        .await
        .expect("the contact check asks profiles");

    // The customer calls in on the same account meanwhile: the agent records it at once.
    let inbound = pb::RecordContactAttemptRequest {
        customer_id: customer_id.clone(),
        account_id: account.account_id.clone(),
        channel: common::Channel::Phone as i32,
        direction: common::Direction::Inbound as i32,
        outcome: pb::ContactOutcome::Conversation as i32,
        occurred_at: Some(at("2026-03-02T08:59:00Z")),
        made_by: Some(agent("agent-7")),
        ..Default::default()
    };
    let recorded = tokio::time::timeout(
        Duration::from_secs(5),
        outreach.clone().record_contact_attempt(inbound),
    )
    .await
    .expect("a write goes on while profiles has not answered the contact check")
    .expect("the inbound call is recorded");
    assert!(recorded.into_inner().attempt.is_some());
    assert!(
        !check.is_finished(),
        "the contact check is still waiting for profiles: the write did not wait for it"
    );

    gate.open.send_replace(true);
    let decision = check
        .await
        .unwrap()
        .expect("the contact check answers")
        .into_inner();
    assert!(!decision.decision_id.is_empty());
}

/// The desk asks plans for may-we-call-now and the next best action about one customer at once;
/// both need the customer's contact profile, and plans asks profiles for it once: profiles'
/// trail holds one audited vulnerability read, not two.
async fn decisions_about_one_customer_at_once_ask_profiles_once(database: TestDatabase) {
    let suite = Suite::start(&database).await;
    let Suite {
        gate,
        plans,
        customer_id,
        account,
        profiles_database,
        ..
    } = &suite;
    let outreach = OutreachServiceClient::new(plans.channel.clone());
    let vulnerability_reads = || async {
        let storage = profiles_database.open();
        let n: i64 = rapport_storage::sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE rpc LIKE '%/GetCustomer' AND targets LIKE $1",
        )
        .bind(format!("%{customer_id}%"))
        .fetch_one(storage.reader())
        .await
        .unwrap();
        storage.close().await;
        n
    };
    let before = vulnerability_reads().await;

    gate.open.send_replace(false);
    let check = tokio::spawn({
        let mut outreach = outreach.clone();
        let request = support_call_check(customer_id, &account.account_id);
        async move { outreach.check_contact(request).await }
    });
    tokio::time::timeout(Duration::from_secs(10), gate.held.notified())
        .await
        .expect("the contact check asks profiles");
    let action = tokio::spawn({
        let mut outreach = outreach.clone();
        let request = pb::NextBestActionRequest {
            account_id: account.account_id.clone(),
            at: None,
        };
        async move { outreach.next_best_action(request).await }
    });
    // The next best action reaches its question to profiles while the first is still held (a
    // few reads on plans' side; a question of its own would go through the gate to profiles).
    tokio::time::sleep(Duration::from_millis(300)).await;
    gate.open.send_replace(true);
    check.await.unwrap().expect("the contact check answers");
    action.await.unwrap().expect("the next best action answers");
    assert_eq!(
        vulnerability_reads().await - before,
        1,
        "one vulnerability read in profiles' trail for both decisions"
    );
}

backend_tests!(
    a_slow_profiles_does_not_hold_up_other_writes,
    decisions_about_one_customer_at_once_ask_profiles_once,
);

/// May an agent phone the customer about this account now (a support call, no reservation)?
fn support_call_check(customer_id: &str, account_id: &str) -> pb::CheckContactRequest {
    pb::CheckContactRequest {
        customer_id: customer_id.to_owned(),
        account_id: account_id.to_owned(),
        channel: common::Channel::Phone as i32,
        at: None,
        purpose: pb::ContactPurpose::Support as i32,
        automated: false,
        reserve: false,
        requested_by: Some(agent("agent-7")),
    }
}
