//! How a service reaches another one: its URL, TLS (and mutual TLS with this service's own
//! certificate), and the bearer token it presents (role `service`), read from a file that a
//! token refresher may rewrite at any time.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::{ClientError, DEADLINE};

/// `[client]` in a service's configuration: how it calls the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientSettings {
    /// The CA that signs the other services' certificates; set = TLS (use `https://` URLs).
    pub ca_file: Option<PathBuf>,
    /// This service's client certificate and key, for mutual TLS.
    pub certificate_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The name in the servers' certificates, when it is not the URL's host.
    pub domain_name: Option<String>,
    /// A file holding this service's bearer token; read again whenever it changes.
    pub token_file: Option<PathBuf>,
}

/// Another service: where it is and how to call it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upstream {
    pub url: String,
    pub client: ClientSettings,
}

impl Upstream {
    pub fn new(url: impl Into<String>, client: ClientSettings) -> Self {
        Self {
            url: url.into(),
            client,
        }
    }

    /// The endpoint to connect to: the service's deadline for connecting, no Nagle delay, and
    /// TLS when a CA is configured. The token is added by [`BearerService`].
    pub fn endpoint(&self) -> Result<Endpoint, ClientError> {
        let mut endpoint = Endpoint::from_shared(self.url.clone())?
            .connect_timeout(DEADLINE)
            .tcp_nodelay(true);
        if let Some(tls) = self.tls()? {
            endpoint = endpoint.tls_config(tls)?;
        }
        Ok(endpoint)
    }

    fn tls(&self) -> Result<Option<ClientTlsConfig>, ClientError> {
        let settings = &self.client;
        let Some(ca) = &settings.ca_file else {
            return Ok(None);
        };
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
        if let (Some(certificate), Some(key)) = (&settings.certificate_file, &settings.key_file) {
            tls = tls.identity(Identity::from_pem(read(certificate)?, read(key)?));
        }
        if let Some(domain) = &settings.domain_name {
            tls = tls.domain_name(domain.clone());
        }
        Ok(Some(tls))
    }
}

impl From<&str> for Upstream {
    fn from(url: &str) -> Self {
        Self::new(url, ClientSettings::default())
    }
}

impl From<&String> for Upstream {
    fn from(url: &String) -> Self {
        Self::new(url.as_str(), ClientSettings::default())
    }
}

impl From<&Upstream> for Upstream {
    fn from(upstream: &Upstream) -> Self {
        upstream.clone()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::File {
        path: path.display().to_string(),
        source,
    })
}

/// The token file, re-read when its modification time changes.
#[derive(Debug)]
struct TokenFile {
    path: PathBuf,
    cached: Mutex<Option<(SystemTime, http::HeaderValue)>>,
}

impl TokenFile {
    fn header(&self) -> Option<http::HeaderValue> {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()?;
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, header)) = cached.as_ref()
            && *at == modified
        {
            return Some(header.clone());
        }
        let token = std::fs::read_to_string(&self.path).ok()?;
        let mut header = http::HeaderValue::from_str(&format!("Bearer {}", token.trim())).ok()?;
        header.set_sensitive(true);
        *cached = Some((modified, header.clone()));
        Some(header)
    }
}

/// Adds `authorization: Bearer <token>` to every call when a token file is configured. A file
/// that cannot be read sends the call without one, and the server answers `UNAUTHENTICATED`.
#[derive(Debug, Clone)]
pub struct BearerService<S> {
    inner: S,
    token: Option<Arc<TokenSource>>,
}

#[derive(Debug)]
enum TokenSource {
    File(TokenFile),
    Fixed(http::HeaderValue),
}

impl TokenSource {
    fn header(&self) -> Option<http::HeaderValue> {
        match self {
            Self::File(file) => file.header(),
            Self::Fixed(header) => Some(header.clone()),
        }
    }
}

impl<S> BearerService<S> {
    pub(crate) fn new(inner: S, token_file: Option<&Path>) -> Self {
        Self {
            inner,
            token: token_file.map(|path| {
                Arc::new(TokenSource::File(TokenFile {
                    path: path.to_owned(),
                    cached: Mutex::new(None),
                }))
            }),
        }
    }

    /// Sends `token` (a person's, from their sign-in) with every call; `None` sends none.
    pub fn with_token(inner: S, token: Option<&str>) -> Result<Self, ClientError> {
        let token = match token {
            None => None,
            Some(token) => {
                let mut header = http::HeaderValue::from_str(&format!("Bearer {}", token.trim()))
                    .map_err(|_| ClientError::Token)?;
                header.set_sensitive(true);
                Some(Arc::new(TokenSource::Fixed(header)))
            }
        };
        Ok(Self { inner, token })
    }
}

impl<S, B> tower::Service<http::Request<B>> for BearerService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if let Some(header) = self.token.as_ref().and_then(|token| token.header()) {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, header);
        }
        self.inner.call(request)
    }
}
