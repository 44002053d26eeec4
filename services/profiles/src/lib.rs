//! Profiles: one view of every customer: who they are, tenure, preferences, consent, every touchpoint, what we promised them.
//!
//! Serves `rapport.profiles.v1.ProfileService` (see `proto/rapport/profiles/v1/`). Layers: `grpc/` (the edge:
//! prost messages in, domain types out), `domain/` (the rules) and `store/` (portable SQL).

mod domain;
mod error;
mod grpc;
mod settings;
mod store;

use std::sync::Arc;

use rapport_clock::{SharedClock, SystemClock};
use rapport_proto::profiles::v1::profile_service_server::ProfileServiceServer;
use rapport_server::{ServerSettings, ServiceUnit};
use rapport_storage::{EmbeddedMigration, Migrations, Storage, StorageError, StorageSettings};

pub use error::ProfilesError;
pub use settings::Settings;

/// The service's name: in `rapport serve profiles`, its data file, its spans.
pub const NAME: &str = "profiles";

/// The migrations in `migrations/`, embedded in the binary and run at start.
pub static MIGRATIONS: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "outbox",
        sql: include_str!("../migrations/0001_outbox.sql"),
    },
    EmbeddedMigration {
        version: 2,
        description: "customers",
        sql: include_str!("../migrations/0002_customers.sql"),
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
    // Name search by key instead of a scan (issue 23), backfilled from the stored folded names.
    EmbeddedMigration {
        version: 7,
        description: "customer_name_keys",
        sql: include_str!("../migrations/0007_customer_name_keys.sql"),
    },
    // Keys of 8 and 12 characters, so a long query word does not walk every name sharing its
    // first six (issue 23), backfilled likewise.
    EmbeddedMigration {
        version: 8,
        description: "long_name_keys",
        sql: include_str!("../migrations/0008_long_name_keys.sql"),
    },
]);

/// The service as the server bootstrap runs it, on its own or inside `rapport dev`.
pub fn unit(
    server: &ServerSettings,
    storage: &StorageSettings,
) -> Result<ServiceUnit, StorageError> {
    unit_with_clock(server, storage, Arc::new(SystemClock))
}

/// [`unit`] with an injected clock (tests move time to make commitments overdue).
pub fn unit_with_clock(
    server: &ServerSettings,
    storage: &StorageSettings,
    clock: SharedClock,
) -> Result<ServiceUnit, StorageError> {
    let storage = Storage::open(storage)?;
    let limit = server.max_message_bytes;
    let unit = ServiceUnit::new(NAME, rapport_proto::FILE_DESCRIPTOR_SET)
        .serve(
            ProfileServiceServer::new(grpc::ProfileApi::new(storage.clone(), clock.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .with_storage(storage, MIGRATIONS);
    Ok(rapport_outbox::observe_backlog(unit, clock))
}

/// The one assembly of profiles (issue 22): its unit from `settings`, and its outbox delivered
/// to loyalty (every event) and its merges and erasures to plans and referrals. `rapport serve
/// profiles`, the `rapport-profiles` binary and `rapport dev` all build profiles with this.
pub fn assemble(
    settings: &Settings,
    clock: SharedClock,
) -> Result<ServiceUnit, rapport_server::BoxError> {
    let upstream = |url: &String| rapport_clients::Upstream::new(url, settings.client.clone());
    let unit = unit_with_clock(&settings.server, &settings.storage, clock.clone())?;
    Ok(rapport_clients::deliver_outbox_as_configured(
        unit,
        upstream(&settings.loyalty_url),
        vec![
            rapport_clients::Downstream::Plans(upstream(&settings.plans_url)),
            rapport_clients::Downstream::Referrals(upstream(&settings.referrals_url)),
        ],
        clock,
    )?)
}
