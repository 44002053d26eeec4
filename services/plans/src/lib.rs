//! Plans: collections with dignity: accounts, hardship, affordability, payment plans the customer chooses, contact rules, recovery reporting.
//!
//! Serves `rapport.plans.v1.AccountService`, `rapport.plans.v1.HardshipService`, `rapport.plans.v1.PlanService`, `rapport.plans.v1.OutreachService`, `rapport.plans.v1.ReportingService` (see `proto/rapport/plans/v1/`). Layers: `grpc/` (the edge:
//! prost messages in, domain types out), `domain/` (the rules and the money) and `store/`
//! (portable SQL).

mod customers;
mod domain;
mod error;
mod grpc;
mod rules;
mod settings;
mod store;

use std::sync::Arc;

use rapport_clock::{SharedClock, SystemClock};
use rapport_proto::plans::v1::PlanStatus;
use rapport_proto::plans::v1::account_service_server::AccountServiceServer;
use rapport_proto::plans::v1::hardship_service_server::HardshipServiceServer;
use rapport_proto::plans::v1::outreach_service_server::OutreachServiceServer;
use rapport_proto::plans::v1::plan_service_server::PlanServiceServer;
use rapport_proto::plans::v1::reporting_service_server::ReportingServiceServer;
use rapport_server::{Sample, ServerSettings, ServiceUnit};
use rapport_storage::{EmbeddedMigration, Migrations, Storage, StorageError, StorageSettings};

pub use error::PlansError;
pub use rules::{DebtAdviceEntry, Rules};
pub use settings::Settings;

/// The service's name: in `rapport serve plans`, its data file, its spans.
pub const NAME: &str = "plans";

/// The migrations in `migrations/`, embedded in the binary and run at start.
pub static MIGRATIONS: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "outbox",
        sql: include_str!("../migrations/0001_outbox.sql"),
    },
    EmbeddedMigration {
        version: 2,
        description: "collections",
        sql: include_str!("../migrations/0002_collections.sql"),
    },
    EmbeddedMigration {
        version: 3,
        description: "outreach",
        sql: include_str!("../migrations/0003_outreach.sql"),
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
        description: "one account of the money",
        sql: include_str!("../migrations/0007_one_account_of_money.sql"),
    },
    EmbeddedMigration {
        version: 8,
        description: "customer merges",
        sql: include_str!("../migrations/0008_customer_merges.sql"),
    },
    EmbeddedMigration {
        version: 9,
        description: "recovery audit",
        sql: include_str!("../migrations/0009_recovery_audit.sql"),
    },
    // Storage faults (issue 20): an audit entry's pending half commits with the change, and the
    // storage's probe proves writes work again after a refusal.
    EmbeddedMigration {
        version: 10,
        description: "audit_pending",
        sql: rapport_audit::PENDING_MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 11,
        description: "storage_probe",
        sql: rapport_storage::PROBE_MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 12,
        description: "discovery",
        sql: include_str!("../migrations/0012_discovery.sql"),
    },
]);

/// Why the unit could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("invalid profiles_url")]
    ProfilesUrl(#[from] rapport_clients::ClientError),
    #[error("invalid plans rules: {0}")]
    Rules(String),
}

/// The service with the default rules and the system clock, reading customers from profiles at
/// `profiles_url`.
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
    let directory = Arc::new(customers::ProfilesClient::new(profiles_url)?);
    let core = grpc::Core::new(storage.clone(), clock.clone(), Arc::new(rules), directory);
    let limit = server.max_message_bytes;
    let unit = ServiceUnit::new(NAME, rapport_proto::FILE_DESCRIPTOR_SET)
        .serve(
            AccountServiceServer::new(grpc::AccountApi(core.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .serve(
            HardshipServiceServer::new(grpc::HardshipApi(core.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .serve(
            PlanServiceServer::new(grpc::PlanApi(core.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .serve(
            OutreachServiceServer::new(grpc::OutreachApi(core.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .serve(
            ReportingServiceServer::new(grpc::ReportingApi(core))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .with_storage(storage, MIGRATIONS)
        .observe(plans_by_state);
    Ok(rapport_outbox::observe_backlog(unit, clock))
}

/// Every plan state, as `/metrics` labels it (the proto names without their prefix).
const PLAN_STATES: [PlanStatus; 5] = [
    PlanStatus::Active,
    PlanStatus::Completed,
    PlanStatus::Broken,
    PlanStatus::Cancelled,
    PlanStatus::Superseded,
];

/// `rapport_plans_payment_plans{state}`: how many plans are in each state, 0 included.
async fn plans_by_state(storage: Storage) -> Result<Vec<Sample>, rapport_server::BoxError> {
    let mut conn = storage.reader().acquire().await?;
    let counts = store::plans::count_by_status(&mut conn).await?;
    Ok(PLAN_STATES
        .iter()
        .map(|state| {
            let count = counts
                .iter()
                .find(|(name, _)| name == state.as_str_name())
                .map_or(0, |(_, count)| *count);
            let label = state
                .as_str_name()
                .trim_start_matches("PLAN_STATUS_")
                .to_ascii_lowercase();
            Sample::new(
                "rapport_plans_payment_plans",
                "Payment plans by state",
                count as f64,
            )
            .label("state", label)
        })
        .collect())
}

/// The one assembly of plans (issue 22): its unit from `settings` (profiles read through
/// `profiles_url`), and its outbox delivered to loyalty (every event) and its good standing to
/// referrals. `rapport serve plans`, the `rapport-plans` binary and `rapport dev` all build
/// plans with this.
pub fn assemble(
    settings: &Settings,
    clock: SharedClock,
) -> Result<ServiceUnit, rapport_server::BoxError> {
    // The shipped message templates pass their structure and tone checks before plans serves:
    // a bad one stops the start, naming its file (they are data, `engines/outreach/templates`).
    domain::templates::load_shipped()?;
    let upstream = |url: &String| rapport_clients::Upstream::new(url, settings.client.clone());
    let unit = unit_with(
        &settings.server,
        &settings.storage,
        settings.rules.clone(),
        clock.clone(),
        upstream(&settings.profiles_url),
    )?;
    Ok(rapport_clients::deliver_outbox_as_configured(
        unit,
        upstream(&settings.loyalty_url),
        vec![rapport_clients::Downstream::Referrals(upstream(
            &settings.referrals_url,
        ))],
        clock,
    )?)
}
