//! Verification keys by issuer: the emulator's own clusters are read directly; any other issuer is asked
//! through OIDC discovery, as STS does, and cached for a few minutes.
//!
//! What is cached is the usable key ([`DecodingKey`]), built once per key set: turning a JWK into a key
//! decodes and checks the RSA modulus, and for own clusters deriving the JWK means parsing the RSA private
//! key, both of which cost more than verifying the token itself. Own clusters' keys are kept until a
//! cluster is deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::DecodingKey;

use crate::clusters::{keys, Clusters};
use crate::protocol::AwsError;
use crate::state::blocking;

const CACHE_TTL: Duration = Duration::from_secs(300);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One issuer's keys by `kid`, each ready to verify with (or why it cannot be used).
#[derive(Default)]
pub struct IssuerKeys {
    keys: Vec<(Option<String>, Result<DecodingKey, String>)>,
}

impl IssuerKeys {
    fn from_set(set: &JwkSet) -> IssuerKeys {
        let keys = set
            .keys
            .iter()
            .map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string());
                (jwk.common.key_id.clone(), key)
            })
            .collect();
        IssuerKeys { keys }
    }

    /// The first key published under `kid`, as a JWKS lookup finds it.
    pub fn find(&self, kid: &str) -> Option<&Result<DecodingKey, String>> {
        self.keys
            .iter()
            .find(|(id, _)| id.as_deref() == Some(kid))
            .map(|(_, key)| key)
    }
}

pub struct JwksCache {
    clusters: Clusters,
    entries: Mutex<HashMap<String, (Instant, Arc<IssuerKeys>)>>,
    /// By issuer id; an id is never reused, so only deletion makes an entry stale.
    own: Mutex<HashMap<String, Arc<IssuerKeys>>>,
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
    pub fn new(clusters: Clusters, extra_root: Option<&str>) -> JwksCache {
        JwksCache {
            clusters,
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
    pub async fn keys(&self, issuer: &str) -> Result<Arc<IssuerKeys>, AwsError> {
        if let Some(id) = self.clusters.own_issuer_id(issuer) {
            if let Some(keys) = lock(&self.own).get(id) {
                return Ok(keys.clone());
            }
            let (clusters, owned_id) = (self.clusters.clone(), id.to_string());
            if let Some(set) = blocking(move || own_cluster_keys(&clusters, &owned_id)).await? {
                let keys = Arc::new(IssuerKeys::from_set(&set));
                lock(&self.own).insert(id.to_string(), keys.clone());
                return Ok(keys);
            }
        }
        if let Some((at, keys)) = lock(&self.entries).get(issuer) {
            if at.elapsed() < CACHE_TTL {
                return Ok(keys.clone());
            }
        }
        let keys = Arc::new(IssuerKeys::from_set(&self.fetch(issuer).await?));
        lock(&self.entries).insert(issuer.to_string(), (Instant::now(), keys.clone()));
        Ok(keys)
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

fn own_cluster_keys(clusters: &Clusters, id: &str) -> Result<Option<JwkSet>, AwsError> {
    let Some(cluster) = clusters.by_issuer_id(id)? else {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::clusters::keys::test_signing_key;
    use crate::state::model::Cluster;
    use crate::state::Store;

    /// Nothing listens there: an issuer that is not one of the emulator's own must fail to fetch, offline.
    const PUBLIC_URL: &str = "https://127.0.0.1:1";

    fn cache_with_cluster() -> (JwksCache, Clusters, String) {
        let store = Arc::new(Store::open(None).unwrap());
        let clusters = Clusters::new(
            store.clone(),
            PUBLIC_URL,
            "us-east-1",
            &crate::partition::Account::new("111122223333", "us-east-1"),
        );
        let issuer = format!("{PUBLIC_URL}/id/ABC");
        let cluster = Cluster {
            name: "c".into(),
            arn: clusters.arn("c"),
            issuer: issuer.clone(),
            endpoint: "https://c".into(),
            certificate_authority: String::new(),
            created_at: Utc::now(),
            version: "1.33".into(),
            signing_key_pem: Some(test_signing_key().to_string()),
            tags: Vec::new(),
        };
        store.write(|db| db.put_cluster(&cluster)).unwrap();
        (JwksCache::new(clusters.clone(), None), clusters, issuer)
    }

    fn kid() -> String {
        keys::key_id(&keys::public_key(test_signing_key()).unwrap()).unwrap()
    }

    #[test]
    fn a_set_is_searched_by_kid_and_unusable_keys_say_why() {
        let set: JwkSet = serde_json::from_value(json!({ "keys": [
            { "kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB" },
            { "kty": "RSA", "kid": "good", "n": "sXch", "e": "AQAB" },
            { "kty": "RSA", "kid": "good", "n": "!!", "e": "AQAB" },
        ]}))
        .unwrap();
        let keys = IssuerKeys::from_set(&set);
        assert!(matches!(keys.find("bad"), Some(Err(_))));
        assert!(
            matches!(keys.find("good"), Some(Ok(_))),
            "the first key of a kid wins"
        );
        assert!(keys.find("other").is_none());
    }

    #[tokio::test]
    async fn own_clusters_keys_are_derived_once_and_forgotten_when_clusters_go() {
        let (cache, clusters, issuer) = cache_with_cluster();
        let first = cache.keys(&issuer).await.unwrap();
        assert!(matches!(first.find(&kid()), Some(Ok(_))));
        let again = cache.keys(&issuer).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "served from the cache");

        assert!(clusters.delete("c").unwrap());
        let cached = cache.keys(&issuer).await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &cached),
            "until told, the cache does not know"
        );
        cache.forget_own_clusters();
        let Err(err) = cache.keys(&issuer).await else {
            panic!("a deleted cluster's keys are still served")
        };
        assert_eq!(err.code, "IDPCommunicationError");
    }

    #[tokio::test]
    async fn other_issuers_that_cannot_be_reached_are_an_idp_error() {
        let (cache, _, _) = cache_with_cluster();
        let Err(err) = cache.keys("https://127.0.0.1:1/elsewhere").await else {
            panic!("keys from nowhere")
        };
        assert_eq!(err.code, "IDPCommunicationError");
        assert!(
            err.message.contains("/.well-known/openid-configuration"),
            "{}",
            err.message
        );
    }
}
