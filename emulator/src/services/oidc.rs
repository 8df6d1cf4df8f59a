//! The OIDC issuer of each emulated cluster: discovery document and JWKS, at the paths EKS uses.

use axum::extract::{FromRef, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::clusters::{keys, Clusters};
use crate::protocol::{AwsError, RestError};
use crate::state::blocking;
use crate::state::model::Cluster;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Clusters: FromRef<S>,
{
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

async fn issuer(clusters: Clusters, id: String) -> Result<Cluster, RestError> {
    let cluster =
        blocking(move || clusters.by_issuer_id(&id)?.ok_or_else(|| not_found(&id))).await?;
    Ok(cluster)
}

async fn discovery(
    State(clusters): State<Clusters>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let cluster = issuer(clusters, id).await?;
    Ok(Json(serde_json::json!({
        "issuer": cluster.issuer,
        "jwks_uri": format!("{}/keys", cluster.issuer),
        "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "claims_supported": ["sub", "iss"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })))
}

async fn jwks(
    State(clusters): State<Clusters>,
    Path(id): Path<String>,
) -> Result<Json<Value>, RestError> {
    let cluster = issuer(clusters, id).await?;
    let pem = cluster
        .signing_key_pem
        .as_deref()
        .ok_or_else(|| AwsError::internal("cluster has no signing key"))?;
    let jwk = keys::public_key(pem)
        .and_then(|public| keys::jwk(&public))
        .map_err(|e| AwsError::internal(e.to_string()))?;
    Ok(Json(serde_json::json!({ "keys": [jwk] })))
}
