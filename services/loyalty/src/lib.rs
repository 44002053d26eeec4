//! Loyalty: continuous surveys, closed-loop feedback, an explainable loyalty score, tenure rewards.
//!
//! Serves `rapport.loyalty.v1.LoyaltyService` (see `proto/rapport/loyalty/v1/`). Layers: `grpc/` (the edge: prost
//! messages in, domain types out), `domain/` (the rules; so far the NPS arithmetic) and, as the
//! issues build them, `store/`.

pub mod domain;
mod error;
mod grpc;
mod rules;
mod settings;

use rapport_proto::loyalty::v1::loyalty_service_server::LoyaltyServiceServer;
use rapport_server::{ServerSettings, ServiceUnit};
use rapport_storage::{EmbeddedMigration, Migrations, Storage, StorageError, StorageSettings};

pub use error::LoyaltyError;
pub use rules::{Rules, ScoreModel};
pub use settings::Settings;

/// The service's name: in `rapport serve loyalty`, its data file, its spans.
pub const NAME: &str = "loyalty";

/// The migrations in `migrations/`, embedded in the binary and run at start.
pub static MIGRATIONS: Migrations = Migrations(&[EmbeddedMigration {
    version: 1,
    description: "outbox",
    sql: include_str!("../migrations/0001_outbox.sql"),
}]);

/// The service as the server bootstrap runs it, on its own or inside `rapport dev`.
pub fn unit(
    server: &ServerSettings,
    storage: &StorageSettings,
) -> Result<ServiceUnit, StorageError> {
    let storage = Storage::open(storage)?;
    let limit = server.max_message_bytes;
    Ok(ServiceUnit::new(NAME, rapport_proto::FILE_DESCRIPTOR_SET)
        .serve(
            LoyaltyServiceServer::new(grpc::LoyaltyApi)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .with_storage(storage, MIGRATIONS))
}
