//! The four services on one free port, and desks started beside them on ports of their own
//! (each pointing wherever a test wants: at the four, at a closed port, at a listener that never
//! answers).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rapport_clock::{ManualClock, Timestamp};
use rapport_proto::desk::v1 as pb;
use rapport_proto::desk::v1::desk_service_client::DeskServiceClient;
use rapport_security::Role;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use tonic::transport::Channel;

const SECRET: &str = "desk-api-test-secret-0123456789-abcdefghijklmnop";

/// 2 March 2026, 09:00 UTC: a Monday morning, inside every contact-hours window.
pub fn start_instant() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

/// Bearer tokens, when the suite checks them.
pub struct Tokens {
    _dir: tempfile::TempDir,
    secret_file: PathBuf,
    /// The `service` token the four call each other with.
    service_token_file: PathBuf,
}

impl Tokens {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secret_file = dir.path().join("secret");
        std::fs::write(&secret_file, SECRET).unwrap();
        let service_token_file = dir.path().join("service.token");
        std::fs::write(&service_token_file, mint("rapport-suite", &[Role::Service])).unwrap();
        Self {
            _dir: dir,
            secret_file,
            service_token_file,
        }
    }
}

pub fn mint(subject: &str, roles: &[Role]) -> String {
    rapport_security::dev::mint_hs256(SECRET.as_bytes(), subject, roles, Duration::from_secs(3600))
        .unwrap()
}

