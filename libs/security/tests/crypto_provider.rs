//! jsonwebtoken 10 and later compile without a crypto provider and panic on first use. This test
//! runs in its own process, where nothing has installed one yet: it shows that the build enables
//! none of jsonwebtoken's own (aws-lc-rs, RustCrypto), so ring is the only crypto stack, and that
//! Rapport's entry points install ring before they need it, so no request can meet the panic.
//! Keep it the only test in this file: the provider is process-wide.

use std::time::Duration;

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, EncodingKey};
use rapport_security::token::{self, TokenRequest, Verifier};
use rapport_security::{AuthMode, AuthSettings, Role};

const SECRET: &str = "a-development-secret-of-at-least-32-bytes";

#[test]
fn minting_and_verifying_install_ring_before_first_use_in_a_fresh_process() {
    assert!(
        CryptoProvider::try_get_default().is_none(),
        "a jsonwebtoken crypto feature is enabled somewhere: a second crypto stack beside ring"
    );

    // Minting first, as `rapport token` does before any verifier exists.
    let request = TokenRequest {
        issuer: "rapport-dev",
        audience: "rapport",
        subject: "agent-7",
        roles: &[Role::Agent],
        valid_for: Duration::from_secs(300),
    };
    let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("hmac key");
    let minted = token::mint(&request, Algorithm::HS256, &key, None).expect("mints with ring");
    let installed = CryptoProvider::try_get_default().expect("minting installed a provider");

    // The verifier finds the same provider and accepts what was minted.
    let dir = tempfile::tempdir().expect("dir");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, SECRET).expect("write secret");
    let verifier = Verifier::from_settings(&AuthSettings {
        mode: AuthMode::Jwt,
        hs256_secret_file: Some(secret_file),
        ..AuthSettings::default()
    })
    .expect("the verifier starts with ring installed");
    let caller = verifier.verify(&minted).expect("verifies");
    assert_eq!(caller.subject, "agent-7");
    assert!(std::ptr::eq(
        installed,
        CryptoProvider::try_get_default().expect("still installed")
    ));
    // Installing again is harmless.
    token::install_crypto_provider().expect("idempotent");
}
