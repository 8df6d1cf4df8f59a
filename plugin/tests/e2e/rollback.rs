//! Plans and rollback: a failed step undoes what the run did, and every Kubernetes and IAM step can be
//! applied and undone with the live executor.

use std::collections::BTreeMap;

use crate::common::{env, Env};
use crate::{
    annotations, attached, default_role, labels, resource_version, role, role_arn, MANAGED_LABEL,
};
use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;
use kubectl_irsa::plan::PlanStep;
use serde_json::{json, Value};

#[test]
fn a_failed_step_rolls_back_what_the_run_did() {
    let Some((env, _guard)) = env() else { return };
    // An existing service account with its own annotation, and a policy ARN that does not exist.
    let (ns, name) = ("rollback", "app");
    env.kubectl(&["create", "namespace", ns]);
    env.kubectl(&["create", "serviceaccount", name, "-n", ns]);
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        "team=payments",
    ]);
    let before = env.service_account(ns, name).unwrap();
    let good = env.create_policy("rollback-read", "s3:GetObject");
    let missing = format!("arn:aws:iam::{}:policy/does-not-exist", env.account());
    let run = env.run(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &good,
        "--attach-policy-arn",
        &missing,
    ]);
    assert_eq!(run.code, 1, "{run}");
    let role_name = default_role(ns, name);
    assert!(
        run.stderr
            .contains(&format!("step failed: attach policy {missing}")),
        "{run}"
    );
    assert!(run.stderr.contains("does not exist"), "{run}");
    assert!(
        run.stderr.contains("rolled back (in reverse order)"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains(&format!("detached policy {good} from role {role_name}")),
        "{run}"
    );
    assert!(
        run.stderr.contains(&format!("deleted role {role_name}")),
        "{run}"
    );
    assert!(role(env, &role_name).is_none(), "no role left behind");
    let after = env.service_account(ns, name).unwrap();
    assert_eq!(
        resource_version(&after),
        resource_version(&before),
        "service account as it was"
    );
    assert_eq!(annotations(&after), annotations(&before));

    // A late Kubernetes step fails (the namespace is being deleted): the IAM steps are undone.
    let term = "rollback-terminating";
    env.kubectl(&["create", "namespace", term]);
    env.kubectl(&["delete", "namespace", term, "--wait=false"]);
    let run = env.run(&[
        "create",
        "--name",
        name,
        "-n",
        term,
        "--attach-policy-arn",
        &good,
    ]);
    assert_eq!(run.code, 1, "{run}");
    let role_name = default_role(term, name);
    assert!(
        run.stderr.contains(&format!(
            "step failed: create service account {term}/{name}"
        )),
        "{run}"
    );
    assert!(
        run.stderr.contains(&format!("deleted role {role_name}")),
        "{run}"
    );
    assert!(role(env, &role_name).is_none(), "no role left behind");
    assert!(env.service_account(term, name).is_none());
}

/// Apply a step with the live executor, then undo it.
fn apply_and_undo<S: kubectl_irsa::plan::PlanStep>(
    env: &Env,
    kube: &kubectl_irsa::kube::Kube,
    step: &S,
) where
    for<'a> kubectl_irsa::executor::Live<'a>: kubectl_irsa::plan::Executor<S>,
{
    use kubectl_irsa::plan::Executor;
    let live = kubectl_irsa::executor::Live {
        aws: &env.aws,
        kube,
    };
    env.block_on(async {
        let outcome = live
            .apply(step)
            .await
            .unwrap_or_else(|e| panic!("apply {}: {e}", step.summary()));
        live.undo(step, &outcome)
            .await
            .unwrap_or_else(|e| panic!("undo {}: {e}", step.summary()));
    });
}

#[test]
fn every_kubernetes_step_can_be_undone() {
    use kubectl_irsa::plan::{ClusterStep as Step, SaSnapshot};
    let Some((env, _guard)) = env() else { return };
    let kube = connect(env);
    let (ns, name) = ("undo-k8s", "app");
    env.kubectl(&["create", "namespace", ns]);
    env.kubectl(&["create", "serviceaccount", name, "-n", ns]);
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        "team=a",
        "keep=me",
    ]);
    env.kubectl(&["label", "serviceaccount", name, "-n", ns, "tier=web"]);
    let metadata = |sa: &Value| (annotations(sa), labels(sa));
    let before = metadata(&env.service_account(ns, name).unwrap());
    let arn = role_arn(env, "undo-role");

    // Annotate (overriding one annotation and adding a label), then restore.
    apply_and_undo(
        env,
        &kube,
        &Step::ApplyServiceAccount {
            namespace: ns.into(),
            name: name.into(),
            annotations: BTreeMap::from([
                (ROLE_ARN_ANNOTATION.to_string(), arn.clone()),
                ("team".to_string(), "b".to_string()),
            ]),
            labels: BTreeMap::from([(MANAGED_LABEL.to_string(), "kubectl-irsa".to_string())]),
            previous: Some(SaSnapshot {
                annotations: BTreeMap::from([("team".to_string(), "a".to_string())]),
                labels: BTreeMap::new(),
            }),
        },
    );
    assert_eq!(metadata(&env.service_account(ns, name).unwrap()), before);

    // Remove an annotation, then restore it.
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}={arn}"),
    ]);
    let annotated = metadata(&env.service_account(ns, name).unwrap());
    apply_and_undo(
        env,
        &kube,
        &Step::RemoveServiceAccountAnnotations {
            namespace: ns.into(),
            name: name.into(),
            keys: vec![ROLE_ARN_ANNOTATION.into()],
            previous: SaSnapshot {
                annotations: BTreeMap::from([(ROLE_ARN_ANNOTATION.to_string(), arn.clone())]),
                labels: BTreeMap::new(),
            },
        },
    );
    assert_eq!(metadata(&env.service_account(ns, name).unwrap()), annotated);

    // Delete, then re-create with its annotations and labels.
    let (a, l) = annotated.clone();
    apply_and_undo(
        env,
        &kube,
        &Step::DeleteServiceAccount {
            namespace: ns.into(),
            name: name.into(),
            previous: SaSnapshot {
                annotations: a,
                labels: l,
            },
        },
    );
    assert_eq!(metadata(&env.service_account(ns, name).unwrap()), annotated);

    // A service account that did not exist is deleted again; a namespace created is deleted (terminating).
    apply_and_undo(
        env,
        &kube,
        &Step::ApplyServiceAccount {
            namespace: ns.into(),
            name: "new".into(),
            annotations: BTreeMap::from([(ROLE_ARN_ANNOTATION.to_string(), arn.clone())]),
            labels: BTreeMap::new(),
            previous: None,
        },
    );
    assert!(env.service_account(ns, "new").is_none());
    apply_and_undo(
        env,
        &kube,
        &Step::CreateNamespace {
            namespace: "undo-created".into(),
        },
    );
    let gone = env.kubectl_json(&["get", "namespace", "undo-created"]);
    assert!(gone["metadata"]["deletionTimestamp"].is_string(), "{gone}");
}

