//! Publishes the emulator's CA as ConfigMap `irsa-emulator-ca` (key `ca.pem`) in every namespace, the way
//! kube-controller-manager publishes `kube-root-ca.crt`: a watch on Namespaces applies it to each one (new ones
//! included), and a watch on the ConfigMaps of that name restores any that is deleted or changed.
//!
//! This is what lets the webhook mount the CA into any pod without side effects at admission time.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Patch, PatchParams};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use tokio::task::AbortHandle;

use irsa_names::MANAGED_BY_LABEL;

use super::mutate::{CA_CONFIGMAP, CA_KEY};

/// Field manager for server-side apply, and the `app.kubernetes.io/managed-by` value.
pub const MANAGER: &str = "irsa-emulator";
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Selects the ConfigMaps this module manages.
pub const CA_SELECTOR: &str =
    "app.kubernetes.io/managed-by=irsa-emulator,app.kubernetes.io/name=irsa-emulator-ca";

/// The ConfigMap as applied (server-side apply body).
pub fn ca_configmap(namespace: &str, ca_pem: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CA_CONFIGMAP,
            "namespace": namespace,
            "labels": { MANAGED_BY_LABEL: MANAGER, NAME_LABEL: CA_CONFIGMAP },
            "annotations": {
                "kubernetes.io/description": "CA of the irsa-emulator that pods' AWS SDKs trust (AWS_CA_BUNDLE); maintained by the emulator."
            }
        },
        "data": { CA_KEY: ca_pem }
    })
}

/// Applies the CA ConfigMap in `namespace`.
pub async fn ensure(client: &Client, namespace: &str, ca_pem: &str) -> kube::Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    api.patch(
        CA_CONFIGMAP,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(ca_configmap(namespace, ca_pem)),
    )
    .await?;
    Ok(())
}

/// Starts the publisher; abort the handle to stop it.
pub fn spawn_publisher(client: Client, ca_pem: String) -> AbortHandle {
    tokio::spawn(async move { publish(client, ca_pem).await }).abort_handle()
}

enum Work {
    Namespace(Namespace),
    ConfigMap(Event<ConfigMap>),
    WatchError(watcher::Error),
}

async fn publish(client: Client, ca_pem: String) {
    let namespaces = watcher::watcher(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .applied_objects()
    .map(|r| r.map(Work::Namespace).unwrap_or_else(Work::WatchError));
    let configmaps = watcher::watcher(
        Api::<ConfigMap>::all(client.clone()),
        watcher::Config::default().fields(&format!("metadata.name={CA_CONFIGMAP}")),
    )
    .default_backoff()
    .map(|r| r.map(Work::ConfigMap).unwrap_or_else(Work::WatchError));
    let events = futures::stream::select(namespaces, configmaps);
    futures::pin_mut!(events);
    let mut reported_error = false;
    while let Some(work) = events.next().await {
        let namespace = match work {
            Work::WatchError(error) => {
                if !reported_error {
                    tracing::warn!(%error, "CA ConfigMap publisher: watch failed; retrying");
                    reported_error = true;
                }
                continue;
            }
            Work::Namespace(ns) => {
                reported_error = false;
                let terminating =
                    ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
                if terminating || ns.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                ns.name_any()
            }
            Work::ConfigMap(Event::Apply(cm) | Event::InitApply(cm)) => {
                let current = cm.data.as_ref().and_then(|d| d.get(CA_KEY));
                if current.map(String::as_str) == Some(ca_pem.as_str()) {
                    continue;
                }
                match cm.namespace() {
                    Some(ns) => ns,
                    None => continue,
                }
            }
            Work::ConfigMap(Event::Delete(cm)) => match cm.namespace() {
                Some(ns) => ns,
                None => continue,
            },
            Work::ConfigMap(Event::Init | Event::InitDone) => continue,
        };
        match ensure(&client, &namespace, &ca_pem).await {
            Ok(()) => tracing::debug!(namespace, "CA ConfigMap {CA_CONFIGMAP} applied"),
            // A namespace being deleted refuses new objects; nothing to do there.
            Err(kube::Error::Api(status)) if status.code == 403 || status.code == 404 => {
                tracing::debug!(namespace, message = %status.message, "CA ConfigMap not applied")
            }
            Err(error) => {
                tracing::warn!(namespace, %error, "cannot apply CA ConfigMap {CA_CONFIGMAP}")
            }
        }
    }
}
