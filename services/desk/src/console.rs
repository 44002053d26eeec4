//! The agents' browser console (`rapport-desk-console`, docs/console.md), served by desk beside
//! its gRPC API when `desk.console_listen` is set: `rapport serve desk` in production and
//! `rapport dev --console-listen`.

use std::net::SocketAddr;

use rapport_desk_console::{ConsoleSettings, ConsoleTls};
use rapport_security::AuthMode;
use rapport_server::ServiceUnit;

use crate::{Settings, UnitError};

/// What the console needs to know, from desk's own settings: it calls desk at desk's own address
/// and profiles, plans and loyalty where desk reaches them, as the signed-in agent (never with a
/// token of desk's); it asks for a token whenever the suite checks them; and it serves HTTPS with
/// desk's certificate when desk serves TLS.
pub fn console_settings(settings: &Settings) -> ConsoleSettings {
    let server = &settings.server;
    let scheme = if server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let own = if server.listen.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], server.listen.port()))
    } else {
        server.listen
    };
    ConsoleSettings {
        desk_url: format!("{scheme}://{own}"),
        profiles_url: settings.desk.profiles_url.clone(),
        plans_url: settings.desk.plans_url.clone(),
        loyalty_url: settings.desk.loyalty_url.clone(),
        client: rapport_clients::ClientSettings {
            token_file: None,
            ..settings.client.clone()
        },
        require_token: server.auth.mode == AuthMode::Jwt,
        tls: server.tls.as_ref().map(|tls| ConsoleTls {
            certificate_file: tls.certificate_file.clone(),
            key_file: tls.key_file.clone(),
        }),
        ..ConsoleSettings::default()
    }
}

/// Binds the console's address now, so a taken port stops the start with its address named,
/// and serves it as a worker of the unit: from when desk is ready until it shuts down.
pub(crate) fn with_console(
    unit: ServiceUnit,
    settings: &Settings,
) -> Result<ServiceUnit, UnitError> {
    let Some(listen) = settings.desk.console_listen else {
        return Ok(unit);
    };
    let listener = std::net::TcpListener::bind(listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|source| UnitError::Console { listen, source })?;
    let console = console_settings(settings);
    Ok(unit.with_worker(move |mut stopping| async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%listen, %error, "the desk console cannot listen");
                return;
            }
        };
        let stopped = async move { stopping.stopped().await };
        if let Err(error) = rapport_desk_console::serve(listener, console, stopped).await {
            tracing::error!(error = %rapport_errors::chain(&error), "the desk console stopped");
        }
    }))
}
