//! The emulator's own API (`/_emulator/…`), for its CLI: clusters, audit, reset. Authenticated with the admin secret as a
//! bearer token so nothing but the admin can mint clusters or read signing keys.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::app::AppState;
use crate::audit::{Decision, Entry};
use crate::auth::Caller;
use crate::clusters::{self, ClusterUpdate, NewCluster};
use crate::eks::rest_error;
use crate::error::AwsError;
use crate::keys;
use crate::state::model::Cluster;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clusters", get(list).post(create))
        .route("/clusters/{name}", delete(remove).patch(update))
        .route("/clusters/{name}/token", post(token))
        .route("/audit", get(audit_events))
        .route("/reset", post(reset))
}

#[derive(serde::Deserialize)]
struct ResetQuery {
    /// Clusters are kept unless asked: a running API server holds their signing keys.
    #[serde(default)]
    clusters: bool,
}

/// A clean slate between tests or lab exercises, without restarting the emulator or losing its CA.
async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<ResetQuery>,
) -> Response {
    let result = authorize(&state, &headers)
        .and_then(|_| state.store.write(|db| Ok(db.clear(query.clusters)?)));
    match result {
        Ok(cleared) => {
            state.jwks.forget_all();
            state.audit.record(Entry {
                caller: &Caller::Admin.arn(state.account_id()),
                action: "emulator:Reset",
                role: None,
                decision: Decision::Allow,
                code: None,
                explanation: format!("reset: {cleared}"),
            });
            Json(cleared).into_response()
        }
        Err(e) => rest_error(&e),
    }
}

/// Mints the token the cluster's API server would issue (`irsa-emulator token`).
async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Json(request): Json<crate::tokens::TokenRequest>,
) -> Response {
    let result = authorize(&state, &headers).and_then(|_| {
        let cluster = state
            .store
            .read(|db| Ok(db.cluster(&name)?))?
            .ok_or_else(|| {
                AwsError::new(
                    "ResourceNotFoundException",
                    StatusCode::NOT_FOUND,
                    format!("No cluster found for name: {name}."),
                )
            })?;
        crate::tokens::mint(&cluster, &request)
    });
    match result {
        Ok(token) => Json(serde_json::json!({ "token": token })).into_response(),
        Err(e) => rest_error(&e),
    }
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    #[serde(default)]
    since: u64,
}

async fn audit_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<AuditQuery>,
) -> Response {
    match authorize(&state, &headers) {
        Ok(()) => {
            Json(serde_json::json!({ "events": state.audit.since(query.since) })).into_response()
        }
        Err(e) => rest_error(&e),
    }
}

/// What the CLI needs to configure an API server as this cluster's issuer.
#[derive(Serialize, serde::Deserialize, Debug)]
pub struct ClusterInfo {
    pub name: String,
    pub arn: String,
    pub issuer: String,
    pub endpoint: String,
    pub signing_key_pem: Option<String>,
    pub public_key_pem: Option<String>,
}

impl ClusterInfo {
    fn from_cluster(cluster: Cluster, with_keys: bool) -> Result<ClusterInfo, AwsError> {
        let public_key_pem = match &cluster.signing_key_pem {
            Some(pem) if with_keys => Some(
                keys::public_key(pem)
                    .and_then(|k| keys::public_key_pem(&k))
                    .map_err(|e| AwsError::internal(e.to_string()))?,
            ),
            _ => None,
        };
        Ok(ClusterInfo {
            name: cluster.name,
            arn: cluster.arn,
            issuer: cluster.issuer,
            endpoint: cluster.endpoint,
            signing_key_pem: cluster.signing_key_pem.filter(|_| with_keys),
            public_key_pem,
        })
    }
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), AwsError> {
    let expected = format!("Bearer {}", state.config.admin.secret_access_key);
    let given = headers.get("authorization").map(|v| v.as_bytes());
    match given {
        // Constant time: the admin secret must not leak through response timing.
        Some(given) if bool::from(subtle::ConstantTimeEq::ct_eq(given, expected.as_bytes())) => {
            Ok(())
        }
        _ => Err(AwsError::new(
            "AccessDenied",
            StatusCode::FORBIDDEN,
            "the emulator admin API needs 'Authorization: Bearer <admin secret access key>'",
        )),
    }
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(new): Json<NewCluster>,
) -> Response {
    let result = authorize(&state, &headers)
        .and_then(|_| clusters::create(&state, new))
        .and_then(|c| ClusterInfo::from_cluster(c, true));
    match result {
        Ok(info) => (StatusCode::CREATED, Json(info)).into_response(),
        Err(e) => rest_error(&e),
    }
}

/// Sets what only exists once the cluster's API server runs: its endpoint and CA.
async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Json(update): Json<ClusterUpdate>,
) -> Response {
    let result = authorize(&state, &headers)
        .and_then(|_| clusters::update(&state, &name, update))
        .and_then(|c| ClusterInfo::from_cluster(c, false));
    match result {
        Ok(info) => Json(info).into_response(),
        Err(e) => rest_error(&e),
    }
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let result = authorize(&state, &headers).and_then(|_| {
        state
            .store
            .read(|db| Ok(db.clusters()?))?
            .into_iter()
            .map(|c| ClusterInfo::from_cluster(c, false))
            .collect::<Result<Vec<_>, _>>()
    });
    match result {
        Ok(clusters) => Json(serde_json::json!({ "clusters": clusters })).into_response(),
        Err(e) => rest_error(&e),
    }
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let result = authorize(&state, &headers)
        .and_then(|_| state.store.write(|db| Ok(db.delete_cluster(&name)?)));
    match result {
        Ok(true) => {
            state.jwks.forget_own_clusters();
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => rest_error(&AwsError::new(
            "ResourceNotFoundException",
            StatusCode::NOT_FOUND,
            format!("No cluster found for name: {name}."),
        )),
        Err(e) => rest_error(&e),
    }
}
