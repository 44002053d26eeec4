//! `rapport dev`: all four services in one process, on one address, on embedded SQLite — a file
//! per service under the data directory — with the agent's desk beside them, asking them at that
//! same address. Nothing needs to be installed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rapport_clients::{ClientSettings, Upstream};
use rapport_clock::{Clock, MovableClock, SharedClock, SystemClock};
use rapport_security::dev::DevMaterial;
use rapport_security::{AuthMode, AuthSettings};
use rapport_server::{Application, ServerError, ServerSettings, TlsSettings};
use rapport_storage::{StorageError, StorageSettings};

/// Where `rapport dev` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Where `rapport dev` serves metrics, `/livez`, `/readyz` and plaintext health unless told otherwise
/// (the OpenTelemetry Prometheus exporter's usual port).
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9464";
/// Where `rapport dev` serves the agents' browser console unless told otherwise (issue 25: the
/// flag's name and this default are part of the contract).
pub const DEFAULT_CONSOLE_LISTEN: &str = "127.0.0.1:8080";
/// Where `rapport dev` keeps its data unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = ".rapport";

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("cannot open the {service} database")]
    Storage {
        service: &'static str,
        #[source]
        source: StorageError,
    },
    #[error("cannot prepare the {service} service: {reason}")]
    Unit {
        service: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Server(#[from] ServerError),
}

/// One service of the suite as `rapport dev` runs it.
#[derive(Debug, Clone)]
pub struct DevService {
    pub name: &'static str,
    pub grpc_services: Vec<&'static str>,
    pub database: PathBuf,
}

/// The suite, bound and ready to run.
#[derive(Debug)]
pub struct DevSuite {
    pub application: Application,
    /// The four services with their databases.
    pub services: Vec<DevService>,
    /// The gRPC services of desk, which keeps no data and asks the four at the suite's address.
    pub desk: Vec<&'static str>,
    /// Where desk serves the agents' browser console, if it does.
    pub console: Option<SocketAddr>,
    /// The development certificates and secret, when the suite runs secured.
    pub security: Option<DevMaterial>,
    /// The movable business clock every service reads, when `--clock` gave one.
    pub business_clock: Option<Arc<MovableClock>>,
}

/// Binds `listen` (and `admin`, for metrics and probes) and prepares all four services with their
/// databases under `data_dir`, in plaintext and without authentication (development only; the
/// banner says so).
pub async fn build(
    listen: SocketAddr,
    admin: Option<SocketAddr>,
    data_dir: &Path,
) -> Result<DevSuite, DevError> {
    build_secured(listen, admin, data_dir, None).await
}

/// As [`build`]; with `security`, the suite serves mutual TLS with the development CA and checks
/// HS256 bearer tokens, and the services call each other with the client certificate and a
/// `service` token — as in production, with development keys.
pub async fn build_secured(
    listen: SocketAddr,
    admin: Option<SocketAddr>,
    data_dir: &Path,
    security: Option<&DevMaterial>,
) -> Result<DevSuite, DevError> {
    build_with_clock(listen, admin, data_dir, security, None).await
}

/// As [`build_secured`]; with `business_clock`, every service and every outbox worker reads that
/// one movable clock (`rapport dev --clock`), and the admin port serves `/clock` to move it.
pub async fn build_with_clock(
    listen: SocketAddr,
    admin: Option<SocketAddr>,
    data_dir: &Path,
    security: Option<&DevMaterial>,
    business_clock: Option<Arc<MovableClock>>,
) -> Result<DevSuite, DevError> {
    build_with_options(
        listen,
        admin,
        data_dir,
        security,
        business_clock,
        &DeskOptions::default(),
    )
    .await
}

/// How `rapport dev` runs the desk.
#[derive(Debug, Clone)]
pub struct DeskOptions {
    /// The overview's deadline budget (`--desk-budget-ms`; `desk.budget_ms` in production).
    pub budget: std::time::Duration,
    /// Where the agents' browser console listens (`--console-listen`); none = no console.
    pub console_listen: Option<SocketAddr>,
}

impl Default for DeskOptions {
    fn default() -> Self {
        Self {
            budget: rapport_desk::DeskSettings::default().budget(),
            console_listen: None,
        }
    }
}

/// As [`build_with_clock`], with the desk run as `desk` says.
pub async fn build_with_options(
    listen: SocketAddr,
    admin: Option<SocketAddr>,
    data_dir: &Path,
    security: Option<&DevMaterial>,
    business_clock: Option<Arc<MovableClock>>,
    desk_options: &DeskOptions,
) -> Result<DevSuite, DevError> {
    let clock: SharedClock = match &business_clock {
        Some(movable) => movable.clone(),
        None => Arc::new(SystemClock),
    };
    let mut server = ServerSettings {
        listen,
        admin_listen: admin,
        ..ServerSettings::default()
    };
    if let Some(material) = security {
        server.tls = Some(TlsSettings {
            certificate_file: material.server_certificate.clone(),
            key_file: material.server_key.clone(),
            client_ca_file: Some(material.ca.clone()),
        });
        server.auth = AuthSettings {
            mode: AuthMode::Jwt,
            issuer: rapport_security::dev::DEV_ISSUER.to_owned(),
            audience: rapport_security::dev::DEV_AUDIENCE.to_owned(),
            hs256_secret_file: Some(material.secret.clone()),
            ..AuthSettings::default()
        };
    }
    let mut services = Vec::new();
    let mut desk_services = Vec::new();
    let application = Application::build_with(server.clone(), |address| {
        let own_url = match security {
            None => Upstream::from(format!("http://{address}").as_str()),
            Some(material) => Upstream::new(
                format!("https://{address}"),
                ClientSettings {
                    ca_file: Some(material.ca.clone()),
                    certificate_file: Some(material.client_certificate.clone()),
                    key_file: Some(material.client_key.clone()),
                    domain_name: Some("localhost".to_owned()),
                    token_file: Some(material.service_token.clone()),
                },
            ),
        };
        let storage = |name: &'static str| {
            let database = data_dir.join(format!("{name}.db"));
            let settings = StorageSettings {
                url: format!("sqlite://{}", database.display()),
                ..StorageSettings::default()
            };
            (database, settings)
        };
        // Every service through its own assembly (`assemble`), as `rapport serve` builds it:
        // each reads and delivers to the others at this same address, with the same clients.
        let url = own_url.url.clone();
        let client = own_url.client.clone();
        let assembled =
            |name: &'static str,
             unit: Result<rapport_server::ServiceUnit, rapport_server::BoxError>| {
                unit.map_err(|e| DevError::Unit {
                    service: name,
                    reason: e.to_string(),
                })
            };
        let mut delivered = Vec::new();
        let (database, settings) = storage(rapport_profiles::NAME);
        let profiles = rapport_profiles::Settings {
            server: server.clone(),
            storage: settings,
            client: client.clone(),
            loyalty_url: url.clone(),
            plans_url: url.clone(),
            referrals_url: url.clone(),
            ..rapport_profiles::Settings::default()
        };
        delivered.push((
            rapport_profiles::NAME,
            database,
            assembled(
                rapport_profiles::NAME,
                rapport_profiles::assemble(&profiles, clock.clone()),
            )?,
        ));
        let (database, settings) = storage(rapport_plans::NAME);
        let plans = rapport_plans::Settings {
            server: server.clone(),
            storage: settings,
            client: client.clone(),
            profiles_url: url.clone(),
            loyalty_url: url.clone(),
            referrals_url: url.clone(),
            ..rapport_plans::Settings::default()
        };
        delivered.push((
            rapport_plans::NAME,
            database,
            assembled(
                rapport_plans::NAME,
                rapport_plans::assemble(&plans, clock.clone()),
            )?,
        ));
        let (database, settings) = storage(rapport_referrals::NAME);
        let referrals = rapport_referrals::Settings {
            server: server.clone(),
            storage: settings,
            client: client.clone(),
            profiles_url: url.clone(),
            loyalty_url: url.clone(),
            ..rapport_referrals::Settings::default()
        };
        delivered.push((
            rapport_referrals::NAME,
            database,
            assembled(
                rapport_referrals::NAME,
                rapport_referrals::assemble(&referrals, clock.clone()),
            )?,
        ));
        let (database, settings) = storage(rapport_loyalty::NAME);
        let loyalty = rapport_loyalty::Settings {
            server: server.clone(),
            storage: settings,
            client: client.clone(),
            profiles_url: url.clone(),
            ..rapport_loyalty::Settings::default()
        };
        delivered.push((
            rapport_loyalty::NAME,
            database,
            assembled(
                rapport_loyalty::NAME,
                rapport_loyalty::assemble(&loyalty, clock.clone()),
            )?,
        ));
        // Desk asks the four at this address as each of its callers (with the TLS settings
        // the others use; it sends no token of its own).
        let desk = rapport_desk::Settings {
            // The address bound, so the console calls desk where it really is (port 0 in tests).
            server: ServerSettings {
                listen: address,
                ..server.clone()
            },
            client: ClientSettings {
                token_file: None,
                ..client
            },
            desk: rapport_desk::DeskSettings {
                profiles_url: url.clone(),
                plans_url: url.clone(),
                referrals_url: url.clone(),
                loyalty_url: url,
                budget_ms: u64::try_from(desk_options.budget.as_millis()).unwrap_or(u64::MAX),
                console_listen: desk_options.console_listen,
            },
            ..rapport_desk::Settings::default()
        };
        let desk = rapport_desk::assemble(&desk, clock.clone()).map_err(|e| DevError::Unit {
            service: rapport_desk::NAME,
            reason: rapport_errors::chain(&e),
        })?;
        desk_services = desk.grpc_services().to_vec();
        let mut units: Vec<rapport_server::ServiceUnit> = delivered
            .into_iter()
            .map(|(name, database, unit)| {
                services.push(DevService {
                    name,
                    grpc_services: unit.grpc_services().to_vec(),
                    database,
                });
                unit
            })
            .collect();
        units.push(desk);
        Ok::<_, DevError>(units)
    })
    .await??;
    let application = match &business_clock {
        Some(movable) => application.with_business_clock(movable.clone()),
        None => application,
    };
    Ok(DevSuite {
        application,
        services,
        desk: desk_services,
        console: desk_options.console_listen,
        security: security.cloned(),
        business_clock,
    })
}
impl DevSuite {
    /// What the suite serves, for the terminal.
    pub fn banner(&self) -> String {
        let mut text = format!(
            "rapport dev: listening on {}\n",
            self.application.local_addr()
        );
        for service in &self.services {
            text.push_str(&format!(
                "  {:<10} data: {}\n",
                service.name,
                service.database.display()
            ));
            for grpc_service in &service.grpc_services {
                text.push_str(&format!("  {:<10} {grpc_service}\n", ""));
            }
        }
        text.push_str(&format!(
            "  {:<10} no data: asks the four above as its caller\n",
            rapport_desk::NAME
        ));
        for grpc_service in &self.desk {
            text.push_str(&format!("  {:<10} {grpc_service}\n", ""));
        }
        if let Some(console) = self.console {
            let signing_in = if self.security.is_some() {
                " (sign in with a token from `rapport token`)"
            } else {
                ""
            };
            // HTTPS with the suite's certificate when it is secured.
            let scheme = if self.security.is_some() {
                "https"
            } else {
                "http"
            };
            text.push_str(&format!(
                "console:    {scheme}://{console}/ : the agents' browser console{signing_in}\n"
            ));
        }
        text.push_str("  also:      grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, rapport.audit.v1.AuditService\n");
        if let Some(admin) = self.application.admin_addr() {
            text.push_str(&format!(
                "admin:      http://{admin}/metrics, /livez, /readyz, and gRPC health (plaintext)\n"
            ));
        }
        if let Some(clock) = &self.business_clock {
            text.push_str(&format!(
                "BUSINESS CLOCK: every service reads a movable clock, now {} at speed {} (development only; production refuses it)\n",
                clock
                    .now()
                    .round(jiff::Unit::Second)
                    .unwrap_or_else(|_| clock.now()),
                clock.speed()
            ));
            if let Some(admin) = self.application.admin_addr() {
                text.push_str(&format!(
                    "  move it:   rapport clock advance 31d --admin http://{admin}\n"
                ));
            }
        }
        let address = self.application.local_addr();
        match &self.security {
            None => {
                text.push_str(
                    "INSECURE: plaintext, no authentication: every caller may do everything. \
                     Development only; `rapport dev --secure DIR` runs with mTLS and tokens.\n",
                );
                if !address.ip().is_loopback() {
                    text.push_str("WARNING: listening beyond loopback in plaintext: anyone on the network can call it.\n");
                }
                text.push_str(&format!("try: grpcurl -plaintext {address} list\n"));
            }
            Some(material) => {
                let ca = material.ca.display();
                let secret = material.secret.display();
                let cert = material.client_certificate.display();
                let key = material.client_key.display();
                text.push_str(&format!(
                    "secured: mutual TLS (CA {ca}) and bearer tokens (HS256, development secret {secret})\n"
                ));
                text.push_str(&format!(
                    "mint a token: export TOKEN=$(rapport token --secret-file {secret} --role agent --subject agent-1)\n"
                ));
                text.push_str(&format!(
                    "try: grpcurl -cacert {ca} -cert {cert} -key {key} -authority localhost -H \"authorization: Bearer $TOKEN\" {address} list\n"
                ));
            }
        }
        text
    }
}
