//! The call-center agent's browser console (issue 25; docs/console.md): server-rendered HTML
//! (maud) served by axum, plain forms with post-redirect-get and no JavaScript, over the suite's
//! gRPC services called as the signed-in agent.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let settings = rapport_desk_console::ConsoleSettings::for_suite(
//!     "http://127.0.0.1:50051",
//!     rapport_clients::ClientSettings::default(),
//!     false,
//! );
//! rapport_desk_console::serve(listener, settings, std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! Layers: `suite` (the gRPC clients), `session` (the agent's token cookie, CSRF origin check),
//! `failure` (refused calls → field errors and banners), `form`/`format`/`layout` (forms in,
//! values out, the page shell) and `pages/` (one file per page).

mod failure;
mod form;
mod format;
mod layout;
mod pages;
mod session;
mod settings;
mod suite;
mod tls;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

pub use settings::{ConsoleSettings, DebtAdviceChoice, default_debt_advice};
pub use suite::SettingError;
pub use tls::{ConsoleTls, TlsError};

use crate::layout::Chrome;
use crate::session::Agent;

/// The console's one stylesheet, compiled in.
const CSS: &str = include_str!("console.css");

/// Why the console stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("the console's listener failed")]
    Serve(#[source] std::io::Error),
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct Console {
    pub suite: suite::Suite,
    pub settings: Arc<ConsoleSettings>,
}

impl Console {
    /// The agent behind a request, or the sign-in page when a token is required and there is
    /// none (or it cannot be used).
    #[allow(clippy::result_large_err)]
    pub fn agent(&self, headers: &HeaderMap) -> Result<Agent, Response> {
        let now = jiff::Timestamp::now().as_second();
        match session::cookie_token(headers).map(|token| Agent::from_token(&token, now)) {
            Some(Ok(agent)) => Ok(agent),
            Some(Err(_)) if self.settings.require_token => {
                Err(Redirect::to("/sign-in?notice=sign-in-again").into_response())
            }
            None if self.settings.require_token => Err(Redirect::to("/sign-in").into_response()),
            _ => Ok(Agent::anonymous()),
        }
    }

    pub fn chrome(&self, agent: &Agent) -> Chrome {
        Chrome {
            agent: agent.clone(),
            require_token: self.settings.require_token,
        }
    }
}

/// A handler that takes an [`Agent`] gets the signed-in agent, or the caller is sent to sign in.
impl axum::extract::FromRequestParts<Console> for Agent {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        console: &Console,
    ) -> Result<Self, Self::Rejection> {
        console.agent(&parts.headers)
    }
}

/// The console's routes, calling the suite as configured (channels connect lazily).
pub fn router(settings: ConsoleSettings) -> Result<Router, SettingError> {
    let console = Console {
        suite: suite::Suite::new(&settings)?,
        settings: Arc::new(settings),
    };
    Ok(pages::routes()
        .route("/console.css", axum::routing::get(stylesheet))
        .with_state(console)
        .layer(middleware::from_fn(same_origin_posts))
        .layer(middleware::from_fn(log_route))
        .layer(middleware::map_response(page_headers)))
}

/// Serves the console on `listener` until `shutdown` completes: HTTPS when `settings.tls` is
/// set (and then the session cookie is `Secure`), plain HTTP otherwise.
pub async fn serve(
    listener: tokio::net::TcpListener,
    mut settings: ConsoleSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ConsoleError> {
    let acceptor = settings
        .tls
        .as_ref()
        .map(ConsoleTls::acceptor)
        .transpose()?;
    if acceptor.is_some() {
        settings.secure_cookie = true;
    }
    let app = router(settings)?;
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, https = acceptor.is_some(), "serving the desk console");
    }
    match acceptor {
        Some(acceptor) => axum::serve(
            tls::TlsListener {
                tcp: listener,
                acceptor,
            },
            app,
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ConsoleError::Serve),
        None => axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ConsoleError::Serve),
    }
}

async fn stylesheet(State(_): State<Console>) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// No page is ever cached (personal data), framed, or allowed a script.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Routes and codes only: never a name, a query or a form value.
async fn log_route(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    tracing::info!(%method, route, status = response.status().as_u16(), "console request");
    response
}

/// CSRF: a POST must come from the console's own pages (Origin or Referer = Host).
async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !session::same_origin(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "This form was not sent from the console's own pages, so it was refused.",
        )
            .into_response();
    }
    next.run(request).await
}
