//! Who is calling, as axum extractors: handlers name what they need (`caller: Caller`, `_: AdminCaller`) and
//! never authenticate by hand. Query requests carry their caller in [`QueryRequest`](super::QueryRequest),
//! since SigV4 signs the form body.

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts, OriginalUri};
use axum::http::request::Parts;

use super::sigv4::SignedRequest;
use super::RestError;
use crate::auth::{Authenticator, Caller, Target};

/// How long a client may take to send a request body.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub read_timeout: Duration,
}

/// A SigV4-signed request without a body (EKS's REST calls are GETs).
impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Authenticator: FromRef<S>,
{
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, RestError> {
        // The path as the client signed it, even under a nested router.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()),
            authority: uri.authority().map(|a| a.as_str()),
            headers: &parts.headers,
            body: b"",
        };
        Ok(Authenticator::from_ref(state).authenticate(
            &signed,
            Target {
                service: "eks",
                action: "",
            },
        )?)
    }
}

/// The emulator's admin, proven by the admin secret as a bearer token.
pub struct AdminCaller;

impl<S> FromRequestParts<S> for AdminCaller
where
    S: Send + Sync,
    Authenticator: FromRef<S>,
{
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, RestError> {
        Authenticator::from_ref(state).admin_bearer(&parts.headers)?;
        Ok(AdminCaller)
    }
}
