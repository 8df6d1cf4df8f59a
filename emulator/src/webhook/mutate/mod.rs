//! The mutation itself: a pure function from a Pod, what is known about its ServiceAccount (annotations, and
//! whether it has an EKS Pod Identity association) and the webhook's configuration to JSONPatch operations.
//! No I/O here, so every rule is unit-tested.
//!
//! The rules are those of aws/amazon-eks-pod-identity-webhook (`pkg/handler/handler.go`, `pkg/cache/cache.go`):
//!
//! - A pod is mutated for **Pod Identity** (upstream's "container credentials" method) when its ServiceAccount
//!   has an association in the cluster the webhook serves — upstream reads the same fact from its
//!   `--watch-container-credentials-config` file, which EKS keeps filled from the associations. That method
//!   **wins** over IRSA: a ServiceAccount with both gets only the container credentials (upstream's
//!   `buildPodPatchConfig`: "Container credentials method takes precedence"). Otherwise a pod is mutated for
//!   **IRSA** when its ServiceAccount carries `eks.amazonaws.com/role-arn` with a non-empty value.
//! - ServiceAccount annotations: `audience` (IRSA only; default `sts.amazonaws.com`), `sts-regional-endpoints`
//!   (Go `strconv.ParseBool`; invalid values keep the default), `token-expiration` (integer seconds, raised to
//!   600). For Pod Identity a ServiceAccount that cannot be found gives the defaults (upstream's
//!   `GetCommonConfigurations`).
//! - Pod annotations: `token-expiration` overrides the ServiceAccount's (same parsing and floor);
//!   `skip-containers` is one CSV record of container names (init or regular) left untouched.
//! - The token volume — IRSA: `aws-iam-token` (projected `serviceAccountToken{audience, expirationSeconds, path:
//!   token}`); Pod Identity: `eks-pod-identity-token` (audience `pods.eks.amazonaws.com`, path
//!   `eks-pod-identity-token`) — is added first in `spec.volumes` unless a volume of that name exists. A Pod
//!   Identity token of the default lifetime (86400 s) gets a random one between 79200 and 86400 s instead
//!   (upstream's jitter), and the pod gets the label `eks.amazonaws.com/pod-identity: enabled`.
//! - Per container (init containers too), unless skipped: nothing at all when it already defines one of the
//!   method's two variables (IRSA: `AWS_ROLE_ARN`/`AWS_WEB_IDENTITY_TOKEN_FILE`; Pod Identity:
//!   `AWS_CONTAINER_CREDENTIALS_FULL_URI`/`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), one of
//!   `AWS_REGION`/`AWS_DEFAULT_REGION` *and* `AWS_STS_REGIONAL_ENDPOINTS`; otherwise, appended in this order and
//!   each only when not already set: `AWS_STS_REGIONAL_ENDPOINTS=regional` (when enabled), `AWS_DEFAULT_REGION`
//!   and `AWS_REGION` (when a region is configured; neither if either is set), the method's two variables
//!   (neither if either is set; Pod Identity's are the agent's URI and the token file); then a read-only mount
//!   of the token volume (IRSA at `/var/run/secrets/eks.amazonaws.com/serviceaccount`, Pod Identity at
//!   `/var/run/secrets/pods.eks.amazonaws.com/serviceaccount`) unless the container mounts a volume of that
//!   name.
//! - A pod whose node selector `kubernetes.io/os` or `beta.kubernetes.io/os` is `windows` gets the token file as
//!   a Windows path (`C:\var\run\…\token`); mount paths stay as they are.
//!
//! Where this deliberately differs from upstream, the result is a superset or the request is one upstream would
//! never be sent:
//!
//! - The emulator's two additions (see [`EmulatorAdditions`]): `AWS_ENDPOINT_URL_STS` and `AWS_CA_BUNDLE` (with
//!   the `irsa-emulator-ca` volume and its mount), added to every container that is not skipped, whether or not
//!   upstream changed it, each only when the container does not set it — for both methods (a Pod Identity
//!   pod's SDK calls STS with the agent's credentials too).
//! - Upstream replaces whole `/spec/containers` arrays with its re-serialised copies; these operations append
//!   to `env`, `volumeMounts` and `volumes` instead. The resulting pod is the same, and fields this build's
//!   Kubernetes types do not know survive.
//! - A pod labelled `eks.amazonaws.com/skip-pod-identity-webhook` or without containers is left alone (the
//!   webhook's objectSelector already keeps the former away).

