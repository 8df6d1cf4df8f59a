//! Who is calling. Every signed request is verified (SigV4 over the admin credentials or STS-issued
//! temporary credentials); unsigned requests are refused except where AWS allows them
//! (AssumeRoleWithWebIdentity). The [`Authenticator`] is the one place that decides; the protocol edge's
//! extractors call it.

pub mod session;

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;

pub use session::{IssuedCredentials, Session, SessionGrant, SessionKeys, SessionPrincipal};

use crate::config::AdminCredentials;
use crate::protocol::{authorization, verify_signature, AwsError, SignedRequest};

/// The identity behind a verified request.
// One Caller per request, built once and borrowed after: boxing the session would cost an allocation per
// request to save bytes nobody copies.
#[allow(clippy::large_enum_variant)]
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

/// Verifies callers: SigV4 with the admin credentials or with temporary credentials this emulator sealed, and
/// the admin API's bearer secret.
#[derive(Clone)]
pub struct Authenticator {
    admin: Arc<AdminCredentials>,
    sessions: Arc<SessionKeys>,
}

impl Authenticator {
    pub fn new(admin: AdminCredentials, sessions: Arc<SessionKeys>) -> Self {
        Authenticator {
            admin: Arc::new(admin),
            sessions,
        }
    }

    /// The caller behind a SigV4-signed request.
    pub fn authenticate(&self, request: &SignedRequest) -> Result<Caller, AwsError> {
        let auth = authorization(request.headers).ok_or_else(missing_authentication)?;
        if auth.access_key_id == self.admin.access_key_id {
            verify_signature(request, &auth, &self.admin.secret_access_key, None)?;
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
        let session = self
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
        let secret = self.sessions.secret_for(&auth.access_key_id);
        verify_signature(request, &auth, &secret, Some(token))?;
        Ok(Caller::Session(session))
    }

    /// The admin API takes the admin secret as a bearer token, and nothing else: no SigV4, no session.
    pub fn admin_bearer(&self, headers: &HeaderMap) -> Result<(), AwsError> {
        let expected = format!("Bearer {}", self.admin.secret_access_key);
        let given = headers.get("authorization").map(|v| v.as_bytes());
        match given {
            // Constant time: the admin secret must not leak through response timing.
            Some(given)
                if bool::from(subtle::ConstantTimeEq::ct_eq(given, expected.as_bytes())) =>
            {
                Ok(())
            }
            _ => Err(AwsError::new(
                "AccessDenied",
                StatusCode::FORBIDDEN,
                "the emulator admin API needs 'Authorization: Bearer <admin secret access key>'",
            )),
        }
    }
}
