//! Referrals: trust customers: referrals, vouching for prospects, an explainable trust score, fraud-resistant rewards.
//!
//! Serves `rapport.referrals.v1.ReferralService` (see `proto/rapport/referrals/v1/`). Layers: `grpc/` (the edge:
//! prost messages in, domain types out), `domain/` (trust, fraud, members) and `store/`.

pub mod domain;
mod error;
mod grpc;
mod rules;
mod settings;
mod store;

use std::sync::Arc;

use rapport_clock::{SharedClock, SystemClock};
use rapport_proto::referrals::v1::referral_service_server::ReferralServiceServer;
use rapport_server::{ServerSettings, ServiceUnit};
use rapport_storage::{EmbeddedMigration, Migrations, Storage, StorageError, StorageSettings};

pub use error::ReferralsError;
pub use rules::Rules;
pub use settings::{Settings, TrustSettings};

/// Trust computed in batch (issue 23): the batch the worker runs, for tests, benchmarks and
/// operators.
pub mod trust {
    pub use crate::grpc::trust::MODEL_VERSION;
    pub use crate::grpc::trust::online::{Online, Outcome, update as update_online};
    pub use crate::grpc::trust::refresh::{recompute, recompute_anchored};
    pub use crate::store::trust::Run;
}

/// The service's name: in `rapport serve referrals`, its data file, its spans.
pub const NAME: &str = "referrals";

/// The migrations in `migrations/`, embedded in the binary and run at start.
pub static MIGRATIONS: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "outbox",
        sql: include_str!("../migrations/0001_outbox.sql"),
    },
    EmbeddedMigration {
        version: 2,
        description: "referrals",
        sql: include_str!("../migrations/0002_referrals.sql"),
    },
    EmbeddedMigration {
        version: 3,
        description: "standing lost at",
        sql: include_str!("../migrations/0003_standing_lost_at.sql"),
    },
    // The audit trail: one file shared by every service (rapport-audit).
    EmbeddedMigration {
        version: 4,
        description: "audit_log",
        sql: rapport_audit::MIGRATION_SQL,
    },
    // Delivery claims on the outbox: one file shared by every service (rapport-outbox).
    EmbeddedMigration {
        version: 5,
        description: "outbox_claims",
        sql: rapport_outbox::CLAIMS_MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 6,
        description: "good standing",
        sql: include_str!("../migrations/0006_good_standing.sql"),
    },
    EmbeddedMigration {
        version: 7,
        description: "merges and erasures",
        sql: include_str!("../migrations/0007_merges.sql"),
    },
    // Storage faults (issue 20): an audit entry's pending half commits with the change, and the
    // storage's probe proves writes work again after a refusal.
    EmbeddedMigration {
        version: 8,
        description: "audit_pending",
        sql: rapport_audit::PENDING_MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 9,
        description: "storage_probe",
        sql: rapport_storage::PROBE_MIGRATION_SQL,
    },
    // Trust served online (issue 23): stored answers, the graph's version, the batches.
    EmbeddedMigration {
        version: 10,
        description: "trust results",
        sql: include_str!("../migrations/0010_trust_results.sql"),
    },
    // Trust updated online (issue 23, item 5): which stored answers a settled update covers.
    EmbeddedMigration {
        version: 11,
        description: "trust online",
        sql: include_str!("../migrations/0011_trust_online.sql"),
    },
]);

/// Why the unit could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("invalid profiles_url")]
    ProfilesUrl(#[from] rapport_clients::ClientError),
    #[error("invalid setting: {0}")]
    Setting(String),
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

/// The service with its rules and an injected clock (tests move time); trust is served with the
/// default settings and no recompute worker (so every answer is computed online until a batch
/// runs).
pub fn unit_with(
    server: &ServerSettings,
    storage: &StorageSettings,
    rules: Rules,
    clock: SharedClock,
    profiles_url: impl Into<rapport_clients::Upstream>,
) -> Result<ServiceUnit, UnitError> {
    let trust = TrustSettings {
        worker: false,
        ..TrustSettings::default()
    };
    unit_with_trust(server, storage, rules, clock, profiles_url, trust)
}

/// [`unit_with`] with trust's settings; with `trust.worker` the unit recomputes trust in the
/// background.
pub fn unit_with_trust(
    server: &ServerSettings,
    storage: &StorageSettings,
    rules: Rules,
    clock: SharedClock,
    profiles_url: impl Into<rapport_clients::Upstream>,
    trust: TrustSettings,
) -> Result<ServiceUnit, UnitError> {
    trust.validate().map_err(UnitError::Setting)?;
    let storage = Storage::open(storage)?;
    let profiles = rapport_clients::Profiles::new(profiles_url)?;
    let rules = Arc::new(rules);
    let api = grpc::ReferralApi::new(
        storage.clone(),
        clock.clone(),
        rules.clone(),
        profiles,
        Arc::new(trust.clone()),
    );
    let limit = server.max_message_bytes;
    let unit = ServiceUnit::new(NAME, rapport_proto::FILE_DESCRIPTOR_SET)
        .serve(
            ReferralServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .with_storage(storage.clone(), MIGRATIONS);
    let unit = if trust.worker {
        let clock = clock.clone();
        unit.with_worker(move |stopping| {
            grpc::trust::refresh::run(storage, clock, rules, trust, stopping)
        })
    } else {
        unit
    };
    Ok(rapport_outbox::observe_backlog(unit, clock))
}

/// The one assembly of referrals (issue 22): its unit from `settings` (profiles read through
/// `profiles_url`), and its outbox delivered to loyalty. `rapport serve referrals`, the
/// `rapport-referrals` binary and `rapport dev` all build referrals with this.
pub fn assemble(
    settings: &Settings,
    clock: SharedClock,
) -> Result<ServiceUnit, rapport_server::BoxError> {
    let upstream = |url: &String| rapport_clients::Upstream::new(url, settings.client.clone());
    let unit = unit_with_trust(
        &settings.server,
        &settings.storage,
        settings.rules.clone(),
        clock.clone(),
        upstream(&settings.profiles_url),
        settings.trust.clone(),
    )?;
    Ok(rapport_clients::deliver_outbox_as_configured(
        unit,
        upstream(&settings.loyalty_url),
        Vec::new(),
        clock,
    )?)
}
