//! The plugin end to end, as a user runs it: the emulator as AWS (IAM, EKS, OIDC issuer, its own CA via
//! AWS_CA_BUNDLE) and a real kube-apiserver as the cluster, whose service-account issuer is the emulated EKS
//! cluster's. Tests share one environment and run one at a time (see `common::env`).
//!
//! One test binary with a module per command: the environment starts once and the binary links once.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod create;
mod delete;
mod describe;
mod describe_pod;
mod drift;
mod existing;
mod export;
mod fleet_trust;
mod migrate;
mod oidc;
mod orphans;
mod pod_identity;
mod pod_identity_rollback;
mod pod_identity_support;
mod presets;
mod rollback;

use std::collections::BTreeMap;

use common::Env;
use kubectl_irsa::aws::Role;
use serde_json::Value;

pub use irsa_names::ROLE_ARN_ANNOTATION;
pub const MANAGED_LABEL: &str = "app.kubernetes.io/managed-by";

pub fn role(env: &Env, name: &str) -> Option<Role> {
    env.block_on(env.aws.get_role(name))
        .expect("GetRole answers")
}

pub fn attached(env: &Env, role: &str) -> Vec<String> {
    let mut v = env.block_on(env.aws.attached_policies(role)).unwrap();
    v.sort();
    v
}

pub fn role_arn(env: &Env, name: &str) -> String {
    format!("arn:aws:iam::{}:role/{name}", env.account())
}

/// The default role name the plugin derives (cluster label = the kubeconfig's cluster name, "irsa-e2e").
pub fn default_role(ns: &str, name: &str) -> String {
    kubectl_irsa::naming::default_role_name("irsa-e2e", ns, name)
}

/// `kubectl irsa create --name NAME -n NS --attach-policy-arn <a new s3:GetObject policy>`, the binding most
/// tests start from.
pub fn create_reader(env: &Env, ns: &str, name: &str, policy_name: &str) -> Reader {
    let policy = env.create_policy(policy_name, "s3:GetObject");
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
    ]);
    let role_name = default_role(ns, name);
    Reader {
        arn: role_arn(env, &role_name),
        role_name,
        policy,
    }
}

pub struct Reader {
    pub role_name: String,
    pub arn: String,
    /// The attached policy's ARN.
    pub policy: String,
}

pub fn annotations(sa: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(sa["metadata"]["annotations"].clone()).unwrap_or_default()
}

pub fn labels(sa: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(sa["metadata"]["labels"].clone()).unwrap_or_default()
}

pub fn resource_version(sa: &Value) -> String {
    sa["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn namespace_exists(env: &Env, ns: &str) -> bool {
    env.cp.run_kubectl(&["get", "namespace", ns]).is_ok()
}

pub fn describe(env: &Env, ns: &str, name: &str) -> common::Run {
    env.run(&["describe", name, "-n", ns])
}

pub fn assert_problem(env: &Env, ns: &str, name: &str, needles: &[&str]) {
    let run = describe(env, ns, name);
    assert_eq!(run.code, 3, "describe exits 3 on problems\n{run}");
    assert!(
        run.stdout
            .contains("problem(s) - the binding does not work"),
        "{run}"
    );
    for n in needles {
        assert!(run.stdout.contains(n), "describe output lacks {n:?}\n{run}");
    }
}
