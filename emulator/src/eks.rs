//! EKS over REST-JSON: DescribeCluster and ListClusters, the two calls IRSA tooling makes.

use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AwsError;
use crate::state::model::Cluster;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clusters", get(list_clusters))
        .route("/clusters/{name}", get(describe_cluster))
}

/// REST-JSON errors: `__type` and `message` in the body, the code again in `X-Amzn-Errortype`.
pub fn rest_error(err: &AwsError) -> Response {
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

fn cluster_json(cluster: &Cluster) -> serde_json::Value {
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
        "tags": cluster.tags.iter().map(|t| (t.key.clone(), serde_json::Value::from(t.value.clone()))).collect::<serde_json::Map<_, _>>(),
    })
}

/// EKS omits `data` (`"certificateAuthority": {}`) until it knows the CA, as while a cluster is CREATING;
/// it never sends an empty string. The emulator knows no CA until one is given (`cluster update`).
fn certificate_authority(cluster: &Cluster) -> serde_json::Value {
    if cluster.certificate_authority.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({ "data": cluster.certificate_authority })
    }
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// EKS calls are SigV4-signed GETs; the caller must be verified and allowed `eks:<action>` on `resource`.
fn authorize(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    action: &str,
    resource: &str,
) -> Result<(), AwsError> {
    let signed = crate::auth::SignedRequest {
        method: Method::GET.as_str(),
        path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()),
        authority: uri.authority().map(|a| a.as_str()),
        headers,
        body: b"",
    };
    let caller = crate::auth::authenticate(state, &signed)?;
    crate::authz::authorize(state, &caller, action, resource)
}

fn cluster_arn(state: &AppState, name: &str) -> String {
    format!(
        "arn:aws:eks:{}:{}:cluster/{name}",
        state.config.region,
        state.account_id()
    )
}

async fn describe_cluster(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if let Err(e) = authorize(
        &state,
        &uri,
        &headers,
        "eks:DescribeCluster",
        &cluster_arn(&state, &name),
    ) {
        return rest_error(&e);
    }
    match state.store.read(|db| Ok(db.cluster(&name)?)) {
        Ok(Some(cluster)) => {
            Json(serde_json::json!({ "cluster": cluster_json(&cluster) })).into_response()
        }
        Ok(None) => rest_error(&AwsError::new(
            "ResourceNotFoundException",
            StatusCode::NOT_FOUND,
            format!("No cluster found for name: {name}."),
        )),
        Err(e) => rest_error(&e),
    }
}

#[derive(Deserialize)]
struct ListParams {
    #[serde(rename = "maxResults")]
    max_results: Option<String>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
}

async fn list_clusters(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Response {
    let invalid = |message: String| {
        rest_error(&AwsError::new(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
            message,
        ))
    };
    let max = match params.max_results.as_deref().map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return invalid("maxResults must be an integer between 1 and 100".into()),
    };
    let start = match params.next_token.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return invalid("The nextToken provided is invalid.".into()),
    };
    let names: Vec<String> = match state.store.read(|db| Ok(db.clusters()?)) {
        Ok(clusters) => clusters.into_iter().map(|c| c.name).collect(),
        Err(e) => return rest_error(&e),
    };
    let end = (start + max).min(names.len());
    let mut body = serde_json::json!({ "clusters": names.get(start..end).unwrap_or_default() });
    if end < names.len() {
        body["nextToken"] = end.to_string().into();
    }
    Json(body).into_response()
}
