//! Pods using the service account: did the pod identity webhook give them the token volume and env?

use super::{check, Check, Facts, Status};
use irsa_names::{
    ENV_ROLE_ARN, ENV_TOKEN_FILE, SKIP_CONTAINERS_ANNOTATION, SKIP_POD_LABEL, TOKEN_VOLUME,
};

use serde::Serialize;

/// A pod using the service account and what the webhook did to it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodFacts {
    pub name: String,
    /// Has the `aws-iam-token` volume.
    pub has_volume: bool,
    /// Containers lacking `AWS_ROLE_ARN` or `AWS_WEB_IDENTITY_TOKEN_FILE` (skip-containers excluded).
    pub containers_missing_env: Vec<String>,
    /// The `AWS_ROLE_ARN` the containers were given.
    pub role_arn_env: Option<String>,
    /// The pod opts out of the webhook.
    pub skipped: bool,
}

impl PodFacts {
    pub fn mutated(&self) -> bool {
        self.has_volume && self.containers_missing_env.is_empty()
    }

    /// Read what the webhook injects from a pod spec.
    pub fn from_pod(pod: &k8s_openapi::api::core::v1::Pod) -> PodFacts {
        let meta = &pod.metadata;
        let skipped = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(SKIP_POD_LABEL))
            .is_some_and(|v| v != "false");
        let skip_containers: Vec<String> = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(SKIP_CONTAINERS_ANNOTATION))
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        let spec = pod.spec.as_ref();
        let has_volume = spec
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|v| v.iter().any(|v| v.name == TOKEN_VOLUME));
        let mut missing = Vec::new();
        let mut role_arn_env = None;
        let containers = spec
            .map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for c in containers {
            if skip_containers.contains(&c.name) {
                continue;
            }
            let env = c.env.as_deref().unwrap_or_default();
            let get = |name: &str| env.iter().find(|e| e.name == name);
            match (get(ENV_ROLE_ARN), get(ENV_TOKEN_FILE)) {
                (Some(role), Some(_)) => {
                    if role_arn_env.is_none() {
                        role_arn_env = role.value.clone();
                    }
                }
                _ => missing.push(c.name.clone()),
            }
        }
        PodFacts {
            name: meta.name.clone().unwrap_or_default(),
            has_volume,
            containers_missing_env: missing,
            role_arn_env,
            skipped,
        }
    }
}

/// The `pods` check.
pub(super) fn check_pods(facts: &Facts, role_arn: Option<&str>, checks: &mut Vec<Check>) {
    let (ns, name) = (&facts.sa.namespace, &facts.sa.name);
    if facts.pods.is_empty() {
        checks.push(check(
            "pods",
            Status::Ok,
            "no pods",
            "no pods use this service account",
            None,
        ));
        return;
    }
    let mut bad = false;
    for pod in &facts.pods {
        if pod.skipped {
            checks.push(check(
                "pods",
                Status::Warning,
                "pod opts out",
                format!(
                    "pod {} is labelled {SKIP_POD_LABEL}: the webhook leaves it alone",
                    pod.name
                ),
                None,
            ));
        } else if !pod.mutated() {
            bad = true;
            let mut what = Vec::new();
            if !pod.has_volume {
                what.push(format!("volume {TOKEN_VOLUME}"));
            }
            if !pod.containers_missing_env.is_empty() {
                what.push(format!(
                    "{ENV_ROLE_ARN}/{ENV_TOKEN_FILE} in container {}",
                    pod.containers_missing_env.join(", ")
                ));
            }
            checks.push(check(
                "pods",
                Status::Problem,
                "pod not mutated",
                format!(
                    "pod {} lacks {}: the pod identity webhook did not mutate it (it was created before the \
                     annotation, or the webhook is not running)",
                    pod.name,
                    what.join(" and ")
                ),
                Some(format!(
                    "check the webhook (kubectl get mutatingwebhookconfigurations), then recreate the pod \
                     (kubectl delete pod {} -n {ns}, or kubectl rollout restart its workload)",
                    pod.name
                )),
            ));
        } else if let (Some(env), Some(want)) = (&pod.role_arn_env, role_arn) {
            if env != want {
                bad = true;
                checks.push(check(
                    "pods",
                    Status::Warning,
                    "pod has old role",
                    format!("pod {} runs with {ENV_ROLE_ARN}={env}, the annotation now says {want}", pod.name),
                    Some(format!(
                        "recreate the pod (kubectl delete pod {} -n {ns}, or kubectl rollout restart its workload)",
                        pod.name
                    )),
                ));
            }
        }
    }
    if !bad {
        checks.push(check(
            "pods",
            Status::Ok,
            "pods ok",
            format!(
                "{} pod(s) use {ns}/{name}; they carry {ENV_ROLE_ARN}, {ENV_TOKEN_FILE} and volume {TOKEN_VOLUME}",
                facts.pods.len()
            ),
            None,
        ));
    }
}
