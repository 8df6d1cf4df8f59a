//! The doctor for an EKS Pod Identity binding: the association, the service account (and whether it is also
//! IRSA-annotated, which the SDKs would prefer), the role, its trust for `pods.eks.amazonaws.com`, its
//! policies, the agent DaemonSet, the pods (did they get the agent's env?) and which SDK versions read it.
//! Pure: `commands::describe_pod_identity` gathers the facts.

use std::collections::BTreeMap;

use irsa_names::{
    ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE, ENV_CONTAINER_CREDENTIALS_FULL_URI, ROLE_ARN_ANNOTATION,
};
use irsa_policy::service_account_subject;
use serde::Serialize;

use super::{check, checks, BindingKind, Check, Diagnosis, RoleFacts, Status, Verdict, Who};
use crate::aws::Association;
use crate::trust::pod_identity::admits_pod_identity;

/// The agent's DaemonSet (the EKS add-on's name and namespace).
pub const AGENT_DAEMONSET: &str = "eks-pod-identity-agent";
pub const AGENT_NAMESPACE: &str = "kube-system";
/// The EKS User Guide's page of minimum SDK versions.
pub const SDK_PAGE: &str =
    "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html";
/// From that page (2025): the SDKs whose container provider sends the token file as `Authorization`.
pub const SDK_VERSIONS: &str = "Java v2 2.21.30, boto3/botocore 1.34.41, AWS CLI 1.30.0 / 2.15.0, \
JavaScript v2 2.1550.0, JavaScript v3 3.458.0 or later (the AWS SDK for Java v1 does not support it)";

/// The agent DaemonSet as the cluster reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentFacts {
    Missing,
    Error(String),
    Found { desired: i32, ready: i32 },
}

/// A pod of the service account, as far as Pod Identity is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityPod {
    pub name: String,
    /// Every container has the agent's URI and token file env (what the webhook injects).
    pub injected: bool,
    /// It also has IRSA's `AWS_WEB_IDENTITY_TOKEN_FILE` (the SDKs would use that first).
    pub irsa_env: bool,
    /// Created before the association: it kept the env it was created with.
    pub predates_association: bool,
}

impl PodIdentityPod {
    pub fn from_pod(
        pod: &k8s_openapi::api::core::v1::Pod,
        association_created: Option<i64>,
    ) -> Self {
        let containers: Vec<_> = pod
            .spec
            .iter()
            .flat_map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
            })
            .collect();
        let has = |c: &k8s_openapi::api::core::v1::Container, name: &str| {
            c.env.iter().flatten().any(|e| e.name == name)
        };
        let created = pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_second());
        PodIdentityPod {
            name: pod.metadata.name.clone().unwrap_or_default(),
            injected: !containers.is_empty()
                && containers.iter().all(|c| {
                    has(c, ENV_CONTAINER_CREDENTIALS_FULL_URI)
                        && has(c, ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE)
                }),
            irsa_env: containers
                .iter()
                .any(|c| has(c, irsa_names::ENV_TOKEN_FILE)),
            predates_association: matches!((created, association_created), (Some(p), Some(a)) if p < a),
        }
    }
}

/// Everything a Pod Identity binding is judged on.
#[derive(Debug, Clone)]
pub struct PodIdentityFacts {
    pub association: Association,
    /// The service account's annotations; `None` when it does not exist.
    pub sa_annotations: Option<BTreeMap<String, String>>,
    pub role: RoleFacts,
    pub agent: AgentFacts,
    pub pods: Vec<PodIdentityPod>,
}

fn push_role_and_trust(
    who: &Who,
    facts: &PodIdentityFacts,
    cluster: &str,
    checks: &mut Vec<Check>,
) {
    let a = &facts.association;
    let found = checks::role(who, &facts.role, Some(a.role_arn.as_str()), checks);
    match &found {
        None => checks.push(check("trust", Status::Skipped, "", "needs the role", None)),
        Some(f) => match admits_pod_identity(&f.role.trust) {
            Ok(()) => checks.push(check(
                "trust",
                Status::Ok,
                "trust ok",
                format!(
                    "role {} trusts pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession",
                    f.role.name
                ),
                None,
            )),
            Err(why) => checks.push(check(
                "trust",
                Status::Problem,
                "trust lacks pods.eks.amazonaws.com",
                format!("the trust policy of role {}: {why}; eks-auth refuses the pods' tokens", f.role.name),
                Some(format!(
                    "kubectl irsa create --pod-identity --name {} -n {} --cluster {cluster} --attach-role-arn {} \
                     --add-trust",
                    who.name, who.ns, f.role.arn
                )),
            )),
        },
    }
    checks::policies(who, found.as_ref(), checks);
}

