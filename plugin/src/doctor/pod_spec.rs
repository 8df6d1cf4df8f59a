//! What the pod identity webhook left in one pod's spec, read link by link: per container the role and token
//! file env and the mount, and the projected token volume's audience, expiry and path. Also what another
//! binding would leave (EKS Pod Identity's env), so the chain can say which one the pod uses.

use irsa_names::{
    ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE, ENV_CONTAINER_CREDENTIALS_FULL_URI, ENV_ROLE_ARN,
    ENV_TOKEN_FILE, POD_IDENTITY_TOKEN_VOLUME, SKIP_CONTAINERS_ANNOTATION, TOKEN_VOLUME,
};
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

/// Pod Identity's credential env (aws/eks-pod-identity-agent): a pod with it and no IRSA token volume is
/// reported as a Pod Identity binding (see [`super::pod_chain::Binding`]).
pub const POD_IDENTITY_ENV: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerFacts {
    pub name: String,
    pub role_arn: Option<String>,
    pub token_file: Option<String>,
    /// The token volume is mounted in this container.
    pub mounted: bool,
    /// Listed in eks.amazonaws.com/skip-containers.
    pub skipped: bool,
    pub pod_identity: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenVolume {
    pub audience: Option<String>,
    pub expiration_seconds: Option<i64>,
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecFacts {
    pub name: String,
    pub uid: String,
    pub service_account: String,
    pub containers: Vec<ContainerFacts>,
    pub volume: Option<TokenVolume>,
    /// What the webhook's Pod Identity mode leaves: the agent's env per container and its token volume.
    pub pod_identity_spec: PodIdentitySpec,
}

/// One container's Pod Identity env and mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityContainer {
    pub name: String,
    pub full_uri: Option<String>,
    pub token_file: Option<String>,
    pub mounted: bool,
    pub skipped: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentitySpec {
    /// The `eks-pod-identity-token` projected volume.
    pub volume: Option<TokenVolume>,
    pub containers: Vec<PodIdentityContainer>,
}

fn token_volume(spec: &k8s_openapi::api::core::v1::PodSpec, name: &str) -> Option<TokenVolume> {
    spec.volumes
        .iter()
        .flatten()
        .find(|v| v.name == name)
        .map(|v| {
            let token = v
                .projected
                .as_ref()
                .and_then(|p| p.sources.as_ref())
                .and_then(|s| s.iter().find_map(|s| s.service_account_token.clone()));
            TokenVolume {
                audience: token.as_ref().and_then(|t| t.audience.clone()),
                expiration_seconds: token.as_ref().and_then(|t| t.expiration_seconds),
                path: token.map(|t| t.path).unwrap_or_default(),
            }
        })
}

impl PodSpecFacts {
    pub fn from_pod(pod: &Pod) -> PodSpecFacts {
        let meta = &pod.metadata;
        let skip: Vec<String> = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(SKIP_CONTAINERS_ANNOTATION))
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        let spec = pod.spec.clone().unwrap_or_default();
        let volume = token_volume(&spec, TOKEN_VOLUME);
        let all: Vec<&k8s_openapi::api::core::v1::Container> = spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .collect();
        let env_of = |c: &k8s_openapi::api::core::v1::Container, name: &str| {
            c.env
                .iter()
                .flatten()
                .find(|e| e.name == name)
                .and_then(|e| e.value.clone())
        };
        let pod_identity_spec = PodIdentitySpec {
            volume: token_volume(&spec, POD_IDENTITY_TOKEN_VOLUME),
            containers: all
                .iter()
                .map(|c| PodIdentityContainer {
                    name: c.name.clone(),
                    full_uri: env_of(c, ENV_CONTAINER_CREDENTIALS_FULL_URI),
                    token_file: env_of(c, ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE),
                    mounted: c
                        .volume_mounts
                        .iter()
                        .flatten()
                        .any(|m| m.name == POD_IDENTITY_TOKEN_VOLUME),
                    skipped: skip.contains(&c.name),
                })
                .collect(),
        };
        let containers = spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .map(|c| {
                let env = c.env.as_deref().unwrap_or_default();
                let get = |name: &str| {
                    env.iter()
                        .find(|e| e.name == name)
                        .and_then(|e| e.value.clone())
                };
                ContainerFacts {
                    name: c.name.clone(),
                    role_arn: get(ENV_ROLE_ARN),
                    token_file: get(ENV_TOKEN_FILE),
                    mounted: c
                        .volume_mounts
                        .iter()
                        .flatten()
                        .any(|m| m.name == TOKEN_VOLUME),
                    skipped: skip.contains(&c.name),
                    pod_identity: get(POD_IDENTITY_ENV).is_some(),
                }
            })
            .collect();
        PodSpecFacts {
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            service_account: spec
                .service_account_name
                .unwrap_or_else(|| "default".into()),
            containers,
            volume,
            pod_identity_spec,
        }
    }
}
