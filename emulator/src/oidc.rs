//! The OIDC issuer of each emulated cluster: discovery document and JWKS, at the paths EKS uses.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::app::AppState;
use crate::clusters;
use crate::eks::rest_error;
use crate::error::AwsError;
use crate::keys;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/id/{id}/.well-known/openid-configuration", get(discovery))
        .route("/id/{id}/keys", get(jwks))
}

fn not_found(id: &str) -> AwsError {
    AwsError::new(
        "NotFound",
        axum::http::StatusCode::NOT_FOUND,
        format!("no issuer with id {id} in this emulator"),
    )
}

async fn discovery(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match clusters::by_issuer_id(&state, &id) {
        Ok(Some(cluster)) => Json(serde_json::json!({
            "issuer": cluster.issuer,
            "jwks_uri": format!("{}/keys", cluster.issuer),
            "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["sub", "iss"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .into_response(),
        Ok(None) => rest_error(&not_found(&id)),
        Err(e) => rest_error(&e),
    }
}

async fn jwks(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let cluster = match clusters::by_issuer_id(&state, &id) {
        Ok(Some(cluster)) => cluster,
        Ok(None) => return rest_error(&not_found(&id)),
        Err(e) => return rest_error(&e),
    };
    let key = cluster
        .signing_key_pem
        .as_deref()
        .ok_or_else(|| AwsError::internal("cluster has no signing key"))
        .and_then(|pem| {
            keys::public_key(pem)
                .and_then(|public| keys::jwk(&public))
                .map_err(|e| AwsError::internal(e.to_string()))
        });
    match key {
        Ok(jwk) => Json(serde_json::json!({ "keys": [jwk] })).into_response(),
        Err(e) => rest_error(&e),
    }
}
