//! `rapport serve <service>` and `rapport migrate <service>`: one service from its configuration.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::ValueEnum;
use rapport_clients::Upstream;
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
}

impl ServiceName {
    pub const ALL: [Self; 4] = [Self::Profiles, Self::Plans, Self::Referrals, Self::Loyalty];
}

/// What `serve` and `migrate` need of a service, from its own settings type.
struct Prepared {
    telemetry: TelemetrySettings,
    server: rapport_server::ServerSettings,
    storage: StorageSettings,
    migrations: Migrations,
    unit: UnitBuilder,
}

type UnitBuilder = Box<
    dyn FnOnce(
        &rapport_server::ServerSettings,
        &StorageSettings,
        SharedClock,
    ) -> Result<ServiceUnit, String>,
>;

fn prepare(service: ServiceName, file: Option<&Path>) -> anyhow::Result<Prepared> {
    let context = || format!("loading the {service:?} configuration");
    Ok(match service {
        ServiceName::Profiles => {
            let s: rapport_profiles::Settings = rapport_config::load(file).with_context(context)?;
            Prepared {
                telemetry: s.telemetry,
                server: s.server,
                storage: s.storage,
                migrations: rapport_profiles::MIGRATIONS,
                unit: Box::new(move |server, storage, clock| {
                    let unit = rapport_profiles::unit_with_clock(server, storage, clock.clone())
                        .map_err(|e| e.to_string())?;
                    // Profiles' events go to loyalty, and its merges and erasures to plans and
                    // referrals too.
                    with_delivery_to_plans(
                        unit,
                        Upstream::new(&s.loyalty_url, s.client.clone()),
                        Upstream::new(&s.plans_url, s.client.clone()),
                        Upstream::new(&s.referrals_url, s.client.clone()),
                        clock,
                    )
                }),
            }
        }
        ServiceName::Plans => {
            let s: rapport_plans::Settings = rapport_config::load(file).with_context(context)?;
            Prepared {
                telemetry: s.telemetry,
                server: s.server,
                storage: s.storage,
                migrations: rapport_plans::MIGRATIONS,
                unit: Box::new(move |server, storage, clock| {
                    let unit = rapport_plans::unit_with(
                        server,
                        storage,
                        s.rules,
                        clock.clone(),
                        Upstream::new(&s.profiles_url, s.client.clone()),
                    )
                    .map_err(|e| e.to_string())?;
                    // Plans' events go to loyalty, and its good standing to referrals too.
                    with_delivery_to_referrals(
                        unit,
                        Upstream::new(&s.loyalty_url, s.client.clone()),
                        Upstream::new(&s.referrals_url, s.client.clone()),
                        clock,
                    )
                }),
            }
        }
        ServiceName::Referrals => {
            let s: rapport_referrals::Settings =
                rapport_config::load(file).with_context(context)?;
            Prepared {
                telemetry: s.telemetry,
                server: s.server,
                storage: s.storage,
                migrations: rapport_referrals::MIGRATIONS,
                unit: Box::new(move |server, storage, clock| {
                    let unit = rapport_referrals::unit_with(
                        server,
                        storage,
                        s.rules,
                        clock.clone(),
                        Upstream::new(&s.profiles_url, s.client.clone()),
                    )
                    .map_err(|e| e.to_string())?;
                    with_delivery(unit, Upstream::new(&s.loyalty_url, s.client.clone()), clock)
                }),
            }
        }
        ServiceName::Loyalty => {
            let s: rapport_loyalty::Settings = rapport_config::load(file).with_context(context)?;
            Prepared {
                telemetry: s.telemetry,
                server: s.server,
                storage: s.storage,
                migrations: rapport_loyalty::MIGRATIONS,
                unit: Box::new(move |server, storage, clock| {
                    let unit = rapport_loyalty::unit_with(
                        server,
                        storage,
                        s.rules,
                        clock.clone(),
                        Upstream::new(&s.profiles_url, s.client.clone()),
                    )
                    .map_err(|e| e.to_string())?;
                    // Follow-ups become commitments on the profiles timeline.
                    rapport_clients::deliver_outbox_to_profiles(
                        unit,
                        Upstream::new(&s.profiles_url, s.client.clone()),
                        clock,
                        rapport_outbox::delivery::Policy::default(),
                    )
                    .map_err(|e| e.to_string())
                }),
            }
        }
    })
}

