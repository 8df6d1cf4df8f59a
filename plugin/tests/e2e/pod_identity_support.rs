//! What the Pod Identity e2e tests share: the cluster's name, its associations, the agent DaemonSet (only an
//! object here: no nodes, no controller, so its status is patched as the DaemonSet controller would write it),
//! and pods as the webhook leaves them.

use serde_json::json;

use crate::common::Env;
use kubectl_irsa::aws::Association;

pub const CLUSTER: &str = "test-cluster";

/// The role `create --pod-identity` names by default (its cluster label is the EKS cluster's name).
pub fn pi_role(ns: &str, name: &str) -> String {
    kubectl_irsa::naming::default_role_name(CLUSTER, ns, name)
}

pub fn associations(env: &Env, ns: &str, name: &str) -> Vec<Association> {
    env.block_on(
        env.aws
            .pod_identity_associations(CLUSTER, Some(ns), Some(name)),
    )
    .expect("ListPodIdentityAssociations answers")
}

/// The agent DaemonSet in kube-system, `ready` or not (as the DaemonSet controller would report it).
pub fn agent(env: &Env, ready: bool) {
    let manifest = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": { "name": "eks-pod-identity-agent", "namespace": "kube-system" },
        "spec": {
            "selector": { "matchLabels": { "app": "eks-pod-identity-agent" } },
            "template": {
                "metadata": { "labels": { "app": "eks-pod-identity-agent" } },
                "spec": { "containers": [{ "name": "agent", "image": "eks-pod-identity-agent" }] }
            }
        }
    });
    let path = env.dir.path().join("agent.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    env.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    let n = i32::from(ready);
    let status = json!({ "status": { "currentNumberScheduled": n, "desiredNumberScheduled": n,
        "numberMisscheduled": 0, "numberReady": n } });
    env.kubectl(&[
        "patch",
        "daemonset",
        "eks-pod-identity-agent",
        "-n",
        "kube-system",
        "--subresource=status",
        "--type=merge",
        "-p",
        &status.to_string(),
    ]);
}

pub fn no_agent(env: &Env) {
    let _ = env.cp.run_kubectl(&[
        "delete",
        "daemonset",
        "eks-pod-identity-agent",
        "-n",
        "kube-system",
        "--ignore-not-found",
    ]);
}

/// A pod as the webhook's Pod Identity mode leaves it (values from names/src/pod_identity.rs, the upstream
/// webhook's defaults), or with IRSA's env when `irsa_role` is given.
pub fn apply_pod(env: &Env, ns: &str, pod: &str, sa: &str, irsa_role: Option<&str>) {
    let (env_vars, mounts, volumes) = match irsa_role {
        None => (
            json!([
                { "name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials" },
                { "name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                  "value": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token" }
            ]),
            json!([{ "name": "eks-pod-identity-token", "readOnly": true,
                "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount" }]),
            json!([{ "name": "eks-pod-identity-token", "projected": { "sources": [{ "serviceAccountToken": {
                "audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400,
                "path": "eks-pod-identity-token" } }] } }]),
        ),
        Some(arn) => (
            json!([
                { "name": "AWS_ROLE_ARN", "value": arn },
                { "name": "AWS_WEB_IDENTITY_TOKEN_FILE",
                  "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" }
            ]),
            json!([{ "name": "aws-iam-token", "readOnly": true,
                "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount" }]),
            json!([{ "name": "aws-iam-token", "projected": { "sources": [{ "serviceAccountToken": {
                "audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token" } }] } }]),
        ),
    };
    let manifest = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": pod, "namespace": ns },
        "spec": {
            "serviceAccountName": sa,
            "containers": [{ "name": "app", "image": "busybox", "env": env_vars, "volumeMounts": mounts }],
            "volumes": volumes
        }
    });
    let path = env.dir.path().join(format!("{ns}-{pod}.json"));
    std::fs::write(&path, manifest.to_string()).unwrap();
    env.kubectl(&["apply", "-f", path.to_str().unwrap()]);
}
