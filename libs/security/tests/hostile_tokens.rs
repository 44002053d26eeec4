//! Tokens built to slip past the checks: an `nbf` sent as a string (CVE-2026-25537: jsonwebtoken
//! 9 skipped it, so a token not valid for another year passed) and `alg: none` (no signature at
//! all). Both are refused.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rapport_security::token::{TokenError, Verifier};
use rapport_security::{AuthMode, AuthSettings};

const ISSUER: &str = "https://idp.bank.example";
const AUDIENCE: &str = "rapport";
const SECRET: &str = "a-development-secret-of-at-least-32-bytes";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A verifier trusting the HS256 secret and the fixture's RSA key (kid `test-rsa-1`).
fn verifier(dir: &Path) -> Verifier {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, SECRET).expect("write secret");
    Verifier::from_settings(&AuthSettings {
        mode: AuthMode::Jwt,
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        jwks_file: Some(fixtures.join("rsa_test_jwks.json")),
        hs256_secret_file: Some(secret_file),
        leeway_seconds: 30,
    })
    .expect("keys load")
}

fn hs256(claims: &serde_json::Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("hmac key");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("signs")
}

fn claims_with_nbf(nbf: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "agent-42", "roles": ["agent"],
        "nbf": nbf, "exp": now() + 300,
    })
}

#[test]
fn an_nbf_sent_as_a_string_is_refused_not_skipped() {
    let dir = tempfile::tempdir().expect("dir");
    let verifier = verifier(dir.path());
    // The control: the same token with a numeric `nbf` a year ahead is not valid yet.
    let next_year = now() + 365 * 24 * 3600;
    assert_eq!(
        verifier.verify(&hs256(&claims_with_nbf(next_year.into()))),
        Err(TokenError::NotYetValid)
    );
    // As a string it must not pass either (jsonwebtoken 9 let it through), whether the time it
    // names is ahead or already past.
    for nbf in [next_year.to_string(), (now() - 60).to_string()] {
        assert_eq!(
            verifier.verify(&hs256(&claims_with_nbf(nbf.clone().into()))),
            Err(TokenError::Malformed),
            "nbf {nbf:?}"
        );
    }
    assert!(
        verifier
            .verify(&hs256(&claims_with_nbf((now() - 60).into())))
            .is_ok(),
        "a numeric nbf in the past passes"
    );
}

#[test]
fn an_unsigned_token_alg_none_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let verifier = verifier(dir.path());
    let payload = URL_SAFE_NO_PAD.encode(claims_with_nbf((now() - 60).into()).to_string());
    for header in [
        serde_json::json!({"alg": "none", "typ": "JWT"}),
        serde_json::json!({"alg": "None", "typ": "JWT"}),
        serde_json::json!({"alg": "NONE"}),
        serde_json::json!({"alg": "none", "kid": "test-rsa-1"}),
    ] {
        let header_part = URL_SAFE_NO_PAD.encode(header.to_string());
        for signature in ["", "e30"] {
            let token = format!("{header_part}.{payload}.{signature}");
            assert_eq!(
                verifier.verify(&token),
                Err(TokenError::Malformed),
                "{header} with signature {signature:?}"
            );
        }
    }
    // A real HS256 token with its header swapped for `alg: none` and the signature dropped.
    let good = hs256(&claims_with_nbf((now() - 60).into()));
    assert!(verifier.verify(&good).is_ok());
    let parts: Vec<&str> = good.split('.').collect();
    let stripped = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert_eq!(verifier.verify(&stripped), Err(TokenError::Malformed));
}
