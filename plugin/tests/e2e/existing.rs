//! Binding onto what already exists: `annotate` with an existing role, `create` with a role that must
//! trust the service account (or get `--add-trust`), and a service account bound elsewhere.

use crate::common::env;
use crate::{annotations, default_role, describe, role, role_arn};
use irsa_names::ROLE_ARN_ANNOTATION;

#[test]
fn annotate_checks_the_role_before_binding() {
    let Some((env, _guard)) = env() else { return };
    let ns = "annotate";
    env.kubectl(&["create", "namespace", ns]);
    env.kubectl(&["create", "serviceaccount", "app", "-n", ns]);
    env.kubectl(&["create", "serviceaccount", "other", "-n", ns]);
    // --role-only: the role, no Kubernetes change.
    let policy = env.create_policy("annotate-read", "s3:GetObject");
    let out = env.ok(&[
        "create",
        "--name",
        "app",
        "-n",
        ns,
        "--role-name",
        "annotate-app",
        "--role-only",
        "--attach-policy-arn",
        &policy,
    ]);
    assert!(!out.contains("create service account"), "{out}");
    assert!(!out.contains("annotate service account"), "{out}");
    let sa = env.service_account(ns, "app").unwrap();
    assert!(!annotations(&sa).contains_key(ROLE_ARN_ANNOTATION));
    let arn = role_arn(env, "annotate-app");

    let out = env.ok(&[
        "annotate",
        "app",
        "-n",
        ns,
        "--role-arn",
        &arn,
        "--sts-regional-endpoints",
        "--token-expiration",
        "100",
    ]);
    assert!(out.contains("serviceaccount/app annotated"), "{out}");
    let sa = env.service_account(ns, "app").unwrap();
    let a = annotations(&sa);
    assert_eq!(a[ROLE_ARN_ANNOTATION], arn);
    assert_eq!(a["eks.amazonaws.com/sts-regional-endpoints"], "true");
    assert_eq!(a["eks.amazonaws.com/token-expiration"], "600");
    assert_eq!(describe(env, ns, "app").code, 0);

    // The role does not trust annotate/other: --strict refuses, otherwise a warning.
    let run = env.run(&[
        "annotate",
        "other",
        "-n",
        ns,
        "--role-arn",
        &arn,
        "--strict",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("does not admit system:serviceaccount:annotate:other"),
        "{run}"
    );
    let sa = env.service_account(ns, "other").unwrap();
    assert!(!annotations(&sa).contains_key(ROLE_ARN_ANNOTATION));
    let run = env.run(&["annotate", "other", "-n", ns, "--role-arn", &arn]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("warning:"), "{run}");

    // A different role needs --overwrite; a missing role fails with --strict.
    let missing = role_arn(env, "annotate-missing");
    let run = env.run(&["annotate", "app", "-n", ns, "--role-arn", &missing]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("--overwrite"), "{run}");
    let run = env.run(&[
        "annotate",
        "app",
        "-n",
        ns,
        "--role-arn",
        &missing,
        "--overwrite",
        "--strict",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("role annotate-missing does not exist"),
        "{run}"
    );
}

#[test]
fn an_existing_role_must_trust_the_service_account_or_get_add_trust() {
    let Some((env, _guard)) = env() else { return };
    let ns = "team";
    let policy = env.create_policy("team-read", "s3:GetObject");
    env.ok(&[
        "create",
        "--name",
        "a",
        "-n",
        ns,
        "--role-name",
        "team-shared",
        "--attach-policy-arn",
        &policy,
    ]);
    let before = role(env, "team-shared").unwrap();

    let run = env.run(&[
        "create",
        "--name",
        "b",
        "-n",
        ns,
        "--role-name",
        "team-shared",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("role team-shared exists but its trust policy does not admit system:serviceaccount:team:b"), "{run}");
    assert!(
        run.stderr
            .contains("token has system:serviceaccount:team:b"),
        "{run}"
    );
    assert!(
        run.stderr.contains("\"system:serviceaccount:team:b\""),
        "the wanted statement is shown\n{run}"
    );
    assert!(run.stderr.contains("--add-trust"), "{run}");
    assert_eq!(
        role(env, "team-shared"),
        Some(before.clone()),
        "nothing changed"
    );
    assert!(env.service_account(ns, "b").is_none());

    let out = env.ok(&[
        "create",
        "--name",
        "b",
        "-n",
        ns,
        "--role-name",
        "team-shared",
        "--add-trust",
        "--dry-run",
    ]);
    assert!(
        out.contains("update the trust policy of role team-shared"),
        "{out}"
    );
    let out = env.ok(&[
        "create",
        "--name",
        "b",
        "-n",
        ns,
        "--role-name",
        "team-shared",
        "--add-trust",
    ]);
    assert!(out.contains("update the trust policy"), "{out}");
    // Same provider: b's subject joins a's statement (one statement per provider).
    let trust = role(env, "team-shared").unwrap().trust;
    let statements = trust["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{trust:#}");
    let subjects = statements[0]["Condition"]["StringEquals"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with(":sub"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(
        subjects,
        serde_json::json!([
            format!("system:serviceaccount:{ns}:a"),
            format!("system:serviceaccount:{ns}:b")
        ])
    );
    assert_eq!(describe(env, ns, "a").code, 0);
    assert_eq!(describe(env, ns, "b").code, 0);

    // Deleting one binding of a shared role removes only its trust statement.
    let out = env.ok(&["delete", "--name", "b", "-n", ns]);
    assert!(
        out.contains("update the trust policy of role team-shared"),
        "{out}"
    );
    let after = role(env, "team-shared").expect("shared role kept");
    assert_eq!(after.trust, before.trust);
    assert_eq!(describe(env, ns, "a").code, 0);
    env.ok(&["delete", "--name", "a", "-n", ns]);
    assert!(role(env, "team-shared").is_none());
}

#[test]
fn a_service_account_bound_elsewhere_is_left_alone_unless_overridden() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("override", "app");
    let elsewhere = format!("arn:aws:iam::{}:role/someone-elses", env.account());
    env.kubectl(&["create", "namespace", ns]);
    env.kubectl(&["create", "serviceaccount", name, "-n", ns]);
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}={elsewhere}"),
    ]);
    let run = env.run(&["create", "--name", name, "-n", ns]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("is bound to another role"), "{run}");
    assert!(
        run.stderr.contains("--override-existing-serviceaccounts"),
        "{run}"
    );
    let sa = env.service_account(ns, name).unwrap();
    assert_eq!(annotations(&sa)[ROLE_ARN_ANNOTATION], elsewhere);

    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--override-existing-serviceaccounts",
    ]);
    let sa = env.service_account(ns, name).unwrap();
    assert_eq!(
        annotations(&sa)[ROLE_ARN_ANNOTATION],
        role_arn(env, &default_role(ns, name))
    );
}
