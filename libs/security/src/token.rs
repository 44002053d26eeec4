//! Bearer tokens: JWTs signed RS256 or ES256 by the bank's identity provider (keys from a JWKS
//! file), or HS256 with a shared secret in development. The algorithm comes from the key, never
//! from the token's header alone, so a token cannot choose a weaker check.
//!
//! jsonwebtoken (10 and later) signs and checks through a process-wide crypto provider; with none
//! chosen it compiles and then panics on first use. Rapport supplies one over ring (the provider
//! rustls already uses here), installed by [`install_crypto_provider`] before any key is loaded
//! or token minted, so no request meets that panic; finding another provider already installed
//! is a start-up error.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::errors::{ErrorKind, new_error};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::policy::Role;
use crate::settings::AuthSettings;

/// Who is calling, as the token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: a person's or a system's id, never a name.
    pub subject: String,
    /// The roles Rapport knows among the token's `roles`; others are ignored.
    pub roles: Vec<Role>,
}

/// Why a token was refused; the text goes back to the caller with `UNAUTHENTICATED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token: send `authorization: Bearer <token>`")]
    Missing,
    #[error("the authorization header is not a bearer token")]
    NotBearer,
    #[error("the bearer token is malformed")]
    Malformed,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the bearer token's issuer is not trusted")]
    WrongIssuer,
    #[error("the bearer token is not meant for this audience")]
    WrongAudience,
    #[error("the bearer token's signature does not verify")]
    BadSignature,
    #[error("the bearer token is signed with a key or algorithm this service does not trust")]
    UntrustedKey,
    #[error("the bearer token lacks the {0} claim")]
    MissingClaim(&'static str),
}

/// A configuration that cannot verify anything.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a JSON Web Key Set")]
    Jwks {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("key {kid:?} in {path}: {reason}")]
    Key {
        path: String,
        kid: String,
        reason: String,
    },
    #[error("server.auth needs a jwks_file or an hs256_secret_file when mode is jwt")]
    NoKeys,
    #[error("server.auth.{0} must be set when mode is jwt")]
    Missing(&'static str),
    #[error("{path}: an HS256 secret must be at least 32 bytes")]
    ShortSecret { path: String },
    #[error(
        "another crypto provider was installed for jsonwebtoken; Rapport signs and checks tokens \
         with ring only"
    )]
    ForeignCryptoProvider,
}

/// Installs Rapport's ring provider as jsonwebtoken's process-wide one (idempotent). Called by
/// [`Verifier::from_settings`] and [`mint`]; fails rather than run tokens through a second crypto
/// stack that another crate installed or enabled first.
pub fn install_crypto_provider() -> Result<(), KeyError> {
    accept_installed(ring_provider::PROVIDER.install_default())
}

