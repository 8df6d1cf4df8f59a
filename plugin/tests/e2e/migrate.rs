//! `migrate --to pod-identity` and back against the emulator and the real kube-apiserver: plans first, the
//! order that keeps running pods' credentials (the OIDC statement stays while a pod still carries IRSA's
//! token), re-runs up to date, the pods to restart, add-ons left out of bulk runs, and `describe pod/NAME`
//! walking the Pod Identity chain with session tags. Going back to IRSA cannot wait for pods: while an
//! association exists the webhook gives new pods Pod Identity's env (upstream: container credentials take
//! precedence).

use serde_json::{json, Value};

use crate::common::env;
use crate::pod_identity_support::{agent, apply_pod, associations, CLUSTER};
use crate::{annotations, create_reader, role, ROLE_ARN_ANNOTATION};
use irsa_policy::{trust_admits, PolicyDocument};
use kubectl_irsa::trust::pod_identity::{admits_pod_identity, pod_identity_trust_policy};

fn link<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["links"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|l| l["check"] == name)
        .unwrap_or_else(|| panic!("no link {name}: {report:#}"))
}

#[test]
fn irsa_to_pod_identity_and_back_never_cuts_a_running_pod_off() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("migrate", "app");
    let reader = create_reader(env, ns, name, "migrate-read");
    apply_pod(env, ns, "irsa-pod", name, Some(&reader.arn));
    let irsa_trust = role(env, &reader.role_name).unwrap().trust;
    let migrate = [
        "migrate",
        "--to",
        "pod-identity",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
    ];

    // The plan: trust, then the association; nothing changes.
    let mut dry = migrate.to_vec();
    dry.push("--dry-run");
    let out = env.ok(&dry);
    let trust_at = out.find(&format!(
        "1. update the trust policy of role {}",
        reader.role_name
    ));
    let assoc_at = out.find(&format!(
        "2. create EKS Pod Identity association {ns}/{name} -> {}",
        reader.arn
    ));
    assert!(trust_at.is_some() && assoc_at.is_some(), "{out}");
    assert!(out.contains("Pods to restart"), "{out}");
    assert!(
        out.contains("irsa-pod: started before the association"),
        "{out}"
    );
    assert!(associations(env, ns, name).is_empty(), "dry run");
    assert_eq!(role(env, &reader.role_name).unwrap().trust, irsa_trust);

    // Staged: both bindings work; the annotation and the OIDC statement stay.
    let out = env.ok(&migrate);
    assert!(out.contains("re-run with --remove-oidc-trust"), "{out}");
    let staged = role(env, &reader.role_name).unwrap().trust;
    admits_pod_identity(&staged).unwrap();
    assert_eq!(
        staged["Statement"].as_array().unwrap().len(),
        2,
        "{staged:#}"
    );
    assert_eq!(associations(env, ns, name)[0].role_arn, reader.arn);
    let sa = env.service_account(ns, name).unwrap();
    assert_eq!(annotations(&sa)[ROLE_ARN_ANNOTATION], reader.arn);
    // A re-run is up to date (eksctl#7753 fails here with "Association already exists").
    let out = env.ok(&migrate);
    assert!(out.contains("up to date, nothing to change"), "{out}");

    // --remove-oidc-trust while the IRSA pod runs: the annotation goes, the OIDC statement stays for the pod.
    let mut remove = migrate.to_vec();
    remove.push("--remove-oidc-trust");
    let out = env.ok(&remove);
    assert!(
        out.contains(&format!("remove annotation {ROLE_ARN_ANNOTATION}")),
        "{out}"
    );
    assert!(out.contains("pod(s) irsa-pod still use IRSA"), "{out}");
    assert!(
        out.contains("irsa-pod: created with the IRSA binding's env"),
        "{out}"
    );
    assert!(!annotations(&env.service_account(ns, name).unwrap()).contains_key(ROLE_ARN_ANNOTATION));
    assert_eq!(
        role(env, &reader.role_name).unwrap().trust,
        staged,
        "the pod still needs it"
    );

    // Restarted with Pod Identity's env: the re-run takes the OIDC statement out.
    env.kubectl(&[
        "delete",
        "pod",
        "irsa-pod",
        "-n",
        ns,
        "--wait=false",
        "--grace-period=0",
        "--force",
    ]);
    apply_pod(env, ns, "pi-pod", name, None);
    let out = env.ok(&remove);
    assert!(
        out.contains(&format!(
            "update the trust policy of role {}",
            reader.role_name
        )),
        "{out}"
    );
    assert!(out.contains("Pods to restart: none"), "{out}");
    assert_eq!(
        role(env, &reader.role_name).unwrap().trust,
        pod_identity_trust_policy()
    );
    let out = env.ok(&remove);
    assert!(out.contains("up to date"), "{out}");

    // The pod's chain through Pod Identity, with a token bound to it for pods.eks.amazonaws.com.
    agent(env, true);
    let report = env
        .run(&[
            "describe",
            "pod/pi-pod",
            "-n",
            ns,
            "--cluster",
            CLUSTER,
            "-o",
            "json",
        ])
        .json();
    assert_eq!(report["binding"], "pod-identity", "{report:#}");
    assert_eq!(report["verdict"], "OK", "{report:#}");
    for l in [
        "association",
        "pod-spec",
        "token",
        "role",
        "trust",
        "agent",
        "policies",
    ] {
        assert_eq!(link(&report, l)["status"], "ok", "{l}: {report:#}");
    }
    assert_eq!(report["claims"]["aud"], json!(["pods.eks.amazonaws.com"]));
    assert_eq!(report["claims"]["kubernetes.io"]["pod"]["name"], "pi-pod");
    assert_eq!(report["claims"]["iss"], env.issuer.as_str());
    // Session tags decide: a policy scoped to ${aws:PrincipalTag/kubernetes-namespace}.
    let scoped = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::bucket/${aws:PrincipalTag/kubernetes-namespace}/*"}]});
    env.block_on(
        env.aws
            .put_inline_policy(&reader.role_name, "by-namespace", &scoped),
    )
    .unwrap();
    let simulate = |resource: &str| {
        env.run(&[
            "describe",
            "pod/pi-pod",
            "-n",
            ns,
            "--cluster",
            CLUSTER,
            "--action",
            "s3:PutObject",
            "--resource",
            resource,
        ])
    };
    let own = simulate(&format!("arn:aws:s3:::bucket/{ns}/k"));
    assert_eq!(own.code, 0, "{own}");
    assert!(own.stdout.contains("kubernetes-namespace=migrate"), "{own}");
    let other = simulate("arn:aws:s3:::bucket/other/k");
    assert_eq!(other.code, 3, "{other}");
    assert!(other.stdout.contains("implicit deny"), "{other}");
    env.block_on(
        env.aws
            .delete_inline_policy(&reader.role_name, "by-namespace"),
    )
    .unwrap();

    // Back to IRSA: trust and annotation first, then the association (while it exists the webhook would keep
    // giving new pods Pod Identity's env); the pod relying on it alone is named to restart.
    let back = [
        "migrate",
        "--to",
        "irsa",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
    ];
    let mut dry = back.to_vec();
    dry.push("--dry-run");
    let out = env.ok(&dry);
    let trust_at = out.find("1. update the trust policy of role");
    let annotate_at = out.find(&format!("2. annotate service account {ns}/{name}"));
    let delete_at = out.find("3. delete EKS Pod Identity association");
    assert!(
        trust_at.is_some() && annotate_at.is_some() && delete_at.is_some(),
        "{out}"
    );
    assert_eq!(associations(env, ns, name).len(), 1, "dry run");
    let out = env.ok(&back);
    assert!(
        out.contains("pod(s) pi-pod get credentials only through Pod Identity"),
        "{out}"
    );
    assert!(
        out.contains("pi-pod: created without IRSA's token"),
        "{out}"
    );
    let trust = role(env, &reader.role_name).unwrap().trust;
    let doc = PolicyDocument::from_value(trust.clone()).unwrap();
    let subject = format!("system:serviceaccount:{ns}:{name}");
    assert!(
        trust_admits(&doc, &env.provider_arn(), &subject, "sts.amazonaws.com").is_allowed(),
        "{trust:#}"
    );
    assert_eq!(
        annotations(&env.service_account(ns, name).unwrap())[ROLE_ARN_ANNOTATION],
        reader.arn
    );
    assert!(associations(env, ns, name).is_empty());
    let out = env.ok(&back);
    assert!(out.contains("nothing to migrate"), "{out}");
}

#[test]
fn bulk_runs_leave_add_on_service_accounts_alone() {
    let Some((env, _guard)) = env() else { return };
    let reader = create_reader(env, "kube-system", "aws-node", "migrate-addon-read");
    let run = env.run(&[
        "migrate",
        "--to",
        "pod-identity",
        "-n",
        "kube-system",
        "--cluster",
        CLUSTER,
        "--dry-run",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stderr
            .contains("kube-system/aws-node is an EKS add-on's service account"),
        "{run}"
    );
    assert!(
        !run.stdout
            .contains("create EKS Pod Identity association kube-system/aws-node"),
        "{run}"
    );
    // Named, it is migrated.
    let run = env.run(&[
        "migrate",
        "--to",
        "pod-identity",
        "--name",
        "aws-node",
        "-n",
        "kube-system",
        "--cluster",
        CLUSTER,
        "--dry-run",
    ]);
    assert!(
        run.stdout.contains(&format!(
            "create EKS Pod Identity association kube-system/aws-node -> {}",
            reader.arn
        )),
        "{run}"
    );
    env.ok(&["delete", "--name", "aws-node", "-n", "kube-system"]);
}
