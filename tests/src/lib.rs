//! The harness for end-to-end tests: the whole suite, exactly as `rapport dev` assembles it, on a
//! free port with fresh databases, reached through real gRPC channels.

use std::net::SocketAddr;

use rapport::dev;
use rapport_server::ServerError;
use rapport_server::testing::TestServer;
use tonic::transport::Channel;

/// A running suite; [`Suite::stop`] shuts it down gracefully.
#[derive(Debug)]
pub struct Suite {
    pub channel: Channel,
    /// `http://…` of the suite, as the agent's command line takes it.
    pub url: String,
    pub services: Vec<dev::DevService>,
    server: TestServer,
    _data: tempfile::TempDir,
}

impl Suite {
    /// Starts the suite and waits (by watching health, not by sleeping) until it serves.
    ///
    /// # Panics
    /// If the suite cannot start.
    pub async fn start() -> Self {
        let data = tempfile::tempdir().expect("data directory");
        let suite = dev::build(SocketAddr::from(([127, 0, 0, 1], 0)), data.path())
            .await
            .expect("the suite builds");
        let services = suite.services.clone();
        let server = TestServer::run(suite.application).await;
        Self {
            channel: server.channel.clone(),
            url: format!("http://{}", server.address),
            services,
            server,
            _data: data,
        }
    }

    /// Signals shutdown and waits for the server to finish.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.server.stop().await
    }
}
