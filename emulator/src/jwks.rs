//! Verification keys by issuer: the emulator's own clusters are read directly; any other issuer is asked
//! through OIDC discovery, as STS does, and cached for a few minutes.
//!
//! Own clusters' keys are derived once and kept until a cluster is deleted: deriving a JWK means parsing the RSA
//! private key, which costs more than verifying the token itself, and STS does it on every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use jsonwebtoken::jwk::JwkSet;

use crate::app::AppState;
use crate::error::AwsError;
use crate::keys;

const CACHE_TTL: Duration = Duration::from_secs(300);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

pub struct JwksCache {
    entries: Mutex<HashMap<String, (Instant, Arc<JwkSet>)>>,
    /// By issuer id; an id is never reused, so only deletion makes an entry stale.
    own: Mutex<HashMap<String, Arc<JwkSet>>>,
    /// Built on the first external issuer: most emulators only ever verify their own clusters' tokens.
    client: OnceLock<reqwest::Client>,
    extra_root: Option<String>,
}

fn idp_error(detail: impl std::fmt::Display) -> AwsError {
    AwsError::new(
        "IDPCommunicationError",
        StatusCode::BAD_REQUEST,
        format!("Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements ({detail})"),
    )
}

impl JwksCache {
    /// `extra_root` is the emulator's own CA, so issuers it serves are reachable over HTTPS.
    pub fn new(extra_root: Option<&str>) -> JwksCache {
        JwksCache {
            entries: Mutex::new(HashMap::new()),
            own: Mutex::new(HashMap::new()),
            client: OnceLock::new(),
            extra_root: extra_root.map(str::to_string),
        }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            let mut builder = reqwest::Client::builder().timeout(FETCH_TIMEOUT);
            if let Some(pem) = self
                .extra_root
                .as_deref()
                .and_then(|p| reqwest::Certificate::from_pem(p.as_bytes()).ok())
            {
                builder = builder.add_root_certificate(pem);
            }
            builder.build().unwrap_or_default()
        })
    }

    /// Keys for `issuer` (a full `https://` URL).
    pub async fn keys(&self, state: &AppState, issuer: &str) -> Result<Arc<JwkSet>, AwsError> {
        if let Some(id) = own_issuer_id(state, issuer) {
            if let Some(set) = lock(&self.own).get(id) {
                return Ok(set.clone());
            }
            if let Some(set) = own_cluster_keys(state, id)? {
                let set = Arc::new(set);
                lock(&self.own).insert(id.to_string(), set.clone());
                return Ok(set);
            }
        }
        if let Some((at, set)) = lock(&self.entries).get(issuer) {
            if at.elapsed() < CACHE_TTL {
                return Ok(set.clone());
            }
        }
        let set = Arc::new(self.fetch(issuer).await?);
        lock(&self.entries).insert(issuer.to_string(), (Instant::now(), set.clone()));
        Ok(set)
    }

    /// Called when a cluster is deleted: its tokens must stop verifying at once.
    pub fn forget_own_clusters(&self) {
        lock(&self.own).clear();
    }

    /// Called on reset: nothing learned before it (own keys or fetched ones) may outlive it.
    pub fn forget_all(&self) {
        lock(&self.own).clear();
        lock(&self.entries).clear();
    }

    async fn fetch(&self, issuer: &str) -> Result<JwkSet, AwsError> {
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let discovery: serde_json::Value = self.get_json(&discovery_url).await?;
        let jwks_uri = discovery["jwks_uri"]
            .as_str()
            .ok_or_else(|| idp_error(format!("{discovery_url} has no jwks_uri")))?;
        let set: serde_json::Value = self.get_json(jwks_uri).await?;
        serde_json::from_value(set).map_err(|e| idp_error(format!("{jwks_uri}: {e}")))
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, AwsError> {
        let response = self
            .client()
            .get(url)
            .send()
            .await
            .map_err(|e| idp_error(format!("{url}: {e}")))?;
        if !response.status().is_success() {
            return Err(idp_error(format!("{url} answered {}", response.status())));
        }
        response
            .json()
            .await
            .map_err(|e| idp_error(format!("{url}: {e}")))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The id in `{public_url}/id/{id}`, for issuers this emulator serves.
fn own_issuer_id<'a>(state: &AppState, issuer: &'a str) -> Option<&'a str> {
    issuer
        .strip_prefix(state.public_url.as_str())?
        .strip_prefix("/id/")
}

fn own_cluster_keys(state: &AppState, id: &str) -> Result<Option<JwkSet>, AwsError> {
    let Some(cluster) = crate::clusters::by_issuer_id(state, id)? else {
        return Ok(None);
    };
    let Some(pem) = cluster.signing_key_pem.as_deref() else {
        return Ok(None);
    };
    let jwk = keys::public_key(pem)
        .and_then(|k| keys::jwk(&k))
        .map_err(|e| AwsError::internal(e.to_string()))?;
    let set = serde_json::from_value(serde_json::json!({ "keys": [jwk] }))
        .map_err(|e| AwsError::internal(e.to_string()))?;
    Ok(Some(set))
}
