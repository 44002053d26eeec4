//! `rapport serve <service>` and `rapport migrate <service>`: one service from its configuration.

use std::path::Path;

use anyhow::Context;
use clap::ValueEnum;
use rapport_clients::Upstream;
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
    dyn FnOnce(&rapport_server::ServerSettings, &StorageSettings) -> Result<ServiceUnit, String>,
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
                unit: Box::new(move |server, storage| {
                    let unit =
                        rapport_profiles::unit(server, storage).map_err(|e| e.to_string())?;
                    with_delivery(unit, Upstream::new(&s.loyalty_url, s.client.clone()))
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
                unit: Box::new(move |server, storage| {
                    let unit = rapport_plans::unit_with(
                        server,
                        storage,
                        s.rules,
                        std::sync::Arc::new(rapport_clock::SystemClock),
                        Upstream::new(&s.profiles_url, s.client.clone()),
                    )
                    .map_err(|e| e.to_string())?;
                    // Plans' events go to loyalty, and its good standing to referrals too.
                    with_delivery_to_referrals(
                        unit,
                        Upstream::new(&s.loyalty_url, s.client.clone()),
                        Upstream::new(&s.referrals_url, s.client.clone()),
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
                unit: Box::new(move |server, storage| {
                    let unit = rapport_referrals::unit_with(
                        server,
                        storage,
                        s.rules,
                        std::sync::Arc::new(rapport_clock::SystemClock),
                        Upstream::new(&s.profiles_url, s.client.clone()),
                    )
                    .map_err(|e| e.to_string())?;
                    with_delivery(unit, Upstream::new(&s.loyalty_url, s.client.clone()))
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
                unit: Box::new(move |server, storage| {
                    let unit = rapport_loyalty::unit_with(
                        server,
                        storage,
                        s.rules,
                        std::sync::Arc::new(rapport_clock::SystemClock),
                        Upstream::new(&s.profiles_url, s.client.clone()),
                    )
                    .map_err(|e| e.to_string())?;
                    // Follow-ups become commitments on the profiles timeline.
                    rapport_clients::deliver_outbox_to_profiles(
                        unit,
                        Upstream::new(&s.profiles_url, s.client.clone()),
                        std::sync::Arc::new(rapport_clock::SystemClock),
                        rapport_outbox::delivery::Policy::default(),
                    )
                    .map_err(|e| e.to_string())
                }),
            }
        }
    })
}

/// Adds outbox delivery to loyalty, or says loudly that events will wait.
fn with_delivery(unit: ServiceUnit, loyalty: Upstream) -> Result<ServiceUnit, String> {
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
        std::sync::Arc::new(rapport_clock::SystemClock),
        rapport_outbox::delivery::Policy::default(),
    )
    .map_err(|e| e.to_string())
}

/// As [`with_delivery`], and good standing to referrals as well (plans): one worker, both
/// consumers (`rapport_clients::LoyaltyAndReferrals`).
fn with_delivery_to_referrals(
    unit: ServiceUnit,
    loyalty: Upstream,
    referrals: Upstream,
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
        return with_delivery(unit, loyalty);
    }
    rapport_clients::deliver_outbox_to_loyalty_and_referrals(
        unit,
        loyalty,
        referrals,
        std::sync::Arc::new(rapport_clock::SystemClock),
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
    let unit = (prepared.unit)(&prepared.server, &prepared.storage).map_err(anyhow::Error::msg)?;
    let application = Application::build(prepared.server, vec![unit]).await?;
    application
        .run_until_stopped(rapport_server::shutdown_signal())
        .await?;
    Ok(())
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
