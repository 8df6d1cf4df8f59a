//! The plugin end to end, as a user runs it: the emulator as AWS (IAM, EKS, OIDC issuer, its own CA via
//! AWS_CA_BUNDLE) and a real kube-apiserver as the cluster, whose service-account issuer is the emulated EKS
//! cluster's. Tests share one environment and run one at a time (see `common::env`).

mod common;

use std::collections::BTreeMap;

use common::{env, Env};
use irsa_policy::{irsa_trust_policy, DEFAULT_AUDIENCE};
use kubectl_irsa::aws::Role;
use rustls_pki_types::pem::PemObject;
use serde_json::{json, Value};

const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
const MANAGED_LABEL: &str = "app.kubernetes.io/managed-by";

fn role(env: &Env, name: &str) -> Option<Role> {
    env.block_on(env.aws.get_role(name))
        .expect("GetRole answers")
}

fn attached(env: &Env, role: &str) -> Vec<String> {
    let mut v = env.block_on(env.aws.attached_policies(role)).unwrap();
    v.sort();
    v
}

fn role_arn(env: &Env, name: &str) -> String {
    format!("arn:aws:iam::{}:role/{name}", env.account())
}

/// The default role name the plugin derives (cluster label = the kubeconfig's cluster name, "irsa-e2e").
fn default_role(ns: &str, name: &str) -> String {
    kubectl_irsa::naming::default_role_name("irsa-e2e", ns, name)
}

fn annotations(sa: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(sa["metadata"]["annotations"].clone()).unwrap_or_default()
}

fn labels(sa: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(sa["metadata"]["labels"].clone()).unwrap_or_default()
}

