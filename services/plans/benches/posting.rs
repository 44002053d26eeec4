//! Posting on PostgreSQL (issue 23): how many ReportPayment calls plans posts a second with 16
//! clients at once, and how many SQL statements each costs, beside pgbench's TPC-B-like rate on
//! the same server in the same run.
//!
//! `cargo bench -p rapport-plans --bench posting`. The server is `RAPPORT_BENCH_DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`); the bench creates a fresh database
//! for plans and one for pgbench there and drops them after. `POSTING_SECONDS` (default 10),
//! `POSTING_CLIENTS` (16), `POSTING_POOL` (plans' connections, 16); `POSTING_SKIP_PGBENCH=1`
//! leaves pgbench out.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_server::{Application, ServerSettings};
use rapport_storage::StorageSettings;
use rapport_storage::sqlx::{self, AssertSqlSafe};
use rapport_storage::testing::TestDatabase;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Statements run inside ReportPayment calls (handler and audit append).
static POSTING_STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Marks a `grpc.server` span of ReportPayment.
struct Posting;

struct MethodIs(bool);

impl Visit for MethodIs {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "rpc.method" && format!("{value:?}") == "ReportPayment" {
            self.0 = true;
        }
    }
}

struct StatementCounter;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatementCounter {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "grpc.server" {
            return;
        }
        let mut method = MethodIs(false);
        attrs.record(&mut method);
        if method.0
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(Posting);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        if let Some(scope) = ctx.event_scope(event)
            && scope
                .from_root()
                .any(|span| span.extensions().get::<Posting>().is_some())
        {
            POSTING_STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn money(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "GBP".into(),
        minor_units,
    })
}

/// `base` with its database replaced by `database`.
fn with_database(base: &str, database: &str) -> String {
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{database}")
}

async fn admin_run(base: &str, sql: String) {
    sqlx::any::install_default_drivers();
    let admin = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(base)
        .await
        .unwrap();
    sqlx::query(AssertSqlSafe(sql))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}

