//! Refuses calls to a service whose storage is not ready yet, with `UNAVAILABLE` (retryable),
//! instead of letting them fail deep inside with a connection error.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tonic::body::Body;
use tower::Service;
use tower_layer::Layer;

/// Whether each gRPC service (by full name) is ready. Services not listed (health, reflection)
/// are always let through.
#[derive(Debug, Clone, Default)]
pub(crate) struct Readiness {
    services: Arc<HashMap<&'static str, AtomicBool>>,
    /// Set at the shutdown signal: calls in flight finish, but `/readyz` sends traffic elsewhere.
    draining: Arc<AtomicBool>,
}

impl Readiness {
    pub(crate) fn new(services: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            services: Arc::new(
                services
                    .into_iter()
                    .map(|name| (name, AtomicBool::new(false)))
                    .collect(),
            ),
            draining: Arc::default(),
        }
    }

    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Why this process should not get new calls (`/readyz`): the services whose storage is not
    /// ready yet, or that it is shutting down. Empty when it is ready.
    pub(crate) fn not_ready(&self) -> Vec<String> {
        let mut reasons: Vec<String> = self
            .services
            .iter()
            .filter(|(_, ready)| !ready.load(Ordering::Acquire))
            .map(|(name, _)| format!("{name}: storage not reachable or not migrated yet"))
            .collect();
        reasons.sort();
        if self.draining.load(Ordering::Acquire) {
            reasons.push("shutting down: finishing calls in flight".to_owned());
        }
        reasons
    }

    pub(crate) fn mark_ready(&self, service: &str) {
        if let Some(flag) = self.services.get(service) {
            flag.store(true, Ordering::Release);
        }
    }

    fn allows(&self, service: &str) -> bool {
        self.services
            .get(service)
            .is_none_or(|flag| flag.load(Ordering::Acquire))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ReadinessLayer {
    readiness: Readiness,
}

impl ReadinessLayer {
    pub(crate) fn new(readiness: Readiness) -> Self {
        Self { readiness }
    }
}

impl<S> Layer<S> for ReadinessLayer {
    type Service = ReadinessService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReadinessService {
            inner,
            readiness: self.readiness.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ReadinessService<S> {
    inner: S,
    readiness: Readiness,
}

impl<S, B> Service<http::Request<B>> for ReadinessService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (service, _) = rapport_telemetry::grpc_service_and_method(request.uri().path());
        if !self.readiness.allows(service) {
            let status = tonic::Status::unavailable(format!(
                "{service} is starting: its storage is not reachable or not migrated yet; retry with backoff"
            ));
            return Box::pin(std::future::ready(Ok(status.into_http())));
        }
        Box::pin(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_services_wait_for_readiness() {
        let readiness = Readiness::new(["rapport.profiles.v1.ProfileService"]);
        assert!(!readiness.allows("rapport.profiles.v1.ProfileService"));
        assert!(readiness.allows("grpc.health.v1.Health"));
        assert_eq!(readiness.not_ready().len(), 1);
        readiness.mark_ready("rapport.profiles.v1.ProfileService");
        assert!(readiness.allows("rapport.profiles.v1.ProfileService"));
        assert!(readiness.not_ready().is_empty());
        readiness.start_draining();
        assert!(readiness.allows("rapport.profiles.v1.ProfileService"));
        assert_eq!(
            readiness.not_ready(),
            ["shutting down: finishing calls in flight"]
        );
    }
}
