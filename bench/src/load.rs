//! The load generator: N workers, each calling as fast as its answers come back (closed loop) or
//! on a schedule (paced), over a few shared HTTP/2 connections. A call is OK only when its gRPC
//! status is OK; every other code is an error, counted by code.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use tonic::transport::{Channel, Endpoint};

/// What one worker calls, in a loop; it keeps its own sequence, so keys stay distinct across the
/// warm-up and the measured run.
pub(crate) trait Worker: Send + 'static {
    /// One call: the method's name and how it ended.
    fn call(&mut self) -> impl Future<Output = (&'static str, Result<(), tonic::Status>)> + Send;
}

/// `connections` HTTP/2 connections to `address`.
pub(crate) async fn connect(
    address: SocketAddr,
    connections: usize,
) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::new();
    for _ in 0..connections.max(1) {
        let channel = Endpoint::from_shared(format!("http://{address}"))?
            .tcp_nodelay(true)
            .connect()
            .await
            .with_context(|| format!("connecting to {address}"))?;
        channels.push(channel);
    }
    Ok(channels)
}

/// One method's calls in a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct MethodTally {
    pub ok: u64,
    /// Non-OK gRPC codes, by name.
    pub errors: BTreeMap<String, u64>,
    /// Latency of each OK call, in microseconds.
    latencies: Vec<u32>,
}

impl MethodTally {
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The `q` quantile (0..=1) of OK calls' latency.
    pub(crate) fn quantile(&self, q: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let last = sorted.len().checked_sub(1)?;
        let index = ((last as f64) * q).round() as usize;
        Some(Duration::from_micros(u64::from(sorted[index])))
    }
}

/// Every method's calls in a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub methods: BTreeMap<&'static str, MethodTally>,
    pub elapsed: Duration,
    /// CPU the generator used during the run.
    pub generator_cpu: Duration,
}

impl Tally {
    pub(crate) fn ok(&self, method: &str) -> u64 {
        self.methods.get(method).map_or(0, |m| m.ok)
    }

    pub(crate) fn total_ok(&self) -> u64 {
        self.methods.values().map(|m| m.ok).sum()
    }

    pub(crate) fn total_errors(&self) -> u64 {
        self.methods.values().map(MethodTally::error_count).sum()
    }

    pub(crate) fn per_second(&self, calls: u64) -> f64 {
        calls as f64 / self.elapsed.as_secs_f64()
    }

    /// Errors by method and code, for the log: `ReportPayment UNAVAILABLE ×3`.
    pub(crate) fn describe_errors(&self) -> String {
        let mut parts = Vec::new();
        for (method, tally) in &self.methods {
            for (code, n) in &tally.errors {
                parts.push(format!("{method} {code} ×{n}"));
            }
        }
        parts.join(", ")
    }

    /// All methods' latencies together.
    pub(crate) fn overall(&self) -> MethodTally {
        let mut all = MethodTally::default();
        for tally in self.methods.values() {
            all.ok += tally.ok;
            all.latencies.extend_from_slice(&tally.latencies);
        }
        all
    }

    fn merge(&mut self, other: Self) {
        for (method, theirs) in other.methods {
            let ours = self.methods.entry(method).or_default();
            ours.ok += theirs.ok;
            ours.latencies.extend(theirs.latencies);
            for (code, n) in theirs.errors {
                *ours.errors.entry(code).or_default() += n;
            }
        }
    }
}

/// Runs every worker for `duration` and waits for all of them, so nothing is in flight when it
/// returns (the metrics scraped next hold every call of the run).
///
/// With `pace`, each worker calls once every `pace` (the workers staggered over it), so the
/// whole load is `workers / pace` calls per second whatever the server's speed; a call is timed
/// from when it was due, not from when it was sent, so a call that waited behind a slow one
/// counts its wait (no coordinated omission).
pub(crate) async fn run<W: Worker>(
    workers: Vec<W>,
    duration: Duration,
    pace: Option<Duration>,
) -> anyhow::Result<(Vec<W>, Tally)> {
    let cpu_before = crate::process::cpu_of("self")?;
    let started = Instant::now();
    let deadline = started + duration;
    let count = u32::try_from(workers.len()).unwrap_or(u32::MAX).max(1);
    let mut handles = Vec::new();
    for (n, mut worker) in workers.into_iter().enumerate() {
        // When paced: the next call's due time, and the interval between calls.
        let mut schedule =
            pace.map(|pace| (started + pace * u32::try_from(n).unwrap_or(0) / count, pace));
        handles.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while schedule.map_or_else(Instant::now, |(due, _)| due) < deadline {
                let sent = match &mut schedule {
                    Some((due, pace)) => {
                        tokio::time::sleep_until((*due).into()).await;
                        let sent = *due;
                        *due += *pace;
                        sent
                    }
                    None => Instant::now(),
                };
                let (method, outcome) = worker.call().await;
                let took = sent.elapsed();
                let entry = tally.methods.entry(method).or_default();
                match outcome {
                    Ok(()) => {
                        entry.ok += 1;
                        entry
                            .latencies
                            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                    }
                    Err(status) => {
                        *entry
                            .errors
                            .entry(format!("{:?}", status.code()))
                            .or_default() += 1;
                    }
                }
            }
            (worker, tally)
        }));
    }
    let mut workers = Vec::new();
    let mut total = Tally::default();
    for handle in handles {
        let (worker, tally) = handle.await.context("a load worker panicked")?;
        workers.push(worker);
        total.merge(tally);
    }
    total.elapsed = started.elapsed();
    total.generator_cpu = crate::process::cpu_of("self")?.saturating_sub(cpu_before);
    Ok((workers, total))
}
