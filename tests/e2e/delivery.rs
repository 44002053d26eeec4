//! Outbox delivery between services (issue 8, "consumer down"): profiles keeps changing things
//! while loyalty is down; when loyalty comes back every event arrives and is applied once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rapport_outbox::delivery::Policy;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::testing::TestServer;
use rapport_server::{Application, ServerSettings};
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, sqlx};

/// Retries quickly so the test does not wait out production backoffs.
fn quick() -> Policy {
    Policy {
        batch: 50,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(60),
    }
}

async fn start_loyalty(
    address: SocketAddr,
    database: &TestDatabase,
    profiles_url: &str,
) -> TestServer {
    let settings = ServerSettings {
        listen: address,
        ..ServerSettings::default()
    };
    let unit = rapport_loyalty::unit(&settings, &database.settings, profiles_url).unwrap();
    TestServer::run(Application::build(settings, vec![unit]).await.unwrap()).await
}

async fn count(database: &TestDatabase, sql: &'static str) -> i64 {
    let storage = Storage::open(&database.settings).unwrap();
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(storage.reader())
        .await
        .unwrap();
    storage.close().await;
    n
}

/// Waits (up to 20 s) until loyalty has applied `n` events.
async fn until_applied(database: &TestDatabase, n: i64) {
    for _ in 0..400 {
        if count(database, "SELECT COUNT(*) FROM ingested_events").await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("loyalty did not receive {n} events");
}

async fn touch(client: &mut ProfileServiceClient<tonic::transport::Channel>, customer: &str) {
    client
        .record_interaction(profiles::RecordInteractionRequest {
            interaction: Some(profiles::Interaction {
                customer_id: customer.into(),
                channel: common::Channel::Phone as i32,
                sentiment: common::Sentiment::Positive as i32,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
}

rapport_storage::backend_tests!(nothing_is_lost_while_loyalty_is_down);

/// Another fresh database on the same backend as `like`.
async fn another(like: &TestDatabase) -> TestDatabase {
    if like.settings.url.starts_with("postgres") {
        TestDatabase::postgres().await.unwrap()
    } else {
        TestDatabase::sqlite()
    }
}

async fn nothing_is_lost_while_loyalty_is_down(loyalty_database: TestDatabase) {
    // An address for loyalty, not yet listening.
    let loyalty_address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let loyalty_url = format!("http://{loyalty_address}");
    let profiles_database = another(&loyalty_database).await;
    let settings = ServerSettings::default();
    let producer = TestServer::start_with(settings.clone(), |_| {
        let unit = rapport_profiles::unit(&settings, &profiles_database.settings)
            .map_err(|e| e.to_string())?;
        let unit = rapport_clients::deliver_outbox_to_loyalty(
            unit,
            &loyalty_url,
            Arc::new(rapport_clock::SystemClock),
            quick(),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![unit])
    })
    .await;
    let profiles_url = format!("http://{}", producer.address);
    let mut client = ProfileServiceClient::new(producer.channel.clone());

    // Loyalty is down: three customers, four touchpoints each.
    let mut customers = Vec::new();
    for i in 0..3 {
        let customer = client
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: format!("Customer {i}"),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
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
        for _ in 0..4 {
            touch(&mut client, &customer).await;
        }
        customers.push(customer);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = count(
        &profiles_database,
        "SELECT COUNT(*) FROM outbox WHERE delivered_at_micros IS NULL",
    )
    .await;
    assert_eq!(waiting, 15, "3 created + 12 touchpoints wait in the outbox");
    assert!(
        count(&profiles_database, "SELECT MAX(attempts) FROM outbox").await >= 1,
        "deliveries were tried"
    );

    // Loyalty comes up: every event arrives.
    let loyalty = start_loyalty(loyalty_address, &loyalty_database, &profiles_url).await;
    until_applied(&loyalty_database, 15).await;

    // Down again while two more touchpoints happen; back on the same database.
    loyalty.stop().await.unwrap();
    touch(&mut client, &customers[0]).await;
    touch(&mut client, &customers[1]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let loyalty = start_loyalty(loyalty_address, &loyalty_database, &profiles_url).await;
    until_applied(&loyalty_database, 17).await;
    // Give any stray redelivery time to arrive, then count: each event applied exactly once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count(&loyalty_database, "SELECT COUNT(*) FROM ingested_events").await,
        17
    );
    assert_eq!(
        count(
            &loyalty_database,
            "SELECT COUNT(*) FROM signals WHERE kind = 'interaction'"
        )
        .await,
        14
    );
    assert_eq!(
        count(
            &profiles_database,
            "SELECT COUNT(*) FROM outbox WHERE delivered_at_micros IS NULL"
        )
        .await,
        0
    );
    loyalty.stop().await.unwrap();
    producer.stop().await.unwrap();
}
