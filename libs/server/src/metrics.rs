//! Prometheus metrics (DESIGN.md, Operations), served on the admin port by [`crate::admin`].
//!
//! - Every call: `rpc_server_call_duration_seconds`, a histogram named after the OpenTelemetry
//!   semantic convention `rpc.server.call.duration` (seconds), by `rpc_service`, `rpc_method` and
//!   `rpc_response_status_code` (the gRPC code's name); its `_count` is the number of calls. The
//!   duration runs from the request's arrival to the response's last frame (the trailers).
//!   `rpc_server_active_calls` counts calls in flight per service.
//! - Every unit with storage, read at scrape time: its pools
//!   (`db_client_connection_count` by state, `db_client_connection_max`, after the
//!   `db.client.connection.*` conventions), `rapport_storage_up`, and whatever the unit observes
//!   itself ([`crate::ServiceUnit::observe`]: outbox backlog, plans by state, overdue follow-ups).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use rapport_storage::Storage;
use tonic::Code;
use tonic::body::Body;
use tower::Service;
use tower_layer::Layer;

use crate::BoxError;

/// The content type of [`Exposition::render`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Label value for a service or method this server does not serve, so a caller inventing paths
/// cannot create new series (the semantic conventions' `_OTHER`).
const OTHER: &str = "_OTHER";

/// How long one unit's scrape-time queries may take before the unit reports storage down.
const OBSERVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Upper bounds of the latency buckets, in seconds: fine below 100 ms, where a call-center
/// agent waits on `GetPlanOptions` (p50 2.6 ms here), coarse up to the 30 s default deadline.
const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// One value a unit reports at scrape time, e.g. `rapport_outbox_backlog_events{service="plans"} 3`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: &'static str,
    pub help: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Sample {
    pub fn new(name: &'static str, help: &'static str, value: f64) -> Self {
        Self {
            name,
            help,
            labels: Vec::new(),
            value,
        }
    }

    pub fn label(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.labels.push((key, value.into()));
        self
    }
}

type ObserveFuture = Pin<Box<dyn Future<Output = Result<Vec<Sample>, BoxError>> + Send>>;
/// What a unit reads from its storage at scrape time.
pub(crate) type Observer = Arc<dyn Fn(Storage) -> ObserveFuture + Send + Sync>;

pub(crate) fn observer<F, Fut>(observe: F) -> Observer
where
    F: Fn(Storage) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<Sample>, BoxError>> + Send + 'static,
{
    Arc::new(move |storage| Box::pin(observe(storage)))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    rpc_system_name: &'static str,
    rpc_service: String,
    rpc_method: String,
    rpc_response_status_code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    rpc_service: String,
}

type DynamicLabels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The per-call instruments, shared by the layer and the exposition.
#[derive(Debug, Clone)]
pub(crate) struct RpcMetrics {
    calls: Family<CallLabels, Histogram, fn() -> Histogram>,
    active: Family<ServiceLabel, Gauge>,
    /// The gRPC services this server serves; calls to any other are labelled `_OTHER`.
    known: Arc<HashSet<&'static str>>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl RpcMetrics {
    pub(crate) fn new(known: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            calls: Family::new_with_constructor(latency_histogram),
            active: Family::default(),
            known: Arc::new(known.into_iter().collect()),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register_with_unit(
            "rpc_server_call_duration",
            "Duration of incoming gRPC calls (OpenTelemetry rpc.server.call.duration); _count is the number of calls",
            Unit::Seconds,
            self.calls.clone(),
        );
        registry.register(
            "rpc_server_active_calls",
            "gRPC calls in flight",
            self.active.clone(),
        );
    }

    fn start(&self, path: &str) -> CallInFlight {
        let (service, method) = rapport_telemetry::grpc_service_and_method(path);
        let service = if self.known.contains(service) {
            service.to_owned()
        } else {
            OTHER.to_owned()
        };
        self.active
            .get_or_create(&ServiceLabel {
                rpc_service: service.clone(),
            })
            .inc();
        CallInFlight {
            metrics: self.clone(),
            service,
            method: method.to_owned(),
            started: Instant::now(),
        }
    }
}

/// A call being timed; finished exactly once, with the code it ended with.
#[derive(Debug)]
struct CallInFlight {
    metrics: RpcMetrics,
    service: String,
    method: String,
    started: Instant,
}