/// Ours, already ours, or someone else's (refused).
fn accept_installed(outcome: Result<(), &'static CryptoProvider>) -> Result<(), KeyError> {
    match outcome {
        Ok(()) => Ok(()),
        Err(installed) if std::ptr::eq(installed, &ring_provider::PROVIDER) => Ok(()),
        Err(_) => Err(KeyError::ForeignCryptoProvider),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

/// Checks bearer tokens against the configured keys, issuer and audience.
#[derive(Clone)]
pub struct Verifier {
    /// Keys with a `kid`.
    by_kid: HashMap<String, Key>,
    /// Keys without a `kid`, tried in order.
    unnamed: Vec<Key>,
    issuer: String,
    audience: String,
    leeway: u64,
}

/// A key with the one algorithm it may verify, and the checks made with it (built once).
#[derive(Clone)]
struct Key {
    decoding: DecodingKey,
    algorithm: Algorithm,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("kids", &self.by_kid.keys().collect::<Vec<_>>())
            .field("unnamed", &self.unnamed.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl Verifier {
    /// Loads the keys named by `settings` (a JWKS file, an HS256 secret file, or both).
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, KeyError> {
        if settings.issuer.is_empty() {
            return Err(KeyError::Missing("issuer"));
        }
        if settings.audience.is_empty() {
            return Err(KeyError::Missing("audience"));
        }
        install_crypto_provider()?;
        let mut verifier = Self {
            by_kid: HashMap::new(),
            unnamed: Vec::new(),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway: settings.leeway_seconds,
        };
        if let Some(path) = &settings.jwks_file {
            verifier.add_jwks(path)?;
        }
        if let Some(path) = &settings.hs256_secret_file {
            let secret = read(path)?;
            let secret = trim_secret(&secret);
            // RFC 7518 §3.2: an HS256 key must be at least as long as the hash (256 bits).
            if secret.len() < 32 {
                return Err(KeyError::ShortSecret {
                    path: path.display().to_string(),
                });
            }
            let decoding = DecodingKey::from_secret(secret).map_err(|_| KeyError::ShortSecret {
                path: path.display().to_string(),
            })?;
            let key = verifier.key(decoding, Algorithm::HS256);
            verifier.unnamed.push(key);
        }
        if verifier.by_kid.is_empty() && verifier.unnamed.is_empty() {
            return Err(KeyError::NoKeys);
        }
        Ok(verifier)
    }

    fn add_jwks(&mut self, path: &Path) -> Result<(), KeyError> {
        let text = read(path)?;
        let set: JwkSet = serde_json::from_slice(&text).map_err(|source| KeyError::Jwks {
            path: path.display().to_string(),
            source,
        })?;
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            let key_error = |reason: String| KeyError::Key {
                path: path.display().to_string(),
                kid: kid.clone(),
                reason,
            };
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                _ => {
                    return Err(key_error(
                        "only RSA (RS256) and P-256 (ES256) keys are accepted".to_owned(),
                    ));
                }
            };
            let key = self.key(
                DecodingKey::from_jwk(jwk).map_err(|e| key_error(e.to_string()))?,
                algorithm,
            );
            if kid.is_empty() {
                self.unnamed.push(key);
            } else {
                self.by_kid.insert(kid, key);
            }
        }
        Ok(())
    }

    fn key(&self, decoding: DecodingKey, algorithm: Algorithm) -> Key {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        Key {
            decoding,
            algorithm,
            validation,
        }
    }

    /// The caller a bearer token names, if it verifies.
    pub fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let candidates: Vec<&Key> = match &header.kid {
            Some(kid) => match self.by_kid.get(kid) {
                Some(key) => vec![key],
                None => return Err(TokenError::UntrustedKey),
            },
            None => self.unnamed.iter().collect(),
        };
        let mut last = TokenError::UntrustedKey;
        for key in candidates {
            if header.alg != key.algorithm {
                continue;
            }
            match jsonwebtoken::decode::<Claims>(token, &key.decoding, &key.validation) {
                Ok(data) => {
                    let subject = data
                        .claims
                        .sub
                        .filter(|sub| !sub.is_empty())
                        .ok_or(TokenError::MissingClaim("sub"))?;
                    let roles = data
                        .claims
                        .roles
                        .iter()
                        .filter_map(|role| role.parse().ok())
                        .collect();
                    return Ok(Caller { subject, roles });
                }
                Err(error) => {
                    last = match error.kind() {
                        ErrorKind::ExpiredSignature => TokenError::Expired,
                        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                        ErrorKind::InvalidAudience => TokenError::WrongAudience,
                        ErrorKind::InvalidSignature => TokenError::BadSignature,
                        // A claim of the wrong type (an `nbf` sent as a string, CVE-2026-25537)
                        // is refused, never skipped.
                        ErrorKind::InvalidClaimFormat(_) => TokenError::Malformed,
                        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
                            "exp" => TokenError::MissingClaim("exp"),
                            "iss" => TokenError::MissingClaim("iss"),
                            "aud" => TokenError::MissingClaim("aud"),
                            _ => TokenError::MissingClaim("sub"),
                        },
                        _ => TokenError::Malformed,
                    };
                    // A bad signature may just be the wrong unnamed key: try the next one.
                    if last != TokenError::BadSignature {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    /// The token in an `authorization` header value.
    pub fn bearer(header: Option<&str>) -> Result<&str, TokenError> {
        let value = header.ok_or(TokenError::Missing)?;
        let (scheme, token) = value.split_once(' ').ok_or(TokenError::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(TokenError::NotBearer);
        }
        Ok(token.trim())
    }
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub subject: &'a str,
    pub roles: &'a [Role],
    pub valid_for: Duration,
}

#[derive(Debug, Serialize)]
struct MintedClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    roles: Vec<&'static str>,
    iat: u64,
    nbf: u64,
    exp: u64,
}

/// Signs a token with `key` (HS256 for `rapport token` in development; tests sign RS256 and
/// ES256 too).
pub fn mint(
    request: &TokenRequest<'_>,
    algorithm: Algorithm,
    key: &EncodingKey,
    kid: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    install_crypto_provider().map_err(|error| new_error(ErrorKind::Provider(error.to_string())))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = MintedClaims {
        iss: request.issuer,
        aud: request.audience,
        sub: request.subject,
        roles: request.roles.iter().map(|role| role.as_str()).collect(),
        iat: now,
        nbf: now,
        exp: now + request.valid_for.as_secs(),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &claims, key)
}

/// Reads an HS256 secret file as `rapport token` and the verifier both do (trailing newline
/// ignored).
pub fn read_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
    Ok(trim_secret(&read(path)?).to_vec())
}

fn trim_secret(secret: &[u8]) -> &[u8] {
    let end = secret
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &secret[..end]
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// jsonwebtoken's crypto over ring (`token/ring_provider.rs`).
mod ring_provider;

#[cfg(test)]
mod tests {
    use jsonwebtoken::crypto::KeyUtils;

    use super::*;

    static ANOTHER_PROVIDER: CryptoProvider = CryptoProvider {
        signer_factory: |_, _| Err(new_error(ErrorKind::Provider("another".to_owned()))),
        verifier_factory: |_, _| Err(new_error(ErrorKind::Provider("another".to_owned()))),
        key_utils: KeyUtils::new_unimplemented(),
    };

    #[test]
    fn ring_is_accepted_once_installed_and_another_provider_is_refused() {
        assert!(accept_installed(Ok(())).is_ok());
        assert!(accept_installed(Err(&ring_provider::PROVIDER)).is_ok());
        assert!(matches!(
            accept_installed(Err(&ANOTHER_PROVIDER)),
            Err(KeyError::ForeignCryptoProvider)
        ));
    }
}
