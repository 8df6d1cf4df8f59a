//! The one HTTP(S) endpoint every service shares, as `AWS_ENDPOINT_URL` expects: Query-protocol IAM and STS
//! at `/`, EKS under `/clusters`, issuers under `/id/…`, the emulator's own API under `/_emulator`.

use axum::extract::State;
use axum::routing::get;
use axum::Router;

use super::state::AppState;
use crate::protocol::{QueryError, QueryRequest, QueryResponse, STS};
use crate::services::iam::Iam;
use crate::services::sts::Sts;
use crate::services::{admin, eks, eks_auth, oidc};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(query).post(query))
        .route("/healthz", get(|| async { "ok" }))
        .merge(eks::router())
        .merge(eks_auth::router())
        .merge(oidc::router())
        .nest("/_emulator", admin::router())
        .with_state(state)
}

/// IAM and STS share `/`: the request says which one it is for.
async fn query(
    State(iam): State<Iam>,
    State(sts): State<Sts>,
    request: QueryRequest,
) -> Result<QueryResponse, QueryError> {
    let QueryRequest {
        service,
        action,
        params,
        caller,
    } = request;
    let outcome = if service == STS {
        sts.dispatch(caller, &action, params).await
    } else {
        iam.handle(caller, action.clone(), params).await
    };
    match outcome {
        Ok(result) => Ok(QueryResponse {
            service,
            action,
            result,
        }),
        Err(error) => {
            tracing::debug!(code = error.code, message = %error.message, "request rejected");
            Err(QueryError::new(service, error))
        }
    }
}