fn resource_version(sa: &Value) -> String {
    sa["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn namespace_exists(env: &Env, ns: &str) -> bool {
    env.cp.run_kubectl(&["get", "namespace", ns]).is_ok()
}

#[test]
fn oidc_associate_is_idempotent_and_uses_the_ca_thumbprint() {
    let Some((env, _guard)) = env() else { return };
    // The environment associated the provider with `oidc associate --cluster test-cluster`.
    let provider = env
        .block_on(env.aws.get_provider(&env.provider_arn()))
        .unwrap()
        .expect("provider created by oidc associate");
    assert!(provider.client_ids.contains(&DEFAULT_AUDIENCE.to_string()));
    // The emulator's server sends only its leaf certificate; the top of the chain is its CA (AWS_CA_BUNDLE).
    let ca_der =
        rustls_pki_types::CertificateDer::from_pem_slice(env.emulator.ca_pem().unwrap().as_bytes())
            .unwrap();
    assert_eq!(
        provider.thumbprints,
        vec![kubectl_irsa::thumbprint::sha1_hex(&ca_der)]
    );
    assert!(provider
        .tags
        .contains(&("managed-by".to_string(), "kubectl-irsa".to_string())));

    // Again: nothing to do, from EKS or from the API server's discovery document.
    for args in [
        vec!["oidc", "associate", "--cluster", "test-cluster"],
        vec!["oidc", "associate"],
    ] {
        let out = env.ok(&args);
        assert!(out.contains("up to date, nothing to change"), "{out}");
    }
    let after = env
        .block_on(env.aws.get_provider(&env.provider_arn()))
        .unwrap();
    assert_eq!(after.as_ref(), Some(&provider));

    let shown = env.run(&["oidc", "show", "-o", "json"]).json();
    assert_eq!(shown["issuer"], env.issuer.as_str());
    assert_eq!(shown["provider"]["arn"], env.provider_arn().as_str());

    // Another cluster: the plan shows the provider it would create and --dry-run creates nothing.
    let other = env.block_on(common::create_cluster(&env.emulator, "other-cluster"));
    let out = env.ok(&[
        "oidc",
        "associate",
        "--cluster",
        "other-cluster",
        "--dry-run",
    ]);
    assert!(
        out.contains(&format!("create IAM OIDC provider for {}", other.issuer)),
        "{out}"
    );
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    let arns = env.block_on(env.aws.provider_arns()).unwrap();
    assert_eq!(arns, vec![env.provider_arn()], "dry run created nothing");
    let shown = env.ok(&["oidc", "show", "--cluster", "other-cluster"]);
    assert!(
        shown.contains("kubectl irsa oidc associate --cluster other-cluster"),
        "{shown}"
    );
}

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
    let expected_trust =
        irsa_trust_policy(env.account(), &env.issuer, ns, name, DEFAULT_AUDIENCE, None);

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
            env.account(),
            &env.issuer,
            ns,
            "discovered",
            DEFAULT_AUDIENCE,
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

fn describe(env: &Env, ns: &str, name: &str) -> common::Run {
    env.run(&["describe", name, "-n", ns])
}

fn assert_problem(env: &Env, ns: &str, name: &str, needles: &[&str]) {
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

#[test]
fn describe_names_each_problem_and_its_fix() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("doc", "app");
    let policy = env.create_policy("doc-read", "s3:GetObject");
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
    let arn = role_arn(env, &role_name);
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
        env.account(),
        &env.issuer,
        ns,
        "not-app",
        DEFAULT_AUDIENCE,
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
    let policy = env.create_policy("pods-read", "s3:GetObject");
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--attach-policy-arn",
        &policy,
    ]);
    let arn = role_arn(env, &default_role(ns, name));
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
    let trust = role(env, "team-shared").unwrap().trust;
    assert_eq!(trust["Statement"].as_array().unwrap().len(), 2);
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
fn real_kubectl_finds_and_runs_the_plugin() {
    let Some((env, _guard)) = env() else { return };
    let kubectl = irsa_e2e::controlplane::kubectl_binary().expect("kubectl (IRSA_KUBECTL)");
    let bin_dir = env.dir.path().join("plugins");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let plugin = bin_dir.join("kubectl-irsa");
    std::fs::copy(common::plugin_bin(), &plugin).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.clone()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&kubectl);
        common::isolate(&mut cmd, env.dir.path());
        let out = cmd
            .env("PATH", &path)
            .env("AWS_ENDPOINT_URL", env.emulator.url())
            .env("AWS_CA_BUNDLE", &env.ca_path)
            .env(
                "AWS_ACCESS_KEY_ID",
                irsa_emulator::config::DEFAULT_ADMIN_ACCESS_KEY_ID,
            )
            .env(
                "AWS_SECRET_ACCESS_KEY",
                irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
            )
            .env("AWS_REGION", "us-east-1")
            .args(args)
            .output()
            .unwrap();
        common::Run::new(args, out)
    };
    let version = run(&["irsa", "--version"]);
    assert_eq!(version.code, 0, "{version}");
    assert!(
        version
            .stdout
            .contains(&format!("kubectl-irsa {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let plugins = run(&["plugin", "list"]);
    assert!(
        plugins.stdout.contains(plugin.to_str().unwrap()),
        "{plugins}"
    );
    let help = run(&["irsa", "--help"]);
    assert!(help.stdout.contains("Usage: kubectl irsa"), "{help}");

    // Flags after the plugin name reach it: a real command through kubectl.
    let kubeconfig = format!("--kubeconfig={}", env.cp.kubeconfig().display());
    let shown = run(&["irsa", "oidc", "show", &kubeconfig, "-o", "json"]);
    assert_eq!(shown.code, 0, "{shown}");
    assert_eq!(shown.json()["issuer"], env.issuer.as_str());
}

/// Run a prepared plugin command.
fn output(mut cmd: std::process::Command, args: &[&str]) -> common::Run {
    let out = cmd.args(args).output().expect("plugin runs");
    common::Run::new(args, out)
}

#[test]
fn kubeconfig_context_namespace_and_aws_profile_conventions() {
    let Some((env, _guard)) = env() else { return };
    // A kubeconfig whose current context has a namespace, plus a second context with another one.
    let kubeconfig = env.dir.path().join("kubeconfig-contexts");
    std::fs::copy(env.cp.kubeconfig(), &kubeconfig).unwrap();
    let kubectl = irsa_e2e::controlplane::kubectl_binary().unwrap();
    let kc = |args: &[&str]| {
        let out = std::process::Command::new(&kubectl)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let cluster = kc(&[
        "config",
        "view",
        "-o",
        "jsonpath={.contexts[0].context.cluster}",
    ]);
    let user = kc(&[
        "config",
        "view",
        "-o",
        "jsonpath={.contexts[0].context.user}",
    ]);
    kc(&[
        "config",
        "set-context",
        "--current",
        "--namespace=ctx-current",
    ]);
    kc(&[
        "config",
        "set-context",
        "second",
        &format!("--cluster={cluster}"),
        &format!("--user={user}"),
        "--namespace=ctx-second",
    ]);
    let flag = format!("--kubeconfig={}", kubeconfig.display());

    let run = output(
        env.plugin_without_kubeconfig(),
        &[&flag, "create", "--name", "app", "--dry-run"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("service account ctx-current/app"),
        "{run}"
    );
    let run = output(
        env.plugin_without_kubeconfig(),
        &[
            &flag,
            "--context",
            "second",
            "create",
            "--name",
            "app",
            "--dry-run",
        ],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("service account ctx-second/app"),
        "{run}"
    );
    let run = output(
        env.plugin_without_kubeconfig(),
        &[
            &flag,
            "--context",
            "second",
            "-n",
            "explicit",
            "create",
            "--name",
            "app",
            "--dry-run",
        ],
    );
    assert!(run.stdout.contains("service account explicit/app"), "{run}");
    // KUBECONFIG works as for kubectl.
    let mut cmd = env.plugin_without_kubeconfig();
    cmd.env("KUBECONFIG", &kubeconfig);
    let run = output(cmd, &["create", "--name", "app", "--dry-run"]);
    assert!(
        run.stdout.contains("service account ctx-current/app"),
        "{run}"
    );
    let run = output(
        env.plugin_without_kubeconfig(),
        &[&flag, "--context", "nope", "list"],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("context \"nope\" is not in the kubeconfig"),
        "{run}"
    );

    // AWS: credentials and region from a shared-config profile.
    let config = env.dir.path().join("aws-config");
    let credentials = env.dir.path().join("aws-credentials");
    std::fs::write(&config, "[profile emu]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[emu]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            irsa_emulator::config::DEFAULT_ADMIN_ACCESS_KEY_ID,
            irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    let profiled = || {
        let mut cmd = env.plugin();
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
        cmd
    };
    let run = output(
        profiled(),
        &["--profile", "emu", "oidc", "show", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["provider"]["arn"], env.provider_arn().as_str());
    let run = output(profiled(), &["oidc", "show"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("no usable AWS credentials"), "{run}");
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
            env.account(),
            &env.issuer,
            ns,
            "worker-1",
            DEFAULT_AUDIENCE,
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

/// Exchange a real service-account token (from the API server) for credentials at the emulator's STS.
fn assume(env: &Env, ns: &str, name: &str, role_arn: &str) -> Result<String, String> {
    let token = env.kubectl(&[
        "create",
        "token",
        name,
        "-n",
        ns,
        "--audience",
        DEFAULT_AUDIENCE,
    ]);
    let sts = aws_sdk_sts::Client::new(&common::sdk_config(&env.emulator));
    env.block_on(
        sts.assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name("kubectl-irsa-test")
            .web_identity_token(token.trim())
            .send(),
    )
    .map(|out| out.assumed_role_user.map(|u| u.arn).unwrap_or_default())
    .map_err(|e| {
        use aws_sdk_sts::error::ProvideErrorMetadata;
        format!(
            "{}: {}",
            e.code().unwrap_or("?"),
            e.message().unwrap_or("?")
        )
    })
}

#[test]
fn sts_agrees_with_describe() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("sts", "app");
    let policy = env.create_policy("sts-read", "s3:GetObject");
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
    let arn = role_arn(env, &role_name);
    assert_eq!(describe(env, ns, name).code, 0);
    let assumed = assume(env, ns, name, &arn).expect("STS accepts the binding kubectl irsa made");
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
        env.account(),
        &env.issuer,
        ns,
        "someone-else",
        DEFAULT_AUDIENCE,
        None,
    );
    env.block_on(env.aws.update_trust(&role_name, &wrong))
        .unwrap();
    assert_problem(env, ns, name, &["token has system:serviceaccount:sts:app"]);
    let denied = assume(env, ns, name, &arn).expect_err("STS refuses");
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
    assume(env, ns, name, &arn).expect("STS accepts the repaired binding");
    env.block_on(env.aws.update_trust(&role_name, &good))
        .unwrap();
}

#[test]
fn a_custom_audience_needs_the_provider_to_list_it() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name, audience) = ("aud", "app", "custom.example.com");
    let run = env.run(&["create", "--name", name, "-n", ns, "--audience", audience]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("does not list audience \"custom.example.com\""),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("kubectl irsa oidc associate --audience custom.example.com"),
        "{run}"
    );

    let out = env.ok(&[
        "oidc",
        "associate",
        "--audience",
        DEFAULT_AUDIENCE,
        "--audience",
        audience,
    ]);
    assert!(out.contains("add client ID custom.example.com"), "{out}");
    let policy = env.create_policy("aud-read", "s3:GetObject");
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--audience",
        audience,
        "--attach-policy-arn",
        &policy,
    ]);
    let sa = env.service_account(ns, name).unwrap();
    assert_eq!(annotations(&sa)["eks.amazonaws.com/audience"], audience);
    let role_name = default_role(ns, name);
    assert_eq!(
        role(env, &role_name).unwrap().trust,
        irsa_trust_policy(env.account(), &env.issuer, ns, name, audience, None)
    );
    assert_eq!(describe(env, ns, name).code, 0);

    // The provider forgets the audience: describe names it and the fix.
    env.block_on(env.aws.remove_client_id(&env.provider_arn(), audience))
        .unwrap();
    assert_problem(
        env,
        ns,
        name,
        &[
            "does not list audience custom.example.com",
            "--audience custom.example.com",
        ],
    );
    env.ok(&["delete", "--name", name, "-n", ns]);
}

/// Apply a step with the live executor, then undo it.
fn apply_and_undo(env: &Env, kube: &kubectl_irsa::kube::Kube, step: &kubectl_irsa::plan::Step) {
    use kubectl_irsa::plan::Executor;
    let live = kubectl_irsa::executor::Live {
        aws: Some(&env.aws),
        kube: Some(kube),
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
    use kubectl_irsa::plan::{SaSnapshot, Step};
    let Some((env, _guard)) = env() else { return };
    let kube = env
        .block_on(kubectl_irsa::kube::Kube::connect(
            &kubectl_irsa::kube::KubeSettings {
                kubeconfig: Some(env.cp.kubeconfig().to_path_buf()),
                context: None,
            },
        ))
        .unwrap();
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
    use kubectl_irsa::plan::Step;
    let Some((env, _guard)) = env() else { return };
    let kube = env
        .block_on(kubectl_irsa::kube::Kube::connect(
            &kubectl_irsa::kube::KubeSettings {
                kubeconfig: Some(env.cp.kubeconfig().to_path_buf()),
                context: None,
            },
        ))
        .unwrap();
    let name = "undo-iam";
    let trust = irsa_trust_policy(
        env.account(),
        &env.issuer,
        "undo",
        "a",
        DEFAULT_AUDIENCE,
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
        env.account(),
        &env.issuer,
        "undo",
        "b",
        DEFAULT_AUDIENCE,
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