/// pgbench's TPC-B-like rate with `clients` clients on a fresh database on the same server.
fn pgbench(base: &str, name: &str, clients: u64, seconds: u64) -> Option<f64> {
    let url = with_database(base, name);
    let init = std::process::Command::new("pgbench")
        .args(["-i", "-q", "-s", "16", &url])
        .output()
        .ok()?;
    if !init.status.success() {
        println!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        return None;
    }
    let run = std::process::Command::new("pgbench")
        .args([
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            &url,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
}

#[tokio::main]
async fn main() {
    let filter = Targets::new()
        .with_target("sqlx::query", Level::DEBUG)
        .with_default(Level::INFO);
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(StatementCounter.with_filter(filter)),
    )
    .unwrap();
    let seconds = env_number("POSTING_SECONDS", 10);
    let clients = env_number("POSTING_CLIENTS", 16);
    let pool = env_number("POSTING_POOL", 16);
    let base = std::env::var("RAPPORT_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let suffix = rapport_ids::Id::new().as_uuid().simple().to_string();
    let plans_db = format!("posting_{suffix}");
    let pgbench_db = format!("pgbench_{suffix}");
    admin_run(&base, format!("CREATE DATABASE {plans_db}")).await;

    let settings = ServerSettings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..ServerSettings::default()
    };
    let storage = StorageSettings {
        url: with_database(&base, &plans_db),
        max_connections: u32::try_from(pool).unwrap(),
        ..StorageSettings::default()
    };
    // Profiles beside plans (an account must name a customer profiles knows).
    let profiles_database = TestDatabase::sqlite();
    let application = Application::build_with(settings.clone(), |address| {
        let profiles = rapport_profiles::unit_with_clock(
            &settings,
            &profiles_database.settings,
            Arc::new(rapport_clock::SystemClock),
        )?;
        let plans = rapport_plans::assemble(
            &rapport_plans::Settings {
                server: settings.clone(),
                storage: storage.clone(),
                rules: rapport_plans::Rules::default(),
                profiles_url: format!("http://{address}"),
                loyalty_url: String::new(),
                referrals_url: String::new(),
                ..rapport_plans::Settings::default()
            },
            Arc::new(rapport_clock::SystemClock),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, Box<dyn std::error::Error>>(vec![profiles, plans])
    })
    .await
    .unwrap()
    .unwrap();
    let address = application.local_addr();
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap();

    // Accounts of distinct customers, four per client, each well in credit for the run.
    let channel = endpoint.connect().await.unwrap();
    let mut profiles = ProfileServiceClient::new(channel.clone());
    let mut accounts = AccountServiceClient::new(channel);
    let mut account_ids = Vec::new();
    for n in 0..clients * 4 {
        let customer_id = loop {
            let request = rapport_proto::profiles::v1::CreateCustomerRequest {
                customer: Some(rapport_proto::profiles::v1::Customer {
                    legal_name: format!("Posting Customer {n}"),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            };
            match profiles.create_customer(request).await {
                Ok(answer) => break answer.into_inner().customer.unwrap().customer_id,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let account = loop {
            let request = pb::UpsertAccountRequest {
                source_system: "bench".into(),
                external_account_id: format!("P-{n}"),
                customer_id: customer_id.clone(),
                kind: pb::AccountKind::PersonalLoan as i32,
                currency_code: "GBP".into(),
                balance: money(1_000_000_000),
                contractual_payment: money(32_000),
                annual_rate: "0.1499".into(),
                due_day: 28,
                remaining_term_months: 48,
                jurisdiction: "GB".into(),
                as_of: None,
            };
            match accounts.upsert_account(request).await {
                Ok(answer) => break answer.into_inner().account.unwrap(),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        // One payment each first: zones asked, statements prepared.
        accounts
            .report_payment(pb::ReportPaymentRequest {
                account_id: account.account_id.clone(),
                idempotency_key: format!("warm-{n}"),
                amount: money(100),
                received_at: None,
                source_reference: String::new(),
            })
            .await
            .unwrap();
        account_ids.push(account.account_id);
    }

    let statements_before = POSTING_STATEMENTS.load(Ordering::Relaxed);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for client in 0..clients {
        let mine: Vec<String> = account_ids
            .iter()
            .skip(usize::try_from(client).unwrap())
            .step_by(usize::try_from(clients).unwrap())
            .cloned()
            .collect();
        let endpoint = endpoint.clone();
        workers.push(tokio::spawn(async move {
            // A connection per client, as 16 billing workers would have.
            let mut accounts = AccountServiceClient::new(endpoint.connect().await.unwrap());
            let mut posted = 0_u64;
            let mut failed = 0_u64;
            while Instant::now() < until {
                let account_id = &mine[usize::try_from(posted + failed).unwrap() % mine.len()];
                let answer = accounts
                    .report_payment(pb::ReportPaymentRequest {
                        account_id: account_id.clone(),
                        idempotency_key: format!("c{client}-{}", posted + failed),
                        amount: money(100),
                        received_at: None,
                        source_reference: String::new(),
                    })
                    .await;
                match answer {
                    Ok(_) => posted += 1,
                    Err(_) => failed += 1,
                }
            }
            (posted, failed)
        }));
    }
    let (mut posted, mut failed) = (0, 0);
    for worker in workers {
        let (p, f) = worker.await.unwrap();
        posted += p;
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let statements = POSTING_STATEMENTS.load(Ordering::Relaxed) - statements_before;
    let rate = posted as f64 / elapsed;
    println!(
        "ReportPayment on PostgreSQL, {clients} clients, {pool} connections, {elapsed:.1} s: \
         {posted} posted ({failed} failed), {rate:.0} posts/s, {:.1} statements/posting",
        statements as f64 / posted.max(1) as f64
    );

    if std::env::var_os("POSTING_SKIP_PGBENCH").is_none() {
        admin_run(&base, format!("CREATE DATABASE {pgbench_db}")).await;
        match pgbench(&base, &pgbench_db, clients, seconds) {
            Some(tps) => println!(
                "pgbench -M prepared -c {clients} -j 2 -T {seconds} (scale 16): {tps:.0} tps; \
                 plans posts at {:.2} of it",
                rate / tps
            ),
            None => println!("pgbench did not run"),
        }
        admin_run(&base, format!("DROP DATABASE {pgbench_db}")).await;
    }
    // The service still holds connections to it.
    admin_run(&base, format!("DROP DATABASE {plans_db} WITH (FORCE)")).await;
}
