//! The scenarios, and what they share: starting `rapport dev`, a warm-up then a measured run
//! between two scrapes of `/metrics`, and the check that decides whether a run counts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tonic::transport::Channel;

use crate::load::{self, Tally, Worker};
use crate::metrics::{self, Check, Scrape};
use crate::process::{self, Server};
use crate::report::{self, Row};
use crate::{Options, Scenario};

mod get_customer;
mod mixed;
mod overview;
mod report_payment;
mod scale;

pub(crate) async fn run(scenario: Scenario, options: &Options) -> anyhow::Result<Vec<Row>> {
    match scenario {
        Scenario::GetCustomer => get_customer::run(options).await,
        Scenario::ReportPayment => report_payment::run(options).await,
        Scenario::PlanOptionsMixed => mixed::plan_options(options).await,
        Scenario::Rss => mixed::rss(options).await,
        Scenario::Overview => overview::overview(options).await,
        Scenario::OverviewSlowed => overview::slowed(options).await,
        Scenario::Rescore => scale::rescore(options),
        Scenario::Trust => scale::trust(options),
        Scenario::Search => scale::search(options),
    }
}

/// `rapport dev` on free ports in a fresh data directory, pinned to the server core.
#[derive(Debug)]
pub(crate) struct Dev {
    pub server: Server,
    pub address: SocketAddr,
    pub admin: SocketAddr,
    // Dropped after the server (fields drop in order), so the files go once it is dead.
    data: tempfile::TempDir,
}

impl Dev {
    pub(crate) async fn start(options: &Options, demo: bool) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("rapport-bench-")
            .tempdir()
            .context("making the data directory")?;
        let address = process::free_address()?;
        let admin = process::free_address()?;
        let (listen, admin_listen) = (address.to_string(), admin.to_string());
        let data_dir = data.path().join("data");
        let data_arg = data_dir.display().to_string();
        let mut args = vec![
            "dev",
            "--listen",
            &listen,
            "--admin-listen",
            &admin_listen,
            "--console-listen",
            "127.0.0.1:0",
            "--data-dir",
            &data_arg,
        ];
        if demo {
            args.push("--demo");
        }
        let mut server = Server::start(
            "rapport dev",
            &options.server_core,
            &options.rapport,
            &args,
            &[],
            data.path().join("dev.log"),
        )?;
        server
            .wait_until(Duration::from_secs(60), || metrics::ready(admin))
            .await?;
        if demo {
            // `--demo` seeds through the API after the suite is up and marks the directory when done.
            let marker = data_dir.join("demo-seeded");
            server
                .wait_until(Duration::from_secs(60), || {
                    let done = marker.exists();
                    async move { done }
                })
                .await
                .context("waiting for the demo data")?;
        }
        Ok(Self {
            server,
            address,
            admin,
            data,
        })
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.data.path().join(name)
    }
}

/// Waits until every outbox is empty, so events of the seeding (delivered between services,
/// which call each other's RPCs) do not land in the measured window.
pub(crate) async fn settle(server: &mut Server, admin: SocketAddr) -> anyhow::Result<()> {
    server
        .wait_until(Duration::from_secs(60), || async move {
            matches!(Scrape::take(admin).await, Ok(s) if s.total("rapport_outbox_backlog_events") == 0.0)
        })
        .await
        .context("waiting for the outboxes to empty")
}

/// A measured run: the generator's tally and the server's scrapes around it.
#[derive(Debug)]
pub(crate) struct Measured {
    pub tally: Tally,
    pub before: Option<Scrape>,
    pub after: Option<Scrape>,
}

/// Warm-up, then (with nothing in flight) a scrape, the measured run, and another scrape.
pub(crate) async fn measure<W: Worker>(
    workers: Vec<W>,
    options: &Options,
    server: &Server,
    admin: Option<SocketAddr>,
) -> anyhow::Result<(Vec<W>, Measured)> {
    measure_paced(workers, options, server, admin, None).await
}

/// [`measure`], each worker calling once every `pace` when given (see [`load::run`]).
pub(crate) async fn measure_paced<W: Worker>(
    workers: Vec<W>,
    options: &Options,
    server: &Server,
    admin: Option<SocketAddr>,
    pace: Option<Duration>,
) -> anyhow::Result<(Vec<W>, Measured)> {
    let (workers, warm) = load::run(workers, options.warm_up(), pace).await?;
    if warm.total_errors() > 0 {
        report::progress(&format!("  warm-up errors: {}", warm.describe_errors()));
    }
    let before = match admin {
        Some(admin) => Some(Scrape::take(admin).await?),
        None => None,
    };
    let cpu_before = server.cpu()?;
    let (workers, tally) = load::run(workers, options.measure(), pace).await?;
    let server_cpu = server.cpu()?.saturating_sub(cpu_before);
    let after = match admin {
        Some(admin) => Some(Scrape::take(admin).await?),
        None => None,
    };
    report::progress(&format!(
        "  {} OK, {} errors in {:.1} s; CPU: server {:.0} %, generator {:.0} % of a core",
        tally.total_ok(),
        tally.total_errors(),
        tally.elapsed.as_secs_f64(),
        100.0 * server_cpu.as_secs_f64() / tally.elapsed.as_secs_f64(),
        100.0 * tally.generator_cpu.as_secs_f64() / tally.elapsed.as_secs_f64(),
    ));
    Ok((
        workers,
        Measured {
            tally,
            before,
            after,
        },
    ))
}

/// Whether a run counts: the server's OK count of every measured method matches the generator's,
/// some calls succeeded and none failed. Says why not, loudly.
pub(crate) fn verify(
    what: &str,
    measured: &Measured,
    methods: &[(&'static str, &'static str, bool)],
) -> bool {
    let tally = &measured.tally;
    let mut counted = true;
    if let (Some(before), Some(after)) = (&measured.before, &measured.after) {
        let checks: Vec<Check> = metrics::compare(before, after, methods, |m| tally.ok(m));
        for check in &checks {
            report::progress(&format!("  /metrics check: {}", check.describe()));
            if !check.passed() {
                report::not_counted(what, &check.describe());
                counted = false;
            }
        }
    }
    if tally.total_ok() == 0 {
        report::not_counted(what, "no call succeeded");
        counted = false;
    }
    if tally.total_errors() > 0 {
        report::not_counted(what, &format!("errors: {}", tally.describe_errors()));
        counted = false;
    }
    counted
}

/// The channel a seeding step uses.
pub(crate) fn first(channels: &[Channel]) -> anyhow::Result<&Channel> {
    channels.first().context("no connection")
}
