//! Service-account signing keys: RSA-2048, PEM files kube-apiserver accepts, and JWKs whose `kid` is
//! computed exactly as kube-apiserver computes it, so its tokens verify against the emulator's JWKS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot generate RSA key: {0}")]
    Generate(#[from] rsa::Error),
    #[error("invalid private key PEM: {0}")]
    Pkcs8(#[from] rsa::pkcs8::Error),
    #[error("cannot encode public key: {0}")]
    Spki(#[from] rsa::pkcs8::spki::Error),
}

/// A new signing key as PKCS#8 PEM (what `--service-account-signing-key-file` reads).
pub fn generate_signing_key_pem() -> Result<String, KeyError> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
    Ok(key.to_pkcs8_pem(LineEnding::LF)?.to_string())
}

pub fn public_key(private_pem: &str) -> Result<RsaPublicKey, KeyError> {
    Ok(RsaPrivateKey::from_pkcs8_pem(private_pem)?.to_public_key())
}

/// PKIX `PUBLIC KEY` PEM (what `--service-account-key-file` reads).
pub fn public_key_pem(public: &RsaPublicKey) -> Result<String, KeyError> {
    Ok(public.to_public_key_pem(LineEnding::LF)?)
}

/// kube-apiserver's key id: base64url (no padding) of SHA-256 over the PKIX DER of the public key.
pub fn key_id(public: &RsaPublicKey) -> Result<String, KeyError> {
    let der = public.to_public_key_der()?;
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_bytes())))
}

pub fn jwk(public: &RsaPublicKey) -> Result<serde_json::Value, KeyError> {
    Ok(serde_json::json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": key_id(public)?,
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }))
}

/// One signing key for the crate's unit tests: generating RSA keys is slow in debug builds.
#[cfg(test)]
pub(crate) fn test_signing_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| generate_signing_key_pem().expect("RSA key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwk_round_trips_the_public_key() {
        let pem = generate_signing_key_pem().unwrap();
        let public = public_key(&pem).unwrap();
        let jwk = jwk(&public).unwrap();
        assert_eq!(jwk["e"], "AQAB");
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "RSA-2048 modulus");
        let kid = jwk["kid"].as_str().unwrap();
        assert_eq!(kid.len(), 43, "base64url of 32 bytes, unpadded");
        assert!(public_key_pem(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
    }
}
