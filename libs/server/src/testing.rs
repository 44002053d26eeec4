//! A running server for tests: bound to a free port, serving, reached through a real channel.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::{Application, ServerError, ServerSettings, ServiceUnit};

/// A server started on a free port; dropping it stops the server.
#[derive(Debug)]
pub struct TestServer {
    pub address: SocketAddr,
    /// The admin port, when the settings asked for one.
    pub admin: Option<SocketAddr>,
    pub channel: Channel,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), ServerError>>,
}

impl TestServer {
    /// Starts `units` with `settings` (its listen address is replaced by a free port) and waits,
    /// by watching health rather than sleeping, until every unit serves.
    ///
    /// # Panics
    /// If the server cannot start or never becomes ready: a test cannot go on without it.
    pub async fn start(settings: ServerSettings, units: Vec<ServiceUnit>) -> Self {
        let settings = ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..settings
        };
        let application = Application::build(settings, units)
            .await
            .expect("the test server binds");
        Self::run(application).await
    }

    /// Like [`TestServer::start`], for units that need the server's own address (a service that
    /// calls another one served alongside it).
    ///
    /// # Panics
    /// As [`TestServer::start`], or when `units` fails.
    pub async fn start_with<E: std::fmt::Debug>(
        settings: ServerSettings,
        units: impl FnOnce(SocketAddr) -> Result<Vec<ServiceUnit>, E>,
    ) -> Self {
        let settings = ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..settings
        };
        let application = Application::build_with(settings, units)
            .await
            .expect("the test server binds")
            .expect("the units build");
        Self::run(application).await
    }

    /// Runs an application already built (e.g. `rapport dev`'s) and waits until it serves.
    ///
    /// # Panics
    /// As [`TestServer::start`].
    pub async fn run(application: Application) -> Self {
        let address = application.local_addr();
        let admin = application.admin_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(application.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let channel = Endpoint::from_shared(format!("http://{address}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to the test server");
        let started = Self {
            address,
            admin,
            channel,
            stop: Some(stop),
            server,
        };
        started.wait_until_serving("").await;
        started
    }

    /// Resolves once health reports `service` ("" = every unit) as SERVING.
    ///
    /// # Panics
    /// If the health stream ends first.
    pub async fn wait_until_serving(&self, service: &str) {
        let mut updates = HealthClient::new(self.channel.clone())
            .watch(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health watch")
            .into_inner();
        while let Some(update) = updates.next().await {
            if update.expect("health update").status == ServingStatus::Serving as i32 {
                return;
            }
        }
        panic!("health stream for {service:?} ended before SERVING");
    }

    /// Signals shutdown and waits for the server to finish.
    ///
    /// # Panics
    /// If the server task itself panicked.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.expect("server task")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