/// Adds outbox delivery to loyalty, or says loudly that events will wait.
fn with_delivery(
    unit: ServiceUnit,
    loyalty: Upstream,
    clock: SharedClock,
) -> Result<ServiceUnit, String> {
    if loyalty.url.is_empty() {
        tracing::warn!(
            service = unit.name(),
            "loyalty_url is not set: domain events wait in the outbox until it is"
        );
        return Ok(unit);
    }
    rapport_clients::deliver_outbox_to_loyalty(
        unit,
        loyalty,
        clock,
        rapport_outbox::delivery::Policy::default(),
    )
    .map_err(|e| e.to_string())
}

/// As [`with_delivery`], and good standing to referrals as well (plans): one worker, both
/// consumers (`rapport_clients::Consumers`).
fn with_delivery_to_referrals(
    unit: ServiceUnit,
    loyalty: Upstream,
    referrals: Upstream,
    clock: SharedClock,
) -> Result<ServiceUnit, String> {
    if loyalty.url.is_empty() || referrals.url.is_empty() {
        if !referrals.url.is_empty() {
            tracing::warn!(
                service = unit.name(),
                "referrals_url is set but loyalty_url is not: domain events wait in the outbox until both are"
            );
        } else {
            tracing::warn!(
                service = unit.name(),
                "referrals_url is not set: referrals does not learn good standing (vouchers, trust seeds and rewards use the standing it last heard)"
            );
        }
        return with_delivery(unit, loyalty, clock);
    }
    rapport_clients::deliver_outbox_to_loyalty_and_referrals(
        unit,
        loyalty,
        referrals,
        clock,
        rapport_outbox::delivery::Policy::default(),
    )
    .map_err(|e| e.to_string())
}

/// As [`with_delivery`], and merges and erasures to plans and referrals as well (profiles): one
/// worker, every consumer (`rapport_clients::Consumers`).
fn with_delivery_to_plans(
    unit: ServiceUnit,
    loyalty: Upstream,
    plans: Upstream,
    referrals: Upstream,
    clock: SharedClock,
) -> Result<ServiceUnit, String> {
    if loyalty.url.is_empty() || plans.url.is_empty() || referrals.url.is_empty() {
        if loyalty.url.is_empty() {
            tracing::warn!(
                service = unit.name(),
                "loyalty_url is not set: domain events wait in the outbox until loyalty_url, plans_url and referrals_url are"
            );
        } else {
            tracing::warn!(
                service = unit.name(),
                "plans_url or referrals_url is not set: they do not learn merges and erasures (accounts, referrals and vouches stay under a merged-away id, and erasure does not reach them)"
            );
        }
        return with_delivery(unit, loyalty, clock);
    }
    rapport_clients::deliver_outbox_to_loyalty_plans_and_referrals(
        unit,
        loyalty,
        plans,
        referrals,
        clock,
        rapport_outbox::delivery::Policy::default(),
    )
    .map_err(|e| e.to_string())
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
    let unit =
        (prepared.unit)(&prepared.server, &prepared.storage, clock).map_err(anyhow::Error::msg)?;
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
pub async fn migrate(service: ServiceName, file: Option<&Path>) -> anyhow::Result<()> {
    let prepared = prepare(service, file)?;
    let storage = Storage::open(&prepared.storage)?;
    storage
        .migrate(&prepared.migrations)
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
    let report = rapport_loyalty::rescore::rescore_all(&storage, &settings.rules, now).await?;
    storage.close().await;
    Ok(report)
}
