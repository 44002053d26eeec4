//! `rapport`: the whole suite in one binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rapport::dev;
use rapport::service::{self, ServiceName};
use rapport_telemetry::TelemetrySettings;

#[derive(Debug, Parser)]
#[command(name = "rapport", version, about = "Rapport: keep customers for life")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run all four services in one process on embedded SQLite (nothing to install).
    Dev {
        /// Address to serve every service on.
        #[arg(long, default_value = dev::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Directory for the services' databases (one SQLite file each).
        #[arg(long, default_value = dev::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Run one service from its configuration (TOML file, then RAPPORT_ environment variables).
    Serve {
        service: ServiceName,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit (all services unless one is named).
    Migrate {
        service: Option<ServiceName>,
        /// Configuration of the named service (each service has its own database).
        #[arg(long, requires = "service")]
        config: Option<PathBuf>,
    },
    /// Rescore every customer's loyalty now (a nightly job: scores decay, risks surface).
    Rescore {
        /// The loyalty service's configuration (its database and score model).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Dev { listen, data_dir } => {
            let _telemetry = rapport_telemetry::init(&TelemetrySettings {
                service_name: "rapport-dev".to_owned(),
                ..TelemetrySettings::default()
            })?;
            let suite = dev::build(listen, &data_dir).await?;
            #[allow(clippy::print_stdout)] // the command's own output
            {
                print!("{}", suite.banner());
            }
            suite
                .application
                .run_until_stopped(rapport_server::shutdown_signal())
                .await?;
        }
        Command::Serve { service, config } => service::serve(service, config.as_deref()).await?,
        Command::Migrate { service, config } => {
            let _telemetry = rapport_telemetry::init(&TelemetrySettings::default())?;
            let services = service.map_or(ServiceName::ALL.to_vec(), |one| vec![one]);
            for service in services {
                service::migrate(service, config.as_deref()).await?;
                #[allow(clippy::print_stdout)]
                {
                    println!("{service:?}: migrated");
                }
            }
        }
        Command::Rescore { config } => {
            let report = service::rescore(config.as_deref()).await?;
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "rescored {} customers ({} signals) in {:.1} s",
                    report.customers, report.signals, report.seconds
                );
            }
        }
    }
    Ok(())
}
