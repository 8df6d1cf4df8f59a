//! Web identity token verification, in the order STS checks: shape, issuer registered as an IAM OIDC
//! provider, key from the issuer's JWKS, signature, time claims, audience.
//!
//! The token is decoded once ([`UnverifiedToken::decode`]): the header for the algorithm and key id, the
//! payload for the issuer (which picks the provider and the keys) and for the claims checked after the
//! signature. Claims that are missing or malformed are remembered, not rejected, until the signature has
//! been verified, so a forged token learns nothing about which claims it got right.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::protocol::AwsError;
use crate::state::model::OidcProvider;

/// Real issuers' headers are a few dozen bytes; a large one is an attack on the parser, not a key hint.
const MAX_HEADER_BYTES: usize = 4096;
/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;
/// Asymmetric algorithms only: `none` and HMAC (which would let anyone holding the public key sign) never.
const ALLOWED: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
];

pub fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidIdentityToken", StatusCode::BAD_REQUEST, message)
}

fn not_a_jwt() -> AwsError {
    invalid("The web identity token is not a JWT (expected header.payload.signature)")
}

/// A claim as the payload has it: the checks after the signature say what was wrong with it.
#[derive(Debug, Default, PartialEq)]
enum Claim<T> {
    Present(T),
    Malformed,
    #[default]
    Missing,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Claim<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer) {
            Ok(Some(value)) => Claim::Present(value),
            Ok(None) => Claim::Missing,
            Err(_) => Claim::Malformed,
        })
    }
}

/// A JWT NumericDate: seconds since the epoch, as a non-negative integer (a fraction is rounded).
#[derive(Debug, PartialEq)]
struct NumericDate(u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Seconds;
        impl Visitor<'_> for Seconds {
            type Value = NumericDate;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("seconds since the epoch")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<NumericDate, E> {
                Ok(NumericDate(value))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<NumericDate, E> {
                if value.is_finite() && value >= 0.0 && value < u64::MAX as f64 {
                    Ok(NumericDate(value.round() as u64))
                } else {
                    Err(E::custom("not representable as seconds since the epoch"))
                }
            }
        }
        deserializer.deserialize_any(Seconds)
    }
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The payload, decoded once. Only `iss` must be right before the signature is checked: it chooses the keys.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    sub: Claim<String>,
    #[serde(default)]
    aud: Claim<Audience>,
    #[serde(default)]
    exp: Claim<NumericDate>,
    #[serde(default)]
    nbf: Claim<NumericDate>,
    /// kube-apiserver's private claims: the namespace, service account and (for projected tokens) the pod.
    #[serde(default, rename = "kubernetes.io")]
    kubernetes: Claim<KubernetesClaims>,
}

/// The `kubernetes.io` claim of a service-account token (`pkg/serviceaccount/claims.go` in Kubernetes).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct KubernetesClaims {
    pub namespace: String,
    pub serviceaccount: ObjectRef,
    /// The pod a projected token is bound to; absent for tokens requested without a bound object.
    #[serde(default)]
    pub pod: Option<ObjectRef>,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub name: String,
    #[serde(default)]
    pub uid: String,
}

/// A token split and decoded, not yet verified.
pub struct UnverifiedToken<'a> {
    header: Header,
    /// `header.payload`, the bytes the signature covers.
    signing_input: &'a str,
    signature: &'a str,
    claims: Claims,
}

