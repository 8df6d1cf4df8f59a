//! The REST-JSON protocol (EKS, eks-auth, and the emulator's own API, which answers the same way): signed
//! requests with JSON bodies in, `__type`/`message` errors out.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequest, FromRequestParts, MatchedPath, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use super::body::read_body;
use super::extract::RequestLimits;
use super::sigv4::{authorization, SignedRequest};
use super::AwsError;
use crate::auth::{Authenticator, Caller, Target};

/// `__type` and `message` in the body, the code again in `X-Amzn-Errortype`.
#[derive(Debug)]
pub struct RestError(pub AwsError);

impl From<AwsError> for RestError {
    fn from(err: AwsError) -> Self {
        RestError(err)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let RestError(err) = self;
        let mut response = (
            err.status,
            Json(serde_json::json!({ "__type": err.code, "message": err.message })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(err.code) {
            response.headers_mut().insert("x-amzn-errortype", value);
        }
        response
    }
}

/// A REST-JSON service, as its SigV4 credential scope names it.
pub trait SigningName: Send + Sync + 'static {
    const NAME: &'static str;
}

/// EKS (`Credential=…/<region>/eks/aws4_request`).
pub struct EksSigning;
impl SigningName for EksSigning {
    const NAME: &'static str = "eks";
}

/// EKS Auth, the Pod Identity agent's API (`…/eks-auth/aws4_request`).
pub struct EksAuthSigning;
impl SigningName for EksAuthSigning {
    const NAME: &'static str = "eks-auth";
}

/// A request signed for another service: AWS checks the scope before the signature.
fn wrong_scope(service: &str) -> AwsError {
    AwsError::new(
        "InvalidSignatureException",
        StatusCode::FORBIDDEN,
        format!("Credential should be scoped to correct service: '{service}'. "),
    )
}

/// Verifies `parts` (and `body`) as signed for `S`.
fn authenticate<S: SigningName, St>(
    parts: &Parts,
    body: &[u8],
    state: &St,
) -> Result<Caller, AwsError>
where
    Authenticator: FromRef<St>,
{
    if let Some(auth) = authorization(&parts.headers) {
        if auth.service != S::NAME {
            return Err(wrong_scope(S::NAME));
        }
    }
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
        body,
    };
    // The route stands for the operation on the audit line of a refused call.
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or("", |p| p.as_str());
    let action = format!("{} {route}", parts.method);
    let target = Target {
        service: S::NAME,
        action: &action,
    };
    Authenticator::from_ref(state).authenticate(&signed, target)
}

/// A bodyless request (GET, DELETE) signed for `S`: who signed it.
pub struct Signed<S> {
    pub caller: Caller,
    service: PhantomData<S>,
}

impl<S: SigningName, St> FromRequestParts<St> for Signed<S>
where
    St: Send + Sync,
    Authenticator: FromRef<St>,
{
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, RestError> {
        Ok(Signed {
            caller: authenticate::<S, St>(parts, b"", state)?,
            service: PhantomData,
        })
    }
}

/// A request with a JSON body signed for `S` (the signature covers the body): who signed it and the body as
/// `T`. An empty body reads as `{}`, as SDKs send no body for inputs without body members.
pub struct SignedJson<S, T> {
    pub caller: Caller,
    pub body: T,
    service: PhantomData<S>,
}

impl<S: SigningName, T: DeserializeOwned, St> FromRequest<St> for SignedJson<S, T>
where
    St: Send + Sync,
    Authenticator: FromRef<St>,
    RequestLimits: FromRef<St>,
{
    type Rejection = RestError;

    async fn from_request(request: Request, state: &St) -> Result<Self, RestError> {
        let (parts, body) = request.into_parts();
        let limits = RequestLimits::from_ref(state);
        let bytes = read_body(body, limits.read_timeout)
            .await
            .map_err(|e| e.into_aws_error())?;
        let caller = authenticate::<S, St>(&parts, &bytes, state)?;
        let json: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let body = serde_json::from_slice(json).map_err(|e| {
            AwsError::new(
                "SerializationException",
                StatusCode::BAD_REQUEST,
                format!("The request body is not the JSON this operation takes: {e}"),
            )
        })?;
        Ok(SignedJson {
            caller,
            body,
            service: PhantomData,
        })
    }
}
