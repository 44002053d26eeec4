//! Development security material: a throw-away CA with a server and a client certificate, an
//! HS256 secret, and tokens minted with it. For `rapport dev --secure` and tests; production
//! certificates and keys come from the bank's PKI and identity provider.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::policy::Role;
use crate::token::{TokenRequest, mint};

/// The names a development server certificate is valid for.
pub const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];
/// Issuer and audience of development tokens.
pub const DEV_ISSUER: &str = "rapport-dev";
pub const DEV_AUDIENCE: &str = "rapport";

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("cannot make a certificate")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot sign a token")]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read random bytes")]
    Random(#[source] std::io::Error),
}

/// A certificate and its private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Pem {
    pub certificate: String,
    pub key: String,
}

/// A certificate authority that lives as long as the value.
#[derive(Debug)]
pub struct DevCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl DevCa {
    pub fn new(name: &str) -> Result<Self, DevError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Ok(Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate()?)?,
        })
    }

    pub fn certificate_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses).
    pub fn server(&self, names: &[&str]) -> Result<Pem, DevError> {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "rapport");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate naming `name`.
    pub fn client(&self, name: &str) -> Result<Pem, DevError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<Pem, DevError> {
        let key = KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(Pem {
            certificate: certificate.pem(),
            key: key.serialize_pem(),
        })
    }
}

/// The files `rapport dev --secure DIR` uses, made once and kept.
#[derive(Debug, Clone)]
pub struct DevMaterial {
    pub ca: PathBuf,
    pub server_certificate: PathBuf,
    pub server_key: PathBuf,
    pub client_certificate: PathBuf,
    pub client_key: PathBuf,
    pub secret: PathBuf,
    /// A token for the suite's own calls (role `service`).
    pub service_token: PathBuf,
}

impl DevMaterial {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("ca.pem"),
            server_certificate: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_certificate: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            secret: dir.join("token.secret"),
            service_token: dir.join("service.token"),
        }
    }

    /// Makes whatever is missing in `dir`: the CA and certificates together, the secret, and a
    /// fresh service token (valid 30 days) on every start.
    pub fn ensure(dir: &Path) -> Result<Self, DevError> {
        let material = Self::in_dir(dir);
        std::fs::create_dir_all(dir).map_err(|source| DevError::Write {
            path: dir.display().to_string(),
            source,
        })?;
        if !material.ca.exists() || !material.server_certificate.exists() {
            let ca = DevCa::new("Rapport development CA")?;
            let server = ca.server(&SERVER_NAMES)?;
            let client = ca.client("rapport-dev-client")?;
            write(&material.ca, &ca.certificate_pem())?;
            write(&material.server_certificate, &server.certificate)?;
            write(&material.server_key, &server.key)?;
            write(&material.client_certificate, &client.certificate)?;
            write(&material.client_key, &client.key)?;
        }
        if !material.secret.exists() {
            write(&material.secret, &random_hex(32)?)?;
        }
        let secret = crate::token::read_secret(&material.secret).map_err(|e| DevError::Write {
            path: material.secret.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let token = mint_hs256(
            &secret,
            "rapport-suite",
            &[Role::Service],
            Duration::from_secs(30 * 24 * 3600),
        )?;
        write(&material.service_token, &token)?;
        Ok(material)
    }
}

/// A development token signed with `secret` (HS256).
pub fn mint_hs256(
    secret: &[u8],
    subject: &str,
    roles: &[Role],
    valid_for: Duration,
) -> Result<String, DevError> {
    Ok(mint(
        &TokenRequest {
            issuer: DEV_ISSUER,
            audience: DEV_AUDIENCE,
            subject,
            roles,
            valid_for,
        },
        Algorithm::HS256,
        &EncodingKey::from_secret(secret)?,
        None,
    )?)
}

fn random_hex(bytes: usize) -> Result<String, DevError> {
    use std::io::Read;
    let mut buffer = vec![0_u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut buffer))
        .map_err(DevError::Random)?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

fn write(path: &Path, text: &str) -> Result<(), DevError> {
    std::fs::write(path, text).map_err(|source| DevError::Write {
        path: path.display().to_string(),
        source,
    })
}