#[test]
fn every_iam_step_can_be_undone() {
    use kubectl_irsa::aws::NewRole;
    use kubectl_irsa::plan::IamStep as Step;
    let Some((env, _guard)) = env() else { return };
    let kube = connect(env);
    let name = "undo-iam";
    let trust = irsa_trust_policy(
        &env.aws_account(),
        &env.issuer,
        "undo",
        "a",
        STS_AUDIENCE,
        None,
    );
    let inline = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]});
    let policy = env.create_policy("undo-read", "s3:GetObject");
    let boundary = env.create_policy("undo-boundary", "s3:*");
    env.block_on(env.aws.create_role(&NewRole {
        name: name.into(),
        path: "/".into(),
        trust: trust.clone(),
        description: "undo test".into(),
        max_session_duration: None,
        permissions_boundary: None,
        tags: vec![("team".into(), "a".into())],
    }))
    .unwrap();
    env.block_on(env.aws.put_inline_policy(name, "kept", &inline))
        .unwrap();
    let snapshot = |env: &Env| {
        let role = role(env, name).unwrap();
        let mut inline_names = env.block_on(env.aws.inline_policies(name)).unwrap();
        inline_names.sort();
        let docs: Vec<Value> = inline_names
            .iter()
            .map(|n| {
                env.block_on(env.aws.inline_policy(name, n))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        let mut tags = role.tags.clone();
        tags.sort();
        (
            role.trust,
            role.max_session_duration,
            role.permissions_boundary,
            tags,
            attached(env, name),
            docs,
        )
    };
    let before = snapshot(env);
    let other = irsa_trust_policy(
        &env.aws_account(),
        &env.issuer,
        "undo",
        "b",
        STS_AUDIENCE,
        None,
    );
    let steps = vec![
        Step::UpdateTrust {
            role: name.into(),
            trust: other,
            previous: trust.clone(),
        },
        Step::UpdateMaxSessionDuration {
            role: name.into(),
            seconds: 7200,
            previous: Some(3600),
        },
        Step::PutPermissionsBoundary {
            role: name.into(),
            policy_arn: boundary.clone(),
            previous: None,
        },
        Step::TagRole {
            role: name.into(),
            tags: vec![("team".into(), "b".into()), ("new".into(), "x".into())],
            previous: vec![("team".into(), Some("a".into())), ("new".into(), None)],
        },
        Step::AttachPolicy {
            role: name.into(),
            policy_arn: policy.clone(),
        },
        Step::PutInlinePolicy {
            role: name.into(),
            policy_name: "added".into(),
            document: inline.clone(),
            previous: None,
        },
        Step::PutInlinePolicy {
            role: name.into(),
            policy_name: "kept".into(),
            document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
            previous: Some(inline.clone()),
        },
        Step::DeleteInlinePolicy {
            role: name.into(),
            policy_name: "kept".into(),
            previous: inline.clone(),
        },
    ];
    for step in &steps {
        apply_and_undo(env, &kube, step);
        assert_eq!(snapshot(env), before, "after undoing {}", step.summary());
    }
    // Attached, then detached and re-attached.
    env.block_on(env.aws.attach_policy(name, &policy)).unwrap();
    let with_policy = snapshot(env);
    apply_and_undo(
        env,
        &kube,
        &Step::DetachPolicy {
            role: name.into(),
            policy_arn: policy.clone(),
        },
    );
    assert_eq!(snapshot(env), with_policy);
}

/// The plugin's own Kubernetes client, on the test cluster's kubeconfig.
fn connect(env: &Env) -> kubectl_irsa::kube::Kube {
    env.block_on(kubectl_irsa::kube::Kube::connect(
        &kubectl_irsa::kube::KubeSettings {
            kubeconfig: Some(env.cp.kubeconfig().to_path_buf()),
            context: None,
        },
    ))
    .unwrap()
}
