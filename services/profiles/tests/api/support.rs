//! The profiles service on a free port with a fresh database, reached through the generated client.

#![allow(dead_code)]

use std::sync::Arc;

use rapport_clock::{ManualClock, Timestamp};
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, sqlx};
use tonic::transport::Channel;

pub struct Profiles {
    pub client: ProfileServiceClient<Channel>,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
    _server: TestServer,
}

/// 2026-03-01 09:00 UTC.
pub fn start_instant() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().unwrap()
}

pub async fn start(database: TestDatabase) -> Profiles {
    let clock = Arc::new(ManualClock::new(start_instant()));
    // Built as `rapport serve profiles` builds it; no consumer URLs, so events wait in the outbox.
    let settings = rapport_profiles::Settings {
        server: ServerSettings::default(),
        storage: database.settings.clone(),
        ..rapport_profiles::Settings::default()
    };
    let unit = rapport_profiles::assemble(&settings, clock.clone()).unwrap();
    let server = TestServer::start(settings.server, vec![unit]).await;
    Profiles {
        client: ProfileServiceClient::new(server.channel.clone()),
        clock,
        database,
        _server: server,
    }
}

impl Profiles {
    /// A second look at the database, to check what a call wrote or did not write.
    pub async fn count(&self, sql: &'static str) -> i64 {
        let storage = Storage::open(&self.database.settings).unwrap();
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(storage.reader())
            .await
            .unwrap();
        storage.close().await;
        n
    }

    pub async fn create(&mut self, customer: pb::Customer) -> pb::Customer {
        self.client
            .create_customer(pb::CreateCustomerRequest {
                customer: Some(customer),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
    }

    pub async fn get(&mut self, customer_id: &str, view: pb::CustomerView) -> pb::Customer {
        self.client
            .get_customer(pb::GetCustomerRequest {
                customer_id: customer_id.into(),
                view: view as i32,
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
    }

    pub async fn search_name(&mut self, name: &str) -> Vec<pb::Customer> {
        self.client
            .search_customers(pb::SearchCustomersRequest {
                name: name.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .customers
    }
}

/// A valid customer with this legal name.
pub fn customer(legal_name: &str) -> pb::Customer {
    pb::Customer {
        legal_name: legal_name.into(),
        locale: "ro-RO".into(),
        time_zone: "Europe/Bucharest".into(),
        customer_since: Some(date(2018, 5, 14)),
        ..Default::default()
    }
}

pub fn date(year: i32, month: i32, day: i32) -> common::Date {
    common::Date { year, month, day }
}

pub fn agent(id: &str) -> common::Actor {
    common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: id.into(),
    }
}

pub fn at(text: &str) -> prost_types::Timestamp {
    let t: Timestamp = text.parse().unwrap();
    prost_types::Timestamp {
        seconds: t.as_second(),
        nanos: 0,
    }
}

/// The fields named by a status's BadRequest violations.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