impl<'a> UnverifiedToken<'a> {
    pub fn decode(token: &'a str) -> Result<Self, AwsError> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload_part), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_a_jwt());
        };
        if header_part.len() > MAX_HEADER_BYTES {
            return Err(invalid(format!(
                "The web identity token's header is larger than {MAX_HEADER_BYTES} bytes"
            )));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("The web identity token's header is invalid: {e}")))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(invalid(format!(
                "The web identity token is signed with {:?}; only asymmetric algorithms (RS256, ES256, …) are accepted",
                header.alg
            )));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload_part.trim_end_matches('='))
            .map_err(|_| invalid("The web identity token's payload is not base64url"))?;
        let claims = serde_json::from_slice(&payload).map_err(|_| {
            invalid("The web identity token's payload is not a JSON object with an 'iss' claim")
        })?;
        Ok(UnverifiedToken {
            header,
            signing_input: &token[..header_part.len() + 1 + payload_part.len()],
            signature,
            claims,
        })
    }

    /// `iss` as the token states it (a full URL).
    pub fn issuer(&self) -> &str {
        &self.claims.iss
    }

    /// The IAM provider key of the issuer: host and path, as OIDC provider ARNs embed it.
    pub fn provider_url(&self) -> &str {
        let issuer = self.issuer();
        issuer
            .strip_prefix("https://")
            .unwrap_or(issuer)
            .trim_end_matches('/')
    }

    /// The key the header names.
    pub fn kid(&self) -> Result<&str, AwsError> {
        self.header.kid.as_deref().ok_or_else(|| {
            invalid("The web identity token has no 'kid' header; the key cannot be chosen")
        })
    }

    /// Checks the signature with `key`, then the claims STS requires, against `provider`'s client ids.
    pub fn verify(
        self,
        key: &DecodingKey,
        provider: &OidcProvider,
        now: u64,
    ) -> Result<VerifiedToken, AwsError> {
        self.verify_for(key, |aud| provider.client_ids.iter().any(|c| c == aud), now)
    }

    /// The same checks with another rule for the audience (eks-auth accepts only `pods.eks.amazonaws.com`).
    pub fn verify_for(
        self,
        key: &DecodingKey,
        accepts_audience: impl Fn(&str) -> bool,
        now: u64,
    ) -> Result<VerifiedToken, AwsError> {
        let verified = jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            key,
            self.header.alg,
        )
        .map_err(|e| invalid(format!("The web identity token is invalid: {:?}", e.kind())))?;
        if !verified {
            return Err(invalid(
                "The web identity token's signature does not verify with the issuer's key",
            ));
        }
        let Claims {
            sub,
            aud,
            exp,
            nbf,
            kubernetes,
            ..
        } = self.claims;
        let sub = required(sub, "sub")?;
        let aud = required(aud, "aud")?;
        // An `exp` that is not a NumericDate counts as absent: STS requires a usable one.
        let Claim::Present(NumericDate(exp)) = exp else {
            return Err(missing_claim("exp"));
        };
        if exp < now.saturating_sub(LEEWAY_SECONDS) {
            return Err(AwsError::new(
                "ExpiredTokenException",
                StatusCode::BAD_REQUEST,
                "Token expired: current date/time must be before the expiration date/time in the token",
            ));
        }
        match nbf {
            Claim::Malformed => return Err(malformed_claim("nbf")),
            Claim::Present(NumericDate(nbf)) if nbf > now + LEEWAY_SECONDS => {
                return Err(invalid("Token is not yet valid (nbf is in the future)"))
            }
            _ => {}
        }
        let audiences = match aud {
            Audience::One(a) => vec![a],
            Audience::Many(a) => a,
        };
        let audience = audiences
            .into_iter()
            .find(|a| accepts_audience(a))
            .ok_or_else(|| invalid("Incorrect token audience"))?;
        let kubernetes = match kubernetes {
            Claim::Present(claims) => Some(claims),
            Claim::Missing => None,
            Claim::Malformed => return Err(malformed_claim("kubernetes.io")),
        };
        Ok(VerifiedToken {
            subject: sub,
            audience,
            kubernetes,
        })
    }
}

fn required<T>(claim: Claim<T>, name: &str) -> Result<T, AwsError> {
    match claim {
        Claim::Present(value) => Ok(value),
        Claim::Missing => Err(missing_claim(name)),
        Claim::Malformed => Err(malformed_claim(name)),
    }
}

fn missing_claim(claim: &str) -> AwsError {
    invalid(format!("The web identity token has no '{claim}' claim"))
}

