//! Which ServiceAccounts have an EKS Pod Identity association, as the webhook asks at admission.
//!
//! EKS's webhook learns them from a file EKS keeps filled (`--watch-container-credentials-config`); here the
//! associations are the emulator's own. The webhook serves one cluster — the one `serve --kubeconfig` points
//! at — and it is found by what makes it that EKS cluster: the API server's service-account issuer (its
//! discovery document, `/.well-known/openid-configuration`) is one emulated cluster's issuer, as
//! `irsa-emulator cluster create` configures it. Found once, kept; looked for again (at most every
//! [`RETRY`]) while no emulated cluster matches, e.g. before `cluster create` or after a re-issue.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::Client;

use crate::clusters::Clusters;
use crate::pod_identity::Associations;
use crate::state::blocking;

const RETRY: Duration = Duration::from_secs(5);
/// Admission must answer quickly; the discovery document is one small GET.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(2);

pub struct PodIdentityLookup {
    client: Client,
    clusters: Clusters,
    associations: Associations,
    /// The cluster found, or when the last search found none.
    found: Mutex<Found>,
}

enum Found {
    Cluster(String),
    NotYet(Option<Instant>),
}

impl PodIdentityLookup {
    pub fn new(client: Client, clusters: Clusters, associations: Associations) -> Self {
        PodIdentityLookup {
            client,
            clusters,
            associations,
            found: Mutex::new(Found::NotYet(None)),
        }
    }

    /// Whether `namespace/service_account` has an association in the webhook's cluster; `false` (logged) when
    /// that cluster is not known or the state cannot be read, so the pod falls back to IRSA's rules.
    pub async fn has_association(&self, namespace: &str, service_account: &str) -> bool {
        let Some(cluster) = self.cluster().await else {
            return false;
        };
        let (associations, ns, sa) = (
            self.associations.clone(),
            namespace.to_string(),
            service_account.to_string(),
        );
        let c = cluster.clone();
        match blocking(move || associations.for_service_account(&c, &ns, &sa)).await {
            Ok(found) => found.is_some(),
            Err(error) => {
                tracing::warn!(%error, cluster, namespace, service_account, "cannot read Pod Identity associations; treating the pod as without one");
                false
            }
        }
    }

    /// The emulated cluster whose issuer the API server names.
    pub async fn cluster(&self) -> Option<String> {
        {
            let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
            match &*found {
                Found::Cluster(name) => return Some(name.clone()),
                Found::NotYet(Some(at)) if at.elapsed() < RETRY => return None,
                Found::NotYet(_) => {}
            }
        }
        let result = self.search().await;
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(Some(name)) => {
                tracing::info!(cluster = %name, "pod identity webhook: Pod Identity associations of this cluster apply");
                *found = Found::Cluster(name.clone());
                Some(name)
            }
            Ok(None) => {
                *found = Found::NotYet(Some(Instant::now()));
                None
            }
            Err(why) => {
                tracing::warn!(%why, "pod identity webhook: cannot tell which emulated cluster this is; Pod Identity associations are not applied");
                *found = Found::NotYet(Some(Instant::now()));
                None
            }
        }
    }

    async fn search(&self) -> Result<Option<String>, String> {
        let request = axum::http::Request::get("/.well-known/openid-configuration")
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        let text = tokio::time::timeout(DISCOVERY_TIMEOUT, self.client.request_text(request))
            .await
            .map_err(|_| "the API server's discovery document did not come in time".to_string())?
            .map_err(|e| format!("the API server's discovery document: {e}"))?;
        let discovery: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("the API server's discovery document is not JSON: {e}"))?;
        let issuer = discovery["issuer"]
            .as_str()
            .ok_or("the API server's discovery document names no issuer")?
            .trim_end_matches('/')
            .to_string();
        let clusters = self.clusters.clone();
        let all = blocking(move || clusters.list())
            .await
            .map_err(|e| e.message)?;
        let matching = all
            .into_iter()
            .find(|c| c.issuer.trim_end_matches('/') == issuer);
        if matching.is_none() {
            tracing::info!(%issuer, "no emulated cluster has the API server's issuer (yet)");
        }
        Ok(matching.map(|c| c.name))
    }
}
