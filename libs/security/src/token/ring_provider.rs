//! jsonwebtoken's crypto over ring, for exactly the algorithms `token::Verifier` trusts (HS256, RS256,
//! ES256); any other algorithm is refused here as well. Deriving JWK parameters from keys is not
//! offered (Rapport reads JWKS files, it does not publish them) and fails with an error rather
//! than jsonwebtoken's panicking placeholders.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result, new_error};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use ring::{digest, hmac};

pub(super) static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(no_key_utils()),
        rsa_pub_components_from_public_key: |_| Err(no_key_utils()),
        ec_pub_components_from_private_key: |_, _| Err(no_key_utils()),
        ed_pub_components_from_private_key: |_, _| Err(no_key_utils()),
        compute_digest,
    },
};

fn no_key_utils() -> Error {
    new_error(ErrorKind::Provider(
        "Rapport's ring provider does not derive JWK parameters from keys".to_owned(),
    ))
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(new_error(ErrorKind::UnsupportedAlgorithm)),
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

enum SigningKey {
    Hmac(hmac::Key),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

struct RingSigner {
    algorithm: Algorithm,
    key: SigningKey,
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    let signing = match (algorithm, key.family()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac) => {
            SigningKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()))
        }
        (Algorithm::RS256, AlgorithmFamily::Rsa) => SigningKey::Rsa(
            RsaKeyPair::from_der(key.as_bytes())
                .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?,
        ),
        (Algorithm::ES256, AlgorithmFamily::Ec) => SigningKey::Ec(
            EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                key.as_bytes(),
                &SystemRandom::new(),
            )
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?,
        ),
        (Algorithm::HS256 | Algorithm::RS256 | Algorithm::ES256, _) => {
            return Err(new_error(ErrorKind::InvalidKeyFormat));
        }
        _ => return Err(new_error(ErrorKind::UnsupportedAlgorithm)),
    };
    Ok(Box::new(RingSigner {
        algorithm: *algorithm,
        key: signing,
    }))
}

impl Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let rng = SystemRandom::new();
        match &self.key {
            SigningKey::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            SigningKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| signature::Error::new())?;
                Ok(signature)
            }
            SigningKey::Ec(pair) => pair
                .sign(&rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

enum CheckingKey {
    Hmac(hmac::Key),
    Rsa(DecodingKey),
    /// An uncompressed P-256 point.
    Ec(Vec<u8>),
}

struct RingVerifier {
    algorithm: Algorithm,
    key: CheckingKey,
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let checking = match (algorithm, key.family()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac) => {
            CheckingKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, key.try_get_as_bytes()?))
        }
        (Algorithm::RS256, AlgorithmFamily::Rsa) => CheckingKey::Rsa(key.clone()),
        (Algorithm::ES256, AlgorithmFamily::Ec) => {
            CheckingKey::Ec(key.try_get_as_bytes()?.to_vec())
        }
        (Algorithm::HS256 | Algorithm::RS256 | Algorithm::ES256, _) => {
            return Err(new_error(ErrorKind::InvalidKeyFormat));
        }
        _ => return Err(new_error(ErrorKind::UnsupportedAlgorithm)),
    };
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        key: checking,
    }))
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        let checked = match &self.key {
            // Constant-time comparison.
            CheckingKey::Hmac(key) => hmac::verify(key, message, signature),
            CheckingKey::Rsa(key) => match key.kind() {
                DecodingKeyKind::SecretOrDer(der) => {
                    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                        .verify(message, signature)
                }
                DecodingKeyKind::RsaModulusExponent { n, e } => RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature),
            },
            CheckingKey::Ec(point) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
            }
        };
        checked.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Called through the provider's own table: nothing is installed process-wide here.
    #[test]
    fn hs256_rs256_es256_sign_and_check_and_nothing_else_is_offered() {
        let secret =
            EncodingKey::from_secret(b"a-secret-of-at-least-thirty-two-bytes").expect("hmac key");
        let signer = (PROVIDER.signer_factory)(&Algorithm::HS256, &secret).expect("signer");
        let signature = signer.try_sign(b"message").expect("signs");
        let checking =
            DecodingKey::from_secret(b"a-secret-of-at-least-thirty-two-bytes").expect("hmac key");
        let verifier = (PROVIDER.verifier_factory)(&Algorithm::HS256, &checking).expect("verifier");
        assert!(verifier.verify(b"message", &signature).is_ok());
        assert!(verifier.verify(b"massage", &signature).is_err());

        for algorithm in [
            Algorithm::HS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::EdDSA,
        ] {
            assert!(
                (PROVIDER.signer_factory)(&algorithm, &secret).is_err(),
                "{algorithm:?}"
            );
            assert!(
                (PROVIDER.verifier_factory)(&algorithm, &checking).is_err(),
                "{algorithm:?}"
            );
        }
        // An HMAC secret is no RSA or EC key.
        assert!((PROVIDER.verifier_factory)(&Algorithm::RS256, &checking).is_err());
        assert!((PROVIDER.verifier_factory)(&Algorithm::ES256, &checking).is_err());
        assert!((PROVIDER.key_utils.rsa_pub_components_from_public_key)(b"der").is_err());
    }
}
