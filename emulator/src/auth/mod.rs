//! Who is calling. Every signed request is verified (SigV4 over the admin credentials or STS-issued
//! temporary credentials); unsigned requests are refused except where AWS allows them
//! (AssumeRoleWithWebIdentity). The [`Authenticator`] is the one place that decides; the protocol edge's
//! extractors call it.

pub mod session;
pub mod trust;

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;

pub use session::{IssuedCredentials, Session, SessionGrant, SessionKeys, SessionPrincipal};

use crate::audit::{Audit, Decision, Entry};
use crate::config::AdminCredentials;
use crate::partition::{Account, Partition};
use crate::protocol::{
    authorization, check_scope, signing_time, verify_signature, Authorization, AwsError,
    SignedRequest,
};

mod refusal;
use refusal::{unknown_key_hint, Refusal, NOT_OUR_SESSION, NO_SESSION_TOKEN, WRONG_ADMIN_SECRET};

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
    pub fn arn(&self, account: &Account) -> String {
        match self {
            Caller::Session(Session {
                principal:
                    SessionPrincipal::AssumedRole {
                        role_name,
                        session_name,
                        ..
                    },
                ..
            }) => account.sts_arn(&format!("assumed-role/{role_name}/{session_name}")),
            _ => account.iam_arn(&format!("user/{ADMIN_USER_NAME}")),
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

/// Access key ids are 16 to 128 characters (IAM's accessKeyIdType).
const MAX_AUDITED_KEY_ID: usize = 128;

/// Where a request was sent: the service whose signing name its scope must carry, and the action (for the audit
/// line of a refusal).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub service: &'a str,
    pub action: &'a str,
}

/// Verifies callers: SigV4 with the admin credentials or with temporary credentials this emulator sealed, and
/// the admin API's bearer secret. Every refusal is audited with the access key id (never a secret) and why.
#[derive(Clone)]
pub struct Authenticator {
    admin: Arc<AdminCredentials>,
    sessions: Arc<SessionKeys>,
    audit: Arc<Audit>,
    region: Arc<str>,
}

impl Authenticator {
    /// `region` is the one the emulator serves; IAM requests are signed for its partition's IAM region.
    pub fn new(
        admin: AdminCredentials,
        sessions: Arc<SessionKeys>,
        audit: Arc<Audit>,
        region: &str,
    ) -> Self {
        Authenticator {
            admin: Arc::new(admin),
            sessions,
            audit,
            region: region.into(),
        }
    }

    /// The region a request to `service` must be signed for: IAM's partition-wide one, or the emulator's.
    pub fn signing_region(&self, service: &str) -> &str {
        if service == "iam" {
            Partition::of_region(&self.region).iam_signing_region()
        } else {
            &self.region
        }
    }

    /// The caller behind a SigV4-signed request to `target`, checked in AWS's order: the Authorization header,
    /// the signing time, the credential scope, the access key, the signature.
    pub fn authenticate(
        &self,
        request: &SignedRequest,
        target: Target,
    ) -> Result<Caller, AwsError> {
        let auth = authorization(request.headers);
        self.verify(request, auth.as_ref(), target)
            .map_err(|refusal| self.audit_refusal(auth.as_ref(), target, refusal))
    }

    fn verify(
        &self,
        request: &SignedRequest,
        auth: Option<&Authorization>,
        target: Target,
    ) -> Result<Caller, Refusal> {
        let auth = auth.ok_or_else(|| Refusal::plain(missing_authentication()))?;
        let time = signing_time(request.headers).map_err(Refusal::plain)?;
        check_scope(
            auth,
            time,
            self.signing_region(target.service),
            target.service,
        )
        .map_err(Refusal::plain)?;
        if auth.access_key_id == self.admin.access_key_id {
            verify_signature(request, auth, time, &self.admin.secret_access_key, None)
                .map_err(|e| Refusal::because(e, WRONG_ADMIN_SECRET))?;
            return Ok(Caller::Admin);
        }
        if !auth.access_key_id.starts_with("ASIA") {
            let shown: String = auth
                .access_key_id
                .chars()
                .take(MAX_AUDITED_KEY_ID)
                .collect();
            return Err(Refusal::because(invalid_token(), unknown_key_hint(&shown)));
        }
        let token = request
            .headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Refusal::because(invalid_token(), NO_SESSION_TOKEN))?;
        let session = self
            .sessions
            .open(&auth.access_key_id, token)
            .map_err(|_| Refusal::because(invalid_token(), NOT_OUR_SESSION))?;
        if session.expiration <= Utc::now() {
            return Err(Refusal::plain(AwsError::new(
                "ExpiredToken",
                StatusCode::FORBIDDEN,
                "The security token included in the request is expired",
            )));
        }
        let secret = self.sessions.secret_for(&auth.access_key_id);
        verify_signature(request, auth, time, &secret, Some(token)).map_err(Refusal::plain)?;
        Ok(Caller::Session(session))
    }

    /// Records why a call was refused, and hands back the error the caller gets.
    fn audit_refusal(
        &self,
        auth: Option<&Authorization>,
        target: Target,
        refusal: Refusal,
    ) -> AwsError {
        // A key id is no secret, but it is the caller's text: bounded, so a huge one cannot flood the log.
        let caller: String = auth.map_or("anonymous".into(), |a| {
            a.access_key_id.chars().take(MAX_AUDITED_KEY_ID).collect()
        });
        self.audit.record(Entry {
            caller: &caller,
            action: &format!("{}:{}", target.service, target.action),
            role: None,
            decision: Decision::Deny,
            code: Some(refusal.error.code),
            explanation: refusal.explanation(),
        });
        refusal.error
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
