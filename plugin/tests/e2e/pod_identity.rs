//! `create --pod-identity`, `list`, `describe` and `delete` of EKS Pod Identity bindings against the emulator's
//! EKS association API (the one aws-sdk-eks and the AWS CLI are tested against in emulator/tests and e2e/python)
//! and the real kube-apiserver. The agent DaemonSet is only an object here (no nodes, no controller): its
//! status is patched as the DaemonSet controller would write it.

use serde_json::{json, Value};

use crate::common::{env, Env};
use crate::{annotations, attached, labels, role, role_arn, MANAGED_LABEL, ROLE_ARN_ANNOTATION};
use kubectl_irsa::aws::Association;
use kubectl_irsa::trust::pod_identity::admits_pod_identity;

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

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#}"))
}

#[test]
fn create_list_describe_delete_a_pod_identity_binding() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("pi-create", "app");
    let policy = env.create_policy("pi-create-read", "s3:GetObject");
    let role_name = pi_role(ns, name);
    let arn = role_arn(env, &role_name);
    let create: &[&str] = &[
        "create",
        "--pod-identity",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--attach-policy-arn",
        &policy,
    ];

    // The plan, with the trust EKS documents; nothing is made.
    let mut dry = create.to_vec();
    dry.push("--dry-run");
    let out = env.ok(&dry);
    for needle in [
        &format!("create IAM role {role_name}"),
        "\"Service\": \"pods.eks.amazonaws.com\"",
        "\"sts:TagSession\"",
        &format!("create service account {ns}/{name} (labels {MANAGED_LABEL}=kubectl-irsa)"),
        &format!("create EKS Pod Identity association {ns}/{name} -> {arn} in cluster {CLUSTER}"),
        "dry run: nothing was changed",
    ] {
        assert!(out.contains(needle), "{needle}\n{out}");
    }
    assert!(role(env, &role_name).is_none());
    assert!(associations(env, ns, name).is_empty());

    // Applied: the role trusts the service, the service account has no annotation, the association binds them.
    let out = env.ok(create);
    assert!(out.contains(&format!("{ns}/{name} -> {arn}")), "{out}");
    let made = role(env, &role_name).expect("role made");
    admits_pod_identity(&made.trust).expect("the trust admits pods.eks.amazonaws.com");
    assert_eq!(attached(env, &role_name), std::slice::from_ref(&policy));
    let sa = env.service_account(ns, name).expect("service account made");
    assert!(!annotations(&sa).contains_key(ROLE_ARN_ANNOTATION), "{sa}");
    assert_eq!(labels(&sa)[MANAGED_LABEL], "kubectl-irsa");
    let found = associations(env, ns, name);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].role_arn, arn);
    assert!(
        found[0].is_managed(),
        "tagged managed-by=kubectl-irsa: {:?}",
        found[0].tags
    );

    // A re-run changes nothing (eksctl#7753's "Association already exists" does not happen).
    let out = env.ok(create);
    assert!(out.contains("up to date, nothing to change"), "{out}");
    assert!(
        out.contains(&format!("association {} binds", found[0].id)),
        "{out}"
    );
    assert_eq!(associations(env, ns, name).len(), 1);

    // list: the KIND column; describe: no agent is a problem (exit 3), a ready agent is OK.
    no_agent(env);
    let out = env.ok(&["list", "-n", ns, "--cluster", CLUSTER]);
    assert!(
        out.contains("KIND") && out.contains("pod-identity"),
        "{out}"
    );
    assert!(out.contains(&arn), "{out}");
    let listed = env
        .run(&["list", "-n", ns, "--cluster", CLUSTER, "-o", "json"])
        .json();
    assert_eq!(listed[0]["kind"], "pod-identity", "{listed:#}");
    let run = env.run(&["describe", name, "-n", ns, "--cluster", CLUSTER]);
    assert_eq!(run.code, 3, "{run}");
    assert!(
        run.stdout
            .contains("DaemonSet kube-system/eks-pod-identity-agent not found"),
        "{run}"
    );
    assert!(
        !run.stdout.contains("not annotated"),
        "not judged as a broken IRSA binding\n{run}"
    );
    agent(env, true);
    let run = env.run(&["describe", name, "-n", ns, "--cluster", CLUSTER]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("Verdict: OK"), "{run}");
    assert!(
        run.stdout.contains(&format!("association {}", found[0].id)),
        "{run}"
    );
    assert!(
        run.stdout.contains("boto3/botocore 1.34.41"),
        "the SDK hint\n{run}"
    );
    let report = env
        .run(&[
            "describe",
            name,
            "-n",
            ns,
            "--cluster",
            CLUSTER,
            "-o",
            "json",
        ])
        .json();
    assert_eq!(check(&report[0], "trust")["status"], "ok", "{report:#}");
    assert_eq!(check(&report[0], "agent")["status"], "ok", "{report:#}");

    // Also IRSA-annotated: a warning saying which one the SDKs pick.
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}={arn}"),
    ]);
    let report = env
        .run(&[
            "describe",
            name,
            "-n",
            ns,
            "--cluster",
            CLUSTER,
            "-o",
            "json",
        ])
        .json();
    let pi = report
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "pod-identity")
        .unwrap_or_else(|| panic!("{report:#}"));
    let sa_check = check(pi, "service-account");
    assert_eq!(sa_check["status"], "warning", "{pi:#}");
    assert!(
        sa_check["message"]
            .as_str()
            .unwrap()
            .contains("web identity"),
        "{pi:#}"
    );
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        name,
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}-"),
    ]);

    // delete: the association first, then what kubectl-irsa made.
    let out = env.ok(&[
        "delete",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--dry-run",
    ]);
    assert!(
        out.contains(&format!(
            "1. delete EKS Pod Identity association {}",
            found[0].id
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("delete IAM role {role_name}")),
        "{out}"
    );
    assert_eq!(associations(env, ns, name).len(), 1, "dry run");
    env.ok(&["delete", "--name", name, "-n", ns, "--cluster", CLUSTER]);
    assert!(associations(env, ns, name).is_empty());
    assert!(role(env, &role_name).is_none());
    assert!(env.service_account(ns, name).is_none());
}

