//! `delete`: it removes what the plugin made and nothing else.

use crate::common::env;
use crate::{default_role, role};
use serde_json::json;

#[test]
fn delete_leaves_nothing_behind() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("gone", "app");
    let policy = env.create_policy("gone-read", "s3:GetObject");
    let inline_path = env.dir.path().join("gone-inline.json");
    std::fs::write(
        &inline_path,
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]})
            .to_string(),
    )
    .unwrap();
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
        "--inline-policy",
        inline_path.to_str().unwrap(),
    ]);
    let role_name = default_role(ns, name);
    assert!(role(env, &role_name).is_some());

    let out = env.ok(&["delete", "--name", name, "-n", ns, "--dry-run"]);
    assert!(
        out.contains(&format!("delete IAM role {role_name}")),
        "{out}"
    );
    assert!(out.contains(&format!("detach policy {policy}")), "{out}");
    assert!(out.contains("delete inline policy kubectl-irsa"), "{out}");
    assert!(
        out.contains(&format!("delete service account {ns}/{name}")),
        "{out}"
    );
    assert!(role(env, &role_name).is_some(), "dry run deleted nothing");
    assert!(
        env.service_account(ns, name).is_some(),
        "dry run deleted nothing"
    );

    let out = env.ok(&["delete", "--name", name, "-n", ns]);
    assert!(out.contains("deleted"), "{out}");
    assert!(role(env, &role_name).is_none(), "role deleted");
    assert!(
        env.service_account(ns, name).is_none(),
        "service account deleted"
    );
    assert!(
        env.block_on(env.aws.policy_exists(&policy)).unwrap(),
        "customer managed policies are detached, never deleted"
    );
    let listed = env.run(&["list", "-n", ns, "-o", "json"]).json();
    assert_eq!(listed, json!([]));

    // --keep-role unbinds only.
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
    ]);
    env.ok(&["delete", "--name", name, "-n", ns, "--keep-role"]);
    assert!(env.service_account(ns, name).is_none());
    assert!(
        role(env, &role_name).is_some(),
        "--keep-role keeps the role"
    );

    // Deleting what does not exist is a clear error.
    let run = env.run(&["delete", "--name", "nope", "-n", ns]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("service account gone/nope not found"),
        "{run}"
    );
}
