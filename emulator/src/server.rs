//! The one HTTP(S) endpoint every service shares, as `AWS_ENDPOINT_URL` expects: Query-protocol IAM and STS
//! at `/`, EKS under `/clusters`, issuers under `/id/…`, the emulator's own API under `/_emulator`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::auth;
use crate::error::AwsError;
use crate::query::{self, Params, QueryService};

/// Larger than any legal IAM request (policies are at most a few KB), small enough that a hostile client
/// cannot make the emulator buffer much.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How much of an oversized body is read (and dropped) before answering 413: a client still sending when the
/// server closes never sees the answer, only a broken connection. Beyond this the connection is cut.
const DRAIN_BODY_BYTES: usize = 4 * 1024 * 1024;

enum BodyError {
    TooLarge,
    TimedOut,
    /// The client stopped sending or the stream failed: nothing of it may be acted on.
    Broken,
}

impl BodyError {
    fn into_aws_error(self) -> AwsError {
        match self {
            BodyError::TooLarge => AwsError::new(
                "RequestEntityTooLarge",
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
            ),
            BodyError::TimedOut => AwsError::new(
                "RequestTimeout",
                StatusCode::REQUEST_TIMEOUT,
                "Your socket connection to the server was not read from or written to within the timeout period",
            ),
            BodyError::Broken => AwsError::new(
                "IncompleteBody",
                StatusCode::BAD_REQUEST,
                "The request body ended before it was complete",
            ),
        }
    }
}

/// The whole body within [`MAX_BODY_BYTES`]; an oversized one is drained up to [`DRAIN_BODY_BYTES`].
async fn read_body(
    body: Body,
    timeout: std::time::Duration,
) -> Result<axum::body::Bytes, BodyError> {
    tokio::time::timeout(timeout, read_body_unbounded(body))
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

async fn read_body_unbounded(body: Body) -> Result<axum::body::Bytes, BodyError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        seen += chunk.len();
        if seen > DRAIN_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        if seen <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    Ok(bytes.into())
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(query_endpoint).post(query_endpoint))
        .route("/healthz", get(|| async { "ok" }))
        .merge(crate::eks::router())
        .merge(crate::oidc::router())
        .nest("/_emulator", crate::admin::router())
        .with_state(state)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Service {
    Iam,
    Sts,
}

impl Service {
    fn query(self) -> QueryService {
        match self {
            Service::Iam => query::IAM,
            Service::Sts => query::STS,
        }
    }
}

/// The signing scope says which service a request is for; unsigned requests are told apart by `Version`.
fn service_for(auth: Option<&auth::Authorization>, params: &Params) -> Option<Service> {
    match auth.map(|a| a.service.as_str()) {
        Some("iam") => return Some(Service::Iam),
        Some("sts") => return Some(Service::Sts),
        _ => {}
    }
    match params.get("Version") {
        Some("2010-05-08") => Some(Service::Iam),
        Some("2011-06-15") => Some(Service::Sts),
        _ => None,
    }
}

async fn query_endpoint(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let auth_header = auth::authorization(&parts.headers);
    let mut params = parts
        .uri
        .query()
        .map(|q| Params::parse(q.as_bytes()))
        .unwrap_or_default();
    let body = if parts.method == Method::POST {
        match read_body(body, state.config.request_read_timeout).await {
            Ok(bytes) => bytes,
            Err(error) => {
                // Only the signing scope or the query string can say which service this was for.
                let service = service_for(auth_header.as_ref(), &params).unwrap_or(Service::Iam);
                return query::error(service.query(), &error.into_aws_error());
            }
        }
    } else {
        drop::<Body>(body);
        Default::default()
    };
    params.merge(Params::parse(&body));

    let Some(service) = service_for(auth_header.as_ref(), &params) else {
        let err = AwsError::new(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            "Cannot tell which service this request is for: sign it (SigV4 scope iam or sts) or send Version=2010-05-08 (IAM) / 2011-06-15 (STS)",
        );
        return query::error(query::IAM, &err);
    };
    let Some(action) = params.get("Action").map(str::to_string) else {
        let err = AwsError::new("MissingAction", StatusCode::BAD_REQUEST, "Missing Action");
        return query::error(service.query(), &err);
    };

    let unsigned_allowed = service == Service::Sts && crate::sts::is_unsigned(&action);
    let caller = if unsigned_allowed && auth_header.is_none() {
        None
    } else {
        let signed = auth::SignedRequest {
            method: parts.method.as_str(),
            path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
            authority: parts.uri.authority().map(|a| a.as_str()),
            headers: &parts.headers,
            body: &body,
        };
        match auth::authenticate(&state, &signed) {
            Ok(caller) => Some(caller),
            Err(err) => return query::error(service.query(), &err),
        }
    };

    let outcome = match service {
        Service::Sts => crate::sts::dispatch(&state, caller.as_ref(), &action, &params).await,
        Service::Iam => {
            let state = state.clone();
            let action = action.clone();
            tokio::task::spawn_blocking(move || {
                let caller = caller.ok_or_else(auth::missing_authentication)?;
                // Naming the resource may read the role; only role sessions are ever refused, so only
                // they pay for it.
                if caller.role().is_some() {
                    let resource = crate::iam::resource_for(&state, &action, &params);
                    crate::authz::authorize(&state, &caller, &format!("iam:{action}"), &resource)?;
                }
                crate::iam::dispatch(&state, &action, &params)
            })
            .await
            .unwrap_or_else(|join_error| {
                tracing::error!(error = %join_error, "handler panicked");
                Err(AwsError::internal(
                    "the emulator failed while handling this request",
                ))
            })
        }
    };
    match outcome {
        Ok(result) => query::success(service.query(), &action, result),
        Err(err) => {
            tracing::debug!(code = err.code, message = %err.message, "request rejected");
            query::error(service.query(), &err)
        }
    }
}
