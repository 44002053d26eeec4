//! Bearer tokens as the guard sees them: RS256 and ES256 from a JWKS file, HS256 from a secret;
//! expired, not-yet-valid, wrong-audience, wrong-issuer, tampered and untrusted tokens refused.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rapport_security::token::{TokenError, Verifier};
use rapport_security::{AuthMode, AuthSettings, Role};

const ISSUER: &str = "https://idp.bank.example";
const AUDIENCE: &str = "rapport";
const SECRET: &str = "a-development-secret-of-at-least-32-bytes";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn claims(iss: &str, aud: &str, nbf: u64, exp: u64) -> serde_json::Value {
    serde_json::json!({
        "iss": iss, "aud": aud, "sub": "agent-42", "roles": ["agent", "unknown-role"],
        "iat": nbf, "nbf": nbf, "exp": exp,
    })
}

fn sign(
    algorithm: Algorithm,
    key: &EncodingKey,
    kid: Option<&str>,
    claims: &serde_json::Value,
) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("signs")
}

struct Keys {
    _dir: tempfile::TempDir,
    verifier: Verifier,
    rsa: EncodingKey,
    ec: EncodingKey,
    hs: EncodingKey,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().expect("temporary directory");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    // An ES256 key made now, published beside the fixed RSA test key.
    let ec_pair = rcgen::KeyPair::generate().expect("P-256 key");
    let point = ec_pair.public_key_raw();
    assert_eq!(point.len(), 65, "uncompressed P-256 point");
    let mut jwks: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("rsa_test_jwks.json")).expect("fixture"),
    )
    .expect("json");
    jwks["keys"]
        .as_array_mut()
        .expect("keys")
        .push(serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "test-ec-1", "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }));
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks.to_string()).expect("write jwks");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("write secret");
    let verifier = Verifier::from_settings(&AuthSettings {
        mode: AuthMode::Jwt,
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        jwks_file: Some(jwks_file),
        hs256_secret_file: Some(secret_file),
        leeway_seconds: 30,
    })
    .expect("keys load");
    Keys {
        _dir: dir,
        verifier,
        rsa: EncodingKey::from_rsa_pem(
            &std::fs::read(fixtures.join("rsa_test_key.pem")).expect("fixture"),
        )
        .expect("rsa key"),
        ec: EncodingKey::from_ec_pem(ec_pair.serialize_pem().as_bytes()).expect("ec key"),
        hs: EncodingKey::from_secret(SECRET.as_bytes()).expect("hmac key"),
    }
}

#[test]
fn good_tokens_of_each_algorithm_name_the_caller_and_known_roles() {
    let keys = keys();
    let good = claims(ISSUER, AUDIENCE, now(), now() + 300);
    for token in [
        sign(Algorithm::RS256, &keys.rsa, Some("test-rsa-1"), &good),
        sign(Algorithm::ES256, &keys.ec, Some("test-ec-1"), &good),
        sign(Algorithm::HS256, &keys.hs, None, &good),
    ] {
        let caller = keys.verifier.verify(&token).expect("verifies");
        assert_eq!(caller.subject, "agent-42");
        assert_eq!(caller.roles, [Role::Agent], "unknown roles are ignored");
    }
}

#[test]
fn expired_early_wrong_audience_wrong_issuer_and_tampered_tokens_are_refused() {
    let keys = keys();
    let rs =
        |claims: &serde_json::Value| sign(Algorithm::RS256, &keys.rsa, Some("test-rsa-1"), claims);
    let t = now();
    let cases = [
        (
            "expired beyond the skew",
            rs(&claims(ISSUER, AUDIENCE, t - 600, t - 60)),
            TokenError::Expired,
        ),
        (
            "not valid yet",
            rs(&claims(ISSUER, AUDIENCE, t + 600, t + 900)),
            TokenError::NotYetValid,
        ),
        (
            "wrong audience",
            rs(&claims(ISSUER, "another-app", t, t + 300)),
            TokenError::WrongAudience,
        ),
        (
            "wrong issuer",
            rs(&claims("https://evil.example", AUDIENCE, t, t + 300)),
            TokenError::WrongIssuer,
        ),
    ];
    for (what, token, expected) in cases {
        assert_eq!(keys.verifier.verify(&token), Err(expected), "{what}");
    }
    // Within the 30 s skew an expired token still passes (clocks differ a little).
    let just_expired = rs(&claims(ISSUER, AUDIENCE, t - 600, t - 10));
    assert!(keys.verifier.verify(&just_expired).is_ok());

    // Tampered: the payload says supervisor now, the signature is the agent's.
    let token = rs(&claims(ISSUER, AUDIENCE, t, t + 300));
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("json");
    payload["roles"] = serde_json::json!(["supervisor"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_eq!(keys.verifier.verify(&forged), Err(TokenError::BadSignature));
    assert_eq!(
        keys.verifier.verify("not.a.token"),
        Err(TokenError::Malformed)
    );
}

#[test]
fn a_token_cannot_choose_its_key_or_algorithm() {
    let keys = keys();
    let good = claims(ISSUER, AUDIENCE, now(), now() + 300);
    // A kid nobody published.
    let unknown = sign(Algorithm::RS256, &keys.rsa, Some("rotated-out"), &good);
    assert_eq!(
        keys.verifier.verify(&unknown),
        Err(TokenError::UntrustedKey)
    );
    // HS256 under the RSA key's kid (the classic algorithm confusion).
    let confused = sign(Algorithm::HS256, &keys.hs, Some("test-rsa-1"), &good);
    assert_eq!(
        keys.verifier.verify(&confused),
        Err(TokenError::UntrustedKey)
    );
    // HS256 signed with another secret.
    let other = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"another-secret-that-is-32-bytes-long!!").expect("hmac key"),
        None,
        &good,
    );
    assert_eq!(keys.verifier.verify(&other), Err(TokenError::BadSignature));
}

#[test]
fn bearer_headers_are_read_strictly() {
    assert_eq!(Verifier::bearer(None), Err(TokenError::Missing));
    assert_eq!(
        Verifier::bearer(Some("Basic abc")),
        Err(TokenError::NotBearer)
    );
    assert_eq!(
        Verifier::bearer(Some("Bearer ")),
        Err(TokenError::NotBearer)
    );
    assert_eq!(
        Verifier::bearer(Some("bearer abc.def.ghi")),
        Ok("abc.def.ghi")
    );
}

#[test]
fn a_configuration_without_keys_or_with_a_short_secret_is_refused() {
    let settings = AuthSettings {
        mode: AuthMode::Jwt,
        ..AuthSettings::default()
    };
    assert!(Verifier::from_settings(&settings).is_err(), "no keys");
    let dir = tempfile::tempdir().expect("dir");
    let short = dir.path().join("short");
    std::fs::write(&short, "too-short").expect("write");
    let settings = AuthSettings {
        mode: AuthMode::Jwt,
        hs256_secret_file: Some(short),
        ..AuthSettings::default()
    };
    assert!(Verifier::from_settings(&settings).is_err(), "short secret");
}
