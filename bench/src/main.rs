//! `rapport-bench`: one command that reproduces the suite's performance figures (issue 23, item
//! 8). It starts the suite itself, pinned to one core, drives it from another with tonic clients,
//! runs the baselines (a bare tonic server answering the same message, pgbench) in the same run,
//! and counts a measurement only when the server's own OK count (`/metrics`) matches the
//! generator's.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

mod echo;
mod load;
mod metrics;
mod pgbench;
mod process;
mod report;
mod scenarios;
mod seed;

#[derive(Debug, Parser)]
#[command(
    name = "rapport-bench",
    about = "Load the suite and its baselines; print ratios, p50/p99 and RSS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    options: Options,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every scenario (less those named by --skip).
    All,
    /// Profiles GetCustomer (FULL view) against a bare tonic server answering the same message.
    GetCustomer,
    /// Plans ReportPayment on PostgreSQL, distinct idempotency keys, against pgbench (tpcb-like).
    ReportPayment,
    /// A call-center mix on `rapport dev --demo`; GetPlanOptions latency and overall calls/s.
    PlanOptionsMixed,
    /// The server's RSS under steady mixed load.
    Rss,
    /// desk's GetCustomerOverview on `rapport dev --demo`, all four services answering.
    Overview,
    /// The same from `rapport serve desk` with loyalty silent: answers within the budget.
    OverviewSlowed,
    /// Batch rescoring of `--scale` customers on SQLite (loyalty's own bench, by cargo).
    Rescore,
    /// The trust batch, its online update and GetTrust at `--scale` customers / 5× links
    /// (referrals' own bench, by cargo).
    Trust,
    /// SearchCustomers by name at `--scale` customers (profiles' own bench, by cargo).
    Search,
    /// The baseline: a bare tonic server answering GetCustomer with a fixed, pre-encoded answer.
    EchoServer {
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// The encoded GetCustomerResponse to answer with.
        #[arg(long)]
        response: PathBuf,
    },
}

/// The scenarios `all` runs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    GetCustomer,
    ReportPayment,
    PlanOptionsMixed,
    Rss,
    Overview,
    OverviewSlowed,
    Rescore,
    Trust,
    Search,
}

impl Scenario {
    const ALL: [Self; 9] = [
        Self::GetCustomer,
        Self::ReportPayment,
        Self::PlanOptionsMixed,
        Self::Rss,
        Self::Overview,
        Self::OverviewSlowed,
        Self::Rescore,
        Self::Trust,
        Self::Search,
    ];

    /// Whether the scenario runs a service's own bench by cargo rather than `--rapport`.
    fn at_scale(self) -> bool {
        matches!(self, Self::Rescore | Self::Trust | Self::Search)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Options {
    /// The suite's binary (build it with `cargo build --release -p rapport`).
    #[arg(long, global = true, default_value = "target/release/rapport")]
    pub rapport: PathBuf,
    /// Seconds of measured load per run.
    #[arg(long, global = true, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of load before measuring (connections, caches, the JIT-free but cold database).
    #[arg(long, global = true, default_value_t = 2)]
    pub warmup: u64,
    /// Concurrent clients (get-customer, report-payment).
    #[arg(long, global = true, default_value_t = 16)]
    pub clients: usize,
    /// Concurrent clients of the mixed scenarios (plan-options-mixed, rss) and of the overviews.
    #[arg(long, global = true, default_value_t = 8)]
    pub mixed_clients: usize,
    /// Calls per second of the whole mix in plan-options-mixed's paced run: the load issue 23
    /// states its GetPlanOptions goal at (about 280 calls/s of 8 agents). Its closed-loop run,
    /// as fast as the server answers, is reported beside it.
    #[arg(long, global = true, default_value_t = 280)]
    pub mix_rate: u32,
    /// HTTP/2 connections the clients share.
    #[arg(long, global = true, default_value_t = 4)]
    pub connections: usize,
    /// Seconds of load in the rss scenario.
    #[arg(long, global = true, default_value_t = 300)]
    pub rss_duration: u64,
    /// Scenarios `all` leaves out (repeatable).
    #[arg(long, global = true, value_enum)]
    pub skip: Vec<Scenario>,
    /// The PostgreSQL server (trust authentication); each run creates and drops its own databases.
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub postgres: String,
    /// The cores the servers run on, as `taskset -c` reads them: "1", or "0,1" to let the suite
    /// use both cores (the load generator then shares one with it).
    #[arg(long, global = true, default_value = "1")]
    pub server_core: String,
    /// The core the load generator (and pgbench) runs on.
    #[arg(long, global = true, default_value_t = 0)]
    pub client_core: usize,
    /// Customers of the scenarios at scale (rescore, trust with five links each, search): the
    /// 1 M of issue 23's goals.
    #[arg(long, global = true, default_value_t = 1_000_000)]
    pub scale: u64,
    /// The cores the scenarios at scale run on (`taskset -c`): the batch is meant to use both.
    #[arg(long, global = true, default_value = "0,1")]
    pub scale_cores: String,
    /// The checkout whose benches the scenarios at scale run (`cargo bench` there).
    #[arg(long, global = true, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/.."))]
    pub workspace: PathBuf,
}

impl Options {
    pub(crate) fn measure(&self) -> Duration {
        Duration::from_secs(self.duration)
    }

    pub(crate) fn warm_up(&self) -> Duration {
        Duration::from_secs(self.warmup)
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::EchoServer { listen, response } => echo::serve(listen, &response),
        command => bench(command, cli.options),
    };
    match outcome {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(2),
        Err(error) => {
            report::progress(&format!("error: {error:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the scenarios; `false` when any run was not counted.
fn bench(command: Command, options: Options) -> anyhow::Result<bool> {
    // Pin before the runtime starts its threads: they inherit the main thread's affinity.
    process::pin_self(options.client_core)?;
    let scenarios: Vec<Scenario> = match command {
        Command::All => Scenario::ALL
            .into_iter()
            .filter(|s| !options.skip.contains(s))
            .collect(),
        Command::GetCustomer => vec![Scenario::GetCustomer],
        Command::ReportPayment => vec![Scenario::ReportPayment],
        Command::PlanOptionsMixed => vec![Scenario::PlanOptionsMixed],
        Command::Rss => vec![Scenario::Rss],
        Command::Overview => vec![Scenario::Overview],
        Command::OverviewSlowed => vec![Scenario::OverviewSlowed],
        Command::Rescore => vec![Scenario::Rescore],
        Command::Trust => vec![Scenario::Trust],
        Command::Search => vec![Scenario::Search],
        Command::EchoServer { .. } => unreachable!("served in main"),
    };
    anyhow::ensure!(
        scenarios.iter().all(|s| s.at_scale()) || options.rapport.is_file(),
        "{} is not a file: build it with `cargo build --release -p rapport` or pass --rapport",
        options.rapport.display()
    );
    // One core for the generator: a single worker thread, so the generator never competes with
    // itself for it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let started = Instant::now();
    let load_at_start = report::load_average();
    let mut rows = Vec::new();
    for scenario in scenarios {
        report::progress(&format!(
            "== {scenario:?} (load average {})",
            report::load_average()
        ));
        let result = runtime.block_on(scenarios::run(scenario, &options));
        match result {
            Ok(mut produced) => rows.append(&mut produced),
            Err(error) => {
                report::progress(&format!("{scenario:?} FAILED: {error:#}"));
                rows.push(report::Row::failed(scenario, &error));
            }
        }
    }
    let all_counted = rows.iter().all(|row| row.counted);
    report::print(&rows, &options, started.elapsed(), &load_at_start);
    Ok(all_counted)
}