/// A request with `token` as its bearer token, when there is one.
pub fn with<T>(token: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

/// Profiles, plans, referrals and loyalty on one address, delivering to each other there.
pub struct Four {
    pub server: TestServer,
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub tokens: Option<Tokens>,
    settings: ServerSettings,
    _databases: Vec<TestDatabase>,
}

impl Four {
    /// The four without authentication (every caller may do everything).
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// The four checking bearer tokens (HS256), as `rapport dev --secure` does.
    pub async fn start_secured() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(secured: bool) -> Self {
        let tokens = secured.then(Tokens::new);
        let mut settings = ServerSettings::default();
        let mut client = rapport_clients::ClientSettings::default();
        if let Some(tokens) = &tokens {
            settings.auth = rapport_security::AuthSettings {
                mode: rapport_security::AuthMode::Jwt,
                issuer: rapport_security::dev::DEV_ISSUER.to_owned(),
                audience: rapport_security::dev::DEV_AUDIENCE.to_owned(),
                hs256_secret_file: Some(tokens.secret_file.clone()),
                ..rapport_security::AuthSettings::default()
            };
            client.token_file = Some(tokens.service_token_file.clone());
        }
        let clock = Arc::new(ManualClock::new(start_instant()));
        let databases: Vec<TestDatabase> = (0..4).map(|_| TestDatabase::sqlite()).collect();
        let server = TestServer::start_with(settings.clone(), |address| {
            let url = format!("http://{address}");
            let profiles = rapport_profiles::assemble(
                &rapport_profiles::Settings {
                    server: settings.clone(),
                    storage: databases[0].settings.clone(),
                    client: client.clone(),
                    loyalty_url: url.clone(),
                    plans_url: url.clone(),
                    referrals_url: url.clone(),
                    ..rapport_profiles::Settings::default()
                },
                clock.clone(),
            )
            .map_err(|e| e.to_string())?;
            let plans = rapport_plans::assemble(
                &rapport_plans::Settings {
                    server: settings.clone(),
                    storage: databases[1].settings.clone(),
                    client: client.clone(),
                    profiles_url: url.clone(),
                    loyalty_url: url.clone(),
                    referrals_url: url.clone(),
                    ..rapport_plans::Settings::default()
                },
                clock.clone(),
            )
            .map_err(|e| e.to_string())?;
            let referrals = rapport_referrals::assemble(
                &rapport_referrals::Settings {
                    server: settings.clone(),
                    storage: databases[2].settings.clone(),
                    client: client.clone(),
                    profiles_url: url.clone(),
                    loyalty_url: url.clone(),
                    ..rapport_referrals::Settings::default()
                },
                clock.clone(),
            )
            .map_err(|e| e.to_string())?;
            let loyalty = rapport_loyalty::assemble(
                &rapport_loyalty::Settings {
                    server: settings.clone(),
                    storage: databases[3].settings.clone(),
                    client: client.clone(),
                    profiles_url: url,
                    ..rapport_loyalty::Settings::default()
                },
                clock.clone(),
            )
            .map_err(|e| e.to_string())?;
            Ok::<_, String>(vec![profiles, plans, referrals, loyalty])
        })
        .await;
        let url = format!("http://{}", server.address);
        Self {
            server,
            url,
            clock,
            tokens,
            settings,
            _databases: databases,
        }
    }

    /// A token for `roles` when the suite checks tokens; `None` otherwise.
    pub fn token(&self, subject: &str, roles: &[Role]) -> Option<String> {
        self.tokens.as_ref().map(|_| mint(subject, roles))
    }

    /// Desk's settings asking the four here, with the suite's authentication.
    pub fn desk_settings(&self) -> rapport_desk::Settings {
        rapport_desk::Settings {
            server: self.settings.clone(),
            desk: rapport_desk::DeskSettings {
                profiles_url: self.url.clone(),
                plans_url: self.url.clone(),
                referrals_url: self.url.clone(),
                loyalty_url: self.url.clone(),
                ..rapport_desk::DeskSettings::default()
            },
            ..rapport_desk::Settings::default()
        }
    }

    /// A desk asking the four, its settings changed by `configure`.
    pub async fn desk(&self, configure: impl FnOnce(&mut rapport_desk::Settings)) -> Desk {
        let mut settings = self.desk_settings();
        configure(&mut settings);
        Desk::start(&settings, self.clock.clone()).await
    }
}

/// A desk on a port of its own.
pub struct Desk {
    pub server: TestServer,
    pub client: DeskServiceClient<Channel>,
}

impl Desk {
    pub async fn start(settings: &rapport_desk::Settings, clock: Arc<ManualClock>) -> Self {
        let unit = rapport_desk::assemble(settings, clock).unwrap();
        let server = TestServer::start(settings.server.clone(), vec![unit]).await;
        Self {
            client: DeskServiceClient::new(server.channel.clone()),
            server,
        }
    }

    pub async fn overview(
        &self,
        token: Option<&str>,
        customer_id: &str,
    ) -> Result<pb::GetCustomerOverviewResponse, tonic::Status> {
        self.client
            .clone()
            .get_customer_overview(with(
                token,
                pb::GetCustomerOverviewRequest {
                    customer_id: customer_id.to_owned(),
                    channel: 0,
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }
}

/// An address where nothing listens: connecting is refused at once.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// A listener that accepts connections and never says a word (a hung process, a black-holing
/// proxy): a client waits until its own deadline.
pub struct Silent {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Silent {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Self { url, task }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn status_of(state: Option<&pb::SectionState>) -> pb::SectionStatus {
    state
        .and_then(|s| pb::SectionStatus::try_from(s.status).ok())
        .unwrap_or(pb::SectionStatus::Unspecified)
}

/// Every section's (name, state), in the answer's order.
pub fn states(overview: &pb::GetCustomerOverviewResponse) -> Vec<(&'static str, pb::SectionState)> {
    let state = |s: Option<&pb::SectionState>| s.cloned().unwrap_or_default();
    vec![
        (
            "customer",
            state(overview.customer.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "contact",
            state(overview.contact.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "next_best_action",
            state(
                overview
                    .next_best_action
                    .as_ref()
                    .and_then(|s| s.state.as_ref()),
            ),
        ),
        (
            "protections",
            state(overview.protections.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "accounts",
            state(overview.accounts.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "hardship",
            state(overview.hardship.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "plans",
            state(overview.plans.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "promises",
            state(overview.promises.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "loyalty",
            state(overview.loyalty.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "follow_ups",
            state(overview.follow_ups.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "commitments",
            state(overview.commitments.as_ref().and_then(|s| s.state.as_ref())),
        ),
        (
            "referrals",
            state(overview.referrals.as_ref().and_then(|s| s.state.as_ref())),
        ),
    ]
}

/// The sections whose state is not `expected`, for an assertion message that says which.
pub fn not(
    overview: &pb::GetCustomerOverviewResponse,
    expected: pb::SectionStatus,
) -> Vec<(&'static str, pb::SectionState)> {
    states(overview)
        .into_iter()
        .filter(|(_, state)| state.status != expected as i32)
        .collect()
}

pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}
