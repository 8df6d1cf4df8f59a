//! Web identity token verification, in the order STS checks: shape, issuer registered as an IAM OIDC
//! provider, key from the issuer's JWKS, signature, time claims, audience.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AwsError;
use crate::state::model::OidcProvider;

/// Real issuers' headers are a few dozen bytes; a large one is an attack on the parser, not a key hint.
const MAX_HEADER_BYTES: usize = 4096;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
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

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
}

#[derive(Deserialize)]
struct UnverifiedIssuer {
    iss: String,
}

/// What a verified token says.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub subject: String,
    /// The audience that matched the provider's client ids.
    pub audience: String,
    pub provider: OidcProvider,
}

fn unverified_issuer(token: &str) -> Result<String, AwsError> {
    let payload = token.split('.').nth(1).ok_or_else(|| {
        invalid("The web identity token is not a JWT (expected header.payload.signature)")
    })?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("The web identity token's payload is not base64url"))?;
    let claims: UnverifiedIssuer = serde_json::from_slice(&bytes).map_err(|_| {
        invalid("The web identity token's payload is not a JSON object with an 'iss' claim")
    })?;
    Ok(claims.iss)
}

pub async fn verify(state: &AppState, token: &str) -> Result<VerifiedToken, AwsError> {
    if token.split('.').count() != 3 {
        return Err(invalid(
            "The web identity token is not a JWT (expected header.payload.signature)",
        ));
    }
    if token.split('.').next().map_or(0, str::len) > MAX_HEADER_BYTES {
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
    let issuer = unverified_issuer(token)?;
    let provider_url = issuer
        .strip_prefix("https://")
        .unwrap_or(&issuer)
        .trim_end_matches('/');
    let provider_arn = format!(
        "arn:aws:iam::{}:oidc-provider/{provider_url}",
        state.account_id()
    );
    let provider = state
        .store
        .read(|db| Ok(db.oidc_provider(&provider_arn)?))?
        .ok_or_else(|| {
            invalid(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;

    let keys = state.jwks.keys(state, &issuer).await?;
    let kid = header.kid.as_deref().ok_or_else(|| {
        invalid("The web identity token has no 'kid' header; the key cannot be chosen")
    })?;
    let jwk = keys
        .find(kid)
        .ok_or_else(|| invalid(format!("No key with kid {kid} in the JWKS of {issuer}")))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|e| invalid(format!("The issuer's key {kid} is unusable: {e}")))?;

    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => AwsError::new(
            "ExpiredTokenException",
            StatusCode::BAD_REQUEST,
            "Token expired: current date/time must be before the expiration date/time in the token",
        ),
        ErrorKind::ImmatureSignature => invalid("Token is not yet valid (nbf is in the future)"),
        ErrorKind::InvalidSignature => invalid("The web identity token's signature does not verify with the issuer's key"),
        ErrorKind::MissingRequiredClaim(claim) => invalid(format!("The web identity token has no '{claim}' claim")),
        other => invalid(format!("The web identity token is invalid: {other:?}")),
    })?;
    let claims = data.claims;
    if claims.iss != issuer {
        return Err(invalid(
            "The web identity token's issuer changed between reads",
        ));
    }
    let audiences = match claims.aud {
        Audience::One(a) => vec![a],
        Audience::Many(a) => a,
    };
    let audience = audiences
        .into_iter()
        .find(|a| provider.client_ids.contains(a))
        .ok_or_else(|| invalid("Incorrect token audience"))?;
    Ok(VerifiedToken {
        subject: claims.sub,
        audience,
        provider,
    })
}