/// The `agent` check; `cluster` names the add-on's cluster in the fix.
pub(super) fn agent_check(agent: &AgentFacts, cluster: &str) -> Check {
    let name = format!("{AGENT_NAMESPACE}/{AGENT_DAEMONSET}");
    match agent {
        AgentFacts::Missing => check(
            "agent",
            Status::Problem,
            "no agent",
            format!(
                "DaemonSet {name} not found: pods get AWS_CONTAINER_CREDENTIALS_FULL_URI but nothing answers at \
                 169.254.170.23"
            ),
            Some(format!(
                "install the EKS Pod Identity Agent add-on (aws eks create-addon --cluster-name {cluster} \
                 --addon-name eks-pod-identity-agent)"
            )),
        ),
        AgentFacts::Error(e) => check(
            "agent",
            Status::Warning,
            "agent unknown",
            format!("cannot read DaemonSet {name}: {e}"),
            None,
        ),
        AgentFacts::Found { desired, ready } if *desired > 0 && ready >= desired => check(
            "agent",
            Status::Ok,
            "agent ready",
            format!("DaemonSet {name}: {ready} of {desired} ready"),
            None,
        ),
        AgentFacts::Found { desired, ready } => check(
            "agent",
            Status::Warning,
            "agent not ready",
            format!(
                "DaemonSet {name}: {ready} of {desired} ready (no nodes, or its pods are not running): pods on a \
                 node without a ready agent get no credentials"
            ),
            Some(format!("kubectl -n {AGENT_NAMESPACE} describe daemonset {AGENT_DAEMONSET}")),
        ),
    }
}

fn pods_check(who: &Who, pods: &[PodIdentityPod]) -> Option<Check> {
    if pods.is_empty() {
        return None;
    }
    let stale: Vec<&str> = pods
        .iter()
        .filter(|p| !p.injected)
        .map(|p| p.name.as_str())
        .collect();
    if stale.is_empty() {
        return Some(check(
            "pods",
            Status::Ok,
            "pods injected",
            format!("{} pod(s) have the agent's env and token file", pods.len()),
            None,
        ));
    }
    Some(check(
        "pods",
        Status::Warning,
        "pods need restart",
        format!(
            "pod(s) without {ENV_CONTAINER_CREDENTIALS_FULL_URI}: {} (created before the association, or not \
             mutated): they keep the env they were created with",
            stale.join(", ")
        ),
        Some(format!(
            "restart them (kubectl rollout restart the workload, or kubectl delete pod -n {} {})",
            who.ns,
            stale.join(" ")
        )),
    ))
}

/// Judge a Pod Identity binding.
pub fn diagnose_pod_identity(facts: &PodIdentityFacts) -> Diagnosis {
    let a = &facts.association;
    let who = Who {
        ns: &a.namespace,
        name: &a.service_account,
        subject: service_account_subject(&a.namespace, &a.service_account),
        audience: irsa_names::POD_IDENTITY_AUDIENCE.to_string(),
    };
    let mut checks = Vec::new();
    let mut message = format!(
        "association {} binds {}/{} to {} in cluster {}",
        a.id, a.namespace, a.service_account, a.role_arn, a.cluster
    );
    if let Some(target) = &a.target_role_arn {
        message.push_str(&format!(", then to target role {target}"));
    }
    if a.disable_session_tags {
        message.push_str("; session tags disabled");
    }
    checks.push(check(
        "association",
        Status::Ok,
        "association",
        message,
        None,
    ));
    match &facts.sa_annotations {
        None => checks.push(check(
            "service-account",
            Status::Problem,
            "service account missing",
            format!("service account {}/{} does not exist: no pod can use the association", who.ns, who.name),
            Some(format!("kubectl create serviceaccount {} -n {}", who.name, who.ns)),
        )),
        Some(annotations) => match annotations.get(ROLE_ARN_ANNOTATION) {
            Some(irsa) => checks.push(check(
                "service-account",
                Status::Warning,
                "also IRSA-annotated",
                format!(
                    "service account is also annotated {ROLE_ARN_ANNOTATION}={irsa}: the pod identity webhook gives \
                     new pods only Pod Identity's env (upstream: \"Container credentials method takes precedence\"), \
                     pods created before keep IRSA's, and a pod with both uses IRSA (the AWS SDKs' default chain tries \
                     web identity before container credentials)"
                ),
                Some(format!(
                    "kubectl irsa migrate --to pod-identity --name {} -n {} --cluster {} (removes the annotation \
                     after the association is in place)",
                    who.name, who.ns, a.cluster
                )),
            )),
            None => checks.push(check(
                "service-account",
                Status::Ok,
                "service account",
                format!("service account {}/{} exists (no IRSA annotation)", who.ns, who.name),
                None,
            )),
        },
    }
    push_role_and_trust(&who, facts, &a.cluster, &mut checks);
    checks.push(agent_check(&facts.agent, &a.cluster));
    checks.extend(pods_check(&who, &facts.pods));
    checks.push(check(
        "sdk",
        Status::Ok,
        "sdk hint",
        format!(
            "containers need an AWS SDK whose container provider reads {ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE}: \
             {SDK_VERSIONS} ({SDK_PAGE})"
        ),
        None,
    ));
    let verdict = if checks.iter().any(|c| c.status == Status::Problem) {
        Verdict::Problems
    } else if checks.iter().any(|c| c.status == Status::Warning) {
        Verdict::Warnings
    } else {
        Verdict::Ok
    };
    let (attached, inline) = match &facts.role {
        RoleFacts::Found {
            attached, inline, ..
        } => (attached.clone(), inline.clone()),
        _ => (Vec::new(), Vec::new()),
    };
    Diagnosis {
        namespace: a.namespace.clone(),
        name: a.service_account.clone(),
        kind: BindingKind::PodIdentity,
        association: Some(a.id.clone()),
        cluster: Some(a.cluster.clone()),
        role_arn: Some(a.role_arn.clone()),
        issuer: None,
        verdict,
        checks,
        pods: Vec::new(),
        attached_policies: attached,
        inline_policies: inline,
        policy_documents: BTreeMap::new(),
    }
}

#[cfg(test)]
#[path = "pod_identity_tests.rs"]
mod tests;