mod config;
mod container;
mod go;
#[cfg(test)]
mod pod_identity_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::Value;

use irsa_names::{
    DEFAULT_TOKEN_EXPIRATION, POD_IDENTITY_LABEL, POD_IDENTITY_LABEL_VALUE,
    POD_IDENTITY_MIN_JITTERED_EXPIRATION, ROLE_ARN_ANNOTATION, SKIP_CONTAINERS_ANNOTATION,
    SKIP_POD_LABEL, TOKEN_EXPIRATION_ANNOTATION, TOKEN_FILE_NAME, TOKEN_MOUNT_PATH, TOKEN_VOLUME,
};

pub use config::{EmulatorAdditions, MutationConfig, PodIdentityConfig, ServiceAccountSettings};
use container::{ca_volume, to_json, token_volume, Additions, ContainerPlan, Credentials};
pub use go::{first_csv_record, parse_go_bool, parse_go_int};

/// The ConfigMap (in every namespace) and the volume holding the emulator's CA.
pub const CA_CONFIGMAP: &str = "irsa-emulator-ca";
pub const CA_VOLUME: &str = "irsa-emulator-ca";
pub const CA_KEY: &str = "ca.pem";
pub const CA_MOUNT_PATH: &str = "/var/run/secrets/irsa-emulator";

/// One JSONPatch operation (RFC 6902). Only `add` is ever produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOperation {
    pub op: &'static str,
    pub path: String,
    pub value: Value,
}

impl PatchOperation {
    fn add(path: impl Into<String>, value: Value) -> Self {
        PatchOperation {
            op: "add",
            path: path.into(),
            value,
        }
    }
}

/// What [`mutate`] decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Apply these operations (possibly none, when everything is already in place).
    Patch(Vec<PatchOperation>),
    /// Leave the pod alone, for this reason (logged).
    Skip(String),
}

/// What is known about the pod's ServiceAccount when it is admitted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Binding<'a> {
    /// Its annotations as the webhook reads them; `None`: not found.
    pub service_account: Option<&'a ServiceAccountSettings>,
    /// It has an EKS Pod Identity association in the webhook's cluster.
    pub pod_identity: bool,
}

/// Why `pod` is never mutated, whatever its ServiceAccount: excluded by label, or not a pod one can run.
pub fn unmutatable(pod: &Pod) -> Option<String> {
    let labels = pod.metadata.labels.as_ref();
    if labels.is_some_and(|l| l.contains_key(SKIP_POD_LABEL)) {
        return Some(format!("pod is labelled {SKIP_POD_LABEL}"));
    }
    match pod.spec.as_ref() {
        None => Some("pod has no spec".into()),
        Some(spec) if spec.containers.is_empty() => Some("pod has no containers".into()),
        Some(_) => None,
    }
}

/// The IRSA patch for `pod`, whose ServiceAccount has `service_account` settings (`None`: not found) and no
/// Pod Identity association.
pub fn mutate(
    pod: &Pod,
    service_account: Option<&ServiceAccountSettings>,
    config: &MutationConfig,
) -> Decision {
    mutate_bound(
        pod,
        Binding {
            service_account,
            pod_identity: false,
        },
        config,
    )
}

