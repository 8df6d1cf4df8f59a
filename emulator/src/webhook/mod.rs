//! The pod identity webhook: `POST /mutate` on the emulator's HTTPS port, mutating pods exactly as
//! aws/amazon-eks-pod-identity-webhook does (the rules are in [`mutate`]), plus what makes the pod's SDKs use
//! the emulator instead of AWS.
//!
//! # The emulator's two additions
//!
//! Every container the upstream webhook would mutate (every container and init container not listed in
//! `eks.amazonaws.com/skip-containers`) also gets, unless it already sets them:
//!
//! - `AWS_ENDPOINT_URL_STS` = the emulator's public URL (`--public-url`, else the listen address), so
//!   `AssumeRoleWithWebIdentity` goes to the emulator;
//! - `AWS_CA_BUNDLE` = `/var/run/secrets/irsa-emulator/ca.pem`, so the SDK trusts the emulator's certificate.
//!   The file comes from a volume `irsa-emulator-ca` (a `configMap` volume of ConfigMap `irsa-emulator-ca`)
//!   mounted read-only at `/var/run/secrets/irsa-emulator`. Not added when the emulator serves plain HTTP.
//!
//! # How the CA gets into every namespace
//!
//! A pod can only mount a ConfigMap of its own namespace, and a webhook must not create objects while
//! admitting (it is registered with `sideEffects: None`, and is also called for dry runs). So the emulator
//! publishes the CA the way kube-controller-manager publishes `kube-root-ca.crt` ([`ca`]): while it runs with
//! `--kubeconfig`, it watches Namespaces and applies ConfigMap `irsa-emulator-ca` (key `ca.pem`, labelled
//! `app.kubernetes.io/managed-by=irsa-emulator`) in each, and puts it back when it is deleted or changed.
//! A pod admitted in a namespace created a moment earlier may briefly reference a ConfigMap that does not
//! exist yet; the kubelet retries the mount until it does. `webhook uninstall` removes these ConfigMaps.
//!
//! # EKS Pod Identity
//!
//! A pod whose ServiceAccount has a Pod Identity association in the cluster the webhook serves
//! ([`pod_identity`]: the emulated cluster whose issuer the API server names) gets what EKS's webhook injects
//! for it (the agent's URI, the `pods.eks.amazonaws.com` token; [`mutate`] has the rules), and only that, even
//! when the ServiceAccount also carries the IRSA annotation.
//!
//! # ServiceAccounts
//!
//! Looked up in a watch cache ([`cache`]) over the cluster `serve --kubeconfig` points at, with a direct GET
//! within a grace period (default 1 s; pod annotation `eks.amazonaws.com/service-account-lookup-grace-period`
//! in milliseconds) for one created just before its pod. Without `--kubeconfig`, `/mutate` admits every pod
//! unchanged and logs why.
//!
//! The kubeconfig's user needs: `get/list/watch` on `serviceaccounts` and `namespaces`; `get/list/watch/create/
//! patch` on `configmaps`; and, for `webhook install`/`uninstall`, `mutatingwebhookconfigurations` and
//! `delete` on `configmaps`.
//!
//! # Registration
//!
//! `irsa-emulator webhook install` ([`install`]) applies a MutatingWebhookConfiguration for pod `CREATE`
//! with the emulator's CA as `caBundle`, `failurePolicy: Ignore` (a stopped emulator never blocks pods),
//! `sideEffects: None`, `admissionReviewVersions: [v1]` and an objectSelector excluding pods labelled
//! `eks.amazonaws.com/skip-pod-identity-webhook`.

pub mod ca;
pub mod cache;
pub mod install;
pub mod mutate;
pub mod pod_identity;
pub mod review;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use tokio::task::AbortHandle;

use crate::config::Config;
use cache::ServiceAccountCache;
use irsa_names::SERVICE_ACCOUNT_LOOKUP_GRACE_ANNOTATION;
use mutate::{MutationConfig, ServiceAccountSettings};
use pod_identity::PodIdentityLookup;
use review::{Known, Outcome};

/// Far above any Pod the API server stores (etcd's limit is 1.5 MiB), with room for `oldObject`.
const MAX_REVIEW_BYTES: usize = 8 * 1024 * 1024;
/// Upper bound on the per-pod grace annotation: the API server gives up on the webhook soon after anyway.
const MAX_LOOKUP_GRACE: Duration = Duration::from_secs(10);

/// The webhook's runtime: mutation settings and the ServiceAccount cache. Dropping the last handle stops the
/// watches.
pub struct Webhook {
    config: MutationConfig,
    cache: Option<ServiceAccountCache>,
    pod_identity: Option<PodIdentityLookup>,
    lookup_grace: Duration,
    tasks: Vec<AbortHandle>,
}

