//! The agent's and operator's command line: `rapport customer find|show`, `rapport plans
//! options|accept`, `rapport loyalty score|follow-ups`. Each talks to a running suite through the
//! generated clients (with the trace layer) and prints what a person reads — names beside ids,
//! money with its currency's decimals — or, with `--output json`, the response as proto3 JSON; a
//! refused call prints its gRPC code, the fields at fault and why.
//!
//! One file per command group (`customer`, `plans`, `loyalty`), with `customer show`'s sections
//! in `overview/`; what they share is here and in `format` (tables, money, dates), `names`
//! (customer names for ids) and `json`.

mod customer;
mod format;
mod json;
mod loyalty;
mod names;
mod overview;
mod plans;

use anyhow::Context;
use rapport_clients::{BearerService, ClientSettings, Upstream};
use rapport_telemetry::{ClientTraceLayer, ClientTraceService};
use tonic::transport::Channel;
use tower::ServiceBuilder;

pub use customer::{customer_find, customer_find_as, customer_show};
pub use format::{money, table};
pub use json::to_json;
pub use loyalty::{follow_ups, follow_ups_as, loyalty_score, loyalty_score_as};
pub use names::Names;
pub use overview::render_overview;
pub use plans::{plan_accept, plan_accept_as, plan_options, plan_options_as};

/// The suite's address when none is given (`rapport dev`'s default).
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:50051";

pub type Connection = ClientTraceService<BearerService<Channel>>;

/// How the agent's tools prove who they are to a secured suite: the agent's bearer token, and
/// TLS as a service's client configures it (CA, client certificate, domain name).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub token: Option<String>,
    pub tls: ClientSettings,
}

/// How an agent command prints its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Readable sections and tables, names beside ids.
    #[default]
    Text,
    /// The response as proto3 JSON, field names as in the .proto (for scripts and tools).
    Json,
}

/// A plaintext connection without a token (`rapport dev`).
pub async fn connect(address: &str) -> anyhow::Result<Connection> {
    connect_with(address, &Credentials::default()).await
}

pub async fn connect_with(address: &str, credentials: &Credentials) -> anyhow::Result<Connection> {
    let channel = Upstream::new(address, credentials.tls.clone())
        .endpoint()
        .with_context(|| format!("{address} is not an address, or the TLS files are not usable"))?
        .connect()
        .await
        .with_context(|| format!("cannot reach the suite at {address}"))?;
    let authorised = BearerService::with_token(channel, credentials.token.as_deref())?;
    Ok(ServiceBuilder::new()
        .layer(ClientTraceLayer)
        .service(authorised))
}

/// A refused call as an agent should read it: code, message, and each field at fault.
fn refused(status: tonic::Status) -> anyhow::Error {
    use tonic_types::StatusExt;
    match status.get_error_details().bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => {
            let mut text = format!("{:?}:", status.code());
            for v in &bad.field_violations {
                text.push_str(&format!("\n  {}: {}", v.field, v.description));
            }
            anyhow::Error::msg(text)
        }
        _ => anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
    }
}
