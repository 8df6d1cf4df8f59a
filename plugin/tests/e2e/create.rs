//! `create`: the binding it makes (trust policy, service account, tags), dry runs, subject patterns,
//! config files, and the clusters it will not cross.

use crate::common::{self, env};
use crate::{
    annotations, attached, default_role, describe, labels, namespace_exists, resource_version,
    role, role_arn, MANAGED_LABEL,
};
use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;
use serde_json::json;

#[test]
fn create_binds_the_service_account_with_the_exact_trust_policy() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("shop", "cart");
    let read = env.create_policy("shop-read", "s3:GetObject");
    let write = env.create_policy("shop-write", "s3:PutObject");
    let inline_path = env.dir.path().join("inline.json");
    let inline = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*" }]
    });
    std::fs::write(&inline_path, inline.to_string()).unwrap();
    let inline_arg = inline_path.to_str().unwrap();
    let args = [
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        "test-cluster",
        "--attach-policy-arn",
        &read,
        "--attach-policy-arn",
        &write,
        "--inline-policy",
        inline_arg,
        "--tags",
        "team=shop,env=test",
        "--max-session-duration",
        "7200",
    ];
    let role_name = kubectl_irsa::naming::default_role_name("test-cluster", ns, name);
    let expected_trust = irsa_trust_policy(
        &env.aws_account(),
        &env.issuer,
        ns,
        name,
        STS_AUDIENCE,
        None,
    );

    // --dry-run: the plan, with the exact trust policy, and no change on either side.
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let out = env.ok(&dry);
    assert!(
        out.contains(&format!("create IAM role {role_name}")),
        "{out}"
    );
    let pretty = serde_json::to_string_pretty(&expected_trust).unwrap();
    for line in pretty.lines() {
        assert!(
            out.contains(line),
            "plan lacks trust policy line {line:?}:\n{out}"
        );
    }
    assert!(out.contains(&format!("create namespace {ns}")), "{out}");
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    assert!(role(env, &role_name).is_none(), "dry run created no role");
    assert!(!namespace_exists(env, ns), "dry run created no namespace");

    // create
    let out = env.ok(&args);
    assert!(
        out.contains(&format!("{ns}/{name} -> {}", role_arn(env, &role_name))),
        "{out}"
    );
    let sa = env
        .service_account(ns, name)
        .expect("service account created");
    assert_eq!(
        annotations(&sa)[ROLE_ARN_ANNOTATION],
        role_arn(env, &role_name)
    );
    assert_eq!(labels(&sa)[MANAGED_LABEL], "kubectl-irsa");
    let with_fields = env.kubectl_json(&[
        "get",
        "serviceaccount",
        name,
        "-n",
        ns,
        "--show-managed-fields",
    ]);
    let managers: Vec<&str> = with_fields["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl-irsa"), "{managers:?}");
    let ns_json = env.kubectl_json(&["get", "namespace", ns]);
    assert_eq!(labels(&ns_json)[MANAGED_LABEL], "kubectl-irsa");

    let created = role(env, &role_name).expect("role created");
    assert_eq!(
        serde_json::to_string(&created.trust).unwrap(),
        expected_trust.to_string(),
        "the trust policy is exactly eksctl's"
    );
    let mut want = vec![read.clone(), write.clone()];
    want.sort();
    assert_eq!(attached(env, &role_name), want);
    assert_eq!(
        env.block_on(env.aws.inline_policy(&role_name, "kubectl-irsa"))
            .unwrap(),
        Some(inline.clone())
    );
    assert!(created.is_managed());
    assert!(created.tags.contains(&("team".into(), "shop".into())));
    assert!(created.tags.contains(&("env".into(), "test".into())));
    assert_eq!(created.max_session_duration, Some(7200));

    // Re-run: up to date, nothing touched on either side.
    let out = env.ok(&args);
    assert!(out.contains("up to date, nothing to change"), "{out}");
    let again = env.service_account(ns, name).unwrap();
    assert_eq!(resource_version(&again), resource_version(&sa));
    assert_eq!(role(env, &role_name), Some(created.clone()));
    assert_eq!(attached(env, &role_name), want);

    // JSON output of a dry run on the converged binding: an empty plan.
    let mut dry_json = dry.clone();
    dry_json.extend(["-o", "json"]);
    let report = env.run(&dry_json).json();
    assert_eq!(report["plan"]["steps"], json!([]));
    assert_eq!(report["roleArn"], role_arn(env, &role_name).as_str());

    // The issuer discovered through the Kubernetes API gives the same trust (the default role name then
    // uses the kubeconfig's cluster name).
    let out = env.ok(&[
        "create",
        "--name",
        "discovered",
        "-n",
        ns,
        "--attach-policy-arn",
        &read,
    ]);
    assert!(out.contains("discovered ->"), "{out}");
    let discovered = role(env, &default_role(ns, "discovered")).expect("role");
    assert_eq!(
        discovered.trust,
        irsa_trust_policy(
            &env.aws_account(),
            &env.issuer,
            ns,
            "discovered",
            STS_AUDIENCE,
            None
        )
    );
}

