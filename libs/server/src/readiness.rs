//! Refuses calls to a service whose storage is not ready yet, with `UNAVAILABLE` (retryable),
//! instead of letting them fail deep inside with a connection error.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
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
    /// Services whose storage refuses writes, and why (issue 20).
    refusals: Arc<RwLock<HashMap<&'static str, rapport_storage::Refusal>>>,
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
            refusals: Arc::default(),
        }
    }

    /// Records that `service`'s storage refuses writes (`Some`), or accepts them again.
    pub(crate) fn set_refusal(
        &self,
        service: &'static str,
        refusal: Option<rapport_storage::Refusal>,
    ) {
        let mut refusals = self
            .refusals
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match refusal {
            Some(refusal) => refusals.insert(service, refusal),
            None => refusals.remove(service),
        };
    }

    fn refusal(&self, service: &str) -> Option<rapport_storage::Refusal> {
        self.refusals
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(service)
            .cloned()
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
        for (name, refusal) in self
            .refusals
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            reasons.push(format!(
                "{name}: storage refuses writes ({}): {}",
                refusal.kind.as_str(),
                refusal.reason
            ));
        }
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

    /// Whether `service` has started (storage migrated).
    fn started(&self, service: &str) -> bool {
        self.services
            .get(service)
            .is_none_or(|flag| flag.load(Ordering::Acquire))
    }

    #[cfg(test)]
    fn allows(&self, service: &str) -> bool {
        self.refused(service).is_none()
    }

    /// Why a call to `service` is refused here, if it is: not started yet, or a damaged storage
    /// (never served). A full or read-only storage still serves reads; its writes fail on their
    /// own with the storage's code.
    fn refused(&self, service: &str) -> Option<tonic::Status> {
        if !self.started(service) {
            return Some(tonic::Status::unavailable(format!(
                "{service} is starting: its storage is not reachable or not migrated yet; retry with backoff"
            )));
        }
        let refusal = self.refusal(service)?;
        refusal.kind.stops_service().then(|| {
            tonic::Status::unavailable(format!(
                "{service} is out of service: its storage is damaged ({}); an operator must restore it from a backup (deploy/RUNBOOK.md)",
                refusal.reason
            ))
        })
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
        if let Some(status) = self.readiness.refused(service) {
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

    #[test]
    fn a_full_storage_serves_reads_and_a_damaged_one_nothing() {
        const PLANS: &str = "rapport.plans.v1.PlanService";
        let readiness = Readiness::new([PLANS]);
        readiness.mark_ready(PLANS);
        let refusal = |kind| rapport_storage::Refusal {
            kind,
            reason: "database or disk is full".to_owned(),
            since: std::time::SystemTime::now(),
        };
        readiness.set_refusal(PLANS, Some(refusal(rapport_storage::RefusalKind::Full)));
        assert!(readiness.allows(PLANS));
        assert_eq!(
            readiness.not_ready(),
            [format!(
                "{PLANS}: storage refuses writes (full): database or disk is full"
            )]
        );
        readiness.set_refusal(PLANS, Some(refusal(rapport_storage::RefusalKind::Damaged)));
        let refused = readiness.refused(PLANS).expect("damaged is not served");
        assert_eq!(refused.code(), tonic::Code::Unavailable);
        assert!(
            refused.message().contains("restore"),
            "{}",
            refused.message()
        );
        readiness.set_refusal(PLANS, None);
        assert!(readiness.allows(PLANS));
        assert!(readiness.not_ready().is_empty());
    }
}
