//! The server's own account of the calls (`/metrics` on the admin port,
//! `libs/server/src/metrics.rs`): `rpc_server_call_duration_seconds_count` by service, method and
//! gRPC code. A run counts only when the server's OK calls match the generator's.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CALLS: &str = "rpc_server_call_duration_seconds_count";

/// `GET path` on the admin port: (status code, body). HTTP/1.0, so the body is never chunked.
pub(crate) async fn get(admin: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(admin).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {admin}\r\n\r\n").as_bytes())
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("an HTTP response without a header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .context("an HTTP response without a status")?
        .parse()?;
    Ok((status, body.to_owned()))
}

pub(crate) async fn ready(admin: SocketAddr) -> bool {
    matches!(get(admin, "/readyz").await, Ok((200, _)))
}

/// One scrape of `/metrics`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrape {
    /// OK calls by (gRPC service, method).
    ok: BTreeMap<(String, String), u64>,
    /// Every sample as (name, labels, value), for gauges.
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    pub(crate) async fn take(admin: SocketAddr) -> anyhow::Result<Self> {
        let (status, text) = get(admin, "/metrics").await?;
        anyhow::ensure!(status == 200, "/metrics answered {status}");
        Ok(Self::parse(&text))
    }

    fn parse(text: &str) -> Self {
        let mut scrape = Self::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, parse_labels(labels.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            if name == CALLS
                && labels.get("rpc_response_status_code").map(String::as_str) == Some("OK")
            {
                let key = (
                    labels.get("rpc_service").cloned().unwrap_or_default(),
                    labels.get("rpc_method").cloned().unwrap_or_default(),
                );
                // Counts are integers in the exposition.
                *scrape.ok.entry(key).or_default() += value as u64;
            }
            scrape.samples.push((name.to_owned(), labels, value));
        }
        scrape
    }

    pub(crate) fn ok(&self, service: &str, method: &str) -> u64 {
        self.ok
            .get(&(service.to_owned(), method.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Every sample of `name` summed by (gRPC service, method), over every status code.
    pub(crate) fn by_method(&self, name: &str) -> BTreeMap<(String, String), f64> {
        let mut sums = BTreeMap::new();
        for (_, labels, value) in self.samples.iter().filter(|(n, _, _)| n == name) {
            let key = (
                labels.get("rpc_service").cloned().unwrap_or_default(),
                labels.get("rpc_method").cloned().unwrap_or_default(),
            );
            *sums.entry(key).or_default() += value;
        }
        sums
    }

    /// The sum of every sample of the gauge `name`.
    pub(crate) fn total(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, v)| v)
            .sum()
    }
}

/// `a="x",b="y"`; our label values hold no commas or quotes.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

/// How one method's OK count compares between the server and the generator.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub method: &'static str,
    pub server: u64,
    pub generator: u64,
    /// Other services of the suite call this method too (plans and loyalty read customers from
    /// profiles), so the server may count more; never fewer.
    pub shared: bool,
}

impl Check {
    pub(crate) fn passed(&self) -> bool {
        if self.shared {
            self.server >= self.generator
        } else {
            self.server == self.generator
        }
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "{}: server {} OK, generator {} OK{}{}",
            self.method,
            self.server,
            self.generator,
            if self.shared {
                " (server also counts the suite's own calls: must be ≥)"
            } else {
                ""
            },
            if self.passed() { "" } else { "  <-- MISMATCH" }
        )
    }
}

/// Compares the OK calls of `methods` ((service, method, shared)) between two scrapes with the
/// generator's counts.
pub(crate) fn compare(
    before: &Scrape,
    after: &Scrape,
    methods: &[(&'static str, &'static str, bool)],
    generator_ok: impl Fn(&str) -> u64,
) -> Vec<Check> {
    methods
        .iter()
        .map(|&(service, method, shared)| Check {
            method,
            server: after
                .ok(service, method)
                .saturating_sub(before.ok(service, method)),
            generator: generator_ok(method),
            shared,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_calls_are_read_by_service_and_method_and_other_codes_are_not() {
        let text = "# TYPE rpc_server_call_duration_seconds histogram\n\
            rpc_server_call_duration_seconds_count{rpc_system_name=\"grpc\",rpc_service=\"rapport.profiles.v1.ProfileService\",rpc_method=\"GetCustomer\",rpc_response_status_code=\"OK\"} 42\n\
            rpc_server_call_duration_seconds_count{rpc_system_name=\"grpc\",rpc_service=\"rapport.profiles.v1.ProfileService\",rpc_method=\"GetCustomer\",rpc_response_status_code=\"NOT_FOUND\"} 3\n\
            rapport_outbox_backlog_events{service=\"profiles\"} 5\n\
            rapport_outbox_backlog_events{service=\"plans\"} 2\n";
        let scrape = Scrape::parse(text);
        assert_eq!(
            scrape.ok("rapport.profiles.v1.ProfileService", "GetCustomer"),
            42
        );
        assert_eq!(
            scrape.ok("rapport.plans.v1.PlanService", "GetPlanOptions"),
            0
        );
        assert!((scrape.total("rapport_outbox_backlog_events") - 7.0).abs() < f64::EPSILON);
    }

    #[test]
    fn a_run_counts_only_when_the_server_saw_exactly_the_generators_ok_calls() {
        let check = |server, generator, shared| Check {
            method: "ReportPayment",
            server,
            generator,
            shared,
        };
        assert!(check(10, 10, false).passed());
        assert!(!check(11, 10, false).passed());
        assert!(!check(9, 10, false).passed());
        // A method the suite also calls itself: the server may count more, never fewer.
        assert!(check(15, 10, true).passed());
        assert!(!check(9, 10, true).passed());
        assert!(check(9, 10, false).describe().contains("MISMATCH"));
    }
}
