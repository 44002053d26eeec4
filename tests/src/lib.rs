//! The harness for end-to-end tests: the whole suite, exactly as `rapport dev` assembles it, on a
//! free port with fresh databases, reached through real gRPC channels.

use std::net::SocketAddr;

use rapport::dev;
use rapport_server::ServerError;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A running suite; [`Suite::stop`] shuts it down gracefully.
#[derive(Debug)]
pub struct Suite {
    pub address: SocketAddr,
    pub channel: Channel,
    pub services: Vec<dev::DevService>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), ServerError>>,
    _data: tempfile::TempDir,
}

impl Suite {
    /// Starts the suite and waits (by watching health, not by sleeping) until it serves.
    pub async fn start() -> Self {
        let data = tempfile::tempdir().expect("data directory");
        let suite = dev::build(SocketAddr::from(([127, 0, 0, 1], 0)), data.path())
            .await
            .expect("the suite builds");
        let address = suite.application.local_addr();
        let services = suite.services.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(suite.application.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let channel = Endpoint::from_shared(format!("http://{address}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to the suite");
        let started = Self {
            address,
            channel,
            services,
            stop: Some(stop),
            server,
            _data: data,
        };
        started.wait_until_serving("").await;
        started
    }

    /// Resolves once the health service reports `service` as SERVING.
    pub async fn wait_until_serving(&self, service: &str) {
        let mut health = HealthClient::new(self.channel.clone());
        let mut updates = health
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
    pub async fn stop(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await.expect("server task")
    }
}
