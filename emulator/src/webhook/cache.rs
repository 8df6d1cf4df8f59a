//! ServiceAccount lookups for admission: a kube-rs reflector (watch cache) over every namespace's
//! ServiceAccounts, metadata only (the webhook reads annotations, nothing else).
//!
//! As upstream's cache does, a ServiceAccount missing from the cache is not taken as absent at once: a pod
//! admitted right after its ServiceAccount was created can reach the webhook before the watch event does. Then
//! the webhook asks the API server directly (a GET), waiting at most the grace period; upstream's equivalent
//! is its `--service-account-lookup-grace-period` and the list it issues when notified of a miss.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use tokio::task::AbortHandle;

/// Default wait for a ServiceAccount that is not (yet) in the cache.
pub const DEFAULT_LOOKUP_GRACE: Duration = Duration::from_secs(1);
/// How long startup waits for the first full list before serving with fallbacks only.
const INITIAL_SYNC: Duration = Duration::from_secs(5);

pub type ServiceAccountMeta = PartialObjectMeta<ServiceAccount>;

/// The watch cache. Dropping it stops the watch.
pub struct ServiceAccountCache {
    client: Client,
    store: Store<ServiceAccountMeta>,
    task: AbortHandle,
}

/// Where a lookup's answer came from (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    ApiServer,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::ApiServer => "api-server",
        }
    }
}

impl ServiceAccountCache {
    /// Starts watching and waits (up to a few seconds) for the initial list. The watch retries with backoff
    /// when the API server is unreachable, so the emulator still starts before the cluster does.
    pub async fn start(client: Client) -> ServiceAccountCache {
        // `PartialObjectMeta` makes the list and watch metadata-only.
        let api: Api<ServiceAccountMeta> = Api::all(client.clone());
        let (store, writer) = reflector::store();
        let stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .reflect(writer)
            .applied_objects();
        let task = tokio::spawn(async move {
            futures::pin_mut!(stream);
            let mut failing = false;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(_) if failing => {
                        failing = false;
                        tracing::info!("service account watch recovered");
                    }
                    Ok(_) => {}
                    Err(error) => {
                        if !failing {
                            tracing::warn!(%error, "service account watch failed; retrying (lookups fall back to GET)");
                        }
                        failing = true;
                    }
                }
            }
        })
        .abort_handle();
        match tokio::time::timeout(INITIAL_SYNC, store.wait_until_ready()).await {
            Ok(Ok(())) => tracing::info!(
                service_accounts = store.state().len(),
                "service account cache synced"
            ),
            _ => tracing::warn!(
                "service account cache not synced after {INITIAL_SYNC:?}; serving with direct lookups until it is"
            ),
        }
        ServiceAccountCache {
            client,
            store,
            task,
        }
    }

    /// The ServiceAccount `namespace/name`: from the cache, else from the API server within `grace`.
    /// `None` when it does not exist or could not be fetched in time.
    pub async fn get(
        &self,
        namespace: &str,
        name: &str,
        grace: Duration,
    ) -> Option<(Arc<ServiceAccountMeta>, Source)> {
        if name.is_empty() || namespace.is_empty() {
            return None;
        }
        let key = ObjectRef::new(name).within(namespace);
        if let Some(found) = self.store.get(&key) {
            return Some((found, Source::Cache));
        }
        if grace.is_zero() {
            return None;
        }
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        match tokio::time::timeout(grace, api.get_metadata_opt(name)).await {
            Ok(Ok(Some(meta))) => Some((Arc::new(meta), Source::ApiServer)),
            Ok(Ok(None)) => None,
            Ok(Err(error)) => {
                tracing::warn!(%error, namespace, name, "cannot fetch service account");
                // The watch may have caught up meanwhile.
                self.store.get(&key).map(|sa| (sa, Source::Cache))
            }
            Err(_) => {
                tracing::warn!(
                    namespace,
                    name,
                    ?grace,
                    "service account not found within the grace period"
                );
                self.store.get(&key).map(|sa| (sa, Source::Cache))
            }
        }
    }
}

impl Drop for ServiceAccountCache {
    fn drop(&mut self) {
        self.task.abort();
    }
}
