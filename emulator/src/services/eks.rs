//! EKS over REST-JSON: DescribeCluster and ListClusters, the two calls IRSA tooling makes.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::clusters::{self, Clusters};
use crate::protocol::{AwsError, RestError};
use crate::services::iam::Authorizer;
use crate::state::blocking;
use crate::state::model::Cluster;

/// EKS: the account's clusters, and who may see them.
#[derive(Clone)]
pub struct Eks {
    clusters: Clusters,
    authorizer: Authorizer,
}

impl Eks {
    pub fn new(clusters: Clusters, authorizer: Authorizer) -> Self {
        Eks {
            clusters,
            authorizer,
        }
    }
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Eks: axum::extract::FromRef<S>,
    crate::auth::Authenticator: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/clusters", get(list_clusters))
        .route("/clusters/{name}", get(describe_cluster))
}

fn cluster_json(cluster: &Cluster) -> Value {
    serde_json::json!({
        "name": cluster.name,
        "arn": cluster.arn,
        "createdAt": cluster.created_at.timestamp() as f64,
        "version": cluster.version,
        "endpoint": cluster.endpoint,
        "roleArn": format!("arn:aws:iam::{}:role/eksClusterRole", account_of(&cluster.arn)),
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

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

async fn describe_cluster(
    State(eks): State<Eks>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, RestError> {
    let cluster = blocking(move || {
        let arn = eks.clusters.arn(&name);
        eks.authorizer
            .authorize(&caller, "eks:DescribeCluster", &arn)?;
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
    Query(params): Query<ListParams>,
) -> Result<Json<Value>, RestError> {
    let invalid = |message: &str| {
        AwsError::new(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
            message,
        )
    };
    let max = match params.max_results.as_deref().map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return Err(invalid("maxResults must be an integer between 1 and 100").into()),
    };
    let start = match params.next_token.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Err(invalid("The nextToken provided is invalid.").into()),
    };
    let clusters = blocking(move || eks.clusters.list()).await?;
    let names: Vec<String> = clusters.into_iter().map(|c| c.name).collect();
    let end = (start + max).min(names.len());
    let mut body = serde_json::json!({ "clusters": names.get(start..end).unwrap_or_default() });
    if end < names.len() {
        body["nextToken"] = end.to_string().into();
    }
    Ok(Json(body))
}
