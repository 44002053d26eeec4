//! The plans service on a free port with a fresh database and a clock the test moves.

#![allow(dead_code)]

use std::sync::Arc;

use rapport_clock::{ManualClock, SharedClock, Timestamp};
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::plans::v1::reporting_service_client::ReportingServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::testing::TestServer;
use rapport_server::{ServerSettings, ServiceUnit};
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, StorageSettings, sqlx};
use tonic::transport::Channel;

pub struct Plans {
    pub accounts: AccountServiceClient<Channel>,
    pub hardship: HardshipServiceClient<Channel>,
    pub plans: PlanServiceClient<Channel>,
    pub reporting: ReportingServiceClient<Channel>,
    pub profiles: ProfileServiceClient<Channel>,
    /// The customer, known to profiles, that owns the harness's accounts.
    pub customer_id: String,
    pub channel: Channel,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
    _profiles_database: TestDatabase,
    _server: TestServer,
}

/// Monday 2 March 2026, 09:00 UTC.
pub fn start_instant() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

/// Plans, with profiles beside it on the same address (plans reads customers from it).
pub async fn start(database: TestDatabase) -> Plans {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let settings = ServerSettings::default();
    let profiles_database = TestDatabase::sqlite();
    let server = TestServer::start_with(settings.clone(), |address| {
        let profiles = rapport_profiles::unit_with_clock(
            &settings,
            &profiles_database.settings,
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let plans = assembled(
            &settings,
            &database.settings,
            clock.clone(),
            &format!("http://{address}"),
        )?;
        Ok::<_, String>(vec![profiles, plans])
    })
    .await;
    let channel = server.channel.clone();
    let mut profiles = ProfileServiceClient::new(channel.clone());
    // Plans refuses an account for a customer profiles does not know.
    let customer_id = create_customer(&mut profiles, "Ana Ionescu").await;
    Plans {
        customer_id,
        accounts: AccountServiceClient::new(channel.clone()),
        hardship: HardshipServiceClient::new(channel.clone()),
        plans: PlanServiceClient::new(channel.clone()),
        reporting: ReportingServiceClient::new(channel.clone()),
        profiles,
        channel,
        clock,
        database,
        _profiles_database: profiles_database,
        _server: server,
    }
}

/// Plans as `rapport serve plans` builds it (`rapport_plans::assemble`): the default rules,
/// customers read from profiles at `profiles_url`, and no outbox delivery (loyalty and referrals
/// unset).
pub fn assembled(
    server: &ServerSettings,
    storage: &StorageSettings,
    clock: SharedClock,
    profiles_url: &str,
) -> Result<ServiceUnit, String> {
    let settings = rapport_plans::Settings {
        server: server.clone(),
        storage: storage.clone(),
        rules: rapport_plans::Rules::default(),
        profiles_url: profiles_url.to_owned(),
        loyalty_url: String::new(),
        referrals_url: String::new(),
        ..rapport_plans::Settings::default()
    };
    rapport_plans::assemble(&settings, clock).map_err(|e| e.to_string())
}

/// Plans alone on `storage`, its profiles a port nobody listens on: every question to profiles
/// fails as an unreachable service does.
pub async fn with_profiles_unreachable(
    storage: &StorageSettings,
    clock: SharedClock,
) -> TestServer {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let settings = ServerSettings::default();
    TestServer::start_with(settings.clone(), |_| {
        Ok::<_, String>(vec![assembled(
            &settings,
            storage,
            clock,
            &format!("http://{closed}"),
        )?])
    })
    .await
}

impl Plans {
    pub fn plans_outreach(&self) -> OutreachServiceClient<Channel> {
        OutreachServiceClient::new(self.channel.clone())
    }

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

    /// An account in `currency` with this balance and monthly payment at 12.99 %, 24 months left.
    pub async fn account(&mut self, currency: &str, balance: i64, contractual: i64) -> pb::Account {
        let request = self.upsert(
            currency,
            balance,
            contractual,
            &rapport_ids::Id::new().to_string(),
        );
        self.accounts
            .upsert_account(request)
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    pub async fn get_account(&mut self, account_id: &str) -> pb::Account {
        self.accounts
            .get_account(pb::GetAccountRequest {
                account_id: account_id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    pub async fn arrears(
        &mut self,
        account_id: &str,
        days: i32,
        amount: common::Money,
    ) -> pb::Account {
        self.accounts
            .report_arrears(pb::ReportArrearsRequest {
                account_id: account_id.into(),
                days_past_due: days,
                arrears_amount: Some(amount),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }
}

/// A customer in profiles; its id.
pub async fn create_customer(profiles: &mut ProfileServiceClient<Channel>, name: &str) -> String {
    profiles
        .create_customer(rapport_proto::profiles::v1::CreateCustomerRequest {
            customer: Some(rapport_proto::profiles::v1::Customer {
                legal_name: name.into(),
                locale: "ro-RO".into(),
                time_zone: "Europe/Bucharest".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("the customer is created")
        .into_inner()
        .customer
        .expect("a customer")
        .customer_id
}

impl Plans {
    /// An upsert of the harness customer's account with this balance and monthly payment at
    /// 12.99 %, 24 months left.
    pub fn upsert(
        &self,
        currency: &str,
        balance: i64,
        contractual: i64,
        external_id: &str,
    ) -> pb::UpsertAccountRequest {
        upsert_for(
            &self.customer_id,
            currency,
            balance,
            contractual,
            external_id,
        )
    }
}

pub fn upsert_for(
    customer_id: &str,
    currency: &str,
    balance: i64,
    contractual: i64,
    external_id: &str,
) -> pb::UpsertAccountRequest {
    pb::UpsertAccountRequest {
        source_system: "cards".into(),
        external_account_id: external_id.into(),
        customer_id: customer_id.into(),
        kind: pb::AccountKind::PersonalLoan as i32,
        currency_code: currency.into(),
        balance: Some(money(currency, balance)),
        contractual_payment: Some(money(currency, contractual)),
        annual_rate: "0.1299".into(),
        due_day: 15,
        remaining_term_months: 24,
        jurisdiction: "GB".into(),
        as_of: None,
    }
}

pub fn money(currency: &str, minor_units: i64) -> common::Money {
    common::Money {
        currency_code: currency.into(),
        minor_units,
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

pub fn date(year: i32, month: i32, day: i32) -> common::Date {
    common::Date { year, month, day }
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