#[test]
fn an_existing_role_gains_the_pod_identity_trust_only_with_add_trust() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("pi-existing", "app");
    let reader = crate::create_reader(env, ns, name, "pi-existing-read");
    let base: &[&str] = &[
        "create",
        "--pod-identity",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--attach-role-arn",
        &reader.arn,
    ];
    let run = env.run(base);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("does not admit Service pods.eks.amazonaws.com"),
        "{run}"
    );
    assert!(run.stderr.contains("re-run with --add-trust"), "{run}");
    assert!(associations(env, ns, name).is_empty());
    let mut with_trust = base.to_vec();
    with_trust.push("--add-trust");
    let out = env.ok(&with_trust);
    assert!(
        out.contains(&format!(
            "update the trust policy of role {}",
            reader.role_name
        )),
        "{out}"
    );
    let trust = role(env, &reader.role_name).unwrap().trust;
    admits_pod_identity(&trust).unwrap();
    assert_eq!(
        trust["Statement"].as_array().unwrap().len(),
        2,
        "the OIDC statement stays: {trust:#}"
    );
    assert_eq!(associations(env, ns, name)[0].role_arn, reader.arn);
    // Both kinds are listed for the one service account.
    let listed = env
        .run(&["list", "-n", ns, "--cluster", CLUSTER, "-o", "json"])
        .json();
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["irsa", "pod-identity"], "{listed:#}");
}

#[test]
fn a_failed_step_rolls_back_and_every_eks_step_can_be_undone() {
    use kubectl_irsa::plan::{EksStep, Executor, PlanStep};
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("pi-rollback", "app");
    let missing = format!("arn:aws:iam::{}:policy/does-not-exist", env.account());
    let run = env.run(&[
        "create",
        "--pod-identity",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--attach-policy-arn",
        &missing,
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains(&format!("step failed: attach policy {missing}")),
        "{run}"
    );
    assert!(
        run.stderr
            .contains(&format!("deleted role {}", pi_role(ns, name))),
        "{run}"
    );
    assert!(role(env, &pi_role(ns, name)).is_none());
    assert!(associations(env, ns, name).is_empty());
    assert!(
        env.service_account(ns, name).is_none(),
        "the IAM step failed before the cluster was touched"
    );

    // The EKS steps with the live executor: applied, then undone.
    let policy = env.create_policy("pi-rollback-read", "s3:GetObject");
    env.ok(&[
        "create",
        "--pod-identity",
        "--name",
        "undo",
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--attach-policy-arn",
        &policy,
    ]);
    let arn = role_arn(env, &pi_role(ns, "undo"));
    let live = kubectl_irsa::executor::EksSteps(&env.aws);
    let existing = associations(env, ns, "undo").remove(0);
    let delete = EksStep::DeletePodIdentityAssociation {
        cluster: CLUSTER.into(),
        association_id: existing.id.clone(),
        namespace: ns.into(),
        service_account: "undo".into(),
        role_arn: arn.clone(),
        tags: existing.tags.clone(),
    };
    let outcome = env.block_on(live.apply(&delete)).unwrap();
    assert!(
        associations(env, ns, "undo").is_empty(),
        "{}",
        delete.summary()
    );
    env.block_on(live.undo(&delete, &outcome)).unwrap();
    let again = associations(env, ns, "undo");
    assert_eq!(again.len(), 1, "re-created");
    assert_eq!(
        (again[0].role_arn.as_str(), &again[0].tags),
        (arn.as_str(), &existing.tags)
    );
    let create = EksStep::CreatePodIdentityAssociation {
        cluster: CLUSTER.into(),
        namespace: ns.into(),
        service_account: "other".into(),
        role_arn: arn,
        tags: Vec::new(),
    };
    let outcome = env.block_on(live.apply(&create)).unwrap();
    assert_eq!(associations(env, ns, "other").len(), 1);
    env.block_on(live.undo(&create, &outcome)).unwrap();
    assert!(associations(env, ns, "other").is_empty());
    env.ok(&["delete", "--name", "undo", "-n", ns, "--cluster", CLUSTER]);
}

#[test]
fn pod_identity_needs_an_eks_cluster_and_refuses_what_it_cannot_do() {
    let Some((env, _guard)) = env() else { return };
    let run = env.run(&["create", "--pod-identity", "--name", "x", "-n", "pi-usage"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--cluster"), "{run}");
    let run = env.run(&[
        "create",
        "--pod-identity",
        "--name",
        "x",
        "-n",
        "pi-usage",
        "--cluster",
        "nope",
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("EKS cluster \"nope\" not found"),
        "{run}"
    );
    let run = env.run(&[
        "create",
        "--pod-identity",
        "--name",
        "x",
        "-n",
        "pi-usage",
        "--cluster",
        CLUSTER,
        "--dry-run",
        "-o",
        "terraform",
    ]);
    assert_eq!(run.code, 2, "{run}");
    let plan = env
        .run(&[
            "create",
            "--pod-identity",
            "--name",
            "x",
            "-n",
            "pi-usage",
            "--cluster",
            CLUSTER,
            "--dry-run",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(plan["result"], "planned", "{plan:#}");
    let actions: Vec<&str> = plan["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "createRole",
            "createNamespace",
            "applyServiceAccount",
            "createPodIdentityAssociation"
        ],
        "{plan:#}"
    );
}
