//! Desk: the call-center agent's desk. One overview of a customer from profiles, plans,
//! referrals and loyalty, asked in parallel within a deadline budget (DESIGN.md, the desk).
//!
//! Serves `rapport.desk.v1.DeskService` (see `proto/rapport/desk/v1/`). Stateless: no database,
//! nothing remembered between calls. Desk asks the four services *as its caller* (their
//! `authorization` travels on), so each service checks its own roles and writes its own audit
//! entries; desk holds no token of its own. Layers: `upstreams` (the four, reached through
//! traced, lazily connected channels built once) and `grpc/` (the overview, its fan-out and
//! its sections).

pub mod console;
mod error;
mod grpc;
mod settings;
mod upstreams;

use std::sync::Arc;

use rapport_clock::{SharedClock, SystemClock};
use rapport_proto::desk::v1::desk_service_server::DeskServiceServer;
use rapport_server::ServiceUnit;

pub use error::DeskError;
pub use settings::{DeskSettings, Settings};
pub use upstreams::Upstreams;

/// The service's name: in `rapport serve desk`, its spans and its metrics.
pub const NAME: &str = "desk";

/// Why the unit could not be built: an address or TLS setting of one of the four.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("invalid desk.{setting}")]
    Upstream {
        setting: &'static str,
        #[source]
        source: rapport_clients::ClientError,
    },
    #[error("the console cannot listen on {listen} (desk.console_listen)")]
    Console {
        listen: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Desk with the system clock.
pub fn unit(settings: &Settings) -> Result<ServiceUnit, UnitError> {
    assemble(settings, Arc::new(SystemClock))
}

/// The one assembly of desk: `rapport serve desk`, the `rapport-desk` binary, `rapport dev` and
/// the tests all build it with this. The channels to the four connect lazily, so desk starts
/// (and is ready: it has no storage to wait for) while they are still down.
pub fn assemble(settings: &Settings, clock: SharedClock) -> Result<ServiceUnit, UnitError> {
    if settings.client.token_file.is_some() {
        tracing::warn!(
            "client.token_file is set but not used: desk calls the others with each caller's own token"
        );
    }
    let upstreams = Upstreams::new(&settings.desk, &settings.client)?;
    let api = grpc::DeskApi::new(upstreams, clock, settings.desk.budget());
    let limit = settings.server.max_message_bytes;
    let unit = ServiceUnit::new(NAME, rapport_proto::FILE_DESCRIPTOR_SET)
        .serve(
            DeskServiceServer::new(api)
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .ready_when(async { Ok(()) });
    console::with_console(unit, settings)
}
