//! Who is calling, as axum extractors: handlers name what they need and never authenticate by hand. Signed
//! REST requests carry their caller in [`Signed`](super::Signed) / [`SignedJson`](super::SignedJson)
//! and query requests in [`QueryRequest`](super::QueryRequest), since SigV4 signs the body; the admin API
//! takes [`AdminCaller`].

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::RestError;
use crate::auth::Authenticator;

/// How long a client may take to send a request body.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub read_timeout: Duration,
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
