//! A `rapport dev` process for fault tests: started on a data directory, found by what it
//! prints, killed (SIGKILL) or left to the end of the test.

#![allow(dead_code)] // each test file uses its own part

pub mod postgres;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const RAPPORT: &str = env!("CARGO_BIN_EXE_rapport");

/// A running `rapport dev` (or `rapport serve`); killed when dropped.
pub struct Dev {
    child: Child,
    pub address: String,
    pub admin: String,
    pub channel: Channel,
    /// Its stderr (the logs), shown when an assertion fails.
    log: tempfile::NamedTempFile,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dev {
    /// Starts `rapport dev` on `data` and waits until every service serves.
    pub async fn start(data: &Path) -> Self {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut child = Command::new(RAPPORT)
            .args([
                "dev",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--console-listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(data)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log file"))
            .spawn()
            .expect("rapport starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut address = None;
        let admin = loop {
            let line = lines
                .next()
                .expect("rapport dev prints where it listens")
                .expect("readable");
            if let Some(found) = line.strip_prefix("rapport dev: listening on ") {
                address = Some(found.trim().to_owned());
            }
            if let Some(found) = line.strip_prefix("admin:      http://") {
                break found.split('/').next().expect("host and port").to_owned();
            }
        };
        // Keep reading stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let address = address.expect("the address comes before the admin line");
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        let dev = Self {
            child,
            address,
            admin,
            channel,
            log,
        };
        dev.wait_for_health("", ServingStatus::Serving, Duration::from_secs(30))
            .await;
        dev
    }

    /// Starts `rapport serve profiles` on `storage_url` (plaintext, no authentication:
    /// `server.insecure`), its configuration file in `work`, and waits until it serves.
    pub async fn serve_profiles(work: &Path, storage_url: &str) -> Self {
        let (listen, admin) = (postgres::free_port(), postgres::free_port());
        let config = work.join("profiles.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:{listen}\"\nadmin_listen = \"127.0.0.1:{admin}\"\ninsecure = true\n\
                 [storage]\nurl = \"{storage_url}\"\n"
            ),
        )
        .expect("write config");
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut command = Command::new(RAPPORT);
        command
            .args(["serve", "profiles", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log file"));
        // Only the file configures it.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("RAPPORT_") {
                command.env_remove(key);
            }
        }
        let mut child = command.spawn().expect("rapport starts");
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{listen}"))
                .expect("endpoint");
        let start = std::time::Instant::now();
        let channel = loop {
            match endpoint.connect().await {
                Ok(channel) => break channel,
                Err(error) => {
                    let exited = child.try_wait().expect("try_wait");
                    assert!(
                        exited.is_none() && start.elapsed() < Duration::from_secs(30),
                        "rapport serve listens within 30 s ({error}); exited: {exited:?}\n{}",
                        std::fs::read_to_string(log.path()).unwrap_or_default()
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let dev = Self {
            child,
            address: format!("127.0.0.1:{listen}"),
            admin: format!("127.0.0.1:{admin}"),
            channel,
            log,
        };
        dev.wait_for_health("", ServingStatus::Serving, Duration::from_secs(30))
            .await;
        dev
    }

    /// SIGTERM, and the suite exits 0 (it has closed its databases).
    pub async fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let start = std::time::Instant::now();
        let exit = loop {
            if let Some(exit) = self.exited() {
                break exit;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the suite stops within 60 s of SIGTERM\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        assert_eq!(exit.code(), Some(0), "{exit:?}\n{}", self.log_tail());
    }

    /// SIGKILL: no shutdown, no flush, nothing after the last instruction.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub async fn health(&self, service: &str) -> i32 {
        HealthClient::new(self.channel.clone())
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_or(-1, |answer| answer.into_inner().status)
    }

    /// Waits (at most `limit`) until health reports `wanted` for `service`; whether it did.
    pub async fn health_becomes(
        &self,
        service: &str,
        wanted: ServingStatus,
        limit: Duration,
    ) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if self.health(service).await == wanted as i32 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    /// Waits until `service` reports `status`, or panics after `within` with the log's tail.
    pub async fn wait_for_health(&self, service: &str, status: ServingStatus, within: Duration) {
        assert!(
            self.health_becomes(service, status, within).await,
            "{service:?} did not become {status:?} within {within:?}\n{}",
            self.log_tail()
        );
    }

    /// How the process ended, if it has.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// The last 30 lines of the process's log, for a failure message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `GET path` on the admin port: the status code and the body.
    pub fn admin_get(&self, path: &str) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.admin).expect("admin port");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.admin
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        let code = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("a status line");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (code, body)
    }

    pub fn profiles(&self) -> ProfileServiceClient<Channel> {
        ProfileServiceClient::new(self.channel.clone())
    }

    /// A new customer's id.
    pub async fn customer(&self) -> String {
        self.profiles()
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: "Dana Ionescu".into(),
                    locale: "ro-RO".into(),
                    time_zone: "Europe/Bucharest".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("customer created")
            .into_inner()
            .customer
            .expect("customer")
            .customer_id
    }
}

/// An interaction to record for `customer_id`, with a summary of `summary_bytes`.
pub fn interaction(customer_id: &str, summary_bytes: usize) -> profiles::RecordInteractionRequest {
    profiles::RecordInteractionRequest {
        interaction: Some(profiles::Interaction {
            customer_id: customer_id.to_owned(),
            channel: rapport_proto::common::v1::Channel::Phone as i32,
            topic: "collections".into(),
            summary: "s".repeat(summary_bytes),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

/// How many interactions `customer_id` has.
pub async fn interactions_of(dev: &Dev, customer_id: &str) -> usize {
    let mut count = 0;
    let mut token = String::new();
    loop {
        let page = dev
            .profiles()
            .list_interactions(profiles::ListInteractionsRequest {
                customer_id: customer_id.to_owned(),
                page: Some(rapport_proto::common::v1::PageRequest {
                    page_size: 100,
                    page_token: token.clone(),
                }),
                ..Default::default()
            })
            .await
            .expect("interactions")
            .into_inner();
        count += page.interactions.len();
        token = page
            .page
            .map(|page| page.next_page_token)
            .unwrap_or_default();
        if token.is_empty() {
            return count;
        }
    }
}

/// Audit entries of profiles' `rpc` naming `target`, by outcome.
pub async fn audit_outcomes(
    dev: &Dev,
    rpc: &str,
    target: &str,
) -> std::collections::BTreeMap<String, usize> {
    use rapport_proto::audit::v1 as audit;
    let mut outcomes = std::collections::BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = audit::audit_service_client::AuditServiceClient::new(dev.channel.clone())
            .list_audit_entries(audit::ListAuditEntriesRequest {
                service: "profiles".into(),
                page: Some(rapport_proto::common::v1::PageRequest {
                    page_size: 100,
                    page_token: token.clone(),
                }),
                rpc: rpc.to_owned(),
                target_id: target.to_owned(),
                ..Default::default()
            })
            .await
            .expect("audit entries")
            .into_inner();
        for entry in &page.entries {
            *outcomes.entry(entry.outcome.clone()).or_default() += 1;
        }
        token = page
            .page
            .map(|page| page.next_page_token)
            .unwrap_or_default();
        if token.is_empty() {
            return outcomes;
        }
    }
}