fn malformed_claim(claim: &str) -> AwsError {
    invalid(format!(
        "The web identity token is invalid: InvalidClaimFormat({claim:?})"
    ))
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub subject: String,
    /// The audience that matched the provider's client ids.
    pub audience: String,
    /// What the token says of its namespace, service account and pod, when it is a Kubernetes one.
    pub kubernetes: Option<KubernetesClaims>,
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::{json, Value};

    use super::*;
    use crate::clusters::keys::{self, test_signing_key};
    use crate::clusters::tokens::sign;

    const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
    const NOW: u64 = 1_800_000_000;

    fn provider() -> OidcProvider {
        OidcProvider {
            arn: "arn:aws:iam::111122223333:oidc-provider/127.0.0.1:8443/id/ABC".into(),
            url: "127.0.0.1:8443/id/ABC".into(),
            client_ids: vec!["sts.amazonaws.com".into()],
            thumbprints: Vec::new(),
            create_date: chrono::Utc::now(),
            tags: Vec::new(),
        }
    }

    fn kid() -> String {
        keys::key_id(&keys::public_key(test_signing_key()).unwrap()).unwrap()
    }

    fn decoding_key() -> DecodingKey {
        let public = keys::public_key(test_signing_key()).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(keys::jwk(&public).unwrap()).unwrap();
        DecodingKey::from_jwk(&jwk).unwrap()
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "system:serviceaccount:ns:app", "aud": ["sts.amazonaws.com"],
            "exp": NOW + 3600, "iat": NOW, "nbf": NOW,
        })
    }

    fn token(claims: &Value) -> String {
        sign(test_signing_key(), &kid(), claims).unwrap()
    }

    fn verify(token: &str) -> Result<VerifiedToken, AwsError> {
        UnverifiedToken::decode(token)?.verify(&decoding_key(), &provider(), NOW)
    }

    fn message_of(result: Result<VerifiedToken, AwsError>) -> (&'static str, String) {
        let err = result.expect_err("the token must be refused");
        (err.code, err.message)
    }

    /// A token whose payload is `payload` as given, genuinely signed.
    fn signed_payload(payload: &[u8]) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": kid()}).to_string());
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(test_signing_key().as_bytes()).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).unwrap();
        format!("{input}.{signature}")
    }

    #[test]
    fn a_kube_apiserver_token_verifies_once_decoded() {
        let token = token(&claims());
        let unverified = UnverifiedToken::decode(&token).unwrap();
        assert_eq!(unverified.issuer(), ISSUER);
        assert_eq!(unverified.provider_url(), "127.0.0.1:8443/id/ABC");
        assert_eq!(unverified.kid().unwrap(), kid());
        let verified = unverified
            .verify(&decoding_key(), &provider(), NOW)
            .unwrap();
        assert_eq!(verified.subject, "system:serviceaccount:ns:app");
        assert_eq!(verified.audience, "sts.amazonaws.com");
        assert_eq!(
            verified.kubernetes, None,
            "these claims have no kubernetes.io"
        );
    }

    #[test]
    fn the_pod_binding_is_read_and_a_malformed_one_refused() {
        let mut c = claims();
        c["kubernetes.io"] = json!({"namespace": "ns", "serviceaccount": {"name": "app", "uid": "u1"},
            "pod": {"name": "web-0", "uid": "p1"}});
        let verified = verify(&token(&c)).unwrap();
        let kubernetes = verified.kubernetes.unwrap();
        assert_eq!(kubernetes.namespace, "ns");
        assert_eq!(kubernetes.serviceaccount.name, "app");
        let pod = kubernetes.pod.unwrap();
        assert_eq!((pod.name.as_str(), pod.uid.as_str()), ("web-0", "p1"));
        c["kubernetes.io"] = json!({"namespace": 7});
        let (code, message) = message_of(verify(&token(&c)));
        assert_eq!(code, "InvalidIdentityToken");
        assert!(message.contains("kubernetes.io"), "{message}");
    }

    #[test]
    fn shapes_and_algorithms_are_refused_before_any_key_is_looked_up() {
        for (bad, why) in [
            ("a.b".to_string(), "not a JWT"),
            ("a.b.c.d".to_string(), "not a JWT"),
            (
                format!("{}.e30.x", "A".repeat(MAX_HEADER_BYTES + 1)),
                "larger than",
            ),
            ("%%%.e30.x".to_string(), "header is invalid"),
        ] {
            let Err(err) = UnverifiedToken::decode(&bad) else {
                panic!("{bad} decoded")
            };
            assert_eq!(err.code, "InvalidIdentityToken");
            assert!(err.message.contains(why), "{bad}: {}", err.message);
        }
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        let Err(err) = UnverifiedToken::decode(&format!("{header}.{payload}.sig")) else {
            panic!("HS256 accepted")
        };
        assert!(
            err.message.contains("only asymmetric algorithms"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_tampered_payload_fails_the_signature() {
        let token = token(&claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims();
        forged["sub"] = json!("system:serviceaccount:kube-system:admin");
        let payload = URL_SAFE_NO_PAD.encode(forged.to_string());
        parts[1] = &payload;
        let (code, message) = message_of(verify(&parts.join(".")));
        assert_eq!(code, "InvalidIdentityToken");
        assert!(message.contains("signature does not verify"), "{message}");
    }

    #[test]
    fn time_claims_are_checked_with_a_minute_of_leeway() {
        let mut c = claims();
        c["exp"] = json!(NOW - 30);
        assert!(verify(&token(&c)).is_ok(), "within the leeway");
        c["exp"] = json!(NOW - 120);
        assert_eq!(message_of(verify(&token(&c))).0, "ExpiredTokenException");
        let mut c = claims();
        c["nbf"] = json!(NOW + 3600);
        let (code, message) = message_of(verify(&token(&c)));
        assert_eq!(code, "InvalidIdentityToken");
        assert!(message.contains("not yet valid"), "{message}");
    }

    #[test]
    fn claims_sts_requires_must_be_there_and_well_formed() {
        for (claim, value, why) in [
            ("exp", Value::Null, "has no 'exp' claim"),
            ("exp", json!("1900000000"), "has no 'exp' claim"),
            ("exp", json!(1e30), "has no 'exp' claim"),
            ("sub", Value::Null, "has no 'sub' claim"),
            ("aud", Value::Null, "has no 'aud' claim"),
            ("aud", json!([1]), "InvalidClaimFormat(\"aud\")"),
            ("nbf", json!("soon"), "InvalidClaimFormat(\"nbf\")"),
        ] {
            let mut c = claims();
            if value.is_null() {
                c.as_object_mut().unwrap().remove(claim);
            } else {
                c[claim] = value.clone();
            }
            let (code, message) = message_of(verify(&token(&c)));
            assert_eq!(code, "InvalidIdentityToken", "{claim}={value}");
            assert!(message.contains(why), "{claim}={value}: {message}");
        }
        let mut c = claims();
        c["aud"] = json!("vault");
        assert!(message_of(verify(&token(&c)))
            .1
            .contains("Incorrect token audience"));
        c["aud"] = json!("sts.amazonaws.com");
        assert_eq!(verify(&token(&c)).unwrap().audience, "sts.amazonaws.com");
    }

    #[test]
    fn payloads_that_are_not_one_json_object_with_an_issuer_are_refused() {
        let duplicated_sub = claims().to_string().replacen(
            '{',
            r#"{"sub":"system:serviceaccount:kube-system:admin","#,
            1,
        );
        for payload in [
            b"not json".to_vec(),
            b"[1,2,3]".to_vec(),
            br#"{"sub":"x"}"#.to_vec(),
            duplicated_sub.into_bytes(),
        ] {
            let token = signed_payload(&payload);
            let Err(err) = UnverifiedToken::decode(&token) else {
                panic!("{} decoded", String::from_utf8_lossy(&payload))
            };
            assert!(err.message.contains("'iss' claim"), "{}", err.message);
        }
    }
}
