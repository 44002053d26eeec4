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

/// Trust as the API tests want it: no background worker (a test runs the batch when it
/// chooses, with `recompute_trust`), and only exact stored answers served, so every answer
/// reflects the calls before it.
pub fn exact_trust() -> rapport_referrals::TrustSettings {
    rapport_referrals::TrustSettings {
        worker: false,
        max_staleness_seconds: 0,
        ..rapport_referrals::TrustSettings::default()
    }
}

pub async fn start(database: TestDatabase) -> Referrals {
    start_with_trust(database, exact_trust()).await
}

pub async fn start_with_trust(
    database: TestDatabase,
    trust: rapport_referrals::TrustSettings,
) -> Referrals {
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
                trust: trust.clone(),
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

    /// Runs the trust batch now, as the worker would, on the service's database.
    pub async fn recompute_trust(&self) -> rapport_referrals::trust::Run {
        let storage = Storage::open(&self.database.settings).unwrap();
        let run = rapport_referrals::trust::recompute(
            &storage,
            self.clock.now(),
            &rapport_referrals::Rules::default(),
            2,
        )
        .await
        .unwrap();
        storage.close().await;
        run
    }

    /// GetTrust twice: computed online (nothing stored), then served from a batch run right
    /// after; the two must agree to the bit on score, paths, signals and reasons (issue 23:
    /// "same scores and reasons as the batch computation"). Returns the online answer.
    pub async fn trust_online_and_stored(
        &self,
        request: rapport_proto::referrals::v1::GetTrustRequest,
    ) -> rapport_proto::referrals::v1::GetTrustResponse {
        self.execute("DELETE FROM trust_results").await;
        let mut client = self.referrals.clone();
        let online = client
            .get_trust(request.clone())
            .await
            .unwrap()
            .into_inner();
        let run = self.recompute_trust().await;
        let stored = client.get_trust(request).await.unwrap().into_inner();
        assert_eq!(
            stored.as_of.as_ref().map(|t| t.seconds),
            Some(run.as_of.as_second()),
            "served from the batch"
        );
        assert_eq!(stored.score.to_bits(), online.score.to_bits());
        assert_eq!(trust_substance(&stored), trust_substance(&online));
        online
    }

    /// Runs one statement on the service's database (a test's surgery).
    pub async fn execute(&self, sql: &'static str) {
        let storage = Storage::open(&self.database.settings).unwrap();
        let mut tx = storage.begin_write().await.unwrap();
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        storage.close().await;
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

    /// [`Referrals::count`] for a statement built at run time (from ids the test made).
    pub async fn count_of(&self, sql: String) -> i64 {
        let storage = Storage::open(&self.database.settings).unwrap();
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
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

/// A trust answer without what says how it was served (online, stale) and when: what a batch
/// and an online computation of the same graph must agree on exactly.
pub fn trust_substance(
    t: &rapport_proto::referrals::v1::GetTrustResponse,
) -> rapport_proto::referrals::v1::GetTrustResponse {
    let mut t = t.clone();
    t.reasons
        .retain(|r| r.code != "TRUST_COMPUTED_ONLINE" && r.code != "TRUST_GRAPH_CHANGED_SINCE");
    t.computed_at = None;
    t.as_of = None;
    t
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
