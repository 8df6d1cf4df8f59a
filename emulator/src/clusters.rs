//! Emulated EKS clusters: a name, an OIDC issuer and (unless the cluster brings its own issuer) the key
//! its API server signs service-account tokens with.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::AwsError;
use crate::keys;
use crate::state::model::Cluster;

// The issuer flags live in irsa-names with the other names both products share; e2e/tests/{kind,containers}.rs
// still import these two from here.
pub use irsa_names::{apiserver_issuer_args, default_api_audiences};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct NewCluster {
    pub name: String,
    /// The API server URL DescribeCluster reports; a placeholder EKS-style URL when absent.
    pub endpoint: Option<String>,
    /// PEM of the API server's CA, reported base64-encoded as EKS does.
    pub certificate_authority_pem: Option<String>,
    /// A cluster that serves its own discovery document and keys (kind, self-managed).
    pub issuer_url: Option<String>,
}

/// What `irsa-emulator cluster update` changes once the cluster's API server exists (kind creates it after
/// the emulator cluster, whose keys it needs): absent fields stay as they are.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ClusterUpdate {
    /// The API server URL DescribeCluster reports.
    pub endpoint: Option<String>,
    /// PEM of the API server's CA, reported base64-encoded as EKS does.
    pub certificate_authority_pem: Option<String>,
}

pub fn validate_name(name: &str) -> Result<(), AwsError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AwsError::new(
            "InvalidParameterException",
            axum::http::StatusCode::BAD_REQUEST,
            format!("Invalid cluster name {name:?}: 1-100 characters, letters, digits, - and _, starting with a letter or digit"),
        ))
    }
}

pub fn create(state: &AppState, new: NewCluster) -> Result<Cluster, AwsError> {
    validate_name(&new.name)?;
    let (issuer, signing_key_pem) = match &new.issuer_url {
        Some(url) => {
            crate::iam::provider_url(url)?;
            (url.trim_end_matches('/').to_string(), None)
        }
        None => {
            let pem =
                keys::generate_signing_key_pem().map_err(|e| AwsError::internal(e.to_string()))?;
            (
                format!("{}/id/{}", state.public_url, crate::ids::issuer_id()),
                Some(pem),
            )
        }
    };
    let cluster = Cluster {
        arn: format!(
            "arn:aws:eks:{}:{}:cluster/{}",
            state.config.region,
            state.account_id(),
            new.name
        ),
        endpoint: new.endpoint.unwrap_or_else(|| {
            format!(
                "https://{}.gr7.{}.eks.amazonaws.com",
                crate::ids::issuer_id(),
                state.config.region
            )
        }),
        certificate_authority: STANDARD.encode(new.certificate_authority_pem.unwrap_or_default()),
        name: new.name,
        issuer,
        created_at: Utc::now(),
        version: "1.33".into(),
        signing_key_pem,
        tags: Vec::new(),
    };
    state.store.write(|db| {
        if db.cluster(&cluster.name)?.is_some() {
            return Err(AwsError::new(
                "ResourceInUseException",
                axum::http::StatusCode::CONFLICT,
                format!("Cluster already exists with name: {}", cluster.name),
            ));
        }
        db.put_cluster(&cluster)?;
        Ok(())
    })?;
    Ok(cluster)
}

pub fn update(state: &AppState, name: &str, update: ClusterUpdate) -> Result<Cluster, AwsError> {
    let invalid = |message: String| {
        AwsError::new(
            "InvalidParameterException",
            axum::http::StatusCode::BAD_REQUEST,
            message,
        )
    };
    if let Some(endpoint) = &update.endpoint {
        if !endpoint.starts_with("https://") || endpoint.len() <= "https://".len() {
            return Err(invalid(format!(
                "endpoint {endpoint:?} is not an https:// URL (the API server URL, as in a kubeconfig's server:)"
            )));
        }
    }
    if let Some(pem) = &update.certificate_authority_pem {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(invalid(
                "certificate_authority_pem holds no PEM certificate (-----BEGIN CERTIFICATE-----): pass the API server's CA certificate".into(),
            ));
        }
    }
    state.store.write(|db| {
        let mut cluster = db.cluster(name)?.ok_or_else(|| {
            AwsError::new(
                "ResourceNotFoundException",
                axum::http::StatusCode::NOT_FOUND,
                format!("No cluster found for name: {name}."),
            )
        })?;
        if let Some(endpoint) = update.endpoint {
            cluster.endpoint = endpoint;
        }
        if let Some(pem) = update.certificate_authority_pem {
            cluster.certificate_authority = STANDARD.encode(pem);
        }
        db.put_cluster(&cluster)?;
        Ok(cluster)
    })
}

/// The cluster whose issuer is `{public_url}/id/{id}`.
pub fn by_issuer_id(state: &AppState, id: &str) -> Result<Option<Cluster>, AwsError> {
    let suffix = format!("/id/{id}");
    state.store.read(|db| {
        Ok(db
            .clusters()?
            .into_iter()
            .find(|c| !c.is_external() && c.issuer.ends_with(&suffix)))
    })
}
