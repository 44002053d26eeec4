//! Referrals, profiles and plans (whose good standing referrals uses) on a free port with fresh
//! databases and a clock the test moves.

#![allow(dead_code)]

use std::sync::Arc;

use rapport_clock::{Clock, ManualClock, Timestamp};
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, sqlx};
use tonic::transport::Channel;

pub struct Referrals {
    pub referrals: ReferralServiceClient<Channel>,
    pub profiles: ProfileServiceClient<Channel>,
    pub channel: Channel,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
    pub plans_database: TestDatabase,
    /// `http://…` of the server.
    pub url: String,
    _profiles_database: TestDatabase,
    _server: TestServer,
}

/// 2 March 2026, 09:00 UTC.
pub fn start_instant() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

pub async fn start(database: TestDatabase) -> Referrals {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let settings = ServerSettings::default();
    let profiles_database = TestDatabase::sqlite();
    let plans_database = if database.settings.url.starts_with("postgres") {
        TestDatabase::postgres().await.unwrap()
    } else {
        TestDatabase::sqlite()
    };
    let server = TestServer::start_with(settings.clone(), |address| {
        // Profiles and referrals built as `rapport serve` builds them: no consumer URLs (their
        // events wait in their outboxes); referrals reads profiles here.
        let profiles = rapport_profiles::assemble(
            &rapport_profiles::Settings {
                server: settings.clone(),
                storage: profiles_database.settings.clone(),
                ..rapport_profiles::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let referrals = rapport_referrals::assemble(
            &rapport_referrals::Settings {
                server: settings.clone(),
                storage: database.settings.clone(),
                rules: rapport_referrals::Rules::default(),
                profiles_url: format!("http://{address}"),
                ..rapport_referrals::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        // No delivery worker: a test delivers plans' outbox when it chooses (`deliver_standing`).
        let plans = rapport_plans::unit_with(
            &settings,
            &plans_database.settings,
            rapport_plans::Rules::default(),
            clock.clone(),
            &format!("http://{address}"),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![profiles, referrals, plans])
    })
    .await;
    Referrals {
        referrals: ReferralServiceClient::new(server.channel.clone()),
        profiles: ProfileServiceClient::new(server.channel.clone()),
        channel: server.channel.clone(),
        url: format!("http://{}", server.address),
        clock,
        database,
        plans_database,
        _profiles_database: profiles_database,
        _server: server,
    }
}

impl Referrals {
    /// Delivers plans' outbox to referrals, as plans' worker would (referrals takes the events
    /// it consumes: good standing); how many standing changes it delivered.
    pub async fn deliver_standing(&self) -> i64 {
        let storage = Storage::open(&self.plans_database.settings).unwrap();
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at_micros IS NULL AND event_type = 'plans.standing_changed.v1'",
        )
        .fetch_one(storage.reader())
        .await
        .unwrap();
        let sink = rapport_clients::ReferralsIngest::new(self.url.as_str(), "plans").unwrap();
        let policy = rapport_outbox::delivery::Policy::default();
        loop {
            let round = rapport_outbox::delivery::deliver_due(
                &storage,
                "referrals-tests",
                &sink,
                &policy,
                self.clock.now(),
            )
            .await
            .unwrap();
            assert_eq!(round.failed, 0, "referrals took plans' events");
            if round.delivered == 0 {
                break;
            }
        }
        storage.close().await;
        waiting
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let storage = Storage::open(&self.database.settings).unwrap();
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(storage.reader())
            .await
            .unwrap();
        storage.close().await;
        n
    }

    /// A customer in profiles who joined on `since` (y, m, d) with this email.
    pub async fn customer(&mut self, name: &str, since: (i32, i32, i32), email: &str) -> String {
        self.profiles
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: name.into(),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    customer_since: Some(common::Date {
                        year: since.0,
                        month: since.1,
                        day: since.2,
                    }),
                    emails: if email.is_empty() {
                        vec![]
                    } else {
                        vec![profiles::EmailAddress {
                            address: email.into(),
                            verified: true,
                            primary: true,
                        }]
                    },
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

pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
