//! `rapport dev`: all four services in one process, on one address, on embedded SQLite — a file
//! per service under the data directory. Nothing needs to be installed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rapport_server::{Application, ServerError, ServerSettings, ServiceUnit};
use rapport_storage::{StorageError, StorageSettings};

/// Where `rapport dev` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
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
    pub services: Vec<DevService>,
}

type UnitBuilder = fn(&ServerSettings, &StorageSettings) -> Result<ServiceUnit, StorageError>;

const SERVICES: [(&str, UnitBuilder); 4] = [
    (rapport_profiles::NAME, rapport_profiles::unit),
    (rapport_plans::NAME, rapport_plans::unit),
    (rapport_referrals::NAME, rapport_referrals::unit),
    (rapport_loyalty::NAME, rapport_loyalty::unit),
];

/// Binds `listen` and prepares all four services with their databases under `data_dir`.
pub async fn build(listen: SocketAddr, data_dir: &Path) -> Result<DevSuite, DevError> {
    let server = ServerSettings {
        listen,
        ..ServerSettings::default()
    };
    let mut units = Vec::new();
    let mut services = Vec::new();
    for (name, unit) in SERVICES {
        let database = data_dir.join(format!("{name}.db"));
        let storage = StorageSettings {
            url: format!("sqlite://{}", database.display()),
            ..StorageSettings::default()
        };
        let unit = unit(&server, &storage).map_err(|source| DevError::Storage {
            service: name,
            source,
        })?;
        services.push(DevService {
            name,
            grpc_services: unit.grpc_services().to_vec(),
            database,
        });
        units.push(unit);
    }
    let application = Application::build(server, units).await?;
    Ok(DevSuite {
        application,
        services,
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
        text.push_str("  also:      grpc.health.v1.Health, grpc.reflection.v1.ServerReflection\n");
        text.push_str(&format!(
            "try: grpcurl -plaintext {} list\n",
            self.application.local_addr()
        ));
        text
    }
}
