//! Runs the console against a suite that is already running, for trying pages by hand and for
//! the browser tests until `rapport dev --console-listen` serves it:
//!
//! ```sh
//! cargo run -p rapport -- dev --demo &
//! cargo run -p rapport-desk-console --example console -- 127.0.0.1:8080 http://127.0.0.1:50051
//! # against `rapport dev --secure .rapport/secure` (mutual TLS, tokens required):
//! cargo run -p rapport-desk-console --example console -- 127.0.0.1:8080 https://127.0.0.1:50051 \
//!     --secure .rapport/secure
//! ```
//!
//! `--require-token` alone asks every page for a sign-in; `--secure DIR` also uses the
//! development CA and client certificate that `rapport dev --secure DIR` made; `--https` (with
//! `--secure DIR`) serves the console itself over HTTPS with DIR's server certificate.

#![allow(clippy::print_stderr)]

use std::path::PathBuf;

use rapport_clients::ClientSettings;
use rapport_desk_console::{ConsoleSettings, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let suite = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:50051".to_owned());
    let secure_dir = args
        .iter()
        .position(|a| a == "--secure")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let require_token = secure_dir.is_some() || args.iter().any(|a| a == "--require-token");
    let client = match &secure_dir {
        Some(dir) => ClientSettings {
            ca_file: Some(dir.join("ca.pem")),
            certificate_file: Some(dir.join("client.pem")),
            key_file: Some(dir.join("client.key")),
            domain_name: Some("localhost".to_owned()),
            token_file: None,
        },
        None => ClientSettings::default(),
    };
    let mut settings = ConsoleSettings::for_suite(&suite, client, require_token);
    if args.iter().any(|a| a == "--https")
        && let Some(dir) = &secure_dir
    {
        settings.tls = Some(rapport_desk_console::ConsoleTls {
            certificate_file: dir.join("server.pem"),
            key_file: dir.join("server.key"),
        });
    }
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "console: {scheme}://{} (suite {suite})",
        listener.local_addr()?
    );
    serve(listener, settings, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
