//! PostgreSQL: fresh databases for each run (created here, dropped when done), and the pgbench
//! baseline (tpcb-like, prepared statements) with per-transaction latencies from its log.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use crate::process;

/// A database made for one run, dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub(crate) struct Database {
    server: String,
    pub name: String,
}

impl Database {
    pub(crate) fn create(server: &str, name: &str) -> anyhow::Result<Self> {
        process::run(Command::new("psql").args([
            "-d",
            &format!("{server}/postgres"),
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            // Separate commands: neither may run inside a transaction block.
            "-c",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            "-c",
            &format!("CREATE DATABASE {name}"),
        ]))
        .context("creating a database (is PostgreSQL at --postgres with trust authentication?)")?;
        Ok(Self {
            server: server.to_owned(),
            name: name.to_owned(),
        })
    }

    pub(crate) fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = process::run(Command::new("psql").args([
            "-d",
            &format!("{}/postgres", self.server),
            "-qc",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        ]));
    }
}

/// What pgbench measured.
#[derive(Debug, Clone)]
pub(crate) struct PgbenchRun {
    pub tps: f64,
    pub transactions: u64,
    pub p50: Duration,
    pub p99: Duration,
}

/// `pgbench -i -s scale` on a fresh database, then `pgbench -M prepared -c clients -j 2 -T
/// seconds` pinned to `core`, logging every transaction into `work_dir`.
pub(crate) fn tpcb(
    database: &Database,
    scale: u32,
    clients: usize,
    seconds: u64,
    core: usize,
    work_dir: &Path,
) -> anyhow::Result<PgbenchRun> {
    process::run(Command::new("pgbench").args([
        "-q",
        "-i",
        "-s",
        &scale.to_string(),
        &database.url(),
    ]))
    .context("pgbench -i")?;
    let output = process::run(
        Command::new("taskset")
            .args(["-c", &core.to_string(), "pgbench", "-M", "prepared", "-c"])
            .arg(clients.to_string())
            .args(["-j", "2", "-T"])
            .arg(seconds.to_string())
            .args(["-l", &database.url()])
            .current_dir(work_dir),
    )
    .context("pgbench")?;
    let tps = output
        .lines()
        .find(|line| line.starts_with("tps = "))
        .and_then(|line| line.split_whitespace().nth(2))
        .context("pgbench printed no tps")?
        .parse()?;
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(work_dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("pgbench_log."));
        if !is_log {
            continue;
        }
        // client_id transaction_no time_us script_no time_epoch time_us_fraction
        for line in std::fs::read_to_string(&path)?.lines() {
            if let Some(Ok(micros)) = line.split_whitespace().nth(2).map(str::parse::<u64>) {
                latencies.push(micros);
            }
        }
    }
    latencies.sort_unstable();
    anyhow::ensure!(!latencies.is_empty(), "pgbench logged no transactions");
    let quantile = |q: f64| {
        let index = ((latencies.len() - 1) as f64 * q).round() as usize;
        Duration::from_micros(latencies[index])
    };
    Ok(PgbenchRun {
        tps,
        transactions: latencies.len() as u64,
        p50: quantile(0.5),
        p99: quantile(0.99),
    })
}
