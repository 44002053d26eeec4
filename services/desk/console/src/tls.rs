//! The console over HTTPS: rustls through ring (the provider the suite already uses), HTTP/1.1,
//! with the certificate and key the service serves gRPC with. A handshake that stalls is
//! dropped after a few seconds so it cannot hold up the next agent's connection.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);

/// `[console.tls]`: the certificate chain and key in PEM (e.g. the service's `server.tls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleTls {
    pub certificate_file: PathBuf,
    pub key_file: PathBuf,
}

/// The console's certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the console's certificate chain {path}")]
    Certificate {
        path: String,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("cannot read the console's private key {path}")]
    Key {
        path: String,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the console's certificate and key do not make a TLS configuration")]
    Config(#[source] rustls::Error),
}

impl ConsoleTls {
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certificate_path = self.certificate_file.display().to_string();
        let chain = CertificateDer::pem_file_iter(&self.certificate_file)
            .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
            .map_err(|source| TlsError::Certificate {
                path: certificate_path,
                source,
            })?;
        let key = PrivateKeyDer::from_pem_file(&self.key_file).map_err(|source| TlsError::Key {
            path: self.key_file.display().to_string(),
            source,
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::Config)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A TCP listener whose connections are TLS before axum sees them.
pub(crate) struct TlsListener {
    pub tcp: TcpListener,
    pub acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, address) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "the console could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE_DEADLINE, self.acceptor.accept(stream)).await {
                Ok(Ok(tls)) => return (tls, address),
                Ok(Err(error)) => tracing::debug!(%error, "a TLS handshake failed"),
                Err(_) => tracing::debug!("a TLS handshake took too long"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
