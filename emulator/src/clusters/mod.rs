//! Emulated EKS clusters: a name, an OIDC issuer and (unless the cluster brings its own issuer) the key
//! its API server signs service-account tokens with.

pub mod keys;
pub mod tokens;

use std::sync::Arc;

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::partition::Account;
use crate::protocol::AwsError;
use crate::state::model::Cluster;
use crate::state::Store;

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
            StatusCode::BAD_REQUEST,
            format!("Invalid cluster name {name:?}: 1-100 characters, letters, digits, - and _, starting with a letter or digit"),
        ))
    }
}

pub fn not_found(name: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        StatusCode::NOT_FOUND,
        format!("No cluster found for name: {name}."),
    )
}

/// The account's clusters: what EKS reports, what the issuers serve, what the admin API manages. Blocking
/// (SQLite): call from the blocking pool.
#[derive(Clone)]
pub struct Clusters {
    store: Arc<Store>,
    /// Own issuers are minted under it: `{public_url}/id/{id}`.
    public_url: Arc<str>,
    region: Arc<str>,
    account: Account,
}

impl Clusters {
    pub fn new(store: Arc<Store>, public_url: &str, region: &str, account: &Account) -> Self {
        Clusters {
            store,
            public_url: public_url.into(),
            region: region.into(),
            account: account.clone(),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account_id(&self) -> &str {
        self.account.id()
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The ARN EKS gives the cluster `name`, whether or not it exists.
    pub fn arn(&self, name: &str) -> String {
        self.account
            .arn("eks", &self.region, &format!("cluster/{name}"))
    }

    /// The id in `{public_url}/id/{id}`, for issuers this emulator serves.
    pub fn own_issuer_id<'a>(&self, issuer: &'a str) -> Option<&'a str> {
        issuer.strip_prefix(&*self.public_url)?.strip_prefix("/id/")
    }

    pub fn get(&self, name: &str) -> Result<Option<Cluster>, AwsError> {
        self.store.read(|db| Ok(db.cluster(name)?))
    }

    pub fn list(&self) -> Result<Vec<Cluster>, AwsError> {
        self.store.read(|db| Ok(db.clusters()?))
    }

    /// Whether there was such a cluster.
    pub fn delete(&self, name: &str) -> Result<bool, AwsError> {
        self.store.write(|db| Ok(db.delete_cluster(name)?))
    }

    pub fn create(&self, new: NewCluster) -> Result<Cluster, AwsError> {
        create(self, new)
    }

    pub fn update(&self, name: &str, update: ClusterUpdate) -> Result<Cluster, AwsError> {
        self::update(self, name, update)
    }

    /// The cluster whose issuer is `{public_url}/id/{id}`.
    pub fn by_issuer_id(&self, id: &str) -> Result<Option<Cluster>, AwsError> {
        let suffix = format!("/id/{id}");
        self.store.read(|db| {
            Ok(db
                .clusters()?
                .into_iter()
                .find(|c| !c.is_external() && c.issuer.ends_with(&suffix)))
        })
    }
}

fn create(clusters: &Clusters, new: NewCluster) -> Result<Cluster, AwsError> {
    validate_name(&new.name)?;
    let (issuer, signing_key_pem) = match &new.issuer_url {
        Some(url) => {
            crate::services::iam::provider_url(url)?;
            (url.trim_end_matches('/').to_string(), None)
        }
        None => {
            let pem =
                keys::generate_signing_key_pem().map_err(|e| AwsError::internal(e.to_string()))?;
            (
                format!("{}/id/{}", clusters.public_url, crate::ids::issuer_id()),
                Some(pem),
            )
        }
    };
    let cluster = Cluster {
        arn: clusters.arn(&new.name),
        endpoint: new.endpoint.unwrap_or_else(|| {
            format!(
                "https://{}.gr7.{}.eks.amazonaws.com",
                crate::ids::issuer_id(),
                clusters.region
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
    clusters.store.write(|db| {
        if db.cluster(&cluster.name)?.is_some() {
            return Err(AwsError::new(
                "ResourceInUseException",
                StatusCode::CONFLICT,
                format!("Cluster already exists with name: {}", cluster.name),
            ));
        }
        db.put_cluster(&cluster)?;
        Ok(())
    })?;
    Ok(cluster)
}

fn update(clusters: &Clusters, name: &str, update: ClusterUpdate) -> Result<Cluster, AwsError> {
    let invalid = |message: String| {
        AwsError::new(
            "InvalidParameterException",
            StatusCode::BAD_REQUEST,
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
    clusters.store.write(|db| {
        let mut cluster = db.cluster(name)?.ok_or_else(|| not_found(name))?;
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
