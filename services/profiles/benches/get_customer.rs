//! `GetCustomer` (FULL view) throughput: the read an agent's screen makes most (issue 23).
//! Profiles as `rapport serve profiles` builds it (`assemble`), on a temporary SQLite file, on a
//! free port; 1,000 customers with emails, phones, an address and contact preferences; 16
//! concurrent clients over 4 channels call `GetCustomer` FULL on random customers for 5 s.
//! Prints calls/s and the p50/p99 latency.
//!
//! `cargo bench -p rapport-profiles --bench get_customer`; `GET_CUSTOMER_SECONDS`,
//! `GET_CUSTOMER_CLIENTS` and `GET_CUSTOMER_CHANNELS` change the run.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use tonic::transport::{Channel, Endpoint};

const CUSTOMERS: usize = 1_000;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn customer(n: usize) -> pb::Customer {
    pb::Customer {
        legal_name: format!("Bench Customer {n}"),
        locale: "ro-RO".into(),
        time_zone: "Europe/Bucharest".into(),
        customer_since: Some(common::Date {
            year: 2015,
            month: 6,
            day: 1,
        }),
        emails: vec![
            pb::EmailAddress {
                address: format!("customer{n}@example.com"),
                verified: true,
                primary: true,
            },
            pb::EmailAddress {
                address: format!("c{n}@work.example.org"),
                verified: false,
                primary: false,
            },
        ],
        phones: vec![pb::PhoneNumber {
            e164: format!("+4072{:07}", n),
            verified: true,
            primary: true,
        }],
        addresses: vec![pb::Address {
            address: Some(common::PostalAddress {
                lines: vec![format!("Strada Exemplului {n}, bloc A")],
                locality: "Cluj-Napoca".into(),
                region: "Cluj".into(),
                postal_code: "400001".into(),
                country_code: "RO".into(),
            }),
            verified: true,
            primary: true,
        }],
        ..Default::default()
    }
}

fn preferences() -> pb::ContactPreferences {
    pb::ContactPreferences {
        preferred_channels: vec![common::Channel::Email as i32, common::Channel::Sms as i32],
        quiet_hours: vec![pb::QuietHours {
            start: Some(common::TimeOfDay {
                hours: 21,
                minutes: 0,
            }),
            end: Some(common::TimeOfDay {
                hours: 8,
                minutes: 0,
            }),
            days: Vec::new(),
        }],
        do_not_contact_channels: vec![common::Channel::Letter as i32],
        do_not_contact: false,
        updated_at: None,
    }
}

/// Creates the customers (8 at a time) and sets their preferences; their ids.
async fn seed(channel: &Channel) -> Vec<String> {
    let mut ids = Vec::with_capacity(CUSTOMERS);
    for batch in (0..CUSTOMERS).collect::<Vec<_>>().chunks(8) {
        let calls = batch.iter().map(|&n| {
            let mut client = ProfileServiceClient::new(channel.clone());
            async move {
                let created = client
                    .create_customer(pb::CreateCustomerRequest {
                        customer: Some(customer(n)),
                        request_id: String::new(),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .customer
                    .unwrap();
                client
                    .set_contact_preferences(pb::SetContactPreferencesRequest {
                        customer_id: created.customer_id.clone(),
                        preferences: Some(preferences()),
                    })
                    .await
                    .unwrap();
                created.customer_id
            }
        });
        ids.extend(futures_util::future::join_all(calls).await);
    }
    ids
}

/// xorshift64: which customer each call asks for, the same on every run.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    let seconds = setting("GET_CUSTOMER_SECONDS", 5);
    let clients = setting("GET_CUSTOMER_CLIENTS", 16) as usize;
    let channels = setting("GET_CUSTOMER_CHANNELS", 4).max(1) as usize;

    let database = TestDatabase::sqlite();
    let mut server_settings = ServerSettings::default();
    // A benchmark is one caller far above a person's rate.
    server_settings.rate_limit.enabled = false;
    let settings = rapport_profiles::Settings {
        server: server_settings.clone(),
        storage: rapport_storage::StorageSettings {
            max_connections: setting("GET_CUSTOMER_READERS", 8) as u32,
            ..database.settings.clone()
        },
        ..rapport_profiles::Settings::default()
    };
    let unit = rapport_profiles::assemble(&settings, Arc::new(rapport_clock::SystemClock)).unwrap();
    let server = TestServer::start(server_settings, vec![unit]).await;

    let seeding = Instant::now();
    let ids = Arc::new(seed(&server.channel).await);
    println!(
        "seeded {} customers in {:.1?}; {}",
        ids.len(),
        seeding.elapsed(),
        memory()
    );

    let mut pool = Vec::with_capacity(channels);
    for _ in 0..channels {
        pool.push(
            Endpoint::from_shared(format!("http://{}", server.address))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
    }
    // Warm-up: connections, statement caches, the OS page cache.
    for id in ids.iter().take(200) {
        get(&mut ProfileServiceClient::new(pool[0].clone()), id).await;
    }

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let mut client = ProfileServiceClient::new(pool[worker % channels].clone());
            let ids = Arc::clone(&ids);
            tokio::spawn(async move {
                let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (worker as u64 + 1);
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let id = &ids[(next(&mut state) % ids.len() as u64) as usize];
                    let call = Instant::now();
                    get(&mut client, id).await;
                    latencies.push(call.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    println!(
        "GetCustomer FULL: {} calls in {elapsed:.2?} by {clients} clients over {channels} channels: \
         {:.0} calls/s, p50 {:?}, p99 {:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    println!("process memory: {}", memory());
    server.stop().await.unwrap();
}

/// The process's resident set now and at its peak (Linux), clients included.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .map_or("?", |line| line[name.len()..].trim())
            .to_owned()
    };
    format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
}

async fn get(client: &mut ProfileServiceClient<Channel>, id: &str) {
    let customer = client
        .get_customer(pb::GetCustomerRequest {
            customer_id: id.to_owned(),
            view: pb::CustomerView::Full as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(customer.emails.len(), 2);
}