impl Webhook {
    /// Starts the ServiceAccount cache and the CA publisher when `config.kubeconfig` is set; `pod_identity`
    /// (the emulator's clusters and associations) lets it inject Pod Identity for associated ServiceAccounts.
    pub async fn start(
        config: &Config,
        public_url: &str,
        ca_pem: Option<&str>,
        pod_identity: Option<(crate::clusters::Clusters, crate::pod_identity::Associations)>,
    ) -> anyhow::Result<Arc<Webhook>> {
        let mutation =
            MutationConfig::emulator(Some(config.region.clone()), public_url, ca_pem.is_some());
        let Some(kubeconfig) = &config.kubeconfig else {
            return Ok(Arc::new(Webhook {
                config: mutation,
                cache: None,
                pod_identity: None,
                lookup_grace: cache::DEFAULT_LOOKUP_GRACE,
                tasks: Vec::new(),
            }));
        };
        let client = install::client(Some(kubeconfig))
            .await
            .with_context(|| format!("--kubeconfig {}", kubeconfig.display()))?;
        let mut tasks = Vec::new();
        if let Some(ca) = ca_pem {
            tasks.push(ca::spawn_publisher(client.clone(), ca.to_string()));
        }
        let pod_identity = pod_identity.map(|(clusters, associations)| {
            PodIdentityLookup::new(client.clone(), clusters, associations)
        });
        let cache = ServiceAccountCache::start(client).await;
        tracing::info!(kubeconfig = %kubeconfig.display(), "pod identity webhook serving /mutate");
        Ok(Arc::new(Webhook {
            config: mutation,
            cache: Some(cache),
            pod_identity,
            lookup_grace: cache::DEFAULT_LOOKUP_GRACE,
            tasks,
        }))
    }

    /// Answers one AdmissionReview body.
    pub async fn review(&self, body: &[u8]) -> Value {
        let request = match review::parse(body) {
            Ok(request) => request,
            Err(ignored) => {
                tracing::warn!(uid = %ignored.uid, reason = %ignored.reason, "admission review answered without mutation");
                return review::response(&ignored.api_version, &ignored.uid, None);
            }
        };
        if let Some(reason) = mutate::unmutatable(&request.pod) {
            tracing::warn!(
                uid = %request.uid, namespace = %request.namespace, pod = %request.pod_name, %reason,
                "admission review answered without mutation"
            );
            return review::response(&request.api_version, &request.uid, None);
        }
        let (known, lookup) = match &self.cache {
            None => {
                tracing::warn!(
                    uid = %request.uid, namespace = %request.namespace, pod = %request.pod_name,
                    "pod not mutated: the emulator runs without --kubeconfig, so it cannot look up service accounts"
                );
                return review::response(&request.api_version, &request.uid, None);
            }
            Some(cache) => {
                let pod_identity = match &self.pod_identity {
                    Some(p) => {
                        p.has_association(&request.namespace, &request.service_account)
                            .await
                    }
                    None => false,
                };
                // Upstream reads a Pod Identity pod's ServiceAccount from its cache only (for the expiry and
                // regional STS), without waiting for one that is not there yet.
                let grace = if pod_identity {
                    Duration::ZERO
                } else {
                    self.grace_for(&request.pod)
                };
                let found = cache
                    .get(&request.namespace, &request.service_account, grace)
                    .await;
                let lookup = found
                    .as_ref()
                    .map_or("not found", |(_, source)| source.as_str());
                let settings = found.map(|(sa, _)| {
                    ServiceAccountSettings::from_annotations(
                        sa.metadata.annotations.as_ref(),
                        &self.config,
                    )
                });
                (
                    Known {
                        settings,
                        pod_identity,
                    },
                    lookup,
                )
            }
        };
        let method = if known.pod_identity {
            "pod-identity"
        } else {
            "irsa"
        };
        let (answer, outcome) = review::decide_known(&request, &known, &self.config);
        match outcome {
            Outcome::Mutated { operations } => tracing::info!(
                uid = %request.uid, namespace = %request.namespace, pod = %request.pod_name,
                service_account = %request.service_account, lookup, method, operations, "pod mutated"
            ),
            Outcome::NotMutated { reason } => tracing::info!(
                uid = %request.uid, namespace = %request.namespace, pod = %request.pod_name,
                service_account = %request.service_account, lookup, %reason, "pod not mutated"
            ),
        }
        answer
    }

    fn grace_for(&self, pod: &k8s_openapi::api::core::v1::Pod) -> Duration {
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SERVICE_ACCOUNT_LOOKUP_GRACE_ANNOTATION))
            .and_then(|v| mutate::parse_go_int(v))
            .map(|ms| Duration::from_millis(ms.max(0) as u64).min(MAX_LOOKUP_GRACE))
            .unwrap_or(self.lookup_grace)
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// `POST /mutate`.
pub fn router(webhook: Arc<Webhook>) -> Router {
    Router::new()
        .route("/mutate", post(mutate_endpoint))
        .with_state(webhook)
}

async fn mutate_endpoint(State(webhook): State<Arc<Webhook>>, request: Request) -> Json<Value> {
    let body = match axum::body::to_bytes(request.into_body(), MAX_REVIEW_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "admission review body unreadable or larger than {MAX_REVIEW_BYTES} bytes; answered without mutation");
            return Json(review::response(review::API_VERSION_V1, "", None));
        }
    };
    Json(webhook.review(&body).await)
}
