//! Service-account tokens exactly as kube-apiserver mints them (same header and claims), signed with a
//! cluster's key: for labs and tests that have no API server.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::keys;
use crate::protocol::AwsError;
use crate::state::model::Cluster;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRequest {
    pub namespace: String,
    pub service_account: String,
    #[serde(default = "default_audiences")]
    pub audiences: Vec<String>,
    #[serde(default = "default_expiration")]
    pub expiration_seconds: i64,
    /// The pod the token is bound to, as the kubelet's projected tokens are (`kubernetes.io.pod`).
    #[serde(default)]
    pub pod: Option<BoundPod>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoundPod {
    pub name: String,
    pub uid: String,
}

fn default_audiences() -> Vec<String> {
    vec![irsa_names::STS_AUDIENCE.into()]
}

fn default_expiration() -> i64 {
    3600
}

pub fn mint(cluster: &Cluster, request: &TokenRequest) -> Result<String, AwsError> {
    let pem = cluster.signing_key_pem.as_deref().ok_or_else(|| {
        AwsError::invalid_input(format!(
            "cluster {} serves its own issuer; ask its API server for tokens (kubectl create token)",
            cluster.name
        ))
    })?;
    if request.expiration_seconds < 600 {
        return Err(AwsError::invalid_input(
            "expiration must be at least 600 seconds, as kube-apiserver requires",
        ));
    }
    let public = keys::public_key(pem).map_err(|e| AwsError::internal(e.to_string()))?;
    let kid = keys::key_id(&public).map_err(|e| AwsError::internal(e.to_string()))?;
    let now = Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "aud": request.audiences,
        "exp": now + request.expiration_seconds,
        "iat": now,
        "iss": cluster.issuer,
        "jti": uuid::Uuid::new_v4().to_string(),
        "kubernetes.io": {
            "namespace": request.namespace,
            "serviceaccount": {
                "name": request.service_account,
                "uid": uuid::Uuid::new_v4().to_string(),
            },
        },
        "nbf": now,
        "sub": format!("system:serviceaccount:{}:{}", request.namespace, request.service_account),
    });
    if let Some(pod) = &request.pod {
        claims["kubernetes.io"]["pod"] = serde_json::json!({ "name": pod.name, "uid": pod.uid });
    }
    sign(pem, &kid, &claims).map_err(AwsError::internal)
}

/// `claims` signed as kube-apiserver signs service-account tokens: RS256, the key's `kid`, no `typ`.
pub(crate) fn sign(pem: &str, kid: &str, claims: &serde_json::Value) -> Result<String, String> {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = None;
    header.kid = Some(kid.to_string());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&header, claims, &key).map_err(|e| e.to_string())
}
