//! The emulator's own API (`/_emulator/…`), for its CLI: clusters, audit, reset. Authenticated with the admin
//! secret as a bearer token ([`AdminCaller`]) so nothing but the admin can mint clusters or read signing keys.

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::sts::JwksCache;
use crate::audit::{Audit, Decision, Entry};
use crate::auth::{Authenticator, Caller};
use crate::clusters::{self, keys, tokens, ClusterUpdate, Clusters, NewCluster};
use crate::protocol::{AdminCaller, AwsError, RestError};
use crate::state::model::Cluster;
use crate::state::{blocking, Cleared, Store};

/// What the admin API changes and reads.
#[derive(Clone)]
pub struct Admin {
    store: Arc<Store>,
    clusters: Clusters,
    audit: Arc<Audit>,
    jwks: Arc<JwksCache>,
}

impl Admin {
    pub fn new(
        store: Arc<Store>,
        clusters: Clusters,
        audit: Arc<Audit>,
        jwks: Arc<JwksCache>,
    ) -> Self {
        Admin {
            store,
            clusters,
            audit,
            jwks,
        }
    }
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Admin: FromRef<S>,
    Authenticator: FromRef<S>,
{
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
    _: AdminCaller,
    State(admin): State<Admin>,
    Query(query): Query<ResetQuery>,
) -> Result<Json<Cleared>, RestError> {
    let store = admin.store.clone();
    let cleared =
        blocking(move || store.write(|db| Ok::<_, AwsError>(db.clear(query.clusters)?))).await?;
    admin.jwks.forget_all();
    admin.audit.record(Entry {
        caller: &Caller::Admin.arn(admin.clusters.account()),
        action: "emulator:Reset",
        role: None,
        decision: Decision::Allow,
        code: None,
        explanation: format!("reset: {cleared}"),
    });
    Ok(Json(cleared))
}

/// Mints the token the cluster's API server would issue (`irsa-emulator token`).
async fn token(
    _: AdminCaller,
    State(admin): State<Admin>,
    Path(name): Path<String>,
    Json(request): Json<tokens::TokenRequest>,
) -> Result<Json<Value>, RestError> {
    let clusters = admin.clusters.clone();
    let cluster = blocking(move || {
        clusters
            .get(&name)?
            .ok_or_else(|| clusters::not_found(&name))
    })
    .await?;
    let token = tokens::mint(&cluster, &request)?;
    Ok(Json(serde_json::json!({ "token": token })))
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    #[serde(default)]
    since: u64,
}

async fn audit_events(
    _: AdminCaller,
    State(admin): State<Admin>,
    Query(query): Query<AuditQuery>,
) -> Json<Value> {
    Json(serde_json::json!({ "events": admin.audit.since(query.since) }))
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

async fn create(
    _: AdminCaller,
    State(admin): State<Admin>,
    Json(new): Json<NewCluster>,
) -> Result<(StatusCode, Json<ClusterInfo>), RestError> {
    let clusters = admin.clusters.clone();
    let cluster = blocking(move || clusters.create(new)).await?;
    Ok((
        StatusCode::CREATED,
        Json(ClusterInfo::from_cluster(cluster, true)?),
    ))
}

/// Sets what only exists once the cluster's API server runs: its endpoint and CA.
async fn update(
    _: AdminCaller,
    State(admin): State<Admin>,
    Path(name): Path<String>,
    Json(update): Json<ClusterUpdate>,
) -> Result<Json<ClusterInfo>, RestError> {
    let clusters = admin.clusters.clone();
    let cluster = blocking(move || clusters.update(&name, update)).await?;
    Ok(Json(ClusterInfo::from_cluster(cluster, false)?))
}

async fn list(_: AdminCaller, State(admin): State<Admin>) -> Result<Json<Value>, RestError> {
    let clusters = admin.clusters.clone();
    let infos = blocking(move || {
        clusters
            .list()?
            .into_iter()
            .map(|c| ClusterInfo::from_cluster(c, false))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(Json(serde_json::json!({ "clusters": infos })))
}

async fn remove(
    _: AdminCaller,
    State(admin): State<Admin>,
    Path(name): Path<String>,
) -> Result<StatusCode, RestError> {
    let (clusters, deleted_name) = (admin.clusters.clone(), name.clone());
    if !blocking(move || clusters.delete(&deleted_name)).await? {
        return Err(clusters::not_found(&name).into());
    }
    admin.jwks.forget_own_clusters();
    Ok(StatusCode::NO_CONTENT)
}
