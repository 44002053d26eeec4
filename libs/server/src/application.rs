use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use rapport_clock::MovableClock;
use rapport_security::rate_limit::RateLimiter;
use rapport_telemetry::ServerTraceLayer;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::ServiceBuilder;

use crate::BoxError;
use crate::deadline::DeadlineLayer;
use crate::guard::{Guard, GuardLayer};
use crate::metrics::{Exposition, MetricsLayer, ObservedUnit, RpcMetrics};
use crate::readiness::{Readiness, ReadinessLayer};
use crate::settings::{ServerSettings, TlsSettings};
use crate::unit::ServiceUnit;
use rapport_proto::audit::v1::audit_service_server::{self, AuditServiceServer};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

const HEALTH_SERVICE: &str = "grpc.health.v1.Health";
const REFLECTION_SERVICE: &str = "grpc.reflection.v1.ServerReflection";
/// Reflection's first version, still the only one many clients ask for (grpcio-reflection,
/// older grpcurl builds, Postman, Evans); its messages are the same as v1's.
const REFLECTION_SERVICE_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";
/// How long the admin port may take to close its connections once everything else has stopped.
const ADMIN_CLOSE: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the reflection service")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the gRPC server failed")]
    Transport(#[from] tonic::transport::Error),
    #[error("cannot check bearer tokens")]
    Auth(#[from] rapport_security::token::KeyError),
    #[error("cannot apply the rate limits")]
    RateLimit(#[from] rapport_security::rate_limit::InvalidRateLimit),
    #[error("cannot read the TLS file {path}")]
    TlsFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("service {service} could not become ready")]
    NotReady {
        service: &'static str,
        #[source]
        source: BoxError,
    },
}

/// A bound, not yet serving, gRPC server for one or more [`ServiceUnit`]s.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    admin: Option<(TcpListener, SocketAddr)>,
    settings: ServerSettings,
    units: Vec<ServiceUnit>,
    business_clock: Option<Arc<MovableClock>>,
}

impl Application {
    /// Binds `settings.listen` (port 0 picks a free port; see [`Application::port`]).
    pub async fn build(
        settings: ServerSettings,
        units: Vec<ServiceUnit>,
    ) -> Result<Self, ServerError> {
        let bind_error = |source| ServerError::Bind {
            address: settings.listen,
            source,
        };
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(bind_error)?;
        let address = listener.local_addr().map_err(bind_error)?;
        let admin = match settings.admin_listen {
            Some(admin_address) => {
                let bind_error = |source| ServerError::Bind {
                    address: admin_address,
                    source,
                };
                let admin = TcpListener::bind(admin_address).await.map_err(bind_error)?;
                let bound = admin.local_addr().map_err(bind_error)?;
                Some((admin, bound))
            }
            None => None,
        };
        Ok(Self {
            listener,
            address,
            admin,
            settings,
            units,
            business_clock: None,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Where the admin port (metrics, `/livez`, `/readyz`, plaintext health) listens, if it does.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, address)| *address)
    }

