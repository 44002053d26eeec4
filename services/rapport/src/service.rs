//! `rapport serve <service>` and `rapport migrate <service>`: one service from its configuration.
//! Desk keeps no data: it serves like the others, and has nothing to migrate.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use rapport_clock::{SharedClock, SystemClock};
use rapport_server::{Application, ServiceUnit};
use rapport_storage::{Migrations, Storage, StorageSettings};
use rapport_telemetry::TelemetrySettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceName {
    Profiles,
    Plans,
    Referrals,
    Loyalty,
    /// The agent's desk: stateless, no database.
    Desk,
}

impl ServiceName {
    /// The services that keep data: what `rapport migrate` with no service migrates (desk keeps
    /// none).
    pub const ALL: [Self; 4] = [Self::Profiles, Self::Plans, Self::Referrals, Self::Loyalty];

    /// Whether the service has a database (to migrate, back up, check); desk has none.
    pub fn keeps_data(self) -> bool {
        self != Self::Desk
    }
}

/// What `serve` and `migrate` need of a service, from its own settings type.
struct Prepared {
    telemetry: TelemetrySettings,
    server: rapport_server::ServerSettings,
    /// The database and its migrations; `None` for desk, which keeps nothing.
    storage: Option<(StorageSettings, Migrations)>,
    unit: UnitBuilder,
}

type UnitBuilder = Box<dyn FnOnce(SharedClock) -> Result<ServiceUnit, String>>;

fn prepare(service: ServiceName, file: Option<&Path>) -> anyhow::Result<Prepared> {
    let context = || format!("loading the {service:?} configuration");
    // Each service's own assembly (`assemble`): its unit and the delivery of its outbox to the
    // services that consume it, from its settings.
    macro_rules! prepared {
        ($service:ident) => {{
            let settings: $service::Settings = rapport_config::load(file).with_context(context)?;
            Prepared {
                telemetry: settings.telemetry.clone(),
                server: settings.server.clone(),
                storage: Some((settings.storage.clone(), $service::MIGRATIONS)),
                unit: Box::new(move |clock| {
                    $service::assemble(&settings, clock).map_err(|e| e.to_string())
                }),
            }
        }};
    }
    Ok(match service {
        ServiceName::Profiles => prepared!(rapport_profiles),
        ServiceName::Plans => prepared!(rapport_plans),
        ServiceName::Referrals => prepared!(rapport_referrals),
        ServiceName::Loyalty => prepared!(rapport_loyalty),
        ServiceName::Desk => {
            let settings: rapport_desk::Settings =
                rapport_config::load(file).with_context(context)?;
            Prepared {
                telemetry: settings.telemetry.clone(),
                server: settings.server.clone(),
                storage: None,
                unit: Box::new(move |clock| {
                    rapport_desk::assemble(&settings, clock).map_err(|e| rapport_errors::chain(&e))
                }),
            }
        }
    })
}

/// Runs one service until SIGTERM or Ctrl-C.
pub async fn serve(service: ServiceName, file: Option<&Path>) -> anyhow::Result<()> {
    let prepared = prepare(service, file)?;
    let _telemetry = rapport_telemetry::init(&prepared.telemetry)?;
    // Production refuses plaintext and unauthenticated serving unless told otherwise.
    prepared
        .server
        .check_production()
        .context("refusing to serve")?;
    // A movable business clock only where `server.insecure` allowed it (checked above).
    let business_clock = prepared
        .server
        .business_clock
        .as_ref()
        .map(|settings| settings.build().map(Arc::new))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let clock: SharedClock = match &business_clock {
        Some(movable) => movable.clone(),
        None => Arc::new(SystemClock),
    };
    let unit = (prepared.unit)(clock).map_err(anyhow::Error::msg)?;
    let mut application = Application::build(prepared.server, vec![unit]).await?;
    if let Some(movable) = business_clock {
        application = application.with_business_clock(movable);
    }
    application
        .run_until_stopped(rapport_server::shutdown_signal())
        .await?;
    Ok(())
}

/// A service's own binary (`rapport-plans [CONFIG_FILE]`): [`serve`] with the configuration
/// file named by the first argument; a failure ends with one line holding its cause chain.
pub async fn standalone(service: ServiceName) -> std::process::ExitCode {
    let file = std::env::args_os().nth(1).map(std::path::PathBuf::from);
    match serve(service, file.as_deref()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            #[allow(clippy::print_stderr)] // the binary's own output
            {
                eprintln!("error: {}", rapport_errors::chain(error.as_ref()));
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Applies a service's pending migrations once and returns (no retry: an operator is watching).
/// Desk has none: its configuration is still checked, and nothing else happens.
pub async fn migrate(service: ServiceName, file: Option<&Path>) -> anyhow::Result<()> {
    let prepared = prepare(service, file)?;
    let Some((settings, migrations)) = prepared.storage else {
        tracing::info!(service = ?service, "keeps no data: nothing to migrate");
        return Ok(());
    };
    let storage = Storage::open(&settings)?;
    storage
        .migrate(&migrations)
        .await
        .with_context(|| format!("migrating {service:?}"))?;
    storage.close().await;
    Ok(())
}

/// Rescores every customer in the loyalty database the configuration names.
pub async fn rescore(file: Option<&Path>) -> anyhow::Result<rapport_loyalty::rescore::Report> {
    let settings: rapport_loyalty::Settings =
        rapport_config::load(file).context("loading the loyalty configuration")?;
    let _telemetry = rapport_telemetry::init(&settings.telemetry)?;
    settings.rules.check().map_err(anyhow::Error::msg)?;
    let storage = Storage::open(&settings.storage)?;
    storage
        .migrate(&rapport_loyalty::MIGRATIONS)
        .await
        .context("migrating loyalty")?;
    let now = rapport_clock::Timestamp::now();
    // A bar on a terminal; in a CronJob's log, the run's line every 10 s alone.
    let mut bar = rapport_loyalty::rescore::TerminalBar::new();
    let report =
        rapport_loyalty::rescore::rescore_all_with(&storage, &settings.rules, now, &mut bar)
            .await?;
    storage.close().await;
    Ok(report)
}
