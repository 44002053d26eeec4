//! Loyalty and profiles on a free port with fresh databases and a clock the test moves.

#![allow(dead_code)]

use std::sync::Arc;

use rapport_clock::{ManualClock, Timestamp};
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, sqlx};
use tonic::transport::Channel;

pub struct Loyalty {
    pub loyalty: LoyaltyServiceClient<Channel>,
    pub profiles: ProfileServiceClient<Channel>,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
    _profiles_database: TestDatabase,
    _server: TestServer,
}

/// 2 March 2026, 09:00 UTC.
pub fn start_instant() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

pub async fn start(database: TestDatabase) -> Loyalty {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let settings = ServerSettings::default();
    let profiles_database = TestDatabase::sqlite();
    let server = TestServer::start_with(settings.clone(), |address| {
        // Both built as `rapport serve` builds them. Profiles has no consumer URLs (its events
        // wait in its outbox); loyalty reads profiles, and delivers its follow-ups to it, here.
        let profiles = rapport_profiles::assemble(
            &rapport_profiles::Settings {
                server: settings.clone(),
                storage: profiles_database.settings.clone(),
                ..rapport_profiles::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let loyalty = rapport_loyalty::assemble(
            &rapport_loyalty::Settings {
                server: settings.clone(),
                storage: database.settings.clone(),
                rules: rapport_loyalty::Rules::default(),
                profiles_url: format!("http://{address}"),
                ..rapport_loyalty::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![profiles, loyalty])
    })
    .await;
    Loyalty {
        loyalty: LoyaltyServiceClient::new(server.channel.clone()),
        profiles: ProfileServiceClient::new(server.channel.clone()),
        clock,
        database,
        _profiles_database: profiles_database,
        _server: server,
    }
}

impl Loyalty {
    pub async fn count(&self, sql: &'static str) -> i64 {
        let storage = Storage::open(&self.database.settings).unwrap();
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(storage.reader())
            .await
            .unwrap();
        storage.close().await;
        n
    }

    /// A customer in profiles who joined on `since` (y, m, d).
    pub async fn customer(&mut self, name: &str, since: (i32, i32, i32)) -> String {
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

    pub async fn consent(&mut self, customer_id: &str, granted: bool, channel: common::Channel) {
        self.profiles
            .set_consent(profiles::SetConsentRequest {
                consent: Some(profiles::Consent {
                    customer_id: customer_id.into(),
                    purpose: profiles::ConsentPurpose::Surveys as i32,
                    channel: channel as i32,
                    status: if granted {
                        profiles::ConsentStatus::Granted
                    } else {
                        profiles::ConsentStatus::Withdrawn
                    } as i32,
                    source: profiles::ConsentSource::Web as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
    }

    /// Records an NPS answer now; returns the response and its follow-up, if any.
    pub async fn answer(
        &mut self,
        customer_id: &str,
        nps: i32,
        touchpoint: &str,
    ) -> pb::RecordSurveyResponseResponse {
        self.loyalty
            .record_survey_response(pb::RecordSurveyResponseRequest {
                response: Some(pb::SurveyResponse {
                    customer_id: customer_id.into(),
                    kind: pb::SurveyKind::Transactional as i32,
                    nps: Some(nps),
                    touchpoint: touchpoint.into(),
                    channel: common::Channel::Email as i32,
                    locale: "en-GB".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    pub async fn score(&mut self, customer_id: &str) -> pb::LoyaltyScore {
        self.loyalty
            .get_loyalty_score(pb::GetLoyaltyScoreRequest {
                customer_id: customer_id.into(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner()
            .score
            .unwrap()
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