    /// Binds `settings.listen` first and then builds the units, giving them the bound address:
    /// for units that call other services on the same address (`rapport dev`, tests on port 0).
    pub async fn build_with<E>(
        settings: ServerSettings,
        units: impl FnOnce(SocketAddr) -> Result<Vec<ServiceUnit>, E>,
    ) -> Result<Result<Self, E>, ServerError> {
        let mut application = Self::build(settings, Vec::new()).await?;
        match units(application.address) {
            Ok(units) => {
                application.units = units;
                Ok(Ok(application))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    /// Serves `/clock` on the admin port to read and move this business clock (development,
    /// demos and integration tests only; see `business_clock`).
    pub fn with_business_clock(mut self, clock: Arc<MovableClock>) -> Self {
        self.business_clock = Some(clock);
        self
    }

    /// Every gRPC service served, by full name, health and reflection included.
    pub fn grpc_services(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self
            .units
            .iter()
            .flat_map(|unit| unit.grpc_services.iter().copied())
            .collect();
        names.extend([
            HEALTH_SERVICE,
            REFLECTION_SERVICE,
            REFLECTION_SERVICE_V1ALPHA,
        ]);
        names
    }

    /// Serves until `shutdown` resolves, then stops accepting connections, lets in-flight calls
    /// finish (at most `shutdown_grace_ms`), and closes every unit's storage.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Self {
            listener,
            address,
            admin,
            settings,
            units,
            business_clock,
        } = self;

        let verifier = match settings.auth.mode {
            rapport_security::AuthMode::Jwt => {
                Some(rapport_security::Verifier::from_settings(&settings.auth)?)
            }
            rapport_security::AuthMode::None => None,
        };
        let tls = settings.tls.as_ref().map(tls_config).transpose()?;

        let (reporter, health) = tonic_health::server::health_reporter();
        let served: Vec<&'static str> = units
            .iter()
            .flat_map(|unit| unit.grpc_services.iter().copied())
            .collect();
        let readiness = Readiness::new(served.iter().copied());
        let served_names = served.clone();
        // "" is the whole server: serving once every unit is.
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for name in &served {
            reporter
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
        // Health answers for the audit service too (served when a unit keeps a trail); it serves
        // once every unit is ready.
        let audited = units.iter().any(|unit| unit.storage.is_some());
        if audited {
            reporter
                .set_service_status(
                    audit_service_server::SERVICE_NAME,
                    ServingStatus::NotServing,
                )
                .await;
        }

        // Reflection lists what is served and holds the files that describe it.
        let mut listed: Vec<&'static str> = Vec::new();
        let mut registered: Vec<&'static [u8]> = Vec::new();
        let mut routes = RoutesBuilder::default();
        let mut stops = Vec::new();
        // Each unit's audit trail, by unit (for AuditService) and by the gRPC services it serves
        // (for the guard).
        let mut trails_by_unit = std::collections::BTreeMap::new();
        let mut trails = std::collections::HashMap::new();
        let (failures, mut failed) = mpsc::unbounded_channel();
        let pending = units.len();
        let (all_ready, ready_count) = mpsc::unbounded_channel::<()>();

        let (stop_workers, stopping) = tokio::sync::watch::channel(false);
        let mut workers = Vec::new();
        let mut observed = Vec::new();
        for unit in units {
            if let Some(storage) = &unit.storage {
                observed.push(ObservedUnit {
                    name: unit.name,
                    storage: storage.clone(),
                    observers: unit.observers.clone(),
                });
                let trail = rapport_audit::AuditLog::new(storage.clone());
                for name in &unit.grpc_services {
                    trails.insert(*name, trail.clone());
                }
                trails_by_unit.insert(unit.name, trail);
            }
            let (became_ready, ready_seen) = tokio::sync::watch::channel(false);
            let mut unit_workers = unit.workers;
            if let Some(storage) = &unit.storage {
                // Storage health and the audit sweep run beside the unit's own workers.
                let (name, services) = (unit.name, unit.grpc_services.clone());
                let (storage, reporter, readiness) =
                    (storage.clone(), reporter.clone(), readiness.clone());
                unit_workers.push(Box::new(move |stopping| {
                    Box::pin(crate::storage_watch::watch(
                        name, services, storage, reporter, readiness, stopping,
                    ))
                }));
                if let Some(trail) = trails_by_unit.get(unit.name).cloned() {
                    unit_workers.push(Box::new(move |stopping| {
                        Box::pin(crate::storage_watch::settle_abandoned(
                            name, trail, stopping,
                        ))
                    }));
                }
            }
            let health = unit
                .storage
                .as_ref()
                .map(|storage| storage.health().clone());
            for worker in unit_workers {
                let mut stopping = crate::unit::Stopping(stopping.clone());
                let mut ready_seen = ready_seen.clone();
                let health = health.clone();
                workers.push(tokio::spawn(async move {
                    // Workers start once their unit is ready (storage migrated), unless shutdown comes first.
                    tokio::select! {
                        ready = ready_seen.wait_for(|ready| *ready) => if ready.is_err() { return },
                        () = stopping.stopped() => return,
                    }
                    // A worker's storage errors count toward its unit's storage health.
                    match health {
                        Some(health) => {
                            rapport_storage::CallScope {
                                health,
                                on_commit: None,
                            }
                            .run(worker(stopping))
                            .await
                        }
                        None => worker(stopping).await,
                    }
                }));
            }
            for set in &unit.descriptor_sets {
                // `rapport dev` registers the shared descriptor set once, not four times.
                if !registered.iter().any(|known| std::ptr::eq(*known, *set)) {
                    registered.push(set);
                }
            }
            listed.extend(unit.grpc_services.iter().copied());
            for register in unit.register {
                register(&mut routes);
            }
            if let Some(stop) = unit.stop {
                stops.push(stop);
            }
            tokio::spawn(become_ready(
                unit.name,
                unit.grpc_services.clone(),
                unit.ready,
                reporter.clone(),
                readiness.clone(),
                failures.clone(),
                all_ready.clone(),
                became_ready,
            ));
        }
        drop(all_ready);
        tokio::spawn(whole_server_ready(
            reporter.clone(),
            pending,
            ready_count,
            audited.then_some(audit_service_server::SERVICE_NAME),
        ));

        let guard = Guard {
            verifier,
            limiter: RateLimiter::new(settings.rate_limit.clone())?,
            max_message_bytes: settings.max_message_bytes,
            trails,
            unit_trails: trails_by_unit.clone(),
            descriptors: rapport_audit::targets::Descriptors::new(&registered),
            refusals: Default::default(),
        };
        // Refused authentications are counted between their audit entries (issue 21); this
        // worker writes the counts as their windows close, and all of them at shutdown.
        let guard = GuardLayer::new(guard);
        workers.push(tokio::spawn(
            guard.flush_refusals(crate::unit::Stopping(stopping.clone())),
        ));
        if audited {
            listed.push(audit_service_server::SERVICE_NAME);
            routes.add_service(
                AuditServiceServer::new(rapport_audit::AuditTrails::new(trails_by_unit))
                    .max_decoding_message_size(settings.max_message_bytes)
                    .max_encoding_message_size(settings.max_message_bytes),
            );
        }
        let mut known = served.clone();
        known.extend([
            HEALTH_SERVICE,
            REFLECTION_SERVICE,
            REFLECTION_SERVICE_V1ALPHA,
        ]);
        if audited {
            known.push(audit_service_server::SERVICE_NAME);
        }
        let rpc_metrics = RpcMetrics::new(known);
        let (stop_admin, admin_stopped) = oneshot::channel::<()>();
        let admin_server = admin.map(|(admin_listener, admin_address)| {
            tracing::info!(%admin_address, "serving /metrics, /livez, /readyz and gRPC health (plaintext)");
            tokio::spawn(crate::admin::serve(
                admin_listener,
                health.clone(),
                Exposition::new(rpc_metrics.clone(), observed),
                readiness.clone(),
                business_clock,
                async move {
                    let _ = admin_stopped.await;
                },
            ))
        });
        routes.add_service(health);
        routes.add_service(reflection(&registered, &listed).build_v1()?);
        routes.add_service(reflection(&registered, &listed).build_v1alpha()?);

        let leaving_readiness = readiness.clone();
        let layers = ServiceBuilder::new()
            .layer(MetricsLayer::new(rpc_metrics))
            .layer(ServerTraceLayer)
            .layer(ReadinessLayer::new(readiness))
            .layer(DeadlineLayer::new(settings.request_timeout()))
            .layer(guard);

        let (draining, drain_started) = oneshot::channel::<()>();
        let leaving = reporter.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections, finishing calls in flight");
            leaving_readiness.start_draining();
            // Tell load balancers and watchers first, so no new work is routed here.
            leaving
                .set_service_status("", ServingStatus::NotServing)
                .await;
            for name in served_names {
                leaving
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
            let _ = draining.send(());
        };
        // Small gRPC frames must not wait for Nagle's algorithm and delayed ACKs (about 40 ms a call).
        let incoming = TcpListenerStream::new(listener).map(|stream| {
            let stream = stream?;
            stream.set_nodelay(true)?;
            Ok::<_, std::io::Error>(stream)
        });
        let mut server = Server::builder();
        if let Some(tls) = tls {
            server = server.tls_config(tls)?;
        }
        let serve = server
            .layer(layers)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, signal);
        tracing::info!(
            %address,
            services = ?served,
            tls = settings.tls.is_some(),
            mutual_tls = settings.tls.as_ref().is_some_and(|tls| tls.client_ca_file.is_some()),
            authentication = ?settings.auth.mode,
            "serving gRPC"
        );

        let grace = settings.shutdown_grace();
        let outcome = tokio::select! {
            result = serve => result.map_err(ServerError::from),
            // Only after the signal: calls still running when the grace period ends are cut off.
            () = async {
                if drain_started.await.is_ok() {
                    tokio::time::sleep(grace).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::warn!(grace_ms = grace.as_millis() as u64, "calls still in flight after the grace period; stopping anyway");
                Ok(())
            }
            Some(failure) = failed.recv() => Err(failure),
        };

        let _ = stop_workers.send(true);
        for worker in workers {
            if tokio::time::timeout(grace, worker).await.is_err() {
                tracing::warn!(
                    grace_ms = grace.as_millis() as u64,
                    "a background worker did not stop within the grace period"
                );
            }
        }
        for stop in stops {
            stop.await;
        }
        let _ = stop_admin.send(());
        if let Some(mut admin_server) = admin_server {
            // A scraper's or a watcher's open connection must not hold the exit.
            match tokio::time::timeout(ADMIN_CLOSE, &mut admin_server).await {
                Ok(Ok(Err(error))) => tracing::warn!(%error, "the admin port failed"),
                Ok(Err(error)) => tracing::warn!(%error, "the admin port's task failed"),
                Ok(Ok(Ok(()))) => {}
                Err(_) => admin_server.abort(),
            }
        }
        tracing::info!("stopped");
        outcome
    }
}

// Each argument is one thing the unit reports to; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
async fn become_ready(
    unit: &'static str,
    services: Vec<&'static str>,
    ready: Option<crate::unit::ReadyFuture>,
    reporter: HealthReporter,
    readiness: Readiness,
    failures: mpsc::UnboundedSender<ServerError>,
    all_ready: mpsc::UnboundedSender<()>,
    became_ready: tokio::sync::watch::Sender<bool>,
) {
    if let Some(ready) = ready
        && let Err(source) = ready.await
    {
        tracing::error!(unit, error = %rapport_errors::chain(source.as_ref()), "cannot become ready");
        let _ = failures.send(ServerError::NotReady {
            service: unit,
            source,
        });
        return;
    }
    for name in &services {
        readiness.mark_ready(name);
        reporter
            .set_service_status(*name, ServingStatus::Serving)
            .await;
    }
    tracing::info!(unit, "ready");
    let _ = became_ready.send(true);
    let _ = all_ready.send(());
}

/// The whole server ("") serves once every unit is; so does the audit service, which reads
/// every unit's trail.
async fn whole_server_ready(
    reporter: HealthReporter,
    units: usize,
    mut ready: mpsc::UnboundedReceiver<()>,
    audit: Option<&'static str>,
) {
    for _ in 0..units {
        if ready.recv().await.is_none() {
            return;
        }
    }
    if let Some(audit) = audit {
        reporter
            .set_service_status(audit, ServingStatus::Serving)
            .await;
    }
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
}

/// A reflection service (v1 or v1alpha: both are built from this) listing `services` beside
/// health and both reflections, with the files of `sets`.
fn reflection<'b>(
    sets: &[&'b [u8]],
    services: &[&'static str],
) -> tonic_reflection::server::Builder<'b> {
    let mut builder = tonic_reflection::server::Builder::configure()
        // Both reflection versions' files, registered once each.
        .include_reflection_service(false)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .with_service_name(HEALTH_SERVICE)
        .with_service_name(REFLECTION_SERVICE)
        .with_service_name(REFLECTION_SERVICE_V1ALPHA);
    for set in sets {
        builder = builder.register_encoded_file_descriptor_set(set);
    }
    for service in services {
        builder = builder.with_service_name(*service);
    }
    builder
}

/// The server's TLS from PEM files; with a client CA every client must present a certificate it
/// signed (mutual TLS).
fn tls_config(tls: &TlsSettings) -> Result<ServerTlsConfig, ServerError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| ServerError::TlsFile {
            path: path.display().to_string(),
            source,
        })
    };
    let identity = Identity::from_pem(read(&tls.certificate_file)?, read(&tls.key_file)?);
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca_file {
        config = config
            .client_ca_root(Certificate::from_pem(read(ca)?))
            .client_auth_optional(false);
    }
    Ok(config)
}