impl CallInFlight {
    fn finish(self, code: Code) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let CallInFlight {
            metrics,
            service,
            method,
            ..
        } = self;
        metrics
            .active
            .get_or_create(&ServiceLabel {
                rpc_service: service.clone(),
            })
            .dec();
        // An unknown method ends UNIMPLEMENTED; its name is the caller's invention, not a series.
        let method = if service == OTHER || code == Code::Unimplemented {
            OTHER.to_owned()
        } else {
            method
        };
        metrics
            .calls
            .get_or_create(&CallLabels {
                rpc_system_name: "grpc",
                rpc_service: service,
                rpc_method: method,
                rpc_response_status_code: crate::grpc::code_name(code),
            })
            .observe(elapsed);
    }
}

/// Times every call, outermost, so refusals by the layers inside (not ready, deadline, guard)
/// are counted too.
#[derive(Debug, Clone)]
pub(crate) struct MetricsLayer {
    metrics: RpcMetrics,
}

impl MetricsLayer {
    pub(crate) fn new(metrics: RpcMetrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MetricsService<S> {
    inner: S,
    metrics: RpcMetrics,
}

impl<S, B> Service<http::Request<B>> for MetricsService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = self.metrics.start(request.uri().path());
        let response = self.inner.call(request);
        Box::pin(async move {
            match response.await {
                Ok(response) => {
                    // A failed unary call is "trailers-only": its code is in the headers. Otherwise
                    // the code comes in the trailers, at the end of the body.
                    if let Some(code) = crate::grpc::status(response.headers()) {
                        call.finish(code);
                        return Ok(response);
                    }
                    Ok(response.map(|body| {
                        Body::new(MeteredBody {
                            inner: body,
                            call: Some(call),
                        })
                    }))
                }
                Err(error) => {
                    call.finish(Code::Unknown);
                    Err(error)
                }
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that finishes its call's timing when the trailers pass by, or as
    /// CANCELLED when it is dropped first (the client went away).
    struct MeteredBody {
        #[pin]
        inner: Body,
        call: Option<CallInFlight>,
    }

    impl PinnedDrop for MeteredBody {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.finish(Code::Cancelled);
            }
        }
    }
}

impl HttpBody for MeteredBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(call) = this.call.take()
                {
                    call.finish(crate::grpc::status(trailers).unwrap_or(Code::Unknown));
                }
            }
            Some(Err(status)) => {
                if let Some(call) = this.call.take() {
                    call.finish(status.code());
                }
            }
            None => {
                if let Some(call) = this.call.take() {
                    call.finish(Code::Unknown);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One unit as the exposition reads it at scrape time.
#[derive(Clone)]
pub(crate) struct ObservedUnit {
    pub(crate) name: &'static str,
    pub(crate) storage: Storage,
    pub(crate) observers: Vec<Observer>,
}

/// Everything `/metrics` shows.
#[derive(Clone)]
pub(crate) struct Exposition {
    rpc: RpcMetrics,
    units: Arc<Vec<ObservedUnit>>,
}

impl std::fmt::Debug for Exposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exposition")
            .field(
                "units",
                &self.units.iter().map(|u| u.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Exposition {
    pub(crate) fn new(rpc: RpcMetrics, units: Vec<ObservedUnit>) -> Self {
        Self {
            rpc,
            units: Arc::new(units),
        }
    }

    /// The OpenMetrics text: the call instruments as they stand, and each unit's storage read now.
    pub(crate) async fn render(&self) -> String {
        let mut observed = Vec::new();
        for unit in self.units.iter() {
            observed.push(observe_unit(unit).await);
        }
        let mut families: BTreeMap<
            &'static str,
            (&'static str, Family<DynamicLabels, FloatGauge>),
        > = BTreeMap::new();
        for sample in observed.into_iter().flatten() {
            let (_, family) = families
                .entry(sample.name)
                .or_insert_with(|| (sample.help, Family::default()));
            family.get_or_create(&sample.labels).set(sample.value);
        }
        let mut registry = Registry::default();
        self.rpc.register(&mut registry);
        for (name, (help, family)) in families {
            registry.register(name, help, family);
        }
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &registry) {
            tracing::error!(%error, "could not encode the metrics");
        }
        text
    }
}

async fn observe_unit(unit: &ObservedUnit) -> Vec<Sample> {
    let service = unit.name;
    let mut samples = Vec::new();
    for pool in unit.storage.pool_use() {
        let name = format!("{service}.{}", pool.role);
        let used = pool.open.saturating_sub(pool.idle);
        for (state, connections) in [("idle", pool.idle), ("used", used)] {
            samples.push(
                Sample::new(
                    "db_client_connection_count",
                    "Connections open in the pool, by state (OpenTelemetry db.client.connection.count)",
                    f64::from(connections),
                )
                .label("db_client_connection_pool_name", name.clone())
                .label("db_client_connection_state", state),
            );
        }
        samples.push(
            Sample::new(
                "db_client_connection_max",
                "Most connections the pool opens (OpenTelemetry db.client.connection.max)",
                f64::from(pool.max),
            )
            .label("db_client_connection_pool_name", name),
        );
    }
    let mut up = true;
    let reads = async {
        // The unit's own reads show the storage answers; a unit with none is asked directly.
        if unit.observers.is_empty() {
            unit.storage.ping().await.map_err(BoxError::from)?;
        }
        let mut observed = Vec::new();
        for observe in &unit.observers {
            observed.extend(observe(unit.storage.clone()).await?);
        }
        Ok::<_, BoxError>(observed)
    };
    match tokio::time::timeout(OBSERVE_TIMEOUT, reads).await {
        Ok(Ok(observed)) => samples.extend(
            observed
                .into_iter()
                .map(|sample| sample.label("service", service)),
        ),
        Ok(Err(error)) => {
            up = false;
            tracing::warn!(service, error = %rapport_errors::chain(error.as_ref()), "metrics could not read storage");
        }
        Err(_) => {
            up = false;
            tracing::warn!(
                service,
                timeout_ms = OBSERVE_TIMEOUT.as_millis() as u64,
                "metrics storage reads timed out"
            );
        }
    }
    samples.push(
        Sample::new(
            "rapport_storage_up",
            "1 when the service's storage answered this scrape's reads, else 0",
            if up { 1.0 } else { 0.0 },
        )
        .label("service", service),
    );
    // One series per kind, so an alert can name what is wrong and a dashboard can stack them.
    let refusal = unit.storage.health().refusal().map(|refusal| refusal.kind);
    for kind in [
        rapport_storage::RefusalKind::Full,
        rapport_storage::RefusalKind::ReadOnly,
        rapport_storage::RefusalKind::Damaged,
    ] {
        samples.push(
            Sample::new(
                "rapport_storage_refusing_writes",
                "1 while the service's storage refuses writes for this reason (full, read_only, damaged), else 0",
                if refusal == Some(kind) { 1.0 } else { 0.0 },
            )
            .label("service", service)
            .label("reason", kind.as_str()),
        );
    }
    samples
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_services_and_methods_do_not_make_new_series() {
        let metrics = RpcMetrics::new(["rapport.plans.v1.PlanService"]);
        metrics
            .start("/rapport.plans.v1.PlanService/AcceptPlan")
            .finish(Code::Ok);
        metrics
            .start("/rapport.plans.v1.PlanService/Invented")
            .finish(Code::Unimplemented);
        metrics
            .start("/evil.Service/Anything")
            .finish(Code::Unimplemented);
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(r#"rpc_server_call_duration_seconds_count{rpc_system_name="grpc",rpc_service="rapport.plans.v1.PlanService",rpc_method="AcceptPlan",rpc_response_status_code="OK"} 1"#), "{text}");
        assert!(text.contains(r#"rpc_service="rapport.plans.v1.PlanService",rpc_method="_OTHER",rpc_response_status_code="UNIMPLEMENTED"} 1"#), "{text}");
        assert!(text.contains(r#"rpc_service="_OTHER",rpc_method="_OTHER",rpc_response_status_code="UNIMPLEMENTED"} 1"#), "{text}");
        assert!(
            !text.contains("Invented") && !text.contains("evil"),
            "{text}"
        );
        // Calls in flight go back to zero once finished.
        assert!(
            text.contains(
                r#"rpc_server_active_calls{rpc_service="rapport.plans.v1.PlanService"} 0"#
            ),
            "{text}"
        );
    }
}
