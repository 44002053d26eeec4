use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use rapport_storage::{Migrations, Storage};
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tower::Service;

use crate::BoxError;

pub(crate) type ReadyFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;
pub(crate) type StopFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Register = Box<dyn FnOnce(&mut RoutesBuilder) + Send>;
pub(crate) type Worker = Box<dyn FnOnce(Stopping) -> StopFuture + Send>;

/// What a background worker watches to learn that the server is shutting down.
#[derive(Debug, Clone)]
pub struct Stopping(pub(crate) tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Resolves once shutdown has begun (at once if it already has).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

/// One Rapport service as the bootstrap sees it: the gRPC services it serves, the descriptor set
/// reflection describes them with, what it waits for before it is ready, and what it closes on
/// the way out. `rapport serve` runs one unit; `rapport dev` runs all four on one address.
pub struct ServiceUnit {
    pub(crate) name: &'static str,
    pub(crate) grpc_services: Vec<&'static str>,
    pub(crate) descriptor_sets: Vec<&'static [u8]>,
    pub(crate) register: Vec<Register>,
    pub(crate) ready: Option<ReadyFuture>,
    pub(crate) stop: Option<StopFuture>,
    pub(crate) workers: Vec<Worker>,
    pub(crate) storage: Option<Storage>,
    pub(crate) observers: Vec<crate::metrics::Observer>,
}

impl std::fmt::Debug for ServiceUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceUnit")
            .field("name", &self.name)
            .field("grpc_services", &self.grpc_services)
            .finish_non_exhaustive()
    }
}

impl ServiceUnit {
    /// A unit named after its service (`profiles`, `plans`, ...), described by `descriptor_set`.
    pub fn new(name: &'static str, descriptor_set: &'static [u8]) -> Self {
        Self {
            name,
            grpc_services: Vec::new(),
            descriptor_sets: vec![descriptor_set],
            register: Vec::new(),
            ready: None,
            stop: None,
            workers: Vec::new(),
            storage: None,
            observers: Vec::new(),
        }
    }

    /// Adds a generated gRPC server (configured with its limits by the caller).
    pub fn serve<S>(mut self, service: S) -> Self
    where
        S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.grpc_services.push(S::NAME);
        self.register
            .push(Box::new(move |routes: &mut RoutesBuilder| {
                routes.add_service(service);
            }));
        self
    }

    /// The unit is ready once its storage is reachable and migrated; until then its services
    /// report `NOT_SERVING` and refuse calls with `UNAVAILABLE`. Its pools close on shutdown.
    pub fn with_storage(mut self, storage: Storage, migrations: Migrations) -> Self {
        self.storage = Some(storage.clone());
        let waiting = storage.clone();
        self.ready = Some(Box::pin(async move {
            waiting.wait_until_ready(&migrations).await?;
            Ok(())
        }));
        self.stop = Some(Box::pin(async move { storage.close().await }));
        self
    }

    /// Readiness from any future; for units without storage, and for tests.
    pub fn ready_when(
        mut self,
        ready: impl Future<Output = Result<(), BoxError>> + Send + 'static,
    ) -> Self {
        self.ready = Some(Box::pin(ready));
        self
    }

    /// A background task (e.g. outbox delivery) started once the unit is ready and told to stop
    /// at shutdown, after calls in flight have finished and before storage closes; it gets the
    /// shutdown grace period to finish what it is doing.
    pub fn with_worker<F, Fut>(mut self, worker: F) -> Self
    where
        F: FnOnce(Stopping) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.workers
            .push(Box::new(move |stopping| Box::pin(worker(stopping))));
        self
    }

    /// Adds what `/metrics` reads from the unit's storage at each scrape (outbox backlog, plans
    /// by state, ...); each sample gets a `service` label with the unit's name. A unit without
    /// storage reports nothing.
    pub fn observe<F, Fut>(mut self, observe: F) -> Self
    where
        F: Fn(Storage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<crate::Sample>, BoxError>> + Send + 'static,
    {
        self.observers.push(crate::metrics::observer(observe));
        self
    }

    /// The unit's storage, for workers added from outside (e.g. outbox delivery).
    pub fn storage(&self) -> Option<&Storage> {
        self.storage.as_ref()
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Fully qualified names of the gRPC services this unit serves.
    pub fn grpc_services(&self) -> &[&'static str] {
        &self.grpc_services
    }
}
