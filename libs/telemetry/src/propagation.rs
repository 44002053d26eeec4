//! W3C trace context across gRPC calls: extracted once on the server side, injected once on the
//! client side. Both layers work on plain `http` requests, so they wrap tonic servers and
//! channels alike.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use opentelemetry::global;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower::Service;
use tower_layer::Layer;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Installs the W3C trace-context propagator process-wide. [`crate::init`] calls it; tests that
/// build their own subscriber call it directly. Idempotent.
pub fn install_propagator() {
    global::set_text_map_propagator(TraceContextPropagator::new());
}

/// The W3C `traceparent` of the current span, for work that leaves the call (an outbox event),
/// so whoever continues it joins the same trace. `None` outside any sampled trace.
pub fn current_traceparent() -> Option<String> {
    let context = Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut carrier));
    carrier.remove("traceparent")
}

/// Makes `span` continue the trace of `traceparent` (as an outbox event carries it), so work
/// done on an event delivered later is part of the journey that produced it. An empty or
/// malformed `traceparent` leaves the span where it is.
pub fn continue_trace(span: &Span, traceparent: &str) {
    if traceparent.is_empty() {
        return;
    }
    let carrier: std::collections::HashMap<String, String> =
        [("traceparent".to_owned(), traceparent.to_owned())].into();
    let parent = global::get_text_map_propagator(|p| p.extract(&carrier));
    let _ = span.set_parent(parent);
}

/// The span a W3C `traceparent` names; `None` when it is empty or malformed. The outbox stores
/// `traceparent`s in W3C form whatever propagator is installed, so this reads them as such.
fn span_context_of(traceparent: &str) -> Option<SpanContext> {
    if traceparent.is_empty() {
        return None;
    }
    let carrier: std::collections::HashMap<String, String> =
        [("traceparent".to_owned(), traceparent.to_owned())].into();
    let context = TraceContextPropagator::new().extract(&carrier);
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then_some(span_context)
}

/// Links `span` to the span `traceparent` names (the change that produced an outbox event)
/// without making it the parent: work on a batch of events from many journeys stays in a trace of
/// its own, and each journey is one link away from it. An empty or malformed `traceparent` adds
/// nothing. Whether a link was added.
pub fn link_to_trace(span: &Span, traceparent: &str) -> bool {
    let Some(producer) = span_context_of(traceparent) else {
        return false;
    };
    span.add_link(producer);
    true
}

/// [`link_to_trace`] for each distinct `traceparent` (the events of one change share theirs, and
/// get one link): how many links were added.
pub fn link_to_traces<'a>(span: &Span, traceparents: impl IntoIterator<Item = &'a str>) -> usize {
    let mut seen = std::collections::HashSet::new();
    traceparents
        .into_iter()
        .filter_map(span_context_of)
        .filter(|producer| seen.insert((producer.trace_id(), producer.span_id())))
        .map(|producer| span.add_link(producer))
        .count()
}

/// Opens one `rpc.server` span per incoming call, continuing the caller's trace when the request
/// carries a `traceparent`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerTraceLayer;

impl<S> Layer<S> for ServerTraceLayer {
    type Service = ServerTraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerTraceService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct ServerTraceService<S> {
    inner: S,
}

impl<S, B, ResBody> Service<http::Request<B>> for ServerTraceService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ServerTraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent =
            global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(request.headers())));
        let (service, method) = grpc_service_and_method(request.uri().path());
        // `rpc.*` semantic conventions; `otel.name` becomes the exported span's name.
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %format_args!("{service}/{method}"),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        // Fails only when no OpenTelemetry layer is installed, where there is nothing to link.
        let _ = span.set_parent(parent);
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        ServerTraceFuture { inner, span }
    }
}

pin_project_lite::pin_project! {
    /// Polls the inner call inside its server span and records the gRPC status.
    #[derive(Debug)]
    pub struct ServerTraceFuture<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F, ResBody, E> Future for ServerTraceFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let output = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &output {
            // A failed unary call is "trailers-only": its grpc-status arrives in the headers.
            // A successful one sends grpc-status 0 in the trailers, which this layer never sees.
            let code = grpc_status_code(response.headers()).unwrap_or(0);
            this.span.record("rpc.grpc.status_code", i64::from(code));
        }
        Poll::Ready(output)
    }
}

/// Injects the current span's trace context into every outgoing call.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientTraceLayer;

impl<S> Layer<S> for ClientTraceLayer {
    type Service = ClientTraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientTraceService { inner }
    }
}

#[derive(Debug, Clone)]
pub struct ClientTraceService<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for ClientTraceService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let context = Span::current().context();
        global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut HeaderInjector(request.headers_mut()));
        });
        self.inner.call(request)
    }
}

/// The `grpc-status` in `headers` (a trailers-only response's headers, or the trailers), as a
/// number; `None` when absent or malformed.
pub fn grpc_status_code(headers: &http::HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

/// `/rapport.profiles.v1.ProfileService/GetCustomer` → (`rapport.profiles.v1.ProfileService`,
/// `GetCustomer`).
pub fn grpc_service_and_method(path: &str) -> (&str, &str) {
    let trimmed = path.trim_start_matches('/');
    trimmed.split_once('/').unwrap_or((trimmed, ""))
}

#[cfg(test)]
mod tests {
    use super::grpc_service_and_method;

    #[test]
    fn splits_grpc_paths() {
        assert_eq!(
            grpc_service_and_method("/rapport.profiles.v1.ProfileService/GetCustomer"),
            ("rapport.profiles.v1.ProfileService", "GetCustomer")
        );
        assert_eq!(grpc_service_and_method("/odd"), ("odd", ""));
    }
}