#[test]
fn dry_run_changes_nothing_for_an_existing_service_account() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("dry", "web");
    env.kubectl(&["create", "namespace", ns]);
    env.kubectl(&["create", "serviceaccount", name, "-n", ns]);
    let before = env.service_account(ns, name).unwrap();
    let policy = env.create_policy("dry-read", "s3:GetObject");
    let out = env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
        "--dry-run",
    ]);
    assert!(
        out.contains(&format!("annotate service account {ns}/{name}")),
        "{out}"
    );
    assert!(out.contains("\"Federated\""), "{out}");
    assert!(!out.contains("create namespace"), "{out}");
    let after = env.service_account(ns, name).unwrap();
    assert_eq!(resource_version(&after), resource_version(&before));
    assert!(role(env, &default_role(ns, name)).is_none());

    // Applied: the existing account is annotated but not labelled (kubectl-irsa did not create it).
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
    ]);
    let sa = env.service_account(ns, name).unwrap();
    assert_eq!(
        annotations(&sa)[ROLE_ARN_ANNOTATION],
        role_arn(env, &default_role(ns, name))
    );
    assert!(!labels(&sa).contains_key(MANAGED_LABEL));

    // delete only removes the annotation from an account it did not create, and deletes its role.
    let out = env.ok(&["delete", "--name", name, "-n", ns]);
    assert!(out.contains("remove annotation"), "{out}");
    let sa = env.service_account(ns, name).expect("service account kept");
    assert!(!annotations(&sa).contains_key(ROLE_ARN_ANNOTATION));
    assert!(role(env, &default_role(ns, name)).is_none());
}

#[test]
fn a_subject_pattern_lets_one_role_serve_several_service_accounts() {
    let Some((env, _guard)) = env() else { return };
    let ns = "jobs";
    let policy = env.create_policy("jobs-read", "s3:GetObject");
    let base = [
        "-n",
        ns,
        "--role-name",
        "jobs-workers",
        "--subject-pattern",
        "worker-*",
    ];
    let mut first = vec![
        "create",
        "--name",
        "worker-1",
        "--attach-policy-arn",
        &policy,
    ];
    first.extend(base);
    env.ok(&first);
    let trust = role(env, "jobs-workers").unwrap().trust;
    assert_eq!(
        serde_json::to_string(&trust).unwrap(),
        irsa_trust_policy(
            &env.aws_account(),
            &env.issuer,
            ns,
            "worker-1",
            STS_AUDIENCE,
            Some("worker-*")
        )
        .to_string()
    );
    assert!(trust.to_string().contains("StringLike"));
    let mut second = vec!["create", "--name", "worker-2"];
    second.extend(base);
    let out = env.ok(&second);
    assert!(
        out.contains(
            "trust policy of role jobs-workers admits system:serviceaccount:jobs:worker-2"
        ),
        "{out}"
    );
    assert!(!out.contains("update the trust policy"), "{out}");
    assert_eq!(describe(env, ns, "worker-1").code, 0);
    assert_eq!(describe(env, ns, "worker-2").code, 0);
    // Outside the pattern: refused before anything happens.
    let mut third = vec!["create", "--name", "batch-1"];
    third.extend(base);
    let run = env.run(&third);
    assert_eq!(run.code, 2, "{run}");
}

