//! Referrals: trust customers: referrals, vouching for prospects, an explainable trust score, fraud-resistant rewards.
//!
//! Serves `rapport.referrals.v1.ReferralService` (see `proto/rapport/referrals/v1/`). Layers: `grpc/` (the edge: prost
//! messages in, domain types out), and, as the issues build them, `domain/` and `store/`.

mod error;
mod grpc;
mod settings;

use rapport_proto::referrals::v1::referral_service_server::ReferralServiceServer;
use rapport_server::{ServerSettings, ServiceUnit};
use rapport_storage::{EmbeddedMigration, Migrations, Storage, StorageError, StorageSettings};

pub use error::ReferralsError;
pub use settings::Settings;

/// The service's name: in `rapport serve referrals`, its data file, its spans.
pub const NAME: &str = "referrals";

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
            ReferralServiceServer::new(grpc::ReferralApi)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .with_storage(storage, MIGRATIONS))
}
