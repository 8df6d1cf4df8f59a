//! `kubectl irsa` in AWS China: the emulator serves cn-north-1 (`arn:aws-cn:` everywhere, as IAM China
//! does), a real kube-apiserver issues the tokens, and the plugin must mint every ARN in the caller's
//! partition — the role, the trust policy's `Federated` provider, the annotation — or STS would never match
//! the trust (a trust naming `arn:aws:iam::…:oidc-provider/…` admits nothing in China). The partition comes
//! from GetCallerIdentity's / the OIDC provider's ARN, never from a hard-coded `arn:aws:`.
//!
//! Its own test binary: the shared environment is built once per binary, and this one is in another region.

#[path = "common/mod.rs"]
mod common;

use irsa_names::ROLE_ARN_ANNOTATION;
use serde_json::Value;

const REGION: &str = "cn-north-1";

fn env() -> Option<(&'static common::Env, std::sync::MutexGuard<'static, ()>)> {
    common::env_in(REGION)
}

#[test]
fn a_binding_in_china_is_minted_in_aws_cn_and_sts_accepts_it() {
    let Some((env, _guard)) = env() else { return };
    let account = env.account();
    assert!(
        env.provider_arn().starts_with("arn:aws-cn:iam::"),
        "{}",
        env.provider_arn()
    );
    let managed = "arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let out = env.ok(&[
        "create",
        "--name",
        "app",
        "-n",
        "shop",
        "--attach-policy-arn",
        managed,
        "-o",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out).expect("create -o json prints JSON");
    let role_arn = report["roleArn"].as_str().unwrap_or_default().to_string();
    assert!(
        role_arn.starts_with(&format!("arn:aws-cn:iam::{account}:role/")),
        "{out}"
    );
    let role_name = irsa_policy::role_name_from_arn(&role_arn).unwrap();
    let role = env
        .block_on(env.aws.get_role(&role_name))
        .unwrap()
        .expect("the role exists");
    assert_eq!(role.arn, role_arn);
    assert_eq!(
        role.trust["Statement"][0]["Principal"]["Federated"],
        env.provider_arn()
    );
    let sa = env.service_account("shop", "app").unwrap();
    assert_eq!(sa["metadata"]["annotations"][ROLE_ARN_ANNOTATION], role_arn);
    let attached = env.block_on(env.aws.attached_policies(&role_name)).unwrap();
    assert_eq!(attached, [managed]);

    // describe evaluates the trust with the provider in the role's partition: OK, exit 0.
    let describe = env.run(&["describe", "app", "-n", "shop"]);
    assert_eq!(describe.code, 0, "{describe}");
    // And STS agrees, with a real token: the session is an aws-cn one.
    let session = env
        .assume("shop", "app", &role_arn, "china")
        .expect("STS admits the token");
    assert_eq!(
        session,
        format!("arn:aws-cn:sts::{account}:assumed-role/{role_name}/china")
    );
    // A re-run is up to date (nothing re-minted in another partition).
    let again = env.ok(&[
        "create",
        "--name",
        "app",
        "-n",
        "shop",
        "--attach-policy-arn",
        managed,
    ]);
    assert!(again.contains("up to date"), "{again}");

    env.ok(&["delete", "--name", "app", "-n", "shop"]);
    assert!(env
        .block_on(env.aws.get_role(&role_name))
        .unwrap()
        .is_none());
}

#[test]
fn a_commercial_arn_is_refused_before_anything_changes_with_the_china_spelling() {
    let Some((env, _guard)) = env() else { return };
    let run = env.run(&[
        "create",
        "--name",
        "copied",
        "-n",
        "shop",
        "--attach-policy-arn",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ]);
    assert_eq!(run.code, 2, "a usage error: {run}");
    assert!(
        run.stderr.contains(&format!(
            "--attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess is in partition aws, but account {} \
             is in aws-cn: use arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess",
            env.account()
        )),
        "{run}"
    );
    let role_name = kubectl_irsa::naming::default_role_name("irsa-e2e", "shop", "copied");
    assert!(env
        .block_on(env.aws.get_role(&role_name))
        .unwrap()
        .is_none());
    assert!(env.service_account("shop", "copied").is_none());
}

#[test]
fn pod_identity_and_annotate_use_the_callers_partition() {
    let Some((env, _guard)) = env() else { return };
    let account = env.account();
    let plan = env.ok(&[
        "create",
        "--pod-identity",
        "--cluster",
        "test-cluster",
        "--name",
        "agent",
        "-n",
        "shop",
        "--attach-policy-arn",
        "arn:aws-cn:iam::aws:policy/ReadOnlyAccess",
        "--dry-run",
        "-o",
        "json",
    ]);
    let plan: Value = serde_json::from_str(&plan).expect("JSON plan");
    let role_arn = plan["roleArn"].as_str().unwrap_or_default();
    assert!(
        role_arn.starts_with(&format!("arn:aws-cn:iam::{account}:role/")),
        "{plan:#}"
    );

    // annotate checks the trust against the provider in the role ARN's partition: a role made for the
    // service account by `create --role-only` is found trusting it, so --strict lets it through.
    let ns = "agents";
    env.kubectl(&["create", "namespace", ns]);
    env.kubectl(&["create", "serviceaccount", "later", "-n", ns]);
    let role_only = env.ok(&[
        "create",
        "--name",
        "later",
        "-n",
        ns,
        "--role-only",
        "-o",
        "json",
    ]);
    let role_only: Value = serde_json::from_str(&role_only).unwrap();
    let later_arn = role_only["roleArn"].as_str().unwrap().to_string();
    assert!(later_arn.starts_with("arn:aws-cn:"), "{role_only:#}");
    let run = env.run(&[
        "annotate",
        "later",
        "-n",
        ns,
        "--role-arn",
        &later_arn,
        "--strict",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        env.assume(ns, "later", &later_arn, "china"),
        Ok(format!(
            "arn:aws-cn:sts::{account}:assumed-role/{}/china",
            irsa_policy::role_name_from_arn(&later_arn).unwrap()
        ))
    );
}
