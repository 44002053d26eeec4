//! ReportPayment with distinct idempotency keys, spread over many accounts, on `rapport serve
//! plans` (and profiles, which plans asks about customers) on PostgreSQL; against pgbench's
//! tpcb-like transaction on the same server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rapport_proto::plans::v1::ReportPaymentRequest;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use tonic::transport::Channel;

use super::{first, measure, verify};
use crate::load::{self, Worker};
use crate::pgbench::{self, Database};
use crate::process::{self, Server};
use crate::report::{self, Row, mib, millis, ratio};
use crate::{Options, metrics, seed};

const CUSTOMERS: usize = 100;
const ACCOUNTS_PER_CUSTOMER: usize = 10;
/// pgbench's scale: 16 branches, 1.6 M accounts.
const PGBENCH_SCALE: u32 = 16;

struct Payer {
    client: AccountServiceClient<Channel>,
    accounts: Arc<Vec<String>>,
    worker: usize,
    workers: usize,
    seq: usize,
}

impl Worker for Payer {
    async fn call(&mut self) -> (&'static str, Result<(), tonic::Status>) {
        // Consecutive calls of all workers land on different accounts.
        let n = self.seq * self.workers + self.worker;
        self.seq += 1;
        let outcome = self
            .client
            .report_payment(ReportPaymentRequest {
                account_id: self.accounts[n % self.accounts.len()].clone(),
                idempotency_key: format!("bench-{}-{}", self.worker, self.seq),
                amount: seed::money(100),
                received_at: None,
                source_reference: String::new(),
            })
            .await;
        ("ReportPayment", outcome.map(drop))
    }
}

/// One service by `rapport serve`, plaintext and unauthenticated (`server.insecure`), on `database`.
fn serve(
    options: &Options,
    service: &str,
    database: &Database,
    extra: &[(&str, String)],
    log_dir: &std::path::Path,
) -> anyhow::Result<(Server, SocketAddr, SocketAddr)> {
    let address = process::free_address()?;
    let admin = process::free_address()?;
    let mut env = vec![
        ("RAPPORT_SERVER__INSECURE", "true".to_owned()),
        ("RAPPORT_SERVER__LISTEN", address.to_string()),
        ("RAPPORT_SERVER__ADMIN_LISTEN", admin.to_string()),
        ("RAPPORT_STORAGE__URL", database.url()),
    ];
    env.extend(extra.iter().cloned());
    let server = Server::start(
        service,
        &options.server_core,
        &options.rapport,
        &["serve", service],
        &env,
        log_dir.join(format!("{service}.log")),
    )?;
    Ok((server, address, admin))
}

pub(super) async fn run(options: &Options) -> anyhow::Result<Vec<Row>> {
    let work = tempfile::Builder::new()
        .prefix("rapport-bench-")
        .tempdir()?;
    let stamp = jiff::Timestamp::now().as_second();
    let profiles_db = Database::create(
        &options.postgres,
        &format!("rapport_bench_{stamp}_profiles"),
    )?;
    let plans_db = Database::create(&options.postgres, &format!("rapport_bench_{stamp}_plans"))?;

    let (mut profiles, profiles_address, profiles_admin) =
        serve(options, "profiles", &profiles_db, &[], work.path())?;
    profiles
        .wait_until(Duration::from_secs(60), || metrics::ready(profiles_admin))
        .await?;
    let (mut plans, plans_address, plans_admin) = serve(
        options,
        "plans",
        &plans_db,
        &[("RAPPORT_PROFILES_URL", format!("http://{profiles_address}"))],
        work.path(),
    )?;
    plans
        .wait_until(Duration::from_secs(60), || metrics::ready(plans_admin))
        .await?;

    let profiles_channels = load::connect(profiles_address, 1).await?;
    let channels = load::connect(plans_address, options.connections).await?;
    let mut accounts = Vec::new();
    for c in 0..CUSTOMERS {
        let customer = seed::customer(first(&profiles_channels)?, c).await?;
        for a in 0..ACCOUNTS_PER_CUSTOMER {
            let n = c * ACCOUNTS_PER_CUSTOMER + a;
            accounts.push(seed::account(first(&channels)?, &customer, n).await?);
        }
    }
    let accounts = Arc::new(accounts);
    report::progress(&format!(
        "  suite: ReportPayment on PostgreSQL, {} accounts, distinct keys",
        accounts.len()
    ));
    let payers = (0..options.clients)
        .map(|worker| Payer {
            client: AccountServiceClient::new(channels[worker % channels.len()].clone()),
            accounts: accounts.clone(),
            worker,
            workers: options.clients,
            seq: 0,
        })
        .collect();
    let (_, suite) = measure(payers, options, &plans, Some(plans_admin)).await?;
    let counted = verify(
        "ReportPayment",
        &suite,
        &[("rapport.plans.v1.AccountService", "ReportPayment", false)],
    );
    let (plans_rss, profiles_rss) = (plans.rss()?, profiles.rss()?);
    plans.check_alive()?;
    drop((channels, profiles_channels, plans, profiles));
    drop((plans_db, profiles_db));

    report::progress(&format!(
        "  baseline: pgbench -i -s {PGBENCH_SCALE}, then -M prepared -c {} -j 2 -T {} (tpcb-like)",
        options.clients, options.duration
    ));
    let pgbench_db =
        Database::create(&options.postgres, &format!("rapport_bench_{stamp}_pgbench"))?;
    let baseline = pgbench::tpcb(
        &pgbench_db,
        PGBENCH_SCALE,
        options.clients,
        options.duration,
        options.client_core,
        work.path(),
    )?;
    report::progress(&format!(
        "  pgbench: {:.0} tps, {} transactions",
        baseline.tps, baseline.transactions
    ));

    let payments = suite
        .tally
        .methods
        .get("ReportPayment")
        .cloned()
        .unwrap_or_default();
    let rate = suite.tally.per_second(payments.ok);
    Ok(vec![
        Row {
            path: "ReportPayment (rapport serve plans, PostgreSQL)".into(),
            value: format!("{rate:.0} posts/s"),
            baseline: format!("{:.0} tps", baseline.tps),
            ratio: ratio(rate, baseline.tps),
            p50: payments.quantile(0.5).map(millis).unwrap_or_default(),
            p99: payments.quantile(0.99).map(millis).unwrap_or_default(),
            rss: format!("{} (+profiles {})", mib(plans_rss), mib(profiles_rss)),
            counted,
        },
        Row {
            path: format!("  baseline: pgbench tpcb-like, -s {PGBENCH_SCALE}"),
            value: format!("{:.0} tps", baseline.tps),
            p50: millis(baseline.p50),
            p99: millis(baseline.p99),
            rss: "-".into(),
            counted: true,
            ..Row::default()
        },
    ])
}
