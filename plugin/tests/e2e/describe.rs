//! `describe` and `list`: each problem named with its fix, pods checked for the webhook's mutation, and
//! STS agreeing with what describe says.

use crate::common::env;
use crate::{assert_problem, create_reader, default_role, describe, role, Reader};
use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;
use serde_json::json;

#[test]
fn describe_names_each_problem_and_its_fix() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("doc", "app");
    let Reader {
        role_name,
        arn,
        policy,
    } = create_reader(env, ns, name, "doc-read");
    let run = describe(env, ns, name);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("Verdict: OK"), "{run}");
    let json = env.run(&["describe", name, "-n", ns, "-o", "json"]).json();
    assert_eq!(json[0]["verdict"], "OK");
    let yaml = env.ok(&["describe", name, "-n", ns, "-o", "yaml"]);
    assert!(yaml.contains("verdict: OK"), "{yaml}");

    // 1. Wrong sub in the trust policy.
    let good_trust = role(env, &role_name).unwrap().trust;
    let wrong = irsa_trust_policy(
        &env.aws_account(),
        &env.issuer,
        ns,
        "not-app",
        STS_AUDIENCE,
        None,
    );
    env.block_on(env.aws.update_trust(&role_name, &wrong))
        .unwrap();
    assert_problem(
        env,
        ns,
        name,
        &[
            "does not admit system:serviceaccount:doc:app",
            "wanted system:serviceaccount:doc:not-app, token has system:serviceaccount:doc:app",
            "--add-trust",
        ],
    );
    let listed = env.ok(&["list", "-n", ns]);
    assert!(listed.contains("trust denies"), "{listed}");
    env.block_on(env.aws.update_trust(&role_name, &good_trust))
        .unwrap();

    // 2. Missing OIDC provider: describe says so, and create refuses with the command that fixes it.
    env.block_on(env.aws.delete_provider(&env.provider_arn()))
        .unwrap();
    assert_problem(
        env,
        ns,
        name,
        &["no IAM OIDC provider", "kubectl irsa oidc associate"],
    );
    let run = env.run(&["create", "--name", "other", "-n", ns]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("no IAM OIDC provider"), "{run}");
    assert!(run.stderr.contains("kubectl irsa oidc associate"), "{run}");
    assert!(role(env, &default_role(ns, "other")).is_none());
    env.ok(&["oidc", "associate", "--cluster", "test-cluster"]);

    // 3. Missing policy.
    env.block_on(env.aws.detach_policy(&role_name, &policy))
        .unwrap();
    assert_problem(
        env,
        ns,
        name,
        &["has no attached or inline policies", "--attach-policy-arn"],
    );
    env.block_on(env.aws.attach_policy(&role_name, &policy))
        .unwrap();

    // 4. Annotation key typo.
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}-"),
        &format!("eks.amazonaws.com/role-anr={arn}"),
    ]);
    assert_problem(
        env,
        ns,
        name,
        &[
            "eks.amazonaws.com/role-anr looks like a misspelling",
            "eks.amazonaws.com/role-anr-",
        ],
    );
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        "eks.amazonaws.com/role-anr-",
        &format!("{ROLE_ARN_ANNOTATION}={arn}"),
    ]);
    assert_eq!(describe(env, ns, name).code, 0);

    // 5. Role deleted.
    env.block_on(env.aws.detach_policy(&role_name, &policy))
        .unwrap();
    env.block_on(env.aws.delete_role(&role_name)).unwrap();
    assert_problem(
        env,
        ns,
        name,
        &[
            &format!("role {role_name} does not exist"),
            "kubectl irsa create",
        ],
    );
    let listed = env.run(&["list", "-A", "-o", "json"]).json();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["namespace"] == ns && r["name"] == name)
        .unwrap();
    assert_eq!(row["status"], "role not found");

    // And `create` puts it back.
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
    ]);
    assert_eq!(describe(env, ns, name).code, 0);
}

#[test]
fn describe_checks_that_pods_were_mutated_by_the_webhook() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("pods", "app");
    let arn = create_reader(env, ns, name, "pods-read").arn;
    // What the webhook would have produced, and a pod it never saw.
    let mutated = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "mutated", "namespace": ns },
        "spec": {
            "serviceAccountName": name,
            "containers": [{
                "name": "app", "image": "busybox",
                "env": [
                    { "name": "AWS_ROLE_ARN", "value": arn },
                    { "name": "AWS_WEB_IDENTITY_TOKEN_FILE",
                      "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" }
                ],
                "volumeMounts": [{ "name": "aws-iam-token", "readOnly": true,
                    "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount" }]
            }],
            "volumes": [{ "name": "aws-iam-token", "projected": { "sources": [{ "serviceAccountToken": {
                "audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token" } }] } }]
        }
    });
    let path = env.dir.path().join("mutated-pod.json");
    std::fs::write(&path, mutated.to_string()).unwrap();
    env.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    let run = describe(env, ns, name);
    // (If the emulator's webhook is registered, it mutates the pod the same way.)
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("1 pod(s) use pods/app"), "{run}");

    let plain = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "plain", "namespace": ns },
        "spec": { "serviceAccountName": name, "containers": [{ "name": "app", "image": "busybox" }] }
    });
    let path = env.dir.path().join("plain-pod.json");
    std::fs::write(&path, plain.to_string()).unwrap();
    env.kubectl(&["apply", "-f", path.to_str().unwrap()]);
    let pod = env.kubectl_json(&["get", "pod", "plain", "-n", ns]);
    let has_volume = pod["spec"]["volumes"]
        .as_array()
        .is_some_and(|v| v.iter().any(|v| v["name"] == "aws-iam-token"));
    if !has_volume {
        assert_problem(
            env,
            ns,
            name,
            &[
                "pod plain lacks volume aws-iam-token",
                "kubectl delete pod plain -n pods",
            ],
        );
    }
}

#[test]
fn sts_agrees_with_describe() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("sts", "app");
    let Reader { role_name, arn, .. } = create_reader(env, ns, name, "sts-read");
    assert_eq!(describe(env, ns, name).code, 0);
    let assumed = env
        .assume(ns, name, &arn, "kubectl-irsa-test")
        .expect("STS accepts the binding kubectl irsa made");
    assert!(
        assumed.starts_with(&format!(
            "arn:aws:sts::{}:assumed-role/{role_name}/",
            env.account()
        )),
        "{assumed}"
    );

    // Break the trust: describe explains the denial STS answers.
    let good = role(env, &role_name).unwrap().trust;
    let wrong = irsa_trust_policy(
        &env.aws_account(),
        &env.issuer,
        ns,
        "someone-else",
        STS_AUDIENCE,
        None,
    );
    env.block_on(env.aws.update_trust(&role_name, &wrong))
        .unwrap();
    assert_problem(env, ns, name, &["token has system:serviceaccount:sts:app"]);
    let denied = env
        .assume(ns, name, &arn, "kubectl-irsa-test")
        .expect_err("STS refuses");
    assert!(denied.starts_with("AccessDenied"), "{denied}");

    // --add-trust repairs it, as describe's fix says.
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-role-arn",
        &arn,
        "--add-trust",
    ]);
    assert_eq!(describe(env, ns, name).code, 0);
    env.assume(ns, name, &arn, "kubectl-irsa-test")
        .expect("STS accepts the repaired binding");
    env.block_on(env.aws.update_trust(&role_name, &good))
        .unwrap();
}
