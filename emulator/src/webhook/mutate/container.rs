//! One container's share of the patch (env and mounts), and the volumes the patch adds.

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, EnvVar, ProjectedVolumeSource, ServiceAccountTokenProjection,
    Volume, VolumeMount, VolumeProjection,
};
use serde::Serialize;
use serde_json::Value;

use irsa_names::{
    ENV_CA_BUNDLE, ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE, ENV_CONTAINER_CREDENTIALS_FULL_URI,
    ENV_DEFAULT_REGION, ENV_ENDPOINT_URL_STS, ENV_REGION, ENV_ROLE_ARN, ENV_STS_REGIONAL_ENDPOINTS,
    ENV_TOKEN_FILE,
};

use super::{PatchOperation, CA_CONFIGMAP, CA_MOUNT_PATH, CA_VOLUME};

/// The method's two variables: what the SDK's credential provider reads.
pub(super) enum Credentials<'a> {
    /// IRSA: the web identity provider.
    WebIdentity { role_arn: &'a str },
    /// EKS Pod Identity: the container credentials provider, pointed at the agent.
    Container { full_uri: &'a str },
}

impl Credentials<'_> {
    /// `(name, value)` of the identity variable, then the token file variable's name.
    fn variables(&self) -> ((&'static str, &str), &'static str) {
        match self {
            Credentials::WebIdentity { role_arn } => ((ENV_ROLE_ARN, role_arn), ENV_TOKEN_FILE),
            Credentials::Container { full_uri } => (
                (ENV_CONTAINER_CREDENTIALS_FULL_URI, full_uri),
                ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE,
            ),
        }
    }
}

pub(super) struct ContainerPlan<'a> {
    pub credentials: Credentials<'a>,
    pub token_file: String,
    pub volume: &'a str,
    pub mount_path: &'a str,
    pub regional_sts: bool,
    pub region: Option<&'a str>,
    pub additions: Option<Additions<'a>>,
}

pub(super) struct Additions<'a> {
    pub sts_endpoint: &'a str,
    pub ca_file: Option<String>,
}

impl ContainerPlan<'_> {
    pub fn container_ops(&self, container: &Container, base: &str, ops: &mut Vec<PatchOperation>) {
        let env = container.env.as_deref().unwrap_or_default();
        let defined = |name: &str| env.iter().any(|e| e.name == name);
        let mounts = container.volume_mounts.as_deref().unwrap_or_default();
        let mounted = |name: &str| mounts.iter().any(|m| m.name == name);

        let ((identity_name, identity_value), token_file_name) = self.credentials.variables();
        let method_defined = defined(identity_name) || defined(token_file_name);
        let region_defined = defined(ENV_REGION) || defined(ENV_DEFAULT_REGION);
        let regional_sts_defined = defined(ENV_STS_REGIONAL_ENDPOINTS);
        let upstream_done = method_defined && region_defined && regional_sts_defined;

        let mut new_env = Vec::new();
        let mut new_mounts = Vec::new();
        if !upstream_done {
            if !regional_sts_defined && self.regional_sts {
                new_env.push(env_var(ENV_STS_REGIONAL_ENDPOINTS, "regional"));
            }
            if let Some(region) = self.region.filter(|_| !region_defined) {
                new_env.push(env_var(ENV_DEFAULT_REGION, region));
                new_env.push(env_var(ENV_REGION, region));
            }
            if !method_defined {
                new_env.push(env_var(identity_name, identity_value));
                new_env.push(env_var(token_file_name, &self.token_file));
            }
            if !mounted(self.volume) {
                new_mounts.push(mount(self.volume, self.mount_path));
            }
        }
        if let Some(additions) = &self.additions {
            if !defined(ENV_ENDPOINT_URL_STS) {
                new_env.push(env_var(ENV_ENDPOINT_URL_STS, additions.sts_endpoint));
            }
            if let Some(ca_file) = &additions.ca_file {
                if !defined(ENV_CA_BUNDLE) {
                    new_env.push(env_var(ENV_CA_BUNDLE, ca_file));
                }
                if !mounted(CA_VOLUME) {
                    new_mounts.push(mount(CA_VOLUME, CA_MOUNT_PATH));
                }
            }
        }
        append(
            ops,
            &format!("{base}/env"),
            container.env.is_some(),
            new_env,
        );
        append(
            ops,
            &format!("{base}/volumeMounts"),
            container.volume_mounts.is_some(),
            new_mounts,
        );
    }
}

/// Appends `items` to the array at `path`, creating it when the field is absent.
fn append<T: Serialize>(ops: &mut Vec<PatchOperation>, path: &str, exists: bool, items: Vec<T>) {
    if items.is_empty() {
        return;
    }
    if exists {
        for item in &items {
            ops.push(PatchOperation::add(format!("{path}/-"), to_json(item)));
        }
    } else {
        ops.push(PatchOperation::add(path, to_json(&items)));
    }
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("Kubernetes types serialize to JSON")
}

fn env_var(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        value_from: None,
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_string(),
        mount_path: path.to_string(),
        read_only: Some(true),
        ..Default::default()
    }
}

pub(super) fn token_volume(name: &str, audience: &str, expiration: i64, path: &str) -> Volume {
    Volume {
        name: name.to_string(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some(audience.to_string()),
                    expiration_seconds: Some(expiration),
                    path: path.to_string(),
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(super) fn ca_volume() -> Volume {
    Volume {
        name: CA_VOLUME.to_string(),
        config_map: Some(ConfigMapVolumeSource {
            name: CA_CONFIGMAP.to_string(),
            ..Default::default()
        }),
        ..Default::default()
    }
}
