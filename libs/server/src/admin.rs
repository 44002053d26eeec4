//! The admin port: plaintext HTTP/1.1 for Prometheus and people (`/metrics`, `/livez`,
//! `/readyz`) and the gRPC health service over h2c on the same port, for Kubernetes' native gRPC
//! probes, which cannot speak TLS to the main port. It answers until the process exits, so
//! probes see `NOT_SERVING` and `/readyz` 503 through the shutdown grace period.

use std::future::Future;

use axum::http::{StatusCode, header};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::Server;

use crate::metrics::{CONTENT_TYPE, Exposition};
use crate::readiness::Readiness;

/// Serves the admin routes on `listener` until `stop` resolves.
pub(crate) async fn serve<H>(
    listener: TcpListener,
    health: H,
    exposition: Exposition,
    readiness: Readiness,
    business_clock: Option<std::sync::Arc<rapport_clock::MovableClock>>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error>
where
    H: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    H::Future: Send + 'static,
{
    let http = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let exposition = exposition.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, CONTENT_TYPE)],
                        exposition.render().await,
                    )
                }
            }),
        )
        // Alive while the runtime answers; restarting would not help anything this can see.
        .route("/livez", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let not_ready = readiness.not_ready();
                async move {
                    if not_ready.is_empty() {
                        (StatusCode::OK, "ready\n".to_owned())
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, not_ready.join("\n") + "\n")
                    }
                }
            }),
        );
    let http = match business_clock {
        Some(clock) => http.merge(crate::business_clock::routes(clock)),
        None => http,
    };
    // Anything else is a 404 for people and scrapers (tonic's own fallback answers gRPC's
    // UNIMPLEMENTED inside an HTTP 200).
    let routes = Routes::new(health)
        .into_axum_router()
        .merge(http)
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: try /metrics, /livez or /readyz\n",
            )
        });
    Server::builder()
        .accept_http1(true)
        .add_routes(Routes::from(routes))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop)
        .await
}
