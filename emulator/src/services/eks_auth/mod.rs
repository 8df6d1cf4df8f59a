//! EKS Auth: `POST /clusters/{clusterName}/assume-role-for-pod-identity` (botocore `eks-auth` 2023-11-26), the
//! one call the Pod Identity agent makes. Signed for `eks-auth` by the agent (its caller must be allowed
//! `eks-auth:AssumeRoleForPodIdentity` on the cluster, as `AmazonEKSWorkerNodePolicy` allows node roles);
//! the pod's projected token is verified as STS verifies web identity tokens ([`exchange`]).

mod exchange;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::audit::Audit;
use crate::auth::SessionKeys;
use crate::clusters::Clusters;
use crate::pod_identity::Associations;
use crate::protocol::{EksAuthSigning, RestError, SignedJson};
use crate::services::iam::Authorizer;
use crate::services::sts::{JwksCache, TrustPolicies};
use crate::state::Store;

/// What AssumeRoleForPodIdentity reads (clusters, associations, roles, issuer keys), issues (sealed sessions)
/// and records.
#[derive(Clone)]
pub struct EksAuth {
    store: Arc<Store>,
    clusters: Clusters,
    associations: Associations,
    jwks: Arc<JwksCache>,
    sessions: Arc<SessionKeys>,
    trust: Arc<TrustPolicies>,
    authorizer: Authorizer,
    audit: Arc<Audit>,
}

/// The parts [`EksAuth`] is built from ([`crate::server::AppState::build`] has them all).
pub struct EksAuthParts {
    pub store: Arc<Store>,
    pub clusters: Clusters,
    pub associations: Associations,
    pub jwks: Arc<JwksCache>,
    pub sessions: Arc<SessionKeys>,
    pub authorizer: Authorizer,
    pub audit: Arc<Audit>,
}

impl EksAuth {
    pub fn new(parts: EksAuthParts) -> Self {
        EksAuth {
            store: parts.store,
            clusters: parts.clusters,
            associations: parts.associations,
            jwks: parts.jwks,
            sessions: parts.sessions,
            trust: Arc::default(),
            authorizer: parts.authorizer,
            audit: parts.audit,
        }
    }
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    EksAuth: axum::extract::FromRef<S>,
    crate::auth::Authenticator: axum::extract::FromRef<S>,
    crate::protocol::RequestLimits: axum::extract::FromRef<S>,
{
    Router::new().route(
        "/clusters/{cluster}/assume-role-for-pod-identity",
        post(assume_role_for_pod_identity),
    )
}

/// The request body (`AssumeRoleForPodIdentityRequest`); `eksNodeName`, `instanceId` and `zone` describe the
/// agent's node and change nothing here.
#[derive(Deserialize)]
struct Body {
    token: Option<String>,
}

async fn assume_role_for_pod_identity(
    State(eks_auth): State<EksAuth>,
    Path(cluster): Path<String>,
    request: SignedJson<EksAuthSigning, Body>,
) -> Result<Json<Value>, RestError> {
    let SignedJson { caller, body, .. } = request;
    let granted = exchange::exchange(&eks_auth, &caller, &cluster, body.token.as_deref()).await?;
    Ok(Json(granted.to_json()))
}
