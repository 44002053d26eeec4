//! Stateless replicas (docs/scaling.md): two processes' worth of the same service over one
//! database, started together (as an autoscaler starts pods), agree on everything, and a retry
//! landing on the other replica does not double-count.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use rapport_proto::profiles::v1 as pb;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::sqlx::{self, AssertSqlSafe};
use rapport_storage::testing::TestDatabase;
use tonic::transport::Channel;

async fn replica(database: &TestDatabase) -> TestServer {
    let unit = rapport_profiles::unit(&ServerSettings::default(), &database.settings).unwrap();
    TestServer::start(ServerSettings::default(), vec![unit]).await
}

async fn count(database: &TestDatabase, sql: &str) -> i64 {
    let storage = database.open();
    let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql.to_owned()))
        .fetch_one(storage.reader())
        .await
        .unwrap();
    storage.close().await;
    n
}

/// PostgreSQL only: replicas are a production topology, and SQLite is one process's embedded file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_over_one_postgres_database_count_a_retried_upsert_once() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    // Both start at once and migrate the same database: the migrator's lock lets one apply
    // the migrations and the other find them applied.
    let (a, b) = tokio::join!(replica(&database), replica(&database));
    let replicas: [Channel; 2] = [a.channel.clone(), b.channel.clone()];

    // Core banking retries one upsert 8 times, the load balancer spreading the calls.
    let request = pb::UpsertCustomerByExternalRefRequest {
        external_ref: Some(pb::ExternalRef {
            system: "core-banking".into(),
            external_id: "CB-REPLICAS-1".into(),
        }),
        customer: Some(pb::Customer {
            legal_name: "Ioana Petrescu".into(),
            locale: "ro-RO".into(),
            time_zone: "Europe/Bucharest".into(),
            customer_since: Some(rapport_proto::common::v1::Date {
                year: 2015,
                month: 6,
                day: 1,
            }),
            ..Default::default()
        }),
        update_mask: None,
    };
    let calls = (0..8).map(|i| {
        let mut client = ProfileServiceClient::new(replicas[i % 2].clone());
        let request = request.clone();
        async move {
            client
                .upsert_customer_by_external_ref(request)
                .await
                .unwrap()
                .into_inner()
        }
    });
    let answers = join_all(calls).await;
    let ids: BTreeSet<_> = answers
        .iter()
        .map(|answer| answer.customer.clone().unwrap().customer_id)
        .collect();
    assert_eq!(ids.len(), 1, "one customer for one reference");
    assert_eq!(answers.iter().filter(|answer| answer.created).count(), 1);
    assert_eq!(count(&database, "SELECT COUNT(*) FROM customers").await, 1);
    assert_eq!(
        count(
            &database,
            "SELECT COUNT(*) FROM outbox WHERE event_type = 'profiles.customer_created.v1'"
        )
        .await,
        1,
        "one event for one customer"
    );

    // What one replica wrote, the other reads: no state lives in a process.
    let id = ids.into_iter().next().unwrap();
    for channel in replicas {
        let customer = ProfileServiceClient::new(channel)
            .get_customer(pb::GetCustomerRequest {
                customer_id: id.clone(),
                view: 0,
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap();
        assert_eq!(customer.legal_name, "Ioana Petrescu");
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