#[test]
fn cluster_config_creates_fifty_service_accounts() {
    let Some((env, _guard)) = env() else { return };
    let policy = env.create_policy("fleet-read", "s3:GetObject");
    let mut entries = String::new();
    for i in 0..50 {
        let ns = format!("fleet-{}", i % 5);
        entries.push_str(&format!(
            "  - metadata:\n      name: svc-{i}\n      namespace: {ns}\n      labels: {{tier: backend}}\n    \
             attachPolicyARNs: [\"{policy}\"]\n    tags: {{index: \"{i}\"}}\n"
        ));
    }
    let config = format!(
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: test-cluster\n  region: us-east-1\n\
         iam:\n  withOIDC: true\n  serviceAccounts:\n{entries}"
    );
    let path = env.dir.path().join("fleet.yaml");
    std::fs::write(&path, config).unwrap();
    let file = path.to_str().unwrap();

    let out = env.ok(&["create", "-f", file, "--dry-run"]);
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    assert!(role(
        env,
        &kubectl_irsa::naming::default_role_name("test-cluster", "fleet-0", "svc-0")
    )
    .is_none());

    let run = env.run(&["create", "-f", file, "--concurrency", "16"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("[50/50]"), "{run}");
    assert_eq!(run.stdout.matches(" applied").count(), 50, "{run}");
    for i in 0..50 {
        let ns = format!("fleet-{}", i % 5);
        let name = format!("svc-{i}");
        let role_name = kubectl_irsa::naming::default_role_name("test-cluster", &ns, &name);
        let sa = env
            .service_account(&ns, &name)
            .unwrap_or_else(|| panic!("{ns}/{name} exists"));
        assert_eq!(
            annotations(&sa)[ROLE_ARN_ANNOTATION],
            role_arn(env, &role_name)
        );
        assert_eq!(labels(&sa)["tier"], "backend");
        assert_eq!(labels(&sa)[MANAGED_LABEL], "kubectl-irsa");
        let r = role(env, &role_name).unwrap_or_else(|| panic!("role {role_name}"));
        assert!(r.tags.contains(&("index".to_string(), i.to_string())));
        assert_eq!(attached(env, &role_name), vec![policy.clone()]);
    }

    let report = env.run(&["create", "-f", file, "-o", "json"]).json();
    let results: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, vec!["up-to-date"; 50]);

    // Re-binding one of them keeps what the cluster config applied (server-side apply would drop fields
    // kubectl-irsa owns but does not list again).
    env.ok(&[
        "create",
        "--name",
        "svc-0",
        "-n",
        "fleet-0",
        "--role-name",
        "fleet-other",
        "--override-existing-serviceaccounts",
    ]);
    let sa = env.service_account("fleet-0", "svc-0").unwrap();
    assert_eq!(
        annotations(&sa)[ROLE_ARN_ANNOTATION],
        role_arn(env, "fleet-other")
    );
    assert_eq!(labels(&sa)["tier"], "backend");
    assert_eq!(labels(&sa)[MANAGED_LABEL], "kubectl-irsa");
}

#[test]
fn create_refuses_to_bind_across_clusters() {
    let Some((env, _guard)) = env() else { return };
    // An EKS cluster that is not the one the kubeconfig points at, with its OIDC provider.
    env.block_on(common::create_cluster(&env.emulator, "elsewhere"));
    env.ok(&["oidc", "associate", "--cluster", "elsewhere"]);
    let run = env.run(&[
        "create",
        "--name",
        "app",
        "-n",
        "cross",
        "--cluster",
        "elsewhere",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("--cluster elsewhere gives the issuer"),
        "{run}"
    );
    assert!(run.stderr.contains("--context"), "{run}");
    assert!(role(
        env,
        &kubectl_irsa::naming::default_role_name("elsewhere", "cross", "app")
    )
    .is_none());
    // The role alone is fine.
    env.ok(&[
        "create",
        "--name",
        "app",
        "-n",
        "cross",
        "--cluster",
        "elsewhere",
        "--role-only",
        "--dry-run",
    ]);
    // Leave the account with one provider, as the other tests expect.
    let show = env
        .run(&["oidc", "show", "--cluster", "elsewhere", "-o", "json"])
        .json();
    let arn = show["provider"]["arn"].as_str().unwrap().to_string();
    env.block_on(env.aws.delete_provider(&arn)).unwrap();
}
