//! Loyalty: continuous surveys, closed-loop feedback, an explainable loyalty score, tenure rewards.
//!
//! Serves `rapport.loyalty.v1.LoyaltyService` (see `proto/rapport/loyalty/v1/`). Layers: `grpc/` (the edge: prost
//! messages in, domain types out), `domain/` (NPS, the score, signals, events in and out), `store/` and
//! `rescore` (batch rescoring of every customer).

pub mod domain;
mod error;
mod grpc;
pub mod rescore;
mod rules;
mod settings;
mod store;

use std::sync::Arc;

use rapport_clock::{SharedClock, SystemClock};
use rapport_proto::loyalty::v1::loyalty_service_server::LoyaltyServiceServer;
use rapport_server::{Sample, ServerSettings, ServiceUnit};
use rapport_storage::{EmbeddedMigration, Migrations, Storage, StorageError, StorageSettings};

pub use error::LoyaltyError;
pub use rules::{Rules, ScoreModel};
pub use settings::Settings;

/// The service's name: in `rapport serve loyalty`, its data file, its spans.
pub const NAME: &str = "loyalty";

/// The migrations in `migrations/`, embedded in the binary and run at start.
pub static MIGRATIONS: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "outbox",
        sql: include_str!("../migrations/0001_outbox.sql"),
    },
    EmbeddedMigration {
        version: 2,
        description: "loyalty",
        sql: include_str!("../migrations/0002_loyalty.sql"),
    },
    // The audit trail: one file shared by every service (rapport-audit).
    EmbeddedMigration {
        version: 3,
        description: "audit_log",
        sql: rapport_audit::MIGRATION_SQL,
    },
    // Delivery claims on the outbox: one file shared by every service (rapport-outbox).
    EmbeddedMigration {
        version: 4,
        description: "outbox_claims",
        sql: rapport_outbox::CLAIMS_MIGRATION_SQL,
    },
    // Storage faults (issue 20): an audit entry's pending half commits with the change, and the
    // storage's probe proves writes work again after a refusal.
    EmbeddedMigration {
        version: 5,
        description: "audit_pending",
        sql: rapport_audit::PENDING_MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 6,
        description: "storage_probe",
        sql: rapport_storage::PROBE_MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 7,
        description: "compact_score_history",
        sql: include_str!("../migrations/0003_compact_score_history.sql"),
    },
    EmbeddedMigration {
        version: 8,
        description: "at_risk_partial_index",
        sql: include_str!("../migrations/0004_at_risk_partial_index.sql"),
    },
    EmbeddedMigration {
        version: 9,
        description: "score_contributions",
        sql: include_str!("../migrations/0005_score_contributions.sql"),
    },
]);

/// Why the unit could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("invalid profiles_url")]
    ProfilesUrl(#[from] rapport_clients::ClientError),
    #[error("invalid loyalty rules: {0}")]
    Rules(String),
}

/// The service with the default rules and the system clock, reading customers from profiles.
pub fn unit(
    server: &ServerSettings,
    storage: &StorageSettings,
    profiles_url: impl Into<rapport_clients::Upstream>,
) -> Result<ServiceUnit, UnitError> {
    unit_with(
        server,
        storage,
        Rules::default(),
        Arc::new(SystemClock),
        profiles_url,
    )
}

/// The service with its rules and an injected clock (tests move time).
pub fn unit_with(
    server: &ServerSettings,
    storage: &StorageSettings,
    rules: Rules,
    clock: SharedClock,
    profiles_url: impl Into<rapport_clients::Upstream>,
) -> Result<ServiceUnit, UnitError> {
    rules.check().map_err(UnitError::Rules)?;
    let storage = Storage::open(storage)?;
    let profiles = rapport_clients::Profiles::new(profiles_url)?;
    let api = grpc::LoyaltyApi::new(storage.clone(), clock.clone(), Arc::new(rules), profiles);
    let limit = server.max_message_bytes;
    let overdue_clock = clock.clone();
    let unit = ServiceUnit::new(NAME, rapport_proto::FILE_DESCRIPTOR_SET)
        .serve(
            LoyaltyServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .with_storage(storage, MIGRATIONS)
        .observe(move |storage| follow_ups_overdue(storage, overdue_clock.now()));
    Ok(rapport_outbox::observe_backlog(unit, clock))
}

/// `rapport_loyalty_follow_ups_overdue`: detractor follow-ups still open past their SLA.
async fn follow_ups_overdue(
    storage: Storage,
    now: rapport_clock::Timestamp,
) -> Result<Vec<Sample>, rapport_server::BoxError> {
    let mut conn = storage.reader().acquire().await?;
    let overdue = store::follow_ups::count_overdue(&mut conn, now).await?;
    Ok(vec![Sample::new(
        "rapport_loyalty_follow_ups_overdue",
        "Detractor follow-ups still open after their due time",
        overdue as f64,
    )])
}

/// The one assembly of loyalty (issue 22): its unit from `settings` (profiles read through
/// `profiles_url`), and its follow-ups delivered to the profiles timeline. `rapport serve
/// loyalty`, the `rapport-loyalty` binary and `rapport dev` all build loyalty with this.
pub fn assemble(
    settings: &Settings,
    clock: SharedClock,
) -> Result<ServiceUnit, rapport_server::BoxError> {
    let profiles = rapport_clients::Upstream::new(&settings.profiles_url, settings.client.clone());
    let unit = unit_with(
        &settings.server,
        &settings.storage,
        settings.rules.clone(),
        clock.clone(),
        &profiles,
    )?;
    // Follow-ups become commitments on the profiles timeline.
    Ok(rapport_clients::deliver_outbox_to_profiles(
        unit,
        profiles,
        clock,
        rapport_outbox::delivery::Policy::default(),
    )?)
}
