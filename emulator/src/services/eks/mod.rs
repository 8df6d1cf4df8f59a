//! EKS over REST-JSON: DescribeCluster and ListClusters, the two calls IRSA tooling makes, and the Pod
//! Identity associations ([`associations`]). Every call is SigV4-signed for `eks` and authorized as IAM would.

mod associations;
mod wire;

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::audit::Audit;
use crate::auth::Caller;
use crate::clusters::{self, Clusters};
use crate::pod_identity::Associations;
use crate::protocol::{AwsError, EksSigning, RestError, Signed};
use crate::services::iam::Authorizer;
use crate::state::blocking;
use crate::state::model::Cluster;

/// EKS: the account's clusters and their Pod Identity associations, who may see and change them, and the
/// audit log their changes go to.
#[derive(Clone)]
pub struct Eks {
    clusters: Clusters,
    associations: Associations,
    authorizer: Authorizer,
    audit: Arc<Audit>,
}

impl Eks {
    pub fn new(
        clusters: Clusters,
        associations: Associations,
        authorizer: Authorizer,
        audit: Arc<Audit>,
    ) -> Self {
        Eks {
            clusters,
            associations,
            authorizer,
            audit,
        }
    }

    /// IAM's decision for `caller`, with the code EKS uses for a refusal (`AccessDeniedException`, 403).
    fn authorize(&self, caller: &Caller, action: &str, resource: &str) -> Result<(), AwsError> {
        self.authorizer
            .authorize(caller, action, resource)
            .map_err(|err| match err.code {
                "AccessDenied" => AwsError::new("AccessDeniedException", err.status, err.message),
                _ => err,
            })
    }
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Eks: axum::extract::FromRef<S>,
    crate::auth::Authenticator: axum::extract::FromRef<S>,
    crate::protocol::RequestLimits: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/clusters", get(list_clusters))
        .route("/clusters/{name}", get(describe_cluster))
        .merge(associations::router())
}

fn cluster_json(cluster: &Cluster) -> Value {
    serde_json::json!({
        "name": cluster.name,
        "arn": cluster.arn,
        "createdAt": cluster.created_at.timestamp() as f64,
        "version": cluster.version,
        "endpoint": cluster.endpoint,
        "roleArn": cluster_role_arn(&cluster.arn),
        "identity": { "oidc": { "issuer": cluster.issuer } },
        "status": "ACTIVE",
        "certificateAuthority": certificate_authority(cluster),
        "platformVersion": "eks.1",
        "tags": cluster.tags.iter().map(|t| (t.key.clone(), Value::from(t.value.clone()))).collect::<serde_json::Map<_, _>>(),
    })
}

/// EKS omits `data` (`"certificateAuthority": {}`) until it knows the CA, as while a cluster is CREATING;
/// it never sends an empty string. The emulator knows no CA until one is given (`cluster update`).
fn certificate_authority(cluster: &Cluster) -> Value {
    if cluster.certificate_authority.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({ "data": cluster.certificate_authority })
    }
}

/// The cluster's service role, in the cluster's partition and account (`arn:aws-cn:eks:…` → `arn:aws-cn:iam::…`).
fn cluster_role_arn(cluster_arn: &str) -> String {
    let fields: Vec<&str> = cluster_arn.split(':').collect();
    let (partition, account) = (fields.get(1), fields.get(4));
    format!(
        "arn:{}:iam::{}:role/eksClusterRole",
        partition.unwrap_or(&"aws"),
        account.unwrap_or(&"")
    )
}

async fn describe_cluster(
    State(eks): State<Eks>,
    signed: Signed<EksSigning>,
    Path(name): Path<String>,
) -> Result<Json<Value>, RestError> {
    let cluster = blocking(move || {
        let arn = eks.clusters.arn(&name);
        eks.authorize(&signed.caller, "eks:DescribeCluster", &arn)?;
        eks.clusters
            .get(&name)?
            .ok_or_else(|| clusters::not_found(&name))
    })
    .await?;
    Ok(Json(
        serde_json::json!({ "cluster": cluster_json(&cluster) }),
    ))
}

#[derive(Deserialize)]
struct ListParams {
    #[serde(rename = "maxResults")]
    max_results: Option<String>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
}

async fn list_clusters(
    State(eks): State<Eks>,
    signed: Signed<EksSigning>,
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, RestError> {
    let max = wire::max_results(params.max_results.as_deref())?;
    let start = match params.next_token.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Err(wire::invalid_next_token().into()),
    };
    let clusters = blocking(move || {
        // ListClusters has no resource-level permissions (Service Authorization Reference).
        eks.authorize(&signed.caller, "eks:ListClusters", "*")?;
        eks.clusters.list()
    })
    .await?;
    let names: Vec<String> = clusters.into_iter().map(|c| c.name).collect();
    let end = (start + max).min(names.len());
    let mut body = serde_json::json!({ "clusters": names.get(start..end).unwrap_or_default() });
    if end < names.len() {
        body["nextToken"] = end.to_string().into();
    }
    Ok(Json(body))
}