/// The patch for `pod` given what is known of its ServiceAccount: Pod Identity when it has an association,
/// else IRSA when it has a role ARN.
pub fn mutate_bound(pod: &Pod, binding: Binding<'_>, config: &MutationConfig) -> Decision {
    if let Some(reason) = unmutatable(pod) {
        return Decision::Skip(reason);
    }
    let sa = binding.service_account;
    let pod_identity = &config.pod_identity;
    let (method, audience, volume, mount_path, token_file_name, regional_sts, expiration) =
        if binding.pod_identity {
            (
                Credentials::Container {
                    full_uri: &pod_identity.full_uri,
                },
                pod_identity.audience.as_str(),
                pod_identity.volume.as_str(),
                pod_identity.mount_path.as_str(),
                pod_identity.token_file_name.as_str(),
                sa.map_or(config.default_regional_sts, |s| s.regional_sts),
                sa.map_or(config.default_token_expiration, |s| s.token_expiration),
            )
        } else {
            let Some(sa) = sa else {
                return Decision::Skip("service account not found".into());
            };
            let Some(role_arn) = sa.role_arn.as_deref().filter(|arn| !arn.is_empty()) else {
                return Decision::Skip(format!(
                    "service account has no {ROLE_ARN_ANNOTATION} annotation and no Pod Identity association"
                ));
            };
            (
                Credentials::WebIdentity { role_arn },
                sa.audience.as_str(),
                TOKEN_VOLUME,
                TOKEN_MOUNT_PATH,
                TOKEN_FILE_NAME,
                sa.regional_sts,
                sa.token_expiration,
            )
        };
    let Some(spec) = pod.spec.as_ref() else {
        return Decision::Skip("pod has no spec".into());
    };

    let annotations = pod.metadata.annotations.as_ref();
    let pod_annotation = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
    let mut token_expiration = pod_annotation(TOKEN_EXPIRATION_ANNOTATION)
        .and_then(parse_go_int)
        .map(config::clamp_token_expiration)
        .unwrap_or(expiration);
    if binding.pod_identity && token_expiration == DEFAULT_TOKEN_EXPIRATION {
        token_expiration = jittered_default_expiration();
    }
    let skipped: BTreeSet<String> = pod_annotation(SKIP_CONTAINERS_ANNOTATION)
        .and_then(first_csv_record)
        .unwrap_or_default()
        .into_iter()
        .collect();

    let windows = spec.node_selector.as_ref().is_some_and(|selector| {
        ["kubernetes.io/os", "beta.kubernetes.io/os"]
            .iter()
            .any(|key| selector.get(*key).map(String::as_str) == Some("windows"))
    });
    let file_path = |path: String| {
        if windows {
            format!("C:{}", path.replace('/', "\\"))
        } else {
            path
        }
    };
    let plan = ContainerPlan {
        credentials: method,
        token_file: file_path(format!("{mount_path}/{token_file_name}")),
        volume,
        mount_path,
        regional_sts,
        region: config.region.as_deref(),
        additions: config.additions.as_ref().map(|a| Additions {
            sts_endpoint: &a.sts_endpoint,
            ca_file: a
                .ca_bundle
                .then(|| file_path(format!("{CA_MOUNT_PATH}/{CA_KEY}"))),
        }),
    };

    let mut ops = Vec::new();
    if binding.pod_identity {
        ops.push(match pod.metadata.labels {
            None => PatchOperation::add(
                "/metadata/labels",
                serde_json::json!({ POD_IDENTITY_LABEL: POD_IDENTITY_LABEL_VALUE }),
            ),
            Some(_) => PatchOperation::add(
                format!("/metadata/labels/{}", POD_IDENTITY_LABEL.replace('/', "~1")),
                Value::from(POD_IDENTITY_LABEL_VALUE),
            ),
        });
    }
    let volumes = spec.volumes.as_deref();
    let has_volume = |name: &str| volumes.is_some_and(|v| v.iter().any(|vol| vol.name == name));
    let mut new_volumes = Vec::new();
    if !has_volume(volume) {
        new_volumes.push(token_volume(
            volume,
            audience,
            token_expiration,
            token_file_name,
        ));
    }
    let ca_volume_needed = plan.additions.as_ref().is_some_and(|a| a.ca_file.is_some());
    let add_ca_volume = ca_volume_needed && !has_volume(CA_VOLUME);
    match volumes {
        None => {
            if add_ca_volume {
                new_volumes.push(ca_volume());
            }
            if !new_volumes.is_empty() {
                ops.push(PatchOperation::add("/spec/volumes", to_json(&new_volumes)));
            }
        }
        Some(_) => {
            // Upstream inserts the token volume first.
            if let Some(volume) = new_volumes.pop() {
                ops.push(PatchOperation::add("/spec/volumes/0", to_json(&volume)));
            }
            if add_ca_volume {
                ops.push(PatchOperation::add(
                    "/spec/volumes/-",
                    to_json(&ca_volume()),
                ));
            }
        }
    }

    for (field, containers) in [
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", spec.containers.as_slice()),
    ] {
        for (index, container) in containers.iter().enumerate() {
            if skipped.contains(&container.name) {
                continue;
            }
            plan.container_ops(container, &format!("/spec/{field}/{index}"), &mut ops);
        }
    }
    Decision::Patch(ops)
}

/// Upstream (`addJitterToDefaultToken`) gives a Pod Identity token of the default lifetime a random one
/// between 22 and 24 hours, so that a node's pods do not all renew at once.
fn jittered_default_expiration() -> i64 {
    use rand::Rng as _;
    rand::thread_rng().gen_range(POD_IDENTITY_MIN_JITTERED_EXPIRATION..=DEFAULT_TOKEN_EXPIRATION)
}
