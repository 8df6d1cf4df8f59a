//! `create --pod-identity`, `list`, `describe` and `delete` of EKS Pod Identity bindings against the emulator's
//! EKS association API (the one aws-sdk-eks and the AWS CLI are tested against in emulator/tests and e2e/python)
//! and the real kube-apiserver. The agent DaemonSet is only an object here (no nodes, no controller): its
//! status is patched as the DaemonSet controller would write it.

use serde_json::Value;

use crate::common::env;
use crate::pod_identity_support::{agent, associations, no_agent, pi_role, CLUSTER};
use crate::{annotations, attached, labels, role, role_arn, MANAGED_LABEL, ROLE_ARN_ANNOTATION};
use kubectl_irsa::trust::pod_identity::admits_pod_identity;

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
        run.stdout.contains(
            "aws eks create-addon --cluster-name test-cluster --addon-name eks-pod-identity-agent"
        ),
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
fn pod_identity_needs_an_eks_cluster_and_refuses_what_it_cannot_do() {
    let Some((env, _guard)) = env() else { return };
    // Associations that cannot be read (here: no such cluster) cost a warning, not the IRSA answer.
    let run = env.run(&["list", "-n", "pi-usage", "--cluster", "nope"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr
            .contains("cannot read the EKS Pod Identity associations of cluster nope"),
        "{run}"
    );
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
