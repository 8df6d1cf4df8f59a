//! Who is calling. Every signed request is verified (SigV4 over the admin credentials or STS-issued
//! temporary credentials); unsigned requests are refused except where AWS allows them
//! (AssumeRoleWithWebIdentity).

pub mod session;
mod sigv4;

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;

pub use session::{IssuedCredentials, Session, SessionKeys, SessionPrincipal};
pub use sigv4::SignedRequest;

use crate::app::AppState;
use crate::error::AwsError;

/// `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn authorization(headers: &HeaderMap) -> Option<Authorization> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix(name))
    };
    let mut scope = field("Credential=")?.split('/');
    let access_key_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let region = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    let signed_headers = field("SignedHeaders=")?
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let signature = field("Signature=")?.to_string();
    Some(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// The identity behind a verified request.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    Session(Session),
}

/// The admin credentials act as an IAM user of the emulated account.
pub const ADMIN_USER_NAME: &str = "irsa-emulator-admin";
pub const ADMIN_USER_ID: &str = "AIDAIRSAEMULATORADMIN";

impl Caller {
    /// The ARN AWS reports for this caller (GetCallerIdentity, AccessDenied messages).
    pub fn arn(&self, account_id: &str) -> String {
        match self {
            Caller::Session(Session {
                principal:
                    SessionPrincipal::AssumedRole {
                        role_name,
                        session_name,
                        ..
                    },
                ..
            }) => format!("arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"),
            _ => format!("arn:aws:iam::{account_id}:user/{ADMIN_USER_NAME}"),
        }
    }

    pub fn user_id(&self) -> String {
        match self {
            Caller::Session(Session {
                principal:
                    SessionPrincipal::AssumedRole {
                        role_id,
                        session_name,
                        ..
                    },
                ..
            }) => format!("{role_id}:{session_name}"),
            _ => ADMIN_USER_ID.to_string(),
        }
    }

    /// The role a caller is acting as, if any: its permissions are what the caller may do.
    pub fn role(&self) -> Option<&Session> {
        match self {
            Caller::Session(
                session @ Session {
                    principal: SessionPrincipal::AssumedRole { .. },
                    ..
                },
            ) => Some(session),
            _ => None,
        }
    }
}

fn invalid_token() -> AwsError {
    AwsError::new(
        "InvalidClientTokenId",
        StatusCode::FORBIDDEN,
        "The security token included in the request is invalid.",
    )
}

pub fn missing_authentication() -> AwsError {
    AwsError::new(
        "MissingAuthenticationToken",
        StatusCode::FORBIDDEN,
        "Request is missing Authentication Token",
    )
}

pub fn authenticate(state: &AppState, request: &SignedRequest) -> Result<Caller, AwsError> {
    let auth = authorization(request.headers).ok_or_else(missing_authentication)?;
    if auth.access_key_id == state.config.admin.access_key_id {
        sigv4::verify(request, &auth, &state.config.admin.secret_access_key, None)?;
        return Ok(Caller::Admin);
    }
    if !auth.access_key_id.starts_with("ASIA") {
        return Err(invalid_token());
    }
    let token = request
        .headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(invalid_token)?;
    let session = state
        .sessions
        .open(&auth.access_key_id, token)
        .map_err(|_| invalid_token())?;
    if session.expiration <= Utc::now() {
        return Err(AwsError::new(
            "ExpiredToken",
            StatusCode::FORBIDDEN,
            "The security token included in the request is expired",
        ));
    }
    let secret = state.sessions.secret_for(&auth.access_key_id);
    sigv4::verify(request, &auth, &secret, Some(token))?;
    Ok(Caller::Session(session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iam/aws4_request, SignedHeaders=host;X-Amz-Date, Signature=abc"
                .parse()
                .unwrap(),
        );
        let auth = authorization(&headers).unwrap();
        assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
        assert_eq!(auth.date, "20240101");
        assert_eq!(auth.region, "us-east-1");
        assert_eq!(auth.service, "iam");
        assert_eq!(auth.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(auth.signature, "abc");
        headers.insert("authorization", "Bearer nope".parse().unwrap());
        assert!(authorization(&headers).is_none());
    }
}
